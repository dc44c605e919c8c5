"""The SQL aggregate against a plain Python sum of random figures."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foitrack.services import aggregate, figures, requests
from foitrack.services.design import create_from_file
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

AUTHORITIES = ["kent", "surrey", "sussex", "gwent"]
CATEGORIES = ["Instagram", "Snapchat", "Other", "Not recorded"]
value_text = st.one_of(st.integers(0, 500).map(str), st.sampled_from(["<5", "1-4", "not recorded",
                                                                      "withheld s.40", "not held"]))
cells = st.dictionaries(st.tuples(st.sampled_from(AUTHORITIES), st.sampled_from([None, *CATEGORIES])),
                        value_text, max_size=16)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=cells)
def test_sql_totals_bounds_and_shares_match_a_plain_count(session, data):
    load_forces(session)
    campaign = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'authorities = "england-wales"', f"authorities = {AUTHORITIES!r}".replace("'", '"')))
    for slug in AUTHORITIES:
        entries = [figures.Entry("offences", "2018-19", "platform" if c else None, c, v)
                   for (s, c), v in data.items() if s == slug]
        figures.save_figures(session, TEST_ACTOR, requests.get_request(session, campaign.slug, slug),
                             entries)
    result = aggregate.build(session, campaign)
    recorded = sum(int(v) for (s, c), v in data.items()
                   if c not in (None, "Not recorded") and v.isdigit())
    for category in [None, *CATEGORIES]:
        values = [v for (s, c), v in data.items() if c == category]
        exact = sum(int(v) for v in values if v.isdigit())
        lower = exact + sum(1 for v in values if v == "1-4")
        upper = exact + sum(4 for v in values if v in ("<5", "1-4"))
        try:
            row = result.row("offences", "2018-19", category, "platform" if category else None)
        except KeyError:
            assert not values
            continue
        assert (row.total, row.lower_bound, row.upper_bound) == (exact, lower, upper)
        assert row.lower_bound <= row.upper_bound and row.total <= row.lower_bound
        assert row.with_figure == sum(1 for v in values if v.isdigit() or v in ("<5", "1-4"))
        assert row.no_reply == len(AUTHORITIES) - len(values)
        if category not in (None, "Not recorded") and recorded:
            assert row.share_where_recorded == exact / recorded
    group = [r for r in result.rows if r.cell.level == "group"]
    members = ["Instagram"]  # of the example's Facebook-owned group, only Instagram is used here
    expected = sum(int(v) for (s, c), v in data.items() if c in members and v.isdigit())
    assert all(r.total == expected for r in group)
    session.rollback()
