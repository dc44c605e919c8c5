"""Campaign files: the README's format as written, clear errors, round trips, safe changes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from foitrack.errors import Conflict, Invalid
from foitrack.services import design
from foitrack.services.figures import import_csv
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces


@pytest.fixture
def forces(session):
    load_forces(session)


def test_the_example_campaign_file_works_as_written(session, forces):
    campaign = design.create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN)
    session.commit()
    assert campaign.slug == "grooming-2019" and len(campaign.requests) == 43
    assert [m.key for m in campaign.measures] == ["offences"]
    assert campaign.measures[0].unit == "offences"
    period = campaign.periods[0]
    assert (period.key, period.label, period.start.isoformat(), period.end.isoformat()) == (
        "2018-19", "2018/19", "2018-04-01", "2019-03-31")
    platform = campaign.dimensions[0]
    assert [c.label for c in platform.categories] == [
        "Instagram", "Facebook", "Messenger", "WhatsApp", "Snapchat", "Other", "Not recorded"]
    assert platform.not_recorded.label == "Not recorded"
    assert [c.label for c in campaign.groups[0].categories] == [
        "Instagram", "Facebook", "Messenger", "WhatsApp"]


def test_a_list_of_codes_picks_authorities(session, forces):
    text = EXAMPLE_DESIGN.replace('authorities = "england-wales"', 'authorities = ["E23000016", "E23000033"]')
    campaign = design.create_from_file(session, TEST_ACTOR, text)
    assert sorted(r.authority.slug for r in campaign.requests) == ["sussex", "west-mercia"]


def test_export_then_create_gives_the_same_campaign(session, forces):
    fixture = (Path(__file__).parent.parent / "fixtures" / "grooming-2019.toml").read_text()
    campaign = design.create_from_file(session, TEST_ACTOR, fixture)
    session.commit()
    exported = design.campaign_file(session, campaign)
    again = design.parse_campaign_file(exported)
    original = design.parse_campaign_file(fixture)
    assert again == original
    assert "[[periods]]" in exported and "[[groups]]" in exported


def test_a_quarterly_campaign_keeps_its_cadence_through_its_file(session, forces):
    text = EXAMPLE_DESIGN.replace('slug = "grooming-2019"', 'slug = "grooming-2019"\ncadence_months = 3')
    campaign = design.create_from_file(session, TEST_ACTOR, text)
    session.commit()
    assert campaign.cadence_months == 3
    exported = design.campaign_file(session, campaign)
    assert "cadence_months = 3" in exported
    assert design.parse_campaign_file(exported).cadence_months == 3
    # A yearly campaign's file says nothing: the default.
    yearly = design.create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        "grooming-2019", "grooming-yearly"))
    assert "cadence_months" not in design.campaign_file(session, yearly)


def test_a_repeat_named_in_a_campaign_file_joins_its_sources_series(session, forces):
    first = design.create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN)
    second = design.create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'slug = "grooming-2019"', 'slug = "grooming-2020"\nrepeat_of = "grooming-2019"'))
    session.commit()
    assert first.series is not None and second.series is first.series
    assert [c.slug for c in first.series.campaigns] == ["grooming-2019", "grooming-2020"]


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (('slug = "grooming-2019"', 'slug = "grooming-2019"\ncadence_months = 0'),
         "cadence_months", "from 1 to 120"),
        (("end = 2019-03-31", "end = 2017-03-31"), "periods[1].end", "ends (2017-03-31) before it starts"),
        (('key = "offences"', 'key = "Offences!"'), "measures[1].key", "must be lower-case"),
        (('dimension = "platform"', 'dimension = "platfrom"'), "groups[1].dimension",
         "no dimension 'platfrom'"),
        (('categories = ["Facebook", "Messenger", "Instagram", "WhatsApp"]',
          'categories = ["Facebook", "TikTok"]'), "groups[1].categories", "'TikTok' not among"),
        (('start = 2018-04-01', 'start = "2018-04-01"'), "periods[1].start", "must be a date"),
        (('slug = "grooming-2019"', 'slug = "grooming-2019"\ncolour = "red"'), "colour",
         "unknown setting"),
        (('"Snapchat", "Other"]', '"Snapchat", "Snapchat"]'), "dimensions[1].categories",
         "'Snapchat' is listed twice"),
    ],
)
def test_mistakes_are_named_by_their_place_in_the_file(change, where, message):
    with pytest.raises(Invalid) as caught:
        design.parse_campaign_file(EXAMPLE_DESIGN.replace(*change))
    assert any(p.field == where and message in p.message for p in caught.value.problems), \
        caught.value


def test_broken_toml_says_where():
    with pytest.raises(Invalid, match="not valid TOML.*line 2"):
        design.parse_campaign_file('slug = "a"\ntitle = \n')


def test_overlapping_periods_cannot_be_added_together():
    text = EXAMPLE_DESIGN + '''
[[periods]]
key = "q1"
label = "Q1 2018/19"
start = 2018-04-01
end = 2018-06-30
[[period_groups]]
key = "both"
label = "both"
periods = ["2018-19", "q1"]
'''
    with pytest.raises(Invalid, match="overlap"):
        design.parse_campaign_file(text)


def test_the_design_can_grow_but_never_drops_figures(session, forces):
    campaign = design.create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN)
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO(
        b"authority,measure,period,dimension,category,value,caveat,source\n"
        b"E23000016,offences,2018-19,platform,Instagram,17,,\n"))
    session.commit()
    grown = design.parse_campaign_file(EXAMPLE_DESIGN.replace('"Other"]', '"Other", "TikTok"]'))
    design.apply_design(session, TEST_ACTOR, campaign, grown.design)
    assert "TikTok" in [c.label for c in campaign.dimensions[0].categories]
    shrunk = design.parse_campaign_file(EXAMPLE_DESIGN.replace('"Instagram", "Facebook"', '"Facebook"')
                                        .replace('"Messenger", "Instagram"', '"Messenger"'))
    with pytest.raises(Conflict, match="category 'Instagram' of 'platform' has figures"):
        design.apply_design(session, TEST_ACTOR, campaign, shrunk.design)
