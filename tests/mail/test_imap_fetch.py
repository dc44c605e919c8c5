"""Fetching replies from a real IMAP server (Debian's Dovecot): `foitrack mail fetch` and the
service a scheduled fetch calls. The requests go out through a real SMTP server first, and the
replies quote what was sent, as an authority's mail client would."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from click.testing import CliRunner
from sqlalchemy import event, func, select, text

from foitrack.domain.clock import today_in_uk
from foitrack.models import InboundMessage
from foitrack.services import inbound, mail_fetch, requests
from foitrack.services.design import create_from_file
from foitrack.storage import FileStore
from tests.commands import invoke
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces
from tests.imap_server import running_dovecot

NOT_AN_EMAIL = b"This is not an email at all, just a line of text.\r\n"
BAD_DATE = "Fri, 31 Dec 9999 23:59:59 -1400"  # the year 10000 in UTC


@pytest.fixture
def sent(app, session, cli_env, smtp_server) -> dict[str, EmailMessage]:
    """Kent's and Sussex's requests, emailed by `foitrack mail send` through the SMTP server;
    the messages as they went, by authority."""
    server, port = smtp_server
    load_forces(session)
    create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'authorities = "england-wales"', 'authorities = ["kent", "sussex"]'))
    session.commit()
    runner = CliRunner(env={
        **cli_env, "FOITRACK_SMTP_HOST": "127.0.0.1", "FOITRACK_SMTP_PORT": str(port),
        "FOITRACK_SMTP_STARTTLS": "0", "FOITRACK_MAIL_FROM": "research@charity.example",
        "FOITRACK_MAIL_THROTTLE_SECONDS": "0"})
    result = invoke(runner, "mail", "send", "grooming-2019", "--yes")
    assert result.stdout.strip().endswith("Done: 2 sent."), result.output
    by_address = {m["To"]: m for m in server.messages}
    return {slug: by_address[requests.get_request(session, "grooming-2019", slug)
                              .authority.foi_email] for slug in ("kent", "sussex")}


def reply_to(message: EmailMessage, *, quote_subject: bool = True) -> bytes:
    """An authority's answer: to our address, in the same thread; its subject quotes ours (and
    so the reference token in it) unless ``quote_subject`` is false."""
    answer = EmailMessage()
    answer["From"] = f"FOI Team <{message['To']}>"
    answer["To"] = message["From"]
    answer["Subject"] = f"RE: {message['Subject']}" if quote_subject else "Your information request"
    answer["Message-ID"] = make_msgid(domain="police.example")
    answer["In-Reply-To"] = message["Message-ID"]
    answer["References"] = message["Message-ID"]
    answer.set_content("Please find our response attached.")
    return bytes(answer)


def unrelated(subject: str = "Our newsletter", date: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = "news@elsewhere.example"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="elsewhere.example")
    if date:
        message["Date"] = date
    message.set_content("Nothing to do with any request.")
    return bytes(message)


def nested(depth: int = 2000) -> bytes:
    """A message with ``depth`` multiparts each inside the last: the email package cannot read
    it (inbound keeps it as it came, in the triage inbox)."""
    head = (b"From: clerk@nowhere.example\r\nSubject: Deep\r\nMessage-ID: <deep@x>\r\n"
            b"MIME-Version: 1.0\r\n")
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
                       for i in range(depth))
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    return head + opening + b"Content-Type: text/plain\r\n\r\nhello" + closing


def settings_for(mailbox, **changes) -> inbound.ImapSettings:
    return dataclasses.replace(
        inbound.ImapSettings(mailbox.host, mailbox.username, mailbox.password, port=mailbox.port,
                             ssl=False, timeout=30), **changes)


@pytest.fixture
def fetch(app, database, imap_mailbox):
    """Runs the service as a scheduled job would, with a session factory of its own."""
    store = FileStore(app.config["STORAGE_PATH"])

    def run(new_session=database.session, store=store, **changes) -> mail_fetch.FetchReport:
        return mail_fetch.fetch_and_file(new_session, settings_for(imap_mailbox, **changes),
                                         store, TEST_ACTOR, today_in_uk())

    return run


def kept(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(InboundMessage)) or 0


def last_event(session, slug: str):
    session.expire_all()
    return requests.get_request(session, "grooming-2019", slug).events[-1]


# ---- the service ----------------------------------------------------------------------------

def test_unread_replies_are_filed_against_their_requests_and_marked_read(
        session, sent, imap_mailbox, fetch):
    uids = imap_mailbox.deliver(reply_to(sent["kent"]),
                                reply_to(sent["sussex"], quote_subject=False), unrelated())
    report = fetch()
    assert report.lines == [f"RE: {sent['kent']['Subject']}: filed against Kent Police (token)",
                            "Your information request: filed against Sussex Police (thread)"]
    assert (report.fetched, report.filed, report.imported.triage) == (3, 2, ["Our newsletter"])
    assert report.summary() == ("Fetched 3 messages: 2 filed against requests, 1 waiting in the "
                                "triage inbox, 0 already imported")
    for slug in ("kent", "sussex"):
        assert last_event(session, slug).kind.value == "reply_received"
    assert imap_mailbox.seen() == set(uids) and report.marked_read == 3


def test_a_second_fetch_files_nothing_twice(session, sent, imap_mailbox, fetch):
    first = imap_mailbox.deliver(reply_to(sent["kent"]), unrelated())
    fetch()
    events = len(requests.get_request(session, "grooming-2019", "kent").events)
    assert fetch().fetched == 0  # all marked read: nothing new
    # Read again: the same message delivered twice, and the first two marked unread again (as
    # when marking them read failed, or a person marked them unread in their mail client).
    answer = reply_to(sent["sussex"])
    again = imap_mailbox.deliver(answer, answer)
    imap_mailbox.mark_unseen(*first)
    report = fetch()
    assert (report.fetched, report.filed, report.imported.duplicates) == (4, 1, 3)
    assert kept(session) == 3
    assert len(requests.get_request(session, "grooming-2019", "kent").events) == events
    assert imap_mailbox.unseen() == set() and imap_mailbox.seen() == {*first, *again}


def test_a_message_that_cannot_be_read_is_left_for_a_person_and_the_rest_are_filed(
        session, sent, imap_mailbox, fetch):
    kent, junk, deep, sussex = imap_mailbox.deliver(
        reply_to(sent["kent"]), NOT_AN_EMAIL, nested(), reply_to(sent["sussex"]))
    report = fetch()
    assert (report.fetched, report.filed, report.kept) == (4, 2, 3)
    # Not an email at all: nothing to keep, so left unread in the mailbox for a person.
    assert report.refused == [f"imap-{junk}.eml: is not an email message (.eml) (left unread "
                              "in the mailbox)"]
    # An email the email package cannot read: kept as it came in the triage inbox.
    assert report.imported.unreadable == [f"imap-{deep}.eml: its parts are nested too deeply "
                                          "to read"]
    assert [m.subject for m in inbound.triage(session)] == [
        "(a message that could not be read: its parts are nested too deeply to read)"]
    assert imap_mailbox.unseen() == {junk} and imap_mailbox.seen() == {kent, deep, sussex}
    later = fetch()  # still there for a person, and nothing else read again
    assert (later.fetched, later.kept, len(later.refused)) == (1, 0, 1)
    assert kept(session) == 3


def test_each_message_is_marked_read_only_after_it_is_committed(app, database, sent,
                                                                imap_mailbox, fetch):
    uids = imap_mailbox.deliver(reply_to(sent["kent"]), unrelated(), reply_to(sent["sussex"]))
    seen_at_each_commit = []

    @contextmanager
    def watched() -> Iterator:
        with database.session() as session:
            event.listen(session, "after_commit",
                         lambda _session: seen_at_each_commit.append(imap_mailbox.seen()))
            yield session

    fetch(new_session=watched)
    # At each message's commit it is still unread, and every one before it has been marked.
    assert seen_at_each_commit == [set(), {uids[0]}, {uids[0], uids[1]}]
    assert imap_mailbox.seen() == set(uids)


def test_a_message_that_could_not_be_kept_stays_unread(session, sent, imap_mailbox, fetch,
                                                       tmp_path):
    uids = imap_mailbox.deliver(reply_to(sent["kent"]), reply_to(sent["sussex"]))
    not_a_folder = tmp_path / "files"
    not_a_folder.write_text("a file where the store's folder should be")
    with pytest.raises(OSError):  # the store cannot write: the run stops at the first message
        fetch(store=FileStore(not_a_folder))
    assert imap_mailbox.unseen() == set(uids) and kept(session) == 0
    assert fetch().filed == 2 and imap_mailbox.seen() == set(uids)


def test_another_client_deleting_messages_meanwhile_leaves_the_right_ones_marked(
        database, session, sent, imap_mailbox, fetch):
    (old,) = imap_mailbox.deliver(unrelated("Read last week"), seen=True)
    kent, sussex, gone = imap_mailbox.deliver(reply_to(sent["kent"]), reply_to(sent["sussex"]),
                                              unrelated("Deleted unread"))

    @contextmanager
    def meanwhile() -> Iterator:
        # After the first message is filed, a person's mail client deletes the old message and
        # one not yet fetched: every later message's sequence number shifts, its UID does not.
        with database.session() as db_session:
            yield db_session
        if imap_mailbox.uids() == {old, kent, sussex, gone}:
            imap_mailbox.expunge(old, gone)

    report = fetch(new_session=meanwhile)
    assert (report.fetched, report.filed) == (2, 2)
    assert imap_mailbox.uids() == {kent, sussex} == imap_mailbox.seen()


def test_a_fetch_racing_another_for_the_same_message_keeps_it_once(app, database, session, sent,
                                                                    imap_mailbox, fetch):
    answer = reply_to(sent["kent"])
    (uid,) = imap_mailbox.deliver(answer)
    with database.session() as other, ThreadPoolExecutor(1) as pool:
        # Another fetch (cron's, beside the scheduler's) has just written the same message and
        # not yet committed: this one does not see it, and its own insert waits on the other's.
        inbound.import_file(other, TEST_ACTOR, FileStore(app.config["STORAGE_PATH"]),
                            "other.eml", answer, today_in_uk())
        other.flush()
        racing = pool.submit(fetch)
        wait_until_blocked(database, racing)
        other.commit()
        report = racing.result(timeout=30)
    assert (report.fetched, report.imported.duplicates, report.filed) == (1, 1, 0)
    assert kept(session) == 1 and imap_mailbox.seen() == {uid}
    kinds = [e.kind.value for e in requests.get_request(session, "grooming-2019", "kent").events]
    assert kinds.count("reply_received") == 1


def wait_until_blocked(database, racing) -> None:
    """Until the racing fetch waits on another transaction's lock (PostgreSQL says so; SQLite's
    writer just waits on its busy timeout, so give it the time to get there)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not racing.done():
        if database.engine.dialect.name != "postgresql":
            time.sleep(1)
            return
        with database.engine.connect() as connection:
            if connection.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()")):
                return
        time.sleep(0.05)
    raise AssertionError("the racing fetch never waited for the other transaction")


