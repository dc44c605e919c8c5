"""Aliases in the campaign file (issue 19): other names replies use for a measure, a period or
a category, which extraction matches. They round-trip through the database and the TOML, a
design saved by the design page's form keeps them, and a wrong one is named."""

from __future__ import annotations

import pytest

from foitrack.domain.design import CampaignDesign
from foitrack.domain.extraction import extract
from foitrack.errors import Invalid
from foitrack.services import design as design_service
from foitrack.services import design_form
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, make_campaign

ALIASED = EXAMPLE_DESIGN.replace(
    'label = "Offences of sexual communication with a child recorded"',
    'label = "Offences of sexual communication with a child recorded"\n'
    'aliases = ["Number of offences", "Recorded offences"]',
).replace(
    'end = 2019-03-31',
    'end = 2019-03-31\naliases = ["Year to March 2019"]',
).replace(
    'categories = ["Instagram", "Facebook", "Messenger", "WhatsApp", "Snapchat", "Other"]',
    'categories = ["Instagram", "Facebook", {label = "Messenger", aliases = ["Facebook Messenger",'
    ' "FB Messenger"]}, "WhatsApp", "Snapchat", "Other"]',
)


def test_the_parser_reads_aliases_and_plain_designs_are_unchanged():
    parsed = design_service.parse_campaign_file(ALIASED).design
    assert parsed.measures[0].aliases == ["Number of offences", "Recorded offences"]
    assert parsed.periods[0].aliases == ["Year to March 2019"]
    assert parsed.dimensions[0].categories == [
        "Instagram", "Facebook", "Messenger", "WhatsApp", "Snapchat", "Other"]
    assert parsed.dimensions[0].aliases == {"Messenger": ["Facebook Messenger", "FB Messenger"]}
    plain = design_service.parse_campaign_file(EXAMPLE_DESIGN).design
    assert plain.measures[0].aliases is None and plain.dimensions[0].aliases is None


@pytest.mark.parametrize(("before", "after", "field"), [
    ('aliases = ["Number of offences", "Recorded offences"]', 'aliases = "Number of offences"',
     "measures[1].aliases"),
    ('{label = "Messenger", aliases', '{label = "Messenger", nickname = "M", aliases',
     "dimensions[1].categories[3].nickname"),
    ('aliases = ["Facebook Messenger",', 'aliases = [3,', "dimensions[1].categories[3].aliases"),
])
def test_a_wrong_alias_is_named_by_its_place(before, after, field):
    with pytest.raises(Invalid) as raised:
        design_service.parse_campaign_file(ALIASED.replace(before, after))
    assert field in [problem.field for problem in raised.value.problems]


def test_aliases_are_stored_and_the_campaign_file_round_trips_them(session):
    campaign = make_campaign(session, ALIASED)
    stored = CampaignDesign.of(campaign)
    assert stored.measures[0].aliases == ("Number of offences", "Recorded offences")
    assert stored.periods[0].aliases == ("Year to March 2019",)
    assert stored.breakdown("platform").category("Messenger").aliases == (
        "Facebook Messenger", "FB Messenger")
    exported = design_service.campaign_file(session, campaign)
    assert '{ label = "Messenger", aliases = [' in exported  # as the campaign file writes it
    assert design_service.parse_campaign_file(exported).design == \
        design_service.parse_campaign_file(ALIASED).design


def test_saving_the_design_form_keeps_the_aliases(session):
    campaign = make_campaign(session, ALIASED)
    rows = design_form.rows_of(design_service.design_dict(campaign))
    # The form shows the category's label, not its aliases.
    assert "Messenger" in rows["dimensions"][0]["categories"].splitlines()
    design_service.save_design(session, TEST_ACTOR, campaign, design_form.parse_rows(rows),
                               campaign.design_version)
    session.commit()
    session.expire_all()
    stored = CampaignDesign.of(campaign)
    assert stored.breakdown("platform").category("Messenger").aliases == (
        "Facebook Messenger", "FB Messenger")
    assert stored.measures[0].aliases == ("Number of offences", "Recorded offences")


def test_extraction_matches_a_stored_alias(session):
    campaign = make_campaign(session, ALIASED)
    data = (b"Number of offences,Year to March 2019\nFB Messenger,12\nInstagram,30\n"
            b"Total,42\n")
    result = extract("reply.csv", data, CampaignDesign.of(campaign))
    assert {(p.category, p.value) for p in result.proposals} == {
        ("Messenger", "12"), ("Instagram", "30"), (None, "42")}
