""""Repeat next year": the periods and wording moved on, the design kept, the series joined."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from foitrack.errors import Invalid
from foitrack.models import Campaign
from foitrack.services import campaigns, requests
from foitrack.services.data_design import design_dict
from tests.factories import TEST_ACTOR, fixture_design, make_campaign

TODAY = dt.date(2020, 3, 2)

# The seed campaign, its measure rated per 1,000 children.
SEED = fixture_design("grooming-2019").replace(
    'unit = "offences"', 'unit = "offences"\nrate_per = 1000\nrate_base = "children-0-17"', 1)

ROLLED_WORDING = """{{ salutation }},

Under the Freedom of Information Act 2000, please tell me how many offences of sexual
communication with a child (Sexual Offences Act 2003, s.15A) {{ authority.name }} recorded in
2018/19 and in 2019/20, with the communication method used and the victim's age band where
recorded.

Yours faithfully,"""


@pytest.fixture
def seed(session):
    return make_campaign(session, SEED)


def _repeat(session, source, **kw):
    repeat = campaigns.repeat_campaign(session, TEST_ACTOR, source, title=kw.pop("title", "Next"),
                                       today=TODAY, **kw)
    session.commit()
    return repeat


def test_a_repeat_moves_the_periods_on_a_year(session, seed):
    repeat = _repeat(session, seed)
    assert [(p.key, p.label, p.start, p.end) for p in repeat.periods] == [
        ("2018-19", "2018/19", dt.date(2018, 4, 1), dt.date(2019, 3, 31)),
        ("2019-20", "2019/20", dt.date(2019, 4, 1), dt.date(2020, 3, 31)),
    ]
    group = repeat.period_groups[0]
    assert (group.key, group.label, [p.key for p in group.periods]) == (
        "two-years", "the two years", ["2018-19", "2019-20"])
    assert repeat.cadence_months == 12


def test_a_repeat_keeps_measures_categories_and_groups(session, seed):
    repeat = _repeat(session, seed)
    before, after = design_dict(seed), design_dict(repeat)
    for part in ("measures", "dimensions", "groups"):
        assert after[part] == before[part], part
    assert (repeat.measures[0].rate_per, repeat.measures[0].rate_base) == (1000, "children-0-17")
    assert [r.authority.slug for r in requests.campaign_requests(session, repeat)] == \
        [r.authority.slug for r in requests.campaign_requests(session, seed)]


def test_a_repeat_proposes_the_wording_with_its_years_moved_on(session, seed):
    proposal = campaigns.propose_repeat(seed)
    assert proposal.wording.text == ROLLED_WORDING
    assert proposal.title == "Sexual communication with a child, 2018/19 and 2019/20"
    assert proposal.slug == "grooming-2020"
    assert proposal.wording.diff == "".join(line + "\n" for line in (
        "--- last time's wording",
        "+++ proposed wording",
        "@@ -2,7 +2,7 @@",
        " ",
        " Under the Freedom of Information Act 2000, please tell me how many offences of sexual",
        " communication with a child (Sexual Offences Act 2003, s.15A) {{ authority.name }} "
        "recorded in",
        "-2017/18 and in 2018/19, with the communication method used and the victim's age band "
        "where",
        "+2018/19 and in 2019/20, with the communication method used and the victim's age band "
        "where",
        " recorded.",
        " ",
        " Yours faithfully,"))
    repeat = _repeat(session, seed, title=proposal.title)
    assert repeat.current_version.request_text == ROLLED_WORDING
    assert seed.current_version.request_text != ROLLED_WORDING  # last year's is untouched


def test_the_wording_the_researcher_edited_is_the_one_kept(session, seed):
    edited = "{{ salutation }},\n\nHow many in 2019/20 alone?"
    repeat = _repeat(session, seed, request_text=edited)
    assert repeat.current_version.request_text == edited


def test_a_repeat_joins_its_sources_series_and_so_does_the_next(session, seed):
    first = _repeat(session, seed, title="Grooming 2020", slug="grooming-2020")
    second = _repeat(session, first, title="Grooming 2021", slug="grooming-2021")
    assert seed.series is not None
    assert first.series_id == second.series_id == seed.series_id
    assert [p.label for p in second.periods] == ["2019/20", "2020/21"]
    assert second.repeat_of is first


def test_a_repeat_carries_the_cadence_and_moves_by_it(session, seed):
    seed.cadence_months = 24
    session.commit()
    repeat = _repeat(session, seed)
    assert [p.label for p in repeat.periods] == ["2019/20", "2020/21"]
    assert repeat.cadence_months == 24


def test_a_repeat_may_be_sent_on_a_day(session, seed):
    repeat = _repeat(session, seed, send_on=dt.date(2020, 4, 6))
    assert repeat.send_on == dt.date(2020, 4, 6)
    assert repeat.send_on_reminded is None


def test_a_send_on_day_that_has_passed_is_refused_and_nothing_is_made(session, seed):
    with pytest.raises(Invalid) as refused:
        campaigns.repeat_campaign(session, TEST_ACTOR, seed, title="Next", today=TODAY,
                                  send_on=dt.date(2020, 3, 1))
    session.rollback()
    assert [(p.field, p.message) for p in refused.value.problems] == [
        ("send_on", "2020-03-01 has passed: choose today or a later day")]
    assert session.scalars(select(Campaign.slug)).all() == ["grooming-2019"]