def test_a_folder_named_with_spaces_is_read(session, sent, imap_mailbox, fetch):
    with imap_mailbox.client() as client:
        assert client.create('"FOI replies"')[0] == "OK"
        assert client.append('"FOI replies"', "", None, reply_to(sent["kent"]))[0] == "OK"
    assert fetch(folder="FOI replies").filed == 1


def test_a_folder_that_is_not_there_is_named_with_the_server_s_answer(imap_mailbox, fetch):
    with pytest.raises(mail_fetch.MailboxUnavailable) as missing:
        fetch(folder="Replies")
    assert missing.value.reason.startswith(
        "cannot open the folder Replies: Mailbox doesn't exist: Replies")
    assert missing.value.report.fetched == 0


def test_a_server_whose_certificate_is_not_trusted_is_refused(imap_mailbox, fetch):
    imap_mailbox.deliver(unrelated())
    with pytest.raises(mail_fetch.MailboxUnavailable) as refused:
        fetch(ssl=True, port=imap_mailbox.tls_port)
    assert refused.value.reason.startswith("cannot connect: [SSL: CERTIFICATE_VERIFY_FAILED]")
    assert imap_mailbox.unseen() != set()  # nothing was read, nor the password sent


def test_replies_are_fetched_over_tls_from_a_server_whose_certificate_is_trusted(
        session, sent, imap_mailbox, fetch, monkeypatch):
    # How an operator trusts a private certificate authority: OpenSSL's own variable.
    monkeypatch.setenv("SSL_CERT_FILE", str(imap_mailbox.certificate))
    (uid,) = imap_mailbox.deliver(reply_to(sent["kent"]))
    assert fetch(ssl=True, port=imap_mailbox.tls_port).filed == 1
    assert imap_mailbox.seen() == {uid}


