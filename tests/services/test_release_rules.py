"""The publication rules of the release lines (docs/statistics.md): coverage, base, bounds,
panels, overlapping breakdowns and the words, on small campaigns to the 43 forces."""

from __future__ import annotations

import datetime as dt

import pytest

from foitrack.errors import Invalid
from foitrack.services import aggregate, figures, release, requests
from foitrack.services.design import campaign_file, create_from_file, parse_campaign_file
from tests.factories import TEST_ACTOR, load_forces

TODAY = dt.date(2019, 10, 1)
FORCES = ["cleveland", "durham", "northumbria", "cheshire", "cumbria", "greater-manchester",
          "lancashire", "merseyside", "humberside", "north-yorkshire", "south-yorkshire",
          "west-yorkshire", "derbyshire", "leicestershire", "lincolnshire", "northamptonshire",
          "nottinghamshire", "staffordshire", "warwickshire", "west-mercia", "west-midlands",
          "bedfordshire", "cambridgeshire", "essex", "hertfordshire", "norfolk", "suffolk"]

DESIGN = '''
slug = "rules"
title = "Sexual communication with a child"
authorities = "england-wales"
request_text = "Please tell me."
{release}
[[measures]]
key = "offences"
label = "Offences of sexual communication with a child recorded"
unit = "offences"

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

[[dimensions]]
key = "platform"
label = "Communication method"
categories = ["Instagram", "Snapchat", "Other"]
not_recorded = "Not recorded"
{overlapping}
'''


def make(session, release_table="", overlapping='overlapping = true\nunit = "instances"'):
    load_forces(session)
    return create_from_file(session, TEST_ACTOR, DESIGN.format(release=release_table,
                                                               overlapping=overlapping))


def give(session, campaign, slug, period, total=None, **platform):
    entries = [figures.Entry("offences", period, None, None, str(total))] if total is not None \
        else []
    entries += [figures.Entry("offences", period, "platform", label.replace("_", " "), str(value))
                for label, value in platform.items()]
    figures.save_figures(session, TEST_ACTOR, requests.get_request(session, campaign.slug, slug),
                         entries)
    session.commit()


def texts(result):
    return [line.text for line in result.lines]


def national(session, campaign):
    return release.national_release(session, campaign, aggregate.build(session, campaign), TODAY)


def test_below_min_coverage_a_plain_statement_replaces_the_national_total(session):
    campaign = make(session)
    for slug in FORCES[:6]:
        give(session, campaign, slug, "2018-19", total=400)
    lines = texts(national(session, campaign))
    assert lines[0] == ("Only 6 of the 43 forces asked gave figures for 2018/19: too few for a "
                        "national figure.")
    assert not any("2,400" in line for line in lines)


def test_the_first_line_says_how_many_gave_figures_when_not_all_did(session):
    campaign = make(session, "[release]\nmin_coverage = 0.1\n")
    for slug in FORCES[:6]:
        give(session, campaign, slug, "2018-19", total=410)
    lines = texts(national(session, campaign))
    assert lines[0] == ("More than 2,400 offences of sexual communication with a child recorded in "
                        "2018/19, from the 6 of the 43 forces that gave figures.")
    # Every line that states the total says its coverage.
    assert all("of the 43" in line for line in lines if "2,46" in line or "2,4" in line)


def test_a_national_share_needs_min_base(session):
    campaign = make(session, "[release]\nmin_coverage = 0.1\nmin_base = 100\n")
    for slug in FORCES[:6]:
        give(session, campaign, slug, "2018-19", total=20, Instagram=8, Snapchat=7)
    lines = texts(national(session, campaign))
    assert ("The communication method was recorded for only 90 instances in 2018/19: too few to "
            "give shares.") in lines
    assert not any("accounted for" in line for line in lines)


def test_shares_of_an_overlapping_breakdown_count_instances_not_offences(session):
    campaign = make(session)
    for slug in FORCES[:25]:
        give(session, campaign, slug, "2018-19", total=10, Instagram=8, Snapchat=5, Other=1)
    lines = texts(national(session, campaign))
    share = next(line for line in lines if line.startswith("Instagram accounted"))
    assert share == ("Instagram accounted for more than half (57.1%) of the 350 instances where the "
                     "communication method was recorded in 2018/19 (figures from 25 of the 43 "
                     "asked).")
    assert not any("offences where the communication method" in line for line in lines)


def test_a_non_overlapping_breakdown_takes_the_measures_unit(session):
    campaign = make(session, overlapping="")
    for slug in FORCES[:25]:
        give(session, campaign, slug, "2018-19", total=10, Instagram=6, Snapchat=3, Other=1)
    lines = texts(national(session, campaign))
    assert any(line.startswith("Instagram accounted for three in five (60.0%) of the 250 offences")
               for line in lines)


