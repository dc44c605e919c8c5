"""Bounces and reply addresses: requests sent through a real SMTP server, then what comes back.

The bounces are .eml files under tests/fixtures/bounces, one per kind a mail server sends: an
RFC 3464 report, Exim's, Postfix's (not a report) and Exchange's. Each names the Message-ID of
the message it returns; the test gives the sent message that Message-ID before it goes.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from foitrack.domain.clock import today_in_uk
from foitrack.domain.reply_addresses import reply_address
from foitrack.domain.timeline import EventKind, Status
from foitrack.models import InboundMessage, OutgoingMessage
from foitrack.services import dashboard, inbound, mail, requests
from foitrack.services.design import create_from_file
from foitrack.storage import FileStore
from tests.commands import invoke
from tests.factories import EXAMPLE_DESIGN, FIXTURES, TEST_ACTOR, load_forces, make_user
from tests.pages import page_text, sign_in

TODAY = dt.date(2019, 5, 1)
KEY = "a secret key for the tests"
REPLY_TO = "Research <research@charity.example>"
FORCES = ["west-mercia", "kent", "sussex", "bedfordshire"]
BOUNCES = FIXTURES / "bounces"
# The message each fixture returns: its authority, Message-ID and subject.
RETURNED = {
    "dsn.eml": ("kent", "<155670133012.4415.9921837465510293847@charity.example>",
                "Freedom of Information request: recorded offences [FOI-2-KENT]", "5.1.1"),
    "exim.eml": ("west-mercia", "<155670574011.4415.1102938475610293847@charity.example>",
                 "Freedom of Information request: recorded offences [FOI-1-WESTMERCIA]", "5.1.1"),
    "postfix.eml": ("sussex", "<155671080111.4415.5561029384756102938@charity.example>",
                    "Freedom of Information request: recorded offences [FOI-3-SUSSEX]", "5.2.1"),
    "exchange.eml": ("bedfordshire", "<155671832011.4415.7736102938475610293@charity.example>",
                     "Freedom of Information request: recorded offences [FOI-4-BEDFORDSHIRE]",
                     "5.1.1"),
}


@pytest.fixture
def campaign(session):
    load_forces(session)
    found = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'authorities = "england-wales"', f"authorities = {FORCES!r}".replace("'", '"')))
    session.commit()
    return found


@pytest.fixture
def store(tmp_path):
    return FileStore(tmp_path / "files")


def settings_for(port: int) -> mail.MailSettings:
    return mail.MailSettings(mail_from="Research <research@charity.example>",
                             smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
                             throttle_seconds=0, reply_address=REPLY_TO, reply_key=KEY)


def send(app, session, campaign, port, as_in_fixtures=True):
    """Send the campaign; with ``as_in_fixtures`` each message carries the Message-ID and
    subject its bounce fixture quotes."""
    settings = settings_for(port)
    chosen = requests.campaign_requests(session, campaign)
    queued = mail.queue_campaign(session, TEST_ACTOR, campaign, chosen, settings, TODAY)
    if as_in_fixtures:
        by_slug = {m.request.authority.slug: m for m in queued}
        for slug, message_id, subject, _ in RETURNED.values():
            by_slug[slug].message_id, by_slug[slug].subject = message_id, subject
    session.commit()
    report = mail.deliver(app.extensions["foitrack.db"].session, settings, TEST_ACTOR, TODAY,
                          message_ids=[m.id for m in queued])
    session.expire_all()
    return report


def import_eml(session, store, data: bytes, name="message.eml"):
    report = inbound.import_file(session, TEST_ACTOR, store, name, data, TODAY, reply_key=KEY)
    session.commit()
    return report


def request_of(session, campaign, slug):
    return requests.get_request(session, campaign.slug, slug)


@pytest.mark.parametrize("fixture", sorted(RETURNED))
def test_a_bounce_is_matched_to_the_message_it_returns_and_recorded(
        app, session, campaign, smtp_server, store, fixture):
    _, port = smtp_server
    assert send(app, session, campaign, port).sent == 4
    slug, message_id, _, status = RETURNED[fixture]
    request = request_of(session, campaign, slug)
    assert requests.state_of(request, TODAY).status is Status.awaiting_response

    import_eml(session, store, (BOUNCES / fixture).read_bytes())

    stored = session.scalars(select(InboundMessage)).one()
    assert stored.is_bounce and stored.matched_by == "bounce" and stored.request_id == request.id
    assert stored.event.kind is EventKind.delivery_failed
    assert status in stored.event.note and request.authority.foi_email in stored.event.note
    # Not counted as sent: the clock has not started.
    state = requests.state_of(request, TODAY)
    assert state.status is Status.not_sent and state.sent_on is None
    assert state.response_deadline is None
    # The address is flagged for checking, with the reason.
    assert request.authority.address_bounced_on == TODAY
    assert status in request.authority.address_bounce_reason
    sent = session.scalars(select(OutgoingMessage).where(
        OutgoingMessage.message_id == message_id)).one()
    assert sent.last_error.startswith("returned undelivered: ")
    # The others are still sent.
    others = [request_of(session, campaign, s) for s in FORCES if s != slug]
    assert all(requests.state_of(r, TODAY).status is Status.awaiting_response for r in others)


def test_a_bounce_without_the_message_id_is_only_a_note_to_check_the_address(
        app, session, campaign, smtp_server, store):
    """Matched by recipient and subject, both public (anyone could forge such a bounce): a
    note asking a person to check, the request still sent and its address not flagged."""
    _, port = smtp_server
    send(app, session, campaign, port)
    data = (BOUNCES / "exchange.eml").read_bytes().replace(
        b"Message-ID: <155671832011.4415.7736102938475610293@charity.example>\n", b"")
    import_eml(session, store, data)
    stored = session.scalars(select(InboundMessage)).one()
    assert stored.matched_by == "bounce"
    assert stored.request.authority.slug == "bedfordshire"
    assert stored.event.kind is EventKind.note
    assert stored.event.note.startswith("A bounce may concern this request")
    assert "check the address" in stored.event.note
    assert requests.state_of(stored.request, TODAY).status is Status.awaiting_response
    assert stored.request.authority.address_bounced_on is None


DSN = RETURNED["dsn.eml"]


def kent_dsn(**replace: bytes) -> bytes:
    """dsn.eml (Kent's request returned), with some of its text replaced."""
    data = (BOUNCES / "dsn.eml").read_bytes()
    for old, new in replace.items():
        data = data.replace(old.encode(), new)
    return data


def test_a_relayed_report_is_no_failure(app, session, campaign, smtp_server, store):
    """A report that the message was relayed names no failed recipient: not "not sent"."""
    _, port = smtp_server
    send(app, session, campaign, port)
    import_eml(session, store, kent_dsn(**{
        "Action: failed\nStatus: 5.1.1": b"Action: relayed\nStatus: 2.0.0"}))
    kent = request_of(session, campaign, "kent")
    stored = session.scalars(select(InboundMessage)).one()
    assert stored.request_id == kent.id and stored.event.kind is EventKind.note
    assert requests.state_of(kent, TODAY).status is Status.awaiting_response
    assert kent.authority.address_bounced_on is None


def test_a_failure_at_another_address_is_only_a_note(app, session, campaign, smtp_server, store):
    """The authority's server took the request; forwarding it to an internal mailbox failed.
    It was received, so it stays sent; a person is asked to check."""
    _, port = smtp_server
    send(app, session, campaign, port)
    import_eml(session, store, kent_dsn(**{
        "Final-Recipient: RFC822; freedomofinformation@kent.police.uk":
            b"Final-Recipient: RFC822; j.smith@internal.kent.police.uk"}))
    kent = request_of(session, campaign, "kent")
    stored = session.scalars(select(InboundMessage)).one()
    assert stored.event.kind is EventKind.note and "check the address" in stored.event.note
    assert requests.state_of(kent, TODAY).status is Status.awaiting_response
    assert kent.authority.address_bounced_on is None


def test_a_late_bounce_of_an_earlier_sending_does_not_undo_the_resend(
        app, session, campaign, smtp_server, store):
    """Sent, returned, the address fixed and sent again; then a second bounce of the first
    sending arrives: the re-send stands."""
    server, port = smtp_server
    send(app, session, campaign, port)
    import_eml(session, store, (BOUNCES / "dsn.eml").read_bytes())
    kent = request_of(session, campaign, "kent")
    kent.authority.foi_email = "foi@kent.police.example"
    session.commit()
    assert send(app, session, campaign, port, as_in_fixtures=False).sent == 1
    assert requests.state_of(kent, TODAY).status is Status.awaiting_response

    import_eml(session, store, kent_dsn(**{
        "Message-ID: <201905010902.x419213Z004417@mail.charity.example>":
            b"Message-ID: <201905010902.x419213Z009999@mail.charity.example>"}))

    late = session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
    assert late is not None and late.request_id == kent.id
    assert late.event.kind is EventKind.note and "earlier sending" in late.event.note
    state = requests.state_of(kent, TODAY)
    assert state.status is Status.awaiting_response and state.sent_on == TODAY
    assert kent.authority.address_bounced_on is None


def test_a_returned_request_shows_on_the_dashboard(app, session, campaign, smtp_server, store):
    _, port = smtp_server
    send(app, session, campaign, port)
    me = make_user(session)
    assert dashboard.build(session, me, TODAY).undelivered == []
    import_eml(session, store, (BOUNCES / "dsn.eml").read_bytes())
    board = dashboard.build(session, me, TODAY)
    assert [link.authority_slug for link in board.undelivered] == ["kent"]
    assert "5.1.1" in board.undelivered[0].detail and not board.nothing_to_do


def test_the_dashboard_page_lists_a_returned_request(app, client, session, campaign, smtp_server,
                                                   store):
    _, port = smtp_server
    send(app, session, campaign, port)
    import_eml(session, store, (BOUNCES / "exim.eml").read_bytes())
    me = make_user(session)
    sign_in(client, me.email)
    page = page_text(client, "/")
    assert "returned undelivered" in page
    section = page.split("returned undelivered", 1)[1].split("</div>", 1)[0]
    assert "West Mercia Police" in section and "5.1.1" in section


def test_a_returned_request_can_be_sent_again_once_its_address_is_changed(
        app, session, campaign, smtp_server, store):
    server, port = smtp_server
    send(app, session, campaign, port)
    import_eml(session, store, (BOUNCES / "dsn.eml").read_bytes())
    kent = request_of(session, campaign, "kent")
    kent.authority.foi_email = "foi@kent.police.example"
    assert kent.authority.address_bounced_on is None  # a new address is not flagged
    session.commit()
    assert send(app, session, campaign, port, as_in_fixtures=False).sent == 1
    assert len(server.to("foi@kent.police.example")) == 1
    assert requests.state_of(kent, TODAY).status is Status.awaiting_response


def test_requests_and_chasers_go_out_with_their_own_reply_address(
        app, session, campaign, smtp_server):
    server, port = smtp_server
    send(app, session, campaign, port, as_in_fixtures=False)
    mercia = request_of(session, campaign, "west-mercia")
    received = server.to(mercia.authority.foi_email)[0]
    expected = reply_address(REPLY_TO, mercia.id, "west-mercia", KEY)
    assert received["Reply-To"] == expected
    assert received["Reply-To"].addresses[0].addr_spec.startswith(
        f"research+{mercia.id}-westmercia-")
    # A chaser too.
    settings = settings_for(port)
    later = dt.date(2019, 6, 10)
    queued, _ = mail.queue_chasers(session, TEST_ACTOR, settings, later,
                                   campaign_slug=campaign.slug, request_ids=[mercia.id])
    session.commit()
    mail.deliver(app.extensions["foitrack.db"].session, settings, TEST_ACTOR, later,
                 message_ids=[m.id for m in queued])
    assert [m["Reply-To"] for m in server.to(mercia.authority.foi_email)] == [expected] * 2


def test_a_reply_to_is_opt_in(session, campaign):
    """The secret key alone adds no Reply-To: a mail host that does not deliver plus-addresses
    would bounce the replies. FOITRACK_REPLY_ADDRESS turns it on."""
    config = {"SECRET_KEY": KEY, "MAIL_FROM": "research@charity.example"}
    without = mail.settings_from(config)
    with_it = mail.settings_from({**config, "REPLY_ADDRESS": "foi@charity.example"})
    queued = mail.queue_campaign(session, TEST_ACTOR, campaign,
                                 requests.campaign_requests(session, campaign), without, TODAY)
    assert "Reply-To" not in mail.build_email(queued[0], without)
    replying = mail.build_email(queued[0], with_it)["Reply-To"]
    assert replying.addresses[0].addr_spec.startswith(f"foi+{queued[0].request.id}-")


def reply(to: str, subject: str, body: str = "Please find attached our response.",
          sender: str = "FOI Unit <foi@bedfordshire.pnn.police.uk>",
          date: dt.datetime = dt.datetime(2019, 5, 1, 15, 0, tzinfo=dt.UTC)) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = f"<{abs(hash((to, subject, body)))}@police.example>"
    message.set_content(body)
    return bytes(message)


def test_a_reply_to_the_reply_address_files_itself_whatever_the_subject(
        app, session, campaign, smtp_server, store):
    _, port = smtp_server
    send(app, session, campaign, port, as_in_fixtures=False)
    kent = request_of(session, campaign, "kent")
    mercia = request_of(session, campaign, "west-mercia")
    address = reply_address("research@charity.example", kent.id, "kent", KEY)
    # The subject names another request's token: the address the reply went to wins.
    import_eml(session, store, reply(address, f"Re: our ref 2019/4411 [{mail.token_for(mercia)}]",
                                     sender="someone@gmail.example"))
    stored = session.scalars(select(InboundMessage)).one()
    assert stored.matched_by == "address" and stored.request_id == kent.id
    assert stored.event.kind is EventKind.reply_received


def test_a_reply_address_delivered_to_another_mailbox_is_found_in_its_delivery_headers(
        app, session, campaign, smtp_server, store):
    _, port = smtp_server
    send(app, session, campaign, port, as_in_fixtures=False)
    sussex = request_of(session, campaign, "sussex")
    data = b"Delivered-To: " + reply_address("research@charity.example", sussex.id, "sussex",
                                             KEY).encode() + b"\n" + reply(
        "research@charity.example", "Your email", sender="x@elsewhere.example")
    import_eml(session, store, data)
    stored = session.scalars(select(InboundMessage)).one()
    assert stored.matched_by == "address" and stored.request_id == sussex.id


def test_a_forged_reply_address_goes_to_triage(app, session, campaign, smtp_server, store):
    _, port = smtp_server
    send(app, session, campaign, port, as_in_fixtures=False)
    kent = request_of(session, campaign, "kent")
    genuine = reply_address("research@charity.example", kent.id, "kent", KEY)
    forged = reply_address("research@charity.example", kent.id, "kent", "another key")
    assert forged != genuine
    report = import_eml(session, store, reply(forged, "Something to file",
                                              sender="stranger@nowhere.example"))
    assert report.triage == ["Something to file"]
    assert session.scalars(select(InboundMessage)).one().request_id is None


def test_a_reply_quoting_only_the_authoritys_reference_files_to_its_request(
        app, session, campaign, smtp_server, store):
    """Bedfordshire's reply, quoting only its own reference, while two of its requests are
    open: the sender's domain cannot tell them apart, the reference can."""
    _, port = smtp_server
    send(app, session, campaign, port, as_in_fixtures=False)
    other = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'slug = "grooming-2019"', 'slug = "grooming-2020"').replace(
        'authorities = "england-wales"', 'authorities = ["bedfordshire"]'))
    session.commit()
    send(app, session, other, port, as_in_fixtures=False)
    first = request_of(session, campaign, "bedfordshire")
    second = request_of(session, other, "bedfordshire")
    requests.set_reference(session, TEST_ACTOR, first, "FOI 2019/00123")
    requests.set_reference(session, TEST_ACTOR, second, "FOI 2019/00456")
    session.commit()

    report = import_eml(session, store, reply(
        "research@charity.example", "Your Freedom of Information request",
        body="Dear Sir or Madam,\n\nRe: our reference foi 2019/00456.\n\nPlease find attached "
             "our response."))

    assert report.triage == []
    stored = session.scalars(select(InboundMessage)).one()
    assert stored.matched_by == "reference" and stored.request_id == second.id


