"""Sending requests and chasers through a real SMTP server: once each, whatever happens."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from foitrack.domain.timeline import Status
from foitrack.models import DeliveryStatus, OutgoingMessage
from foitrack.services import mail, requests
from foitrack.services.design import create_from_file
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces

TODAY = dt.date(2019, 5, 1)
FORCES = ["west-mercia", "kent", "sussex"]


@pytest.fixture
def campaign(session):
    load_forces(session)
    found = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'authorities = "england-wales"', 'authorities = ["west-mercia", "kent", "sussex"]'))
    session.commit()
    return found


def settings_for(port: int | None, tmp_path: Path) -> mail.MailSettings:
    return mail.MailSettings(mail_from="research@charity.example", smtp_host="127.0.0.1" if port
                             else None, smtp_port=port or 0, smtp_starttls=False,
                             throttle_seconds=0, outbox=tmp_path / "outbox")


def send_campaign(app, session, campaign, settings, attach=False):
    chosen = requests.campaign_requests(session, campaign)
    queued = mail.queue_campaign(session, TEST_ACTOR, campaign, chosen, settings, TODAY, attach)
    session.commit()
    ids = [m.id for m in session.scalars(select(OutgoingMessage))]
    report = mail.deliver(app.extensions["foitrack.db"].session, settings, TEST_ACTOR, TODAY,
                          message_ids=ids)
    return queued, report


def test_a_campaign_goes_out_once_per_authority_with_its_token(app, session, campaign,
                                                              smtp_server, tmp_path):
    server, port = smtp_server
    settings = settings_for(port, tmp_path)
    queued, report = send_campaign(app, session, campaign, settings, attach=True)
    assert (len(queued), report.sent) == (3, 3)
    session.expire_all()  # delivery committed in sessions of its own
    mercia = requests.get_request(session, campaign.slug, "west-mercia")
    received = server.to(mercia.authority.foi_email)
    assert len(received) == 1
    message = received[0]
    assert message["Subject"].endswith(f"[FOI-{mercia.id}-WESTMERCIA]")
    assert message["From"] == "research@charity.example"
    assert "Dear West Mercia Police" in message.get_body(("plain",)).get_content()
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == "grooming-2019-west-mercia.xlsx"
    stored = session.scalars(select(OutgoingMessage).where(
        OutgoingMessage.request_id == mercia.id)).one()
    assert stored.message_id == message["Message-ID"] and stored.status is DeliveryStatus.sent
    session.expire_all()
    assert requests.state_of(mercia, TODAY).status is Status.awaiting_response
    # Sending the campaign again sends nothing more.
    queued, report = send_campaign(app, session, campaign, settings)
    assert (len(queued), report.sent, len(server.messages)) == (0, 0, 3)


def test_a_failure_leaves_the_others_sent_and_is_retried_once(app, session, campaign,
                                                             smtp_server, tmp_path):
    server, port = smtp_server
    settings = settings_for(port, tmp_path)
    kent = requests.get_request(session, campaign.slug, "kent").authority.foi_email
    server.refuse.add(kent.lower())
    _, report = send_campaign(app, session, campaign, settings)
    assert report.sent == 2 and len(report.failed) == 1 and kent in report.failed[0]
    session.expire_all()
    failed = session.scalars(select(OutgoingMessage).where(
        OutgoingMessage.status == DeliveryStatus.failed)).one()
    assert "550" in failed.last_error
    server.refuse.clear()
    report = mail.deliver(app.extensions["foitrack.db"].session, settings, TEST_ACTOR, TODAY)
    assert report.sent == 1
    assert [len(server.to(r.authority.foi_email)) for r in requests.campaign_requests(
        session, campaign)] == [1, 1, 1]


def test_an_interrupted_send_never_sends_a_message_twice(app, session, campaign, smtp_server,
                                                        tmp_path):
    server, port = smtp_server
    settings = settings_for(port, tmp_path)
    chosen = requests.campaign_requests(session, campaign)
    mail.queue_campaign(session, TEST_ACTOR, campaign, chosen, settings, TODAY)
    session.commit()
    # As if the process died after handing the first message to the server.
    first = session.scalars(select(OutgoingMessage).order_by(OutgoingMessage.id)).first()
    first.status = DeliveryStatus.sending
    session.commit()
    report = mail.deliver(app.extensions["foitrack.db"].session, settings, TEST_ACTOR, TODAY)
    assert report.sent == 2 and report.unknown == [str(first.id)]
    assert len(server.messages) == 2
    assert "may have been sent before an interruption" in report.summary()


def test_without_a_mail_server_messages_go_to_the_outbox(app, session, campaign, tmp_path):
    settings = settings_for(None, tmp_path)
    _, report = send_campaign(app, session, campaign, settings)
    assert report.written_to_outbox == 3 and report.sent == 0
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 3
    assert b"To: " in files[0].read_bytes()
    session.expire_all()
    mercia = requests.get_request(session, campaign.slug, "west-mercia")
    # Nothing left, so the FOI clock has not started: no "sent" event, and a real send later
    # still goes to everyone.
    assert mercia.events == []
    assert requests.state_of(mercia, TODAY).status is Status.not_sent
    plan = mail.plan_campaign_send(session, campaign, requests.campaign_requests(session, campaign))
    assert len(plan.to_send) == 3


def test_a_chaser_run_twice_sends_once(app, session, campaign, smtp_server, tmp_path):
    server, port = smtp_server
    settings = settings_for(port, tmp_path)
    send_campaign(app, session, campaign, settings)
    late = dt.date(2019, 6, 10)  # every request is overdue (due 2019-05-31)
    for _ in range(2):
        session.expire_all()  # each run is a fresh process, as from cron
        queued, skipped = mail.queue_chasers(session, TEST_ACTOR, settings, late)
        session.commit()
        mail.deliver(app.extensions["foitrack.db"].session, settings, TEST_ACTOR, late,
                     message_ids=[m.id for m in queued])
    session.expire_all()
    chasers = [m for m in server.messages if m["Subject"].startswith("Overdue:")]
    assert len(chasers) == 3
    assert all("chased on 2019-06-10" in reason for reason in skipped), skipped
    body = chasers[0].get_body(("plain",)).get_content()
    assert "Section 10(1)" in body and "That date was 2019-05-31" in body
    assert "now 6 working days late" in body
    mercia = requests.get_request(session, campaign.slug, "west-mercia")
    session.refresh(mercia)
    assert requests.state_of(mercia, late).last_chased_on == late


def test_the_owner_gets_a_digest_of_what_became_overdue(app, session, campaign, smtp_server,
                                                       tmp_path):
    from tests.factories import make_user

    server, port = smtp_server
    settings = settings_for(port, tmp_path)
    owner = make_user(session, email="owner@charity.example")
    campaign.owner = owner
    session.commit()
    send_campaign(app, session, campaign, settings)
    session.expire_all()
    # Due Fri 2019-05-31: overdue from Mon 2019-06-03, and only that day is it news.
    for day, expected in ((dt.date(2019, 6, 3), 1), (dt.date(2019, 6, 4), 0)):
        queued = mail.queue_digests(session, TEST_ACTOR, settings, day)
        session.commit()
        mail.deliver(app.extensions["foitrack.db"].session, settings, TEST_ACTOR, day,
                     message_ids=[m.id for m in queued])
        assert len(queued) == expected
    digest = server.to("owner@charity.example")
    assert len(digest) == 1
    body = digest[0].get_body(("plain",)).get_content()
    assert "- Kent Police (Sexual communication with a child" in body
    assert body.count("due 2019-05-31") == 3


def test_two_sends_at_once_cannot_both_take_a_message(app, session, campaign, smtp_server,
                                                      tmp_path):
    server, port = smtp_server
    settings = settings_for(port, tmp_path)
    chosen = requests.campaign_requests(session, campaign)
    for request in chosen:  # one mail server for all three, so the throttle waits between them
        request.authority.foi_email = f"foi-{request.authority.slug}@police.example"
    queued = mail.queue_campaign(session, TEST_ACTOR, campaign, chosen, settings, TODAY)
    session.commit()
    ids = [m.id for m in queued]
    calls = []

    def other_run_first(seconds):
        # While this run sleeps between messages, a second run delivers everything.
        if not calls:
            calls.append(mail.deliver(app.extensions["foitrack.db"].session, settings, TEST_ACTOR,
                                      TODAY, message_ids=ids))

    settings = mail.MailSettings(**{**settings.__dict__, "throttle_seconds": 1})
    mail.deliver(app.extensions["foitrack.db"].session, settings, TEST_ACTOR, TODAY,
                 message_ids=ids, sleep=other_run_first)
    assert sorted(m["To"] for m in server.messages) == sorted(r.authority.foi_email for r in chosen)


def test_a_failed_chaser_is_tried_again_not_blocked(app, session, campaign, smtp_server, tmp_path):
    server, port = smtp_server
    settings = settings_for(port, tmp_path)
    send_campaign(app, session, campaign, settings)
    kent = requests.get_request(session, campaign.slug, "kent").authority.foi_email
    server.refuse.add(kent.lower())
    late = dt.date(2019, 6, 10)
    session.expire_all()
    mail.queue_chasers(session, TEST_ACTOR, settings, late)
    session.commit()
    mail.deliver(app.extensions["foitrack.db"].session, settings, TEST_ACTOR, late,
                 message_ids=mail.pending_ids(session, mail.MessageKind.chaser))
    def chasers_to_kent():
        return [m for m in server.to(kent) if m["Subject"].startswith("Overdue:")]

    assert chasers_to_kent() == []
    server.refuse.clear()
    session.expire_all()
    mail.queue_chasers(session, TEST_ACTOR, settings, late)
    session.commit()
    mail.deliver(app.extensions["foitrack.db"].session, settings, TEST_ACTOR, late,
                 message_ids=mail.pending_ids(session, mail.MessageKind.chaser))
    assert len(chasers_to_kent()) == 1


def test_an_overdue_review_gets_no_s10_chaser(app, session, campaign, smtp_server, tmp_path):
    server, port = smtp_server
    settings = settings_for(port, tmp_path)
    mercia = requests.get_request(session, campaign.slug, "west-mercia")
    requests.add_event(session, TEST_ACTOR, mercia, "sent", dt.date(2019, 5, 1), today=TODAY)
    requests.add_event(session, TEST_ACTOR, mercia, "response", dt.date(2019, 5, 20),
                       today=dt.date(2019, 8, 1), outcome="refused", exemptions="s.12")
    requests.add_event(session, TEST_ACTOR, mercia, "internal_review_requested",
                       dt.date(2019, 5, 22), today=dt.date(2019, 8, 1))
    session.commit()
    queued, skipped = mail.queue_chasers(session, TEST_ACTOR, settings, dt.date(2019, 8, 1))
    assert [m.request.authority.slug for m in queued if m.request_id == mercia.id] == []
    assert any("internal review overdue" in reason for reason in skipped)


def test_the_throttle_waits_per_recipient_domain_and_never_for_the_outbox(
        app, session, campaign, smtp_server, tmp_path):
    """43 forces on 43 domains go out without waiting on each other; two messages to one mail
    server are spaced by the throttle; writing files to the outbox never waits (issue 21, 4)."""
    server, port = smtp_server
    chosen = requests.campaign_requests(session, campaign)
    shared = {"kent": "foi@kent.police.example", "sussex": "records@kent.police.example",
              "west-mercia": "foi@westmercia.example"}
    for request in chosen:
        request.authority.foi_email = shared[request.authority.slug]
    queued = mail.queue_campaign(session, TEST_ACTOR, campaign, chosen,
                                 settings_for(port, tmp_path), TODAY)
    session.commit()
    waits: list[float] = []
    throttled = mail.MailSettings(**{**settings_for(port, tmp_path).__dict__,
                                     "throttle_seconds": 30})
    report = mail.deliver(app.extensions["foitrack.db"].session, throttled, TEST_ACTOR, TODAY,
                          message_ids=[m.id for m in queued], sleep=waits.append)
    assert report.sent == 3 and len(server.messages) == 3
    # Only the second message to kent.police.example waited, and for about the throttle.
    assert len(waits) == 1 and 29 < waits[0] <= 30
    # The same with no mail server: written to the outbox, no wait at all.
    session.execute(OutgoingMessage.__table__.update().values(status="queued"))
    session.commit()
    outbox_waits: list[float] = []
    written = mail.deliver(app.extensions["foitrack.db"].session,
                           mail.MailSettings(**{**settings_for(None, tmp_path).__dict__,
                                                "throttle_seconds": 30}),
                           TEST_ACTOR, TODAY, message_ids=[m.id for m in queued],
                           sleep=outbox_waits.append)
    assert written.written_to_outbox == 3 and outbox_waits == []
