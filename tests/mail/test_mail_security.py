"""Issue 23, points 6 and 14: one bad email never stops an import, on the web, from files on
the command line, or from a real IMAP mailbox."""

from __future__ import annotations

import io
import mailbox
from email.message import EmailMessage

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from foitrack.cli import main
from foitrack.models import InboundMessage, StoredFile
from foitrack.storage import FileStore
from tests.factories import make_user
from tests.pages import csrf_token, sign_in

BAD_DATE = "Fri, 31 Dec 9999 23:59:59 -1400"  # the year 10000 in UTC


def _message(subject: str, key: str, date: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"], message["Subject"], message["Message-ID"] = "clerk@nowhere.example", subject, key
    if date:
        message["Date"] = date
    message.set_content("Figures attached.")
    return bytes(message)


def _nested(depth: int = 2000) -> bytes:
    """A message with ``depth`` multiparts each inside the last."""
    head = b"From: clerk@nowhere.example\r\nSubject: Deep\r\nMessage-ID: <deep@x>\r\nMIME-Version: 1.0\r\n"
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
                       for i in range(depth))
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    return head + opening + b"Content-Type: text/plain\r\n\r\nhello" + closing


def _mbox(tmp_path, *messages: bytes) -> bytes:
    box = mailbox.mbox(tmp_path / "box.mbox")
    for raw in messages:
        box.add(raw)
    box.flush()
    return (tmp_path / "box.mbox").read_bytes()


def _count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(InboundMessage)) or 0


def _sent_at(session, key):
    session.expire_all()
    return session.scalar(select(InboundMessage.sent_at).where(InboundMessage.message_key == key))


@pytest.fixture
def researcher_client(app, session):
    client = app.test_client()
    assert sign_in(client, make_user(session, role="researcher").email).status_code == 302
    return client


def _upload(client, *files: tuple[bytes, str]):
    return client.post("/mail/inbox", data={
        "csrf_token": csrf_token(client, "/mail/inbox"),
        "file": [(io.BytesIO(data), name) for data, name in files]},
        content_type="multipart/form-data")


# ---- point 6: a date out of range ------------------------------------------------------------

def test_a_web_upload_with_a_date_out_of_range_imports_every_message(researcher_client, session,
                                                                     tmp_path):
    data = _mbox(tmp_path, _message("Bad date", "<bad-date@x>", BAD_DATE),
                 _message("Good date", "<good-date@x>", "Mon, 3 Jun 2019 10:00:00 +0100"))
    response = _upload(researcher_client, (data, "box.mbox"))
    assert response.status_code == 302
    page = researcher_client.get(response.location).get_data(as_text=True)
    assert "Imported: 0 filed against requests, 2 waiting in the triage inbox" in page
    assert _sent_at(session, "<bad-date@x>") is None  # no date rather than a wrong one
    assert _sent_at(session, "<good-date@x>").isoformat() == "2019-06-03T09:00:00+00:00"


