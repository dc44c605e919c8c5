"""SQLite in WAL mode with a 15 s busy timeout (issue 23, point 16).

A long CLI import held SQLite's write lock; once its pages outgrew the cache it held the lock
that keeps readers out too, and web requests failed with "database is locked" after pysqlite's
5 s. In WAL mode readers never wait for a writer, and writers wait up to 15 s for each other.
Real connections on a real database file, from foitrack.db.make_engine as the app makes them.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from foitrack import backups
from foitrack.db import SQLITE_BUSY_TIMEOUT_MS, make_engine
from foitrack.storage import FileStore
from tests.databases import POSTGRES_URL
from tests.factories import load_forces, make_user
from tests.pages import sign_in

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's locking; PostgreSQL has MVCC")]

HOLD = 6.0  # seconds the first writer keeps its transaction open: past pysqlite's old 5 s


@pytest.fixture
def engines(tmp_path):
    """Two engines on one new database file, as two processes (a CLI import, a web worker)."""
    url = f"sqlite:///{tmp_path / 'foitrack.sqlite3'}"
    first, second = make_engine(url), make_engine(url)
    with first.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE item (id INTEGER PRIMARY KEY, body BLOB)")
        connection.exec_driver_sql("INSERT INTO item (body) VALUES (x'00')")
    yield first, second
    first.dispose()
    second.dispose()


class LongWrite(threading.Thread):
    """A write transaction like an import's: 16 MB written (far past SQLite's 2 MB page cache,
    so the pages reach the files), then held open for ``HOLD`` seconds, then committed."""

    def __init__(self, engine, table: str = "item") -> None:
        super().__init__(daemon=True)
        self.engine, self.table = engine, table
        self.written = threading.Event()
        self.commit_started: float | None = None
        self.committed_at: float | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                for _ in range(16):
                    connection.exec_driver_sql(
                        f"INSERT INTO {self.table} (body) VALUES (randomblob(1048576))")
                self.written.set()
                time.sleep(HOLD)
                self.commit_started = time.monotonic()
                connection.exec_driver_sql("COMMIT")
                self.committed_at = time.monotonic()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error
            self.written.set()


def test_the_database_is_in_wal_mode_with_a_fifteen_second_busy_timeout(app):
    engine = app.extensions["foitrack.db"].engine
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15_000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert SQLITE_BUSY_TIMEOUT_MS == 15_000


def test_a_reader_goes_on_while_another_connection_holds_a_long_write(engines):
    writer_engine, reader_engine = engines
    writer = LongWrite(writer_engine)
    writer.start()
    assert writer.written.wait(60) and writer.error is None, writer.error
    started = time.monotonic()
    with reader_engine.connect() as connection:
        count = connection.exec_driver_sql("SELECT count(*) FROM item").scalar()
    took = time.monotonic() - started
    writer.join(60)
    assert writer.error is None, writer.error
    assert count == 1  # the state before the write: the uncommitted rows are not seen
    # Answered at once, not after the writer let go (in rollback-journal mode the reader
    # waited for the commit, or failed with "database is locked" after 5 s).
    assert writer.committed_at is not None and started + took < writer.committed_at - 1.0
    assert took < 2.0, f"the read waited {took:.1f} s"


def test_a_second_writer_waits_for_the_first_past_five_seconds(engines):
    first_engine, second_engine = engines
    writer = LongWrite(first_engine)
    writer.start()
    assert writer.written.wait(60) and writer.error is None, writer.error
    started = time.monotonic()
    with second_engine.begin() as connection:  # fails after 5 s with pysqlite's own timeout
        connection.exec_driver_sql("INSERT INTO item (body) VALUES (x'01')")
    finished = time.monotonic()
    writer.join(60)
    assert writer.error is None, writer.error
    # It waited for the first writer to let go (and that took more than pysqlite's old 5 s).
    assert writer.commit_started is not None and finished >= writer.commit_started
    assert HOLD - 1.5 < finished - started < SQLITE_BUSY_TIMEOUT_MS / 1000
    with second_engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM item").scalar() == 18


def test_a_sign_in_goes_through_while_another_process_holds_a_long_write(app, session):
    """The web's own path: a sign-in (which writes: attempts are counted) during another
    process's write transaction waits for it, and succeeds, where it failed at 5 s."""
    load_forces(session)
    user = make_user(session)
    engine = app.extensions["foitrack.db"].engine
    url = engine.url.render_as_string(hide_password=False)
    other = make_engine(url)  # another process's connection, as a CLI import's
    try:
        with other.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE scratch (id INTEGER PRIMARY KEY, body BLOB)")
        writer = LongWrite(other, "scratch")
        writer.start()
        assert writer.written.wait(60) and writer.error is None, writer.error
        client = app.test_client()
        page = client.get("/auth/sign-in")  # a read: answered while the write goes on
        assert page.status_code == 200
        started = time.monotonic()
        response = sign_in(client, user.email)
        took = time.monotonic() - started
        writer.join(60)
        assert writer.error is None, writer.error
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        assert HOLD - 2.0 < took < SQLITE_BUSY_TIMEOUT_MS / 1000
    finally:
        other.dispose()


def test_a_restore_over_a_database_left_with_a_hot_wal_gives_the_backup(app, session, tmp_path):
    """A process killed in WAL mode leaves committed pages in <db>-wal, not yet in the file.
    Restore writes through SQLite (the backup API), so those are settled, never laid over the
    restored database."""
    load_forces(session)
    make_user(session, "admin", "ada@example.org")
    source = app.extensions["foitrack.db"].engine
    store = FileStore(app.config["STORAGE_PATH"])
    path = tmp_path / "backup.zip"
    manifest = backups.create_backup(source, store, path)

    target = tmp_path / "target.sqlite3"
    # A process that writes in WAL mode, never checkpoints, and dies without closing.
    script = (
        "import os, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1])\n"
        "c.execute('PRAGMA journal_mode=WAL'); c.execute('PRAGMA wal_autocheckpoint=0')\n"
        "c.execute('CREATE TABLE stale (body BLOB)')\n"
        "c.execute('INSERT INTO stale VALUES (randomblob(4000000))'); c.commit()\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(target)], check=True, timeout=60)
    assert Path(f"{target}-wal").stat().st_size > 4_000_000  # the stale table is only there

    engine = make_engine(f"sqlite:///{target}")
    try:
        restored = backups.restore_backup(engine, FileStore(tmp_path / "files"), path, force=True)
        assert restored == manifest
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            names = {row[0] for row in connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            assert "stale" not in names
            assert backups.count_rows(connection) == manifest.tables
        # And a backup of the restored database, in WAL mode, reads back the same.
        again = backups.create_backup(engine, FileStore(tmp_path / "files"), tmp_path / "again.zip")
        assert again.tables == manifest.tables
    finally:
        engine.dispose()
    with source.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM authority")).scalar() == 48