def test_another_authoritys_reference_does_not_file_a_reply(
        app, session, campaign, smtp_server, store):
    """Sussex replies quoting its own new reference, which is Kent's too: the reply is Sussex's
    (from its domain), not filed on Kent's request."""
    _, port = smtp_server
    send(app, session, campaign, port, as_in_fixtures=False)
    kent = request_of(session, campaign, "kent")
    sussex = request_of(session, campaign, "sussex")
    requests.set_reference(session, TEST_ACTOR, kent, "FOI 2019/0153")
    session.commit()
    sender = f"FOI <foi@{sussex.authority.foi_email.rsplit('@', 1)[1]}>"
    import_eml(session, store, reply("research@charity.example", "Your request",
                                     body="Our ref: FOI 2019/0153", sender=sender))
    stored = session.scalars(select(InboundMessage)).one()
    assert stored.request_id == sussex.id and stored.matched_by == "sender"


def test_a_reference_is_quoted_only_as_a_whole_token():
    assert inbound._quotes("Our ref: FOI 2024/0153 - thank you", "FOI 2024/0153")
    assert inbound._quotes("Re: our reference foi 2024/0153.", "FOI 2024/0153")
    assert not inbound._quotes("Our ref: FOI 2024/0153 - thank you", "0153")
    assert not inbound._quotes("Our ref: 0153-A", "0153")