def test_imap_settings_come_from_the_configuration():
    assert inbound.imap_settings_from({"IMAP_HOST": None}) is None
    settings = inbound.imap_settings_from({
        "IMAP_HOST": "imap.charity.example", "IMAP_PORT": 143, "IMAP_USERNAME": "replies",
        "IMAP_PASSWORD": "s3cret", "IMAP_FOLDER": None, "IMAP_SSL": False})
    assert settings == inbound.ImapSettings("imap.charity.example", "replies", "s3cret",
                                            port=143, folder="INBOX", ssl=False)
    assert "s3cret" not in repr(settings)  # a job's failure report may print it


# ---- the command ----------------------------------------------------------------------------

@pytest.fixture
def fetch_runner(cli_env, imap_mailbox) -> CliRunner:
    return CliRunner(env={**cli_env, **imap_mailbox.env()})


def test_mail_fetch_files_the_replies_and_says_what_it_did(session, sent, imap_mailbox,
                                                           fetch_runner):
    imap_mailbox.deliver(reply_to(sent["kent"]), reply_to(sent["sussex"], quote_subject=False),
                         unrelated())
    result = invoke(fetch_runner, "mail", "fetch")
    assert result.exit_code == 0
    assert result.stdout == (
        f"  RE: {sent['kent']['Subject']}: filed against Kent Police (token)\n"
        "  Your information request: filed against Sussex Police (thread)\n"
        "Fetched 3 messages: 2 filed against requests, 1 waiting in the triage inbox, 0 already "
        "imported.\n")
    assert last_event(session, "kent").kind.value == "reply_received"
    again = invoke(fetch_runner, "mail", "fetch")
    assert again.stdout == ("Fetched 0 messages: 0 filed against requests, 0 waiting in the "
                            "triage inbox, 0 already imported.\n")
    assert kept(session) == 3