def test_a_doubling_is_restated_on_the_panel_when_other_forces_answered(session):
    campaign = make(session)
    for slug in FORCES[:24]:
        give(session, campaign, slug, "2017-18", total=10, Instagram=4)
        give(session, campaign, slug, "2018-19", total=20, Instagram=9)
    for slug in FORCES[24:27]:  # answered the later year only
        give(session, campaign, slug, "2018-19", total=20, Instagram=9)
    lines = texts(national(session, campaign))
    assert ("Among the 24 forces that gave Instagram figures for both 2017/18 and 2018/19, "
            "recorded instances of Instagram in 2018/19 were more than double those of 2017/18 "
            "(216 against 96).") in lines


def test_a_doubling_over_the_same_forces_is_stated_over_everyone(session):
    campaign = make(session)
    for slug in FORCES[:24]:
        give(session, campaign, slug, "2017-18", total=10, Instagram=4)
        give(session, campaign, slug, "2018-19", total=20, Instagram=9)
    lines = texts(national(session, campaign))
    assert ("Recorded instances of Instagram in 2018/19 were more than double those of 2017/18 "
            "(216 against 96).") in lines


def test_a_total_with_suppressed_values_carries_its_range_in_each_period(session):
    campaign = make(session)
    for slug in FORCES[:25]:
        give(session, campaign, slug, "2017-18", total=100)
        give(session, campaign, slug, "2018-19", total=120)
    give(session, campaign, FORCES[0], "2017-18", total="<5")
    give(session, campaign, FORCES[0], "2018-19", total="<5")
    lines = texts(national(session, campaign))
    total = next(line for line in lines if line.startswith("2,880"))
    assert total.startswith("2,880 offences of sexual communication with a child recorded in "
                            "2018/19 (between 2,880 and 2,884 counting suppressed figures), up 20% "
                            "from 2,400 in 2017/18 (between 2,400 and 2,404)")


def test_a_checked_only_release_says_so(session):
    campaign = make(session, "[release]\nmin_coverage = 0.01\n")
    give(session, campaign, FORCES[0], "2018-19", total=12)
    from foitrack.models import Figure

    for figure in session.query(Figure):
        figure.checked_by = "checker@example.org"
    session.commit()
    result = aggregate.build(session, campaign, checked_only=True)
    lines = texts(release.national_release(session, campaign, result, TODAY))
    assert lines[0].endswith("From FOI responses of 1 of the 43 forces asked, counting only figures "
                             "checked by a second person.")


def test_a_set_reads_naturally_and_chosen_forces_share_their_last_word(session):
    load_forces(session)
    ids, label = aggregate.subset_ids(session, "england-wales")
    assert release.describe_subset(session, ids, label) == \
        "the 43 territorial police forces of England and Wales"
    ids, label = aggregate.subset_ids(session, "E23000031,E23000033,E23000032")
    assert release.describe_subset(session, ids, label) == "Surrey, Sussex and Kent Police together"


def test_ranks_read_the_highest_and_the_lowest(session):
    campaign = make(session, "[release]\nmin_coverage = 0.01\n")
    give(session, campaign, "durham", "2018-19", total=50)
    give(session, campaign, "cleveland", "2018-19", total=10)
    result = aggregate.build(session, campaign)
    top = texts(release.fact_sheet(session, campaign, result, "durham", TODAY))
    bottom = texts(release.fact_sheet(session, campaign, result, "cleveland", TODAY))
    # With a rate stated first (issue 18), the rank by number says what it ranks.
    assert "By number of offences, it was the highest of the 2 forces that gave a figure." in top
    assert "By number of offences, it was the lowest of the 2 forces that gave a figure." in bottom


def test_release_keys_and_overlapping_round_trip_through_the_campaign_file(session):
    campaign = make(session, "[release]\nmin_coverage = 0.6\nmin_base = 30\n")
    assert (campaign.min_coverage, campaign.min_base) == (0.6, 30)
    text = campaign_file(session, campaign)
    assert "overlapping = true" in text and 'unit = "instances"' in text
    again = parse_campaign_file(text)
    assert (again.design.min_coverage, again.design.min_base) == (0.6, 30)
    assert (again.design.dimensions[0].overlapping, again.design.dimensions[0].unit) == (
        True, "instances")


@pytest.mark.parametrize(("table", "field"), [
    ("[release]\nmin_coverage = 1.5\n", "release.min_coverage"),
    ("[release]\nmin_base = 0\n", "release.min_base"),
    ("[release]\nmin_bases = 3\n", "release.min_bases"),
])
def test_bad_release_settings_name_their_place(session, table, field):
    with pytest.raises(Invalid) as error:
        parse_campaign_file(DESIGN.format(release=table, overlapping=""))
    assert field in {p.field for p in error.value.problems}


def test_overlapping_must_be_true_or_false(session):
    with pytest.raises(Invalid) as error:
        parse_campaign_file(DESIGN.format(release="", overlapping='overlapping = "yes"'))
    assert "dimensions[1].overlapping" in {p.field for p in error.value.problems}