def test_a_reference_that_names_two_open_requests_names_neither(
        app, session, campaign, smtp_server, store):
    _, port = smtp_server
    send(app, session, campaign, port, as_in_fixtures=False)
    requests.set_reference(session, TEST_ACTOR, request_of(session, campaign, "kent"), "FOI/0077")
    requests.set_reference(session, TEST_ACTOR, request_of(session, campaign, "sussex"), "F0077")
    session.commit()
    report = import_eml(session, store, reply("research@charity.example", "FOI/0077 and F0077",
                                              sender="who@nowhere.example"))
    assert report.triage == ["FOI/0077 and F0077"]


def test_reply_addresses_are_not_matched_without_the_key(app, session, campaign, smtp_server,
                                                         store):
    _, port = smtp_server
    send(app, session, campaign, port, as_in_fixtures=False)
    kent = request_of(session, campaign, "kent")
    data = reply(reply_address("research@charity.example", kent.id, "kent", KEY), "Hello",
                 sender="x@nowhere.example")
    report = inbound.import_file(session, TEST_ACTOR, store, "x.eml", data, TODAY)
    assert report.triage == ["Hello"]


# ---- end to end: `foitrack mail send`, then `foitrack mail fetch` from a real IMAP server ------

def test_what_comes_back_to_the_mailbox_is_filed_by_reply_address_and_bounce(
        app, session, cli_env, smtp_server, imap_mailbox):
    server, port = smtp_server
    load_forces(session)
    create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'authorities = "england-wales"', 'authorities = ["kent", "sussex"]'))
    session.commit()
    env = {**cli_env, "FOITRACK_SMTP_HOST": "127.0.0.1", "FOITRACK_SMTP_PORT": str(port),
           "FOITRACK_SMTP_STARTTLS": "0", "FOITRACK_MAIL_FROM": "research@charity.example",
           "FOITRACK_REPLY_ADDRESS": "foi@charity.example", "FOITRACK_MAIL_THROTTLE_SECONDS": "0",
           **imap_mailbox.env()}
    runner = CliRunner(env=env)
    assert invoke(runner, "mail", "send", "grooming-2019", "--yes").exit_code == 0
    kent = requests.get_request(session, "grooming-2019", "kent")
    sussex = requests.get_request(session, "grooming-2019", "sussex")
    to_kent = server.to(kent.authority.foi_email)[0]
    to_sussex = server.to(sussex.authority.foi_email)[0]
    reply_address_of_kent = to_kent["Reply-To"].addresses[0].addr_spec
    assert reply_address_of_kent.startswith(f"foi+{kent.id}-kent-")
    assert reply_address_of_kent.endswith("@charity.example")
    # Kent answers to its Reply-To with a subject of its own and no thread; Sussex's request
    # comes back from its mail server (Postfix's notice, returning what went to Sussex).
    now = dt.datetime.now(dt.UTC)
    bounce = (BOUNCES / "postfix.eml").read_bytes().replace(
        RETURNED["postfix.eml"][1].encode(), str(to_sussex["Message-ID"]).encode()).replace(
        b"Date: Wed,  1 May 2019 12:40:03 +0100 (BST)", b"Date: " + format_datetime(now).encode())
    imap_mailbox.deliver(reply(reply_address_of_kent, "Information you asked for",
                               sender="clerk@gmail.example", date=now), bounce)

    result = invoke(runner, "mail", "fetch")

    assert result.exit_code == 0, result.output
    session.expire_all()
    filed = {m.request.authority.slug: m for m in session.scalars(select(InboundMessage))}
    assert filed["kent"].matched_by == "address"
    assert filed["sussex"].matched_by == "bounce"
    assert filed["sussex"].event.kind is EventKind.delivery_failed
    assert requests.state_of(sussex, today_in_uk()).status is Status.not_sent
    assert sussex.authority.address_bounced_on is not None
