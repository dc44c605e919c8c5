"""What the correspondence pages and commands list, asked of services.mail: the messages a send
tries again, the outbox, a request's messages and a kept file by its link."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import true

from foitrack.models import DeliveryStatus, MessageKind, OutgoingMessage, StoredFile
from foitrack.services import mail, requests
from foitrack.services.design import create_from_file
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces

TODAY = dt.date(2019, 5, 1)


@pytest.fixture
def queued(session, tmp_path: Path):
    """Three request messages queued, none sent."""
    load_forces(session)
    campaign = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'authorities = "england-wales"', 'authorities = ["west-mercia", "kent", "sussex"]'))
    settings = mail.MailSettings(mail_from="research@charity.example", smtp_host=None,
                                 smtp_port=0, smtp_starttls=False, throttle_seconds=0,
                                 outbox=tmp_path / "outbox")
    chosen = requests.campaign_requests(session, campaign)
    messages = mail.queue_campaign(session, TEST_ACTOR, campaign, chosen, settings, TODAY)
    session.commit()
    return campaign, chosen, messages


def test_a_send_tries_again_the_queued_and_the_failed_only(session, queued):
    _, chosen, messages = queued
    messages[0].status = DeliveryStatus.failed
    messages[1].status = DeliveryStatus.sending  # it may have gone: never sent again by itself
    session.flush()
    again = mail.pending_messages(session, MessageKind.request, chosen)
    assert again == [messages[0], messages[2]]
    assert mail.pending_ids(session, MessageKind.request) == [messages[0].id, messages[2].id]
    assert (DeliveryStatus.queued, DeliveryStatus.failed) == mail.STILL_TO_SEND


def test_pending_messages_are_those_of_the_requests_asked_about(session, queued):
    _, chosen, messages = queued
    assert mail.pending_messages(session, MessageKind.request, chosen[:1]) == [
        m for m in messages if m.request_id == chosen[0].id]
    assert mail.pending_messages(session, MessageKind.chaser, chosen) == []


def test_the_outbox_is_newest_first_and_meets_the_condition(session, queued):
    _, chosen, messages = queued
    assert mail.outbox(session, true()) == sorted(messages, key=lambda m: -m.id)
    only_first = OutgoingMessage.request_id == chosen[0].id
    assert mail.outbox(session, only_first) == [m for m in messages if m.request_id == chosen[0].id]


def test_sent_to_lists_one_requests_messages(session, queued):
    _, chosen, _ = queued
    assert [m.request_id for m in mail.sent_to(session, chosen[1].id)] == [chosen[1].id]


def test_a_kept_file_is_found_by_its_public_id(session):
    kept = StoredFile(sha256="0" * 64, filename="reply.pdf", content_type="application/pdf",
                      size=1, created_by="tests")
    session.add(kept)
    session.flush()
    assert mail.stored_file(session, kept.public_id) is kept
    assert mail.stored_file(session, "no-such-file") is None