def test_mail_fetch_carries_on_past_a_bad_date_and_messages_it_cannot_read(
        app, session, imap_mailbox, fetch_runner):
    bad_date, junk, deep, good = imap_mailbox.deliver(
        unrelated("Bad date", BAD_DATE), NOT_AN_EMAIL, nested(), unrelated("Good"))
    result = invoke(fetch_runner, "mail", "fetch")
    assert result.exit_code == 0
    assert result.stdout == ("Fetched 4 messages: 0 filed against requests, 2 waiting in the "
                             "triage inbox, 0 already imported, 1 could not be read (kept as "
                             "they came in the triage inbox).\n")
    assert result.stderr == (
        f"  could not read imap-{deep}.eml: its parts are nested too deeply to read: kept in the "
        "triage inbox\n"
        f"  not imported: imap-{junk}.eml: is not an email message (.eml) (left unread in the "
        "mailbox)\n")
    assert imap_mailbox.unseen() == {junk} and kept(session) == 3
    session.expire_all()
    assert session.scalar(select(InboundMessage.sent_at).where(
        InboundMessage.subject == "Bad date")) is None
    imap_mailbox.deliver(unrelated("Later"))
    later = invoke(fetch_runner, "mail", "fetch")
    assert later.exit_code == 0 and later.stdout.startswith("Fetched 2 messages: 0 filed")
    assert kept(session) == 4


def test_mail_fetch_without_a_mailbox_fails(runner):
    result = invoke(runner, "mail", "fetch")
    assert result.exit_code == 1
    assert result.stderr == "Error: set FOITRACK_IMAP_HOST, _USERNAME and _PASSWORD first\n"


def test_mail_fetch_with_a_wrong_password_fails(app, cli_env):
    # A Dovecot of its own: after a wrong password Dovecot makes every sign-in from the same
    # address wait a few seconds, which must not fall on the other tests' server.
    with running_dovecot() as server:
        mailbox = server.new_mailbox()
        result = invoke(CliRunner(env={**cli_env, **mailbox.env(),
                                       "FOITRACK_IMAP_PASSWORD": "wrong"}), "mail", "fetch")
    assert result.exit_code == 1
    assert result.stderr == ("Error: cannot fetch from 127.0.0.1: cannot sign in: "
                             "[AUTHENTICATIONFAILED] Authentication failed.\n")


def test_mail_fetch_from_a_server_that_is_not_there_fails(cli_env, imap_mailbox):
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        result = invoke(CliRunner(env={**cli_env, **imap_mailbox.env(),
                                       "FOITRACK_IMAP_PORT": str(port)}), "mail", "fetch")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot fetch from 127.0.0.1: cannot connect: ")
    assert "Connection refused" in result.stderr
