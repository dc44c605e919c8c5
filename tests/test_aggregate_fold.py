"""The folded query (services.aggregate._folded) against the per-level queries it replaces.

Up to MAX_FOLDED_PERIODS periods, the totals and categories of every period, their matched
panels and their rates come from one query; beyond, from three (``_grouped``, ``_panel`` and
``_rate_sums``), which the other aggregate tests check against plain sums. Here both paths
build the same campaign of random figures and must agree on every row, change and rate, on a
design with what the fold has to get right: several measures (one rated per 1,000 children,
one not rated), a period before the first estimate and one after the last (nearest years), a
quarter, a period too long to rate, forces with and without populations, and a period group and
a category group (which stay on their own queries).
"""

from __future__ import annotations

import io
from dataclasses import asdict
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from foitrack.models import Authority, Campaign, Figure
from foitrack.services import aggregate
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from foitrack.services.population import import_populations
from tests.factories import FIGURES_HEADER, TEST_ACTOR, load_forces

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

FORCES = ["west-mercia", "sussex", "kent", "city-of-london", "british-transport"]
MEASURES = ["offences", "victims", "arrests"]
PERIODS = ["2016-17", "2017-18", "2018-19", "q1-2019", "two-years", "2024-25"]
CATEGORIES = ["Instagram", "Snapchat", "Other", "Not recorded"]

DESIGN = '''
slug = "fold"
title = "Folded and not"
authorities = ["west-mercia", "sussex", "kent", "city-of-london", "british-transport"]
request_text = """Dear {{ authority.name }}, ..."""
[[measures]]
key = "offences"
label = "Offences recorded"
[[measures]]
key = "victims"
label = "Victims recorded"
rate_per = 1000
rate_base = "children-0-17"
[[measures]]
key = "arrests"
label = "Arrests"
rate_per = 0
[[periods]]
key = "2016-17"
label = "2016/17"
start = 2016-04-01
end = 2017-03-31
[[periods]]
key = "2017-18"
label = "2017/18"
start = 2017-04-01
end = 2018-03-31
[[periods]]
key = "2018-19"
label = "2018/19"
start = 2018-04-01
end = 2019-03-31
[[periods]]
key = "q1-2019"
label = "April to June 2019"
start = 2019-04-01
end = 2019-06-30
[[periods]]
key = "two-years"
label = "2017 to 2019"
start = 2017-04-01
end = 2019-03-31
[[periods]]
key = "2024-25"
label = "2024/25"
start = 2024-04-01
end = 2025-03-31
[[period_groups]]
key = "both"
label = "the two years"
periods = ["2017-18", "2018-19"]
[[dimensions]]
key = "platform"
label = "Communication method"
categories = ["Instagram", "Snapchat", "Other"]
not_recorded = "Not recorded"
[[groups]]
key = "pictures"
label = "Picture apps"
dimension = "platform"
categories = ["Instagram", "Snapchat"]
'''

# Children in some forces and years only, so that authorities of one period are rated on
# different mid-years, or not at all.
CHILDREN = (b"authority,year,population,base\n"
            b"west-mercia,2016,250000,children-0-17\nwest-mercia,2018,240000,children-0-17\n"
            b"sussex,2019,330000,children-0-17\ncity-of-london,2018,1200,children-0-17\n")

# Mostly exact figures, as in replies, so that matched panels are of several forces.
value_text = st.one_of(st.integers(0, 500).map(str), st.integers(0, 500).map(str),
                       st.sampled_from(["<5", "1-4", "not recorded", "withheld s.40", "not held"]))
# Dense enough (up to two thirds of the 270 cells of three categories) that panels of several forces,
# and cells whose forces are rated on different mid-years, are the rule.
cells = st.dictionaries(
    st.tuples(st.sampled_from(FORCES), st.sampled_from(MEASURES), st.sampled_from(PERIODS),
              st.sampled_from([None, "Instagram", "Not recorded"])),
    value_text, min_size=40, max_size=180)


