"""Campaigns: targets, wording versions, pilots and repeats."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from foitrack.errors import Conflict, Invalid
from foitrack.models import AuditEntry, CampaignStatus, Request
from foitrack.services import campaigns, requests
from tests.factories import REQUEST_TEXT, TEST_ACTOR, load_forces

TODAY = dt.date(2019, 6, 30)


@pytest.fixture
def forces(session):
    load_forces(session)


def new(session, **kw):
    values = {"title": "Grooming 2019", "request_text": REQUEST_TEXT, "set_slug": "england-wales", **kw}
    campaign = campaigns.create_campaign(session, TEST_ACTOR, **values)
    session.commit()
    return campaign


def test_a_campaign_for_the_43_has_43_unsent_requests(session, forces):
    campaign = new(session)
    assert campaign.slug == "grooming-2019"
    assert campaign.status is CampaignStatus.draft
    assert campaign.current_version.number == 1
    assert campaign.current_version.subject == "Freedom of Information request: Grooming 2019"
    found = requests.campaign_requests(session, campaign)
    assert len(found) == 43
    assert all(requests.state_of(r, TODAY).status.value == "not_sent" for r in found)


def test_hand_picked_authorities_by_slug_or_code(session, forces):
    campaign = new(session, set_slug=None, authority_keys=["west-mercia", "E23000033", "scotland"])
    names = [r.authority.name for r in requests.campaign_requests(session, campaign)]
    assert names == ["Police Scotland", "Sussex Police", "West Mercia Police"]


def test_the_text_is_personalised_for_each_authority(session, forces):
    first = requests.campaign_requests(session, new(session))[0]
    text = campaigns.render_text(REQUEST_TEXT, first.authority)
    assert text.startswith("Dear Freedom of Information Officer,")
    assert "did Avon and Somerset Constabulary record?" in text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": ""}, "title", "is required"),
        ({"slug": "Grooming 2019"}, "slug", "must be lower-case"),
        ({"request_text": "Dear {{ authority.nmae }}"}, "request_text", "has no attribute 'nmae'"),
        ({"request_text": "Dear {{ authority.name }"}, "request_text", "line 1"),
        ({"set_slug": "nowhere"}, "set", "no authority set 'nowhere'"),
        ({"set_slug": None, "authority_keys": ["atlantis"]}, "authorities", "'atlantis'"),
        ({"set_slug": None}, "authorities", "choose a set or at least one authority"),
        ({"authority_keys": ["kent"]}, "authorities", "not both"),
    ],
)
def test_bad_campaigns_name_the_field_and_create_nothing(session, forces, changes, field, message):
    with pytest.raises(Invalid) as caught:
        campaigns.create_campaign(session, TEST_ACTOR, **{
            "title": "Grooming 2019", "request_text": REQUEST_TEXT, "set_slug": "england-wales", **changes,
        })
    assert any(message in text for text in caught.value.for_field(field)), caught.value
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Request)) == 0


def test_the_same_slug_twice_is_refused(session, forces):
    new(session)
    with pytest.raises(Invalid, match="already the name of a campaign"):
        new(session)


def test_a_slug_that_is_another_public_address_is_refused(session, forces):
    # /data/shared/<token>/ is a partner's link: a campaign "shared" would hide behind it.
    with pytest.raises(Invalid) as refused:
        campaigns.create_campaign(session, TEST_ACTOR, title="Shared", request_text="Please.",
                                  authority_keys=["kent"])
    assert refused.value.for_field("slug") == [
        "'shared' is kept for partners' private links (/data/shared/...); choose another"]


def test_a_template_cannot_reach_python_internals(session, forces):
    with pytest.raises(Invalid):
        campaigns.render_text("{{ authority.__class__.__mro__[1].__subclasses__() }}", None)


def test_editing_before_sending_changes_version_one_in_place(session, forces):
    campaign = new(session)
    version = campaigns.update_wording(session, TEST_ACTOR, campaign, subject="FOI request",
                                       request_text=REQUEST_TEXT + " Thank you.")
    assert version.number == 1 and campaign.current_version.request_text.endswith("Thank you.")


def test_editing_after_a_pilot_makes_a_new_version_and_sent_requests_keep_theirs(session, forces):
    campaign = new(session)
    pilot = requests.get_request(session, campaign.slug, "west-mercia")
    requests.add_event(session, TEST_ACTOR, pilot, "sent", dt.date(2019, 5, 1), today=TODAY)
    session.commit()
    assert campaign.status is CampaignStatus.active  # the pilot made it live
    version = campaigns.update_wording(session, TEST_ACTOR, campaign, subject="FOI request",
                                       request_text="{{ salutation }}, a clearer question.")
    session.commit()
    assert version.number == 2
    rest = requests.get_request(session, campaign.slug, "kent")
    requests.add_event(session, TEST_ACTOR, rest, "sent", dt.date(2019, 5, 8), today=TODAY)
    session.commit()
    assert pilot.version.number == 1 and rest.version.number == 2
    actions = session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_type == "campaign")).all()
    assert "new_version" in actions


def test_a_repeat_has_the_same_targets_and_text_and_is_linked(session, forces):
    first = new(session, set_slug=None, authority_keys=["kent", "surrey", "sussex"])
    repeat = campaigns.repeat_campaign(session, TEST_ACTOR, first, title="Grooming 2020")
    session.commit()
    assert repeat.repeat_of is first
    assert repeat.current_version.request_text == first.current_version.request_text
    assert [r.authority.slug for r in requests.campaign_requests(session, repeat)] == [
        "kent", "surrey", "sussex",
    ]


def test_adding_authorities_skips_those_already_in(session, forces):
    campaign = new(session, set_slug=None, authority_keys=["kent"])
    added = campaigns.add_authorities(session, TEST_ACTOR, campaign, ["kent", "scotland"])
    assert [r.authority.slug for r in added] == ["scotland"]


def test_a_request_with_a_timeline_cannot_be_removed(session, forces):
    campaign = new(session, set_slug=None, authority_keys=["kent", "surrey"])
    kent = requests.get_request(session, campaign.slug, "kent")
    requests.add_event(session, TEST_ACTOR, kent, "sent", dt.date(2019, 5, 1), today=TODAY)
    with pytest.raises(Conflict, match="record it as withdrawn instead"):
        campaigns.remove_request(session, TEST_ACTOR, kent)
    campaigns.remove_request(session, TEST_ACTOR, requests.get_request(session, campaign.slug, "surrey"))
    session.commit()
    assert [r.authority.slug for r in requests.campaign_requests(session, campaign)] == ["kent"]


def test_inactive_members_of_a_set_are_left_out(session, forces):
    from foitrack.services.authorities import get_authority, update_authority

    update_authority(session, TEST_ACTOR, get_authority(session, "gwent"), {"active": False})
    session.commit()
    assert len(new(session).requests) == 42
