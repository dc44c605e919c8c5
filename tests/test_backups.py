"""Backups: a round trip gives the same rows and files, on SQLite and PostgreSQL; a damaged
backup or a database that holds data is refused and nothing changes."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from foitrack import backups, migrate
from foitrack.cli import main
from foitrack.db import Base, make_engine
from foitrack.services import inbound
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from foitrack.storage import FileStore
from tests.factories import TEST_ACTOR, load_forces, make_user

pytestmark = pytest.mark.postgres

FIXTURES = Path(__file__).parent / "fixtures"
PDF = b"%PDF-1.4\n% a reply's attachment\n" + bytes(range(256)) * 40


@pytest.fixture
def store(app):
    return FileStore(app.config["STORAGE_PATH"])


@pytest.fixture
def data(session, store):
    """Forces, a user, a campaign with its figures, and a reply with a PDF attached."""
    load_forces(session)
    make_user(session, "admin", "ada@example.org")
    campaign = create_from_file(session, TEST_ACTOR, (FIXTURES / "grooming-2019.toml").read_text())
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO((FIXTURES / "grooming-2019.csv").read_bytes()))
    message = EmailMessage()
    message["From"] = "FOI Team <information@westmercia.pnn.police.uk>"
    message["To"] = "research@charity.example"
    message["Subject"] = "Your request about grooming offences"
    message["Date"] = format_datetime(dt.datetime(2019, 5, 20, 9, 30, tzinfo=dt.UTC))
    message["Message-ID"] = "<reply-1@police.example>"
    message.set_content("Please find attached our response.")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="response.pdf")
    inbound.import_file(session, TEST_ACTOR, store, "reply.eml", bytes(message), dt.date(2019, 6, 1))
    session.commit()


@pytest.fixture
def fresh(scratch, tmp_path):
    """An empty database (a new SQLite file, or a new PostgreSQL schema) and storage folder."""
    engine = make_engine(scratch.new_url())
    yield engine, FileStore(tmp_path / "restored-files")
    engine.dispose()


def every_row(engine):
    with engine.connect() as connection:
        return {
            table.name: connection.execute(
                select(table).order_by(*table.primary_key.columns)
            ).all()
            for table in Base.metadata.sorted_tables
        }


def stored_files(store, digests):
    return {digest: store.read(digest) for digest in digests}


def test_a_round_trip_gives_the_same_rows_and_files(app, data, store, fresh, tmp_path):
    source = app.extensions["foitrack.db"].engine
    path = tmp_path / "backup.zip"
    manifest = backups.create_backup(source, store, path)
    assert manifest.database == source.dialect.name
    assert manifest.alembic_revision == migrate.head_revision()
    assert manifest.tables["figure"] > 500 and manifest.tables["attachment"] == 1
    assert len(manifest.files) == 2 and manifest.missing_files == []  # the .eml and the PDF

    engine, target_store = fresh
    restored = backups.restore_backup(engine, target_store, path)

    assert restored == manifest
    assert migrate.current_revision(engine) == migrate.head_revision()
    before, after = every_row(source), every_row(engine)
    assert {name: len(rows) for name, rows in after.items()} == manifest.tables
    assert after == before
    assert stored_files(target_store, manifest.files) == stored_files(store, manifest.files)
    assert PDF in stored_files(target_store, manifest.files).values()


def test_the_manifest_lists_version_revision_counts_and_files(app, data, store, tmp_path):
    path = tmp_path / "backup.zip"
    backups.create_backup(app.extensions["foitrack.db"].engine, store, path)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        names = set(archive.namelist())
    assert {"foitrack_version", "alembic_revision", "database", "tables", "files",
            "created_at"} <= set(manifest)
    assert manifest["tables"]["authority"] == 48
    assert {f"files/{digest}" for digest in manifest["files"]} <= names
    assert backups.read_manifest(path).files == manifest["files"]


def test_a_backup_is_never_written_over_an_existing_file(app, data, store, tmp_path):
    path = tmp_path / "backup.zip"
    path.write_bytes(b"something else")
    with pytest.raises(backups.BackupError, match="already exists"):
        backups.create_backup(app.extensions["foitrack.db"].engine, store, path)
    assert path.read_bytes() == b"something else"


@pytest.mark.parametrize("damage", ["truncated", "flipped byte", "no manifest", "not a zip"])
def test_a_damaged_backup_is_refused_and_changes_nothing(app, data, store, fresh, tmp_path, damage):
    path = tmp_path / "backup.zip"
    backups.create_backup(app.extensions["foitrack.db"].engine, store, path)
    raw = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "flipped byte":
        with zipfile.ZipFile(path) as archive:
            info = max(archive.infolist(), key=lambda item: item.compress_size)
        middle = info.header_offset + 100 + info.compress_size // 2
        path.write_bytes(raw[:middle] + bytes([raw[middle] ^ 0xFF]) + raw[middle + 1:])
    elif damage == "no manifest":
        with zipfile.ZipFile(io.BytesIO(raw)) as archive, zipfile.ZipFile(path, "w") as cut:
            for item in archive.infolist():
                if item.filename != "manifest.json":
                    cut.writestr(item, archive.read(item))
    else:
        path.write_bytes(b"PK\x03\x04 this is not a backup")

    engine, target_store = fresh
    with pytest.raises(backups.BackupError, match="damaged|not a complete"):
        backups.restore_backup(engine, target_store, path, force=True)
    assert migrate.current_revision(engine) is None
    assert not Path(target_store.root).exists()


def test_restoring_over_data_is_refused_without_force(app, data, store, tmp_path):
    engine = app.extensions["foitrack.db"].engine
    path = tmp_path / "backup.zip"
    backups.create_backup(engine, store, path)
    before = every_row(engine)
    with pytest.raises(backups.BackupError, match="already holds data.*--force"):
        backups.restore_backup(engine, store, path)
    assert every_row(engine) == before


def test_force_replaces_the_data_with_the_backups(app, data, store, session, tmp_path):
    engine = app.extensions["foitrack.db"].engine
    path = tmp_path / "backup.zip"
    backups.create_backup(engine, store, path)
    before = every_row(engine)
    make_user(session, "viewer", "late@example.org")  # after the backup: gone once restored
    backups.restore_backup(engine, store, path, force=True)
    assert every_row(engine) == before


def test_a_backup_of_an_older_database_is_upgraded_on_restore(scratch, fresh, tmp_path):
    older = make_engine(scratch.new_url())
    try:
        migrate.upgrade(older, "a7859d94afc4")
        store = FileStore(tmp_path / "files")
        path = tmp_path / "old.zip"
        manifest = backups.create_backup(older, store, path)
    finally:
        older.dispose()
    assert manifest.alembic_revision == "a7859d94afc4"
    engine, target_store = fresh
    backups.restore_backup(engine, target_store, path)
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_a_backup_from_a_newer_foitrack_is_refused(app, data, store, fresh, tmp_path):
    path = tmp_path / "backup.zip"
    backups.create_backup(app.extensions["foitrack.db"].engine, store, path)
    with zipfile.ZipFile(path) as archive:
        members = {item.filename: archive.read(item) for item in archive.infolist()}
    manifest = json.loads(members["manifest.json"])
    manifest["alembic_revision"] = "ffffffffffff"
    members["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    engine, target_store = fresh
    with pytest.raises(backups.BackupError, match="newer foitrack"):
        backups.restore_backup(engine, target_store, path)
    assert migrate.current_revision(engine) is None


# ---- the command line --------------------------------------------------------------------

def test_backup_and_restore_from_the_command_line(runner, app, data, scratch, tmp_path):
    path = tmp_path / "nightly.zip"
    result = runner.invoke(main, ["backup", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Backed up" in result.output and "2 files" in result.output

    result = runner.invoke(main, ["restore", str(path)], catch_exceptions=False)
    assert result.exit_code == 1
    assert "already holds data" in result.output and "--force" in result.output

    url = scratch.new_url()
    elsewhere = CliRunner(env={"FOITRACK_DATABASE_URL": url,
                               "FOITRACK_INSTANCE_PATH": str(tmp_path / "elsewhere")})
    result = elsewhere.invoke(main, ["restore", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output and "2 files" in result.output
    engine = make_engine(url)
    try:
        assert every_row(engine) == every_row(app.extensions["foitrack.db"].engine)
    finally:
        engine.dispose()
    assert len(list((tmp_path / "elsewhere" / "files").rglob("*"))) >= 2


def test_restore_names_a_damaged_file_from_the_command_line(runner, app, tmp_path):
    path = tmp_path / "broken.zip"
    path.write_bytes(b"not a backup at all")
    result = runner.invoke(main, ["restore", str(path)], catch_exceptions=False)
    assert result.exit_code == 1
    assert "damaged or not a complete foitrack backup" in result.output


def test_a_backup_taken_while_others_write_is_consistent(app, data, store, fresh, tmp_path):
    import threading

    from sqlalchemy import insert

    from foitrack.models import SignInFailure

    source = app.extensions["foitrack.db"].engine
    stop = threading.Event()
    written = []

    def write() -> None:
        while not stop.is_set():
            with source.begin() as connection:
                connection.execute(insert(SignInFailure).values(
                    email="x@example.org", client="192.0.2.1",
                    failed_at=dt.datetime.now(dt.UTC)))
            written.append(1)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(written) < 20:
            stop.wait(0.01)
        manifest = backups.create_backup(source, store, tmp_path / "busy.zip")
    finally:
        stop.set()
        writer.join()
    assert 20 <= manifest.tables["sign_in_failure"] <= len(written)
    engine, target_store = fresh
    # The restore checks every table against the manifest's counts.
    backups.restore_backup(engine, target_store, tmp_path / "busy.zip")


# ---- the outbox --------------------------------------------------------------------------

def _write_to_outbox(app, count: int) -> dict[str, bytes]:
    """Messages written as sending does when no mail server is set; their names and bytes."""
    from foitrack.services.mail import OutboxTransport

    folder = Path(app.config["OUTBOX_PATH"])
    transport = OutboxTransport(folder)
    for number in range(count):
        message = EmailMessage()
        message["From"] = "research@charity.example"
        message["To"] = f"foi{number}@police.example"
        message["Subject"] = f"Freedom of Information request {number}"
        message["Message-ID"] = f"<request-{number}@charity.example>"
        message.set_content(f"Dear FOI team,\n\nrequest number {number}: caf\u00e9 \u2014 ok\n")
        transport.send(message)
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def test_outbox_messages_make_the_round_trip_from_the_command_line(runner, app, data, scratch,
                                                                   tmp_path):
    written = _write_to_outbox(app, 3)
    assert len(written) == 3
    path = tmp_path / "nightly.zip"
    result = runner.invoke(main, ["backup", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "3 outbox messages" in result.output
    manifest = backups.read_manifest(path)
    assert set(manifest.outbox) == set(written)

    elsewhere_instance = tmp_path / "elsewhere"
    elsewhere = CliRunner(env={"FOITRACK_DATABASE_URL": scratch.new_url(),
                               "FOITRACK_INSTANCE_PATH": str(elsewhere_instance)})
    result = elsewhere.invoke(main, ["restore", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "3 outbox messages" in result.output
    outbox = elsewhere_instance / "outbox"
    assert {item.name: item.read_bytes() for item in outbox.iterdir()} == written


def test_the_outbox_is_restored_beside_newer_messages(app, data, store, fresh, tmp_path):
    written = _write_to_outbox(app, 2)
    path = tmp_path / "backup.zip"
    backups.create_backup(app.extensions["foitrack.db"].engine, store, path,
                          outbox=Path(app.config["OUTBOX_PATH"]))
    engine, target_store = fresh
    target = tmp_path / "target-outbox"
    target.mkdir()
    (target / "20991231T000000-later.eml").write_bytes(b"written after the backup")
    backups.restore_backup(engine, target_store, path, outbox=target)
    restored = {item.name: item.read_bytes() for item in target.iterdir()}
    assert restored == {**written, "20991231T000000-later.eml": b"written after the backup"}


def _rewrite(path: Path, change) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {item.filename: archive.read(item) for item in archive.infolist()}
    change(members)
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)


def test_a_changed_outbox_message_is_refused_and_changes_nothing(app, data, store, fresh, tmp_path):
    written = _write_to_outbox(app, 2)
    path = tmp_path / "backup.zip"
    backups.create_backup(app.extensions["foitrack.db"].engine, store, path,
                          outbox=Path(app.config["OUTBOX_PATH"]))
    name = sorted(written)[0]
    _rewrite(path, lambda members: members.__setitem__(f"outbox/{name}", b"tampered"))
    engine, target_store = fresh
    target = tmp_path / "target-outbox"
    with pytest.raises(backups.BackupError, match=f"outbox message {name} does not match"):
        backups.restore_backup(engine, target_store, path, outbox=target)
    assert migrate.current_revision(engine) is None
    assert not target.exists() and not Path(target_store.root).exists()


@pytest.mark.parametrize("name", ["../escaped.eml", "/tmp/absolute.eml", ".hidden", "a/b.eml",
                                  "x.eml\n"])
def test_an_outbox_name_that_is_not_a_plain_name_is_refused(app, data, store, fresh, tmp_path, name):
    path = tmp_path / "backup.zip"
    backups.create_backup(app.extensions["foitrack.db"].engine, store, path)

    def smuggle(members):
        manifest = json.loads(members["manifest.json"])
        manifest["outbox"] = {name: hashlib.sha256(b"x").hexdigest()}
        members["manifest.json"] = json.dumps(manifest).encode()
        members[f"outbox/{name}"] = b"x"

    _rewrite(path, smuggle)
    engine, target_store = fresh
    with pytest.raises(backups.BackupError, match="manifest is not one foitrack wrote"):
        backups.restore_backup(engine, target_store, path, outbox=tmp_path / "target-outbox")
    assert migrate.current_revision(engine) is None
    assert not (tmp_path / "escaped.eml").exists() and not (tmp_path / "target-outbox").exists()