def test_mail_import_carries_on_past_a_date_out_of_range(runner, session, tmp_path):
    (tmp_path / "bad.eml").write_bytes(_message("Bad date", "<bad-date@x>", BAD_DATE))
    (tmp_path / "good.eml").write_bytes(_message("Good", "<good@x>"))
    result = runner.invoke(main, ["mail", "import", str(tmp_path / "bad.eml"),
                                  str(tmp_path / "good.eml")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("Imported: 0 filed against requests, 2 waiting in the "
                                          "triage inbox, 0 already imported.")
    assert _count(session) == 2 and _sent_at(session, "<bad-date@x>") is None


# ---- point 14: nested too deeply to parse ----------------------------------------------------

def test_an_eml_nested_2000_deep_is_refused_with_its_name(researcher_client, session):
    response = _upload(researcher_client, (_message("Fine", "<fine@x>"), "fine.eml"),
                       (_nested(), "deep.eml"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "deep.eml: its parts are nested too deeply to read; nothing was imported" in page
    assert _count(session) == 0  # nothing changed, the good file included


def test_an_mbox_holding_one_deep_message_is_refused_naming_that_message(researcher_client,
                                                                         session, tmp_path):
    data = _mbox(tmp_path, _message("Fine", "<fine@x>"), _nested())
    response = _upload(researcher_client, (data, "box.mbox"))
    assert response.status_code == 400
    assert "box.mbox, message 2: its parts are nested too deeply" in response.get_data(as_text=True)
    assert _count(session) == 0


def test_mail_import_keeps_and_reports_an_unreadable_message_and_imports_the_rest(
        runner, session, tmp_path, app):
    (tmp_path / "deep.eml").write_bytes(_nested())
    (tmp_path / "made").mkdir()
    (tmp_path / "box.mbox").write_bytes(_mbox(tmp_path / "made", _message("In a box", "<boxed@x>"),
                                              _nested(1500)))
    (tmp_path / "good.eml").write_bytes(_message("Good", "<good@x>"))
    (tmp_path / "empty.eml").write_bytes(b"")
    result = runner.invoke(main, ["mail", "import", *(str(tmp_path / name) for name in
                                                      ("deep.eml", "box.mbox", "good.eml",
                                                       "empty.eml"))])
    assert "could not read deep.eml: its parts are nested too deeply to read" in result.stderr
    assert "could not read box.mbox, message 2: its parts are nested too deeply" in result.stderr
    assert "not imported: empty.eml: the file is empty" in result.stderr
    assert ("Imported: 0 filed against requests, 2 waiting in the triage inbox, 0 already "
            "imported, 2 could not be read (kept as they came in the triage inbox).") in result.stdout
    assert result.exit_code == 1  # one file was refused: a script must notice
    assert _count(session) == 4
    # Each unreadable message is kept whole: a person can download it from the triage inbox.
    kept = session.scalars(select(InboundMessage).where(
        InboundMessage.subject.like("(a message that could not be read%"))).all()
    assert len(kept) == 2
    store = FileStore(app.config["STORAGE_PATH"])
    assert _nested() in {store.read(m.raw_file.sha256) for m in kept}
    # Imported twice: kept once.
    again = runner.invoke(main, ["mail", "import", str(tmp_path / "deep.eml")])
    assert "1 already imported" in again.stdout and _count(session) == 4


# ---- a real IMAP mailbox -------------------------------------------------------------------

def test_mail_fetch_carries_on_past_a_bad_date_and_an_unreadable_message(
        app, session, cli_env, imap_mailbox):
    uids = imap_mailbox.deliver(_message("Bad date", "<bad-date@x>", BAD_DATE), _nested(),
                                _message("Good", "<good@x>"))
    runner = CliRunner(env={**cli_env, **imap_mailbox.env()})
    result = runner.invoke(main, ["mail", "fetch"])
    assert result.exit_code == 0, result.output
    assert ("Fetched 3 messages: 0 filed against requests, 2 waiting in the triage inbox, 0 "
            "already imported, 1 could not be read") in result.stdout
    assert f"could not read imap-{uids[1]}.eml: its parts are nested too deeply" in result.stderr
    assert imap_mailbox.seen() == set(uids)  # all kept, so all marked read
    assert _count(session) == 3 and _sent_at(session, "<bad-date@x>") is None
    imap_mailbox.deliver(_message("Later", "<later@x>"))
    later = runner.invoke(main, ["mail", "fetch"])
    assert later.exit_code == 0 and "Fetched 1 messages" in later.stdout
    assert _count(session) == 4


def test_every_kept_file_gets_its_own_random_public_id(session, researcher_client):
    assert _upload(researcher_client, (_message("One", "<one@x>"), "one.eml"),
                   (_message("Two", "<two@x>"), "two.eml")).status_code == 302
    ids = session.scalars(select(StoredFile.public_id)).all()
    assert len(ids) == 2 and len(set(ids)) == 2


# ---- point 15: files nothing refers to -------------------------------------------------------

def _stored_names(app) -> set[str]:
    root = app.config["STORAGE_PATH"]
    from pathlib import Path

    return {p.name for p in Path(root).rglob("*") if p.is_file()} if Path(root).exists() else set()


def test_a_refused_upload_leaves_no_file_behind(researcher_client, app, tmp_path):
    data = _mbox(tmp_path, _message("Fine", "<fine@x>"), _nested())
    assert _upload(researcher_client, (data, "box.mbox")).status_code == 400
    assert _stored_names(app) == set()


def test_files_prune_removes_only_old_files_nothing_refers_to(app, session, runner):
    import os
    import time

    store = FileStore(app.config["STORAGE_PATH"])
    kept_old, orphan_old, orphan_new = (store.put(text) for text in (b"kept", b"orphan", b"new"))
    session.add(StoredFile(sha256=kept_old, filename="kept.csv", content_type="text/csv", size=4,
                           created_by="tests"))
    session.commit()
    two_days_ago = time.time() - 2 * 86400
    stray = store._path(kept_old).rsplit("/", 2)[0] + "/notes.txt"
    with open(stray, "w") as handle:
        handle.write("not ours")
    for path in (store._path(kept_old), store._path(orphan_old), stray):
        os.utime(path, (two_days_ago, two_days_ago))
    dry = runner.invoke(main, ["files", "prune", "--dry-run"], catch_exceptions=False)
    assert dry.stdout.strip() == "1 unreferenced files would be removed."
    assert store.exists(orphan_old)
    result = runner.invoke(main, ["files", "prune"], catch_exceptions=False)
    assert result.exit_code == 0 and result.stdout.strip() == "Removed 1 unreferenced files."
    assert not store.exists(orphan_old)
    assert store.exists(kept_old) and store.exists(orphan_new) and os.path.exists(stray)


def test_storing_kept_bytes_again_makes_them_young_for_prune(app):
    import os
    import time

    store = FileStore(app.config["STORAGE_PATH"])
    digest = store.put(b"wanted again")
    old = time.time() - 2 * 86400
    os.utime(store._path(digest), (old, old))
    store.put(b"wanted again")  # an import about to record it
    assert os.path.getmtime(store._path(digest)) > old + 86400


def test_a_web_upload_of_more_messages_than_a_worker_can_take_points_to_the_command_line(
        researcher_client, session, tmp_path, app):
    from foitrack.services.inbound import WEB_UPLOAD_MAX_MESSAGES

    data = _mbox(tmp_path, *(_message(f"Reply {n}", f"<many-{n}@x>")
                             for n in range(WEB_UPLOAD_MAX_MESSAGES + 1)))
    response = _upload(researcher_client, (data, "big.mbox"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "big.mbox: 501 messages, more than the 500 a web upload takes at once" in page
    assert "foitrack mail import big.mbox" in page
    assert _count(session) == 0 and _stored_names(app) == set()
