"""Issue 17 point 1, leftovers: the researcher's own deadlines (to ask for a review, to go to the
Commissioner, to appeal) in the owner's email digest, each with its date and its source."""

from __future__ import annotations

import datetime as dt

from foitrack.services import mail, requests
from tests.factories import TEST_ACTOR, design_for, make_campaign, make_user

SETTINGS = mail.MailSettings(mail_from="research@charity.example")


def _campaign(session, slugs):
    owner = make_user(session, email="owner@charity.example")
    campaign = make_campaign(session, design_for(slugs))
    campaign.owner = owner
    session.commit()
    return campaign


def _record(session, campaign, slug, *events):
    request = requests.get_request(session, campaign.slug, slug)
    for kind, on, fields in events:
        requests.add_event(session, TEST_ACTOR, request, kind, on, today=dt.date(2024, 6, 1),
                           **fields)
    session.commit()


def test_the_digest_reminds_the_owner_of_the_review_window_with_its_source(session):
    """FOIA s.45 Code of Practice (2018), part 5: a review asked for more than 40 working days
    after the response need not be accepted. Refused 2023-09-20: the window ends 2023-11-15, so
    on 2023-11-12 the digest says 3 days are left, the date and where it comes from."""
    campaign = _campaign(session, ["kent", "sussex"])
    _record(session, campaign, "kent",
            ("sent", dt.date(2023, 9, 1), {}),
            ("response", dt.date(2023, 9, 20), {"outcome": "refused", "exemptions": ("s.31",)}))
    _record(session, campaign, "sussex", ("sent", dt.date(2023, 9, 1), {}),
            ("response", dt.date(2023, 9, 20), {"outcome": "provided"}))
    queued = mail.queue_digests(session, TEST_ACTOR, SETTINGS, dt.date(2023, 11, 12))
    assert [m.to_address for m in queued] == ["owner@charity.example"]
    body = queued[0].body
    assert queued[0].subject.endswith("2023-11-12")
    assert ("- Kent Police (" in body and "3 days left to ask for an internal review, by "
            "Wednesday 15 November 2023 (2023-11-15). Source: the s.45 Code of Practice (2018)"
            in body)
    # Sussex answered in full: its window is the same, and so reminded too.
    assert body.count("left to ask for an internal review") == 2
    # One digest a day, however often it is run.
    assert mail.queue_digests(session, TEST_ACTOR, SETTINGS, dt.date(2023, 11, 12)) == []


def test_the_digest_reminds_of_the_tribunal_appeal_with_the_rules(session):
    """FOIA s.57(1) and the GRC Rules 2009 r.22(1)(b): 28 days from the decision notice being
    sent. Decided 2024-03-01: the last day is 2024-03-29."""
    campaign = _campaign(session, ["kent"])
    _record(session, campaign, "kent",
            ("sent", dt.date(2023, 9, 1), {}),
            ("response", dt.date(2023, 9, 20), {"outcome": "refused", "exemptions": ("s.31",)}),
            ("internal_review_requested", dt.date(2023, 10, 2), {}),
            ("internal_review_outcome", dt.date(2023, 10, 10), {"outcome": "upheld"}),
            ("ico_complaint", dt.date(2023, 10, 30), {}),
            ("ico_decision", dt.date(2024, 3, 1), {"outcome": "not_upheld"}))
    body = mail.queue_digests(session, TEST_ACTOR, SETTINGS, dt.date(2024, 3, 29))[0].body
    assert ("Last day to appeal to the First-tier Tribunal, by Friday 29 March 2024 "
            "(2024-03-29). Source: FOIA s.57(1) and the Tribunal Procedure (First-tier "
            "Tribunal) (General Regulatory Chamber) Rules 2009, rule 22(1)(b)") in body


def test_no_digest_without_deadlines_or_overdue_requests(session):
    campaign = _campaign(session, ["kent"])
    _record(session, campaign, "kent", ("sent", dt.date(2023, 9, 1), {}),
            ("response", dt.date(2023, 9, 20), {"outcome": "refused"}))
    assert mail.queue_digests(session, TEST_ACTOR, SETTINGS, dt.date(2023, 9, 25)) == []