def _both_ways(session: Session, monkeypatch: pytest.MonkeyPatch, campaign: Campaign,
               **options: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    folded = asdict(aggregate.build(session, campaign, **options))
    with monkeypatch.context() as unfolded:
        unfolded.setattr(aggregate, "MAX_FOLDED_PERIODS", 0)
        straight = asdict(aggregate.build(session, campaign, **options))
    return folded, straight


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=cells, checked=st.sets(st.integers(0, 179)), subset=st.sets(st.sampled_from(FORCES)))
def test_the_folded_query_gives_what_the_per_level_queries_give(
        session: Session, monkeypatch: pytest.MonkeyPatch,
        data: dict[tuple[str, str, str, str | None], str], checked: set[int],
        subset: set[str]) -> None:
    load_forces(session)
    campaign = create_from_file(session, TEST_ACTOR, DESIGN)
    import_populations(session, TEST_ACTOR, CHILDREN)
    lines = "".join(f"{who},{measure},{period},{'platform' if category else ''},"
                    f"{category or ''},{value},,Reply\n"
                    for (who, measure, period, category), value in data.items())
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO((FIGURES_HEADER + lines).encode()))
    session.flush()
    ids = sorted(session.scalars(select(Figure.id)))
    session.execute(update(Figure).where(Figure.id.in_([ids[n] for n in checked if n < len(ids)]))
                    .values(checked_by="tests"))
    authority_ids = list(session.scalars(select(Authority.id).where(Authority.slug.in_(subset))))
    for options in ({}, {"checked_only": True}, {"authority_ids": authority_ids}):
        folded, straight = _both_ways(session, monkeypatch, campaign, **options)
        assert folded == straight
    session.rollback()


def test_the_fold_s_panels_and_rates_are_those_of_the_figures(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worked case, so that both paths agreeing cannot hide both being wrong: the matched
    panel of 2017/18 to 2018/19 holds the forces with exact figures in both years only, and
    the children's rate of 2018/19 is over the forces with an estimate for it."""
    load_forces(session)
    campaign = create_from_file(session, TEST_ACTOR, DESIGN)
    import_populations(session, TEST_ACTOR, CHILDREN)
    rows = [("west-mercia", "offences", "2017-18", "10"), ("west-mercia", "offences", "2018-19", "14"),
            ("sussex", "offences", "2017-18", "20"), ("sussex", "offences", "2018-19", "<5"),
            ("kent", "offences", "2017-18", "3"), ("kent", "offences", "2018-19", "7"),
            ("city-of-london", "offences", "2017-18", "1"),
            ("city-of-london", "offences", "2018-19", "2"),
            ("west-mercia", "victims", "2018-19", "24"), ("sussex", "victims", "2018-19", "33"),
            ("kent", "victims", "2018-19", "5"), ("city-of-london", "victims", "2018-19", "3")]
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO((FIGURES_HEADER + "".join(
        f"{who},{measure},{period},,,{value},,Reply\n" for who, measure, period, value in rows
    )).encode()))
    session.flush()
    result = aggregate.build(session, campaign)
    change = result.change("offences", "2017-18", "2018-19")
    assert (change.from_total, change.to_total) == (34, 23)
    # Sussex's "<5" of 2018/19 keeps it out of the panel.
    assert (change.panel_size, change.panel_from, change.panel_to) == (3, 14, 23)
    victims = result.row("victims", "2018-19")
    # West Mercia's own 2018, City of London's own 2018 and Sussex's nearest (2019); Kent none.
    assert (victims.rate_total, victims.population, victims.rate_authorities) == (
        24 + 33 + 3, 240_000 + 330_000 + 1200, 3)
    assert victims.rate == 60 * 1000 / 571_200
    assert (victims.population_years, victims.nearest_years) == ((2018, 2019), (2019,))
    folded, straight = _both_ways(session, monkeypatch, campaign)
    assert folded == straight
    session.rollback()


def test_a_kept_folded_statement_never_outlives_the_populations_it_was_made_with(
        session: Session) -> None:
    """The folded statement is kept between builds (``_folded_query``); a new estimate must
    still reach the next build's rate, and a figure entered since must reach its total."""
    load_forces(session)
    campaign = create_from_file(session, TEST_ACTOR, DESIGN)
    import_populations(session, TEST_ACTOR, CHILDREN)
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO((
        FIGURES_HEADER + "west-mercia,victims,2018-19,,,24,,Reply\n"
                         "kent,victims,2018-19,,,5,,Reply\n").encode()))
    session.flush()
    before = aggregate.build(session, campaign).row("victims", "2018-19")
    assert (before.total, before.population, before.rate_authorities) == (29, 240_000, 1)
    import_populations(session, TEST_ACTOR,
                       b"authority,year,population,base\nkent,2018,310000,children-0-17\n")
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO((
        FIGURES_HEADER + "sussex,victims,2018-19,,,33,,Reply\n").encode()))
    session.flush()
    after = aggregate.build(session, campaign).row("victims", "2018-19")
    assert (after.total, after.population, after.rate_authorities) == (
        62, 240_000 + 310_000 + 330_000, 3)
    session.rollback()
