"""Atomic writes: a real `foitrack` process killed (SIGKILL) part-way through writing a large
import leaves the database exactly as before, and the same import then runs to the end; a send

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
killed part-way leaves each message whole, sent or queued or "sending" for a person to check.

The signal that the write phase has begun is the database's own, read from outside the child:
on SQLite the write lock held by another connection and a megabyte more in its write-ahead log
(``<db>-wal``: foitrack.db puts SQLite in WAL mode), on PostgreSQL the child's RowExclusiveLock
on the figure table (taken by its first INSERT and held until commit or rollback)."""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from foitrack.backups import count_rows
from foitrack.models import Authority, DeliveryStatus, Figure, OutgoingMessage, Request
from tests.factories import make_campaign

PERIODS = 100
CATEGORIES = ["Instagram", "Facebook", "Messenger", "WhatsApp", "Snapchat", "Other"]
# 43 forces x 100 months x (a total, six platforms and "not recorded") = 34,400 rows.
ROWS = 43 * PERIODS * (1 + len(CATEGORIES) + 1)


def _campaign_file() -> str:
    periods = []
    for p in range(PERIODS):
        start = dt.date(2010 + p // 12, p % 12 + 1, 1)
        end = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1) - dt.timedelta(days=1)
        periods.append(f'[[periods]]\nkey = "m{p}"\nlabel = "Month {p}"\nstart = {start}\n'
                       f"end = {end}\n")
    return (
        'slug = "big-import"\ntitle = "A large import"\nauthorities = "england-wales"\n'
        'request_text = """{{ salutation }},\n\nHow many offences?\n\nYours faithfully,"""\n\n'
        '[[measures]]\nkey = "offences"\nlabel = "Offences recorded"\nunit = "offences"\n\n'
        + "\n".join(periods)
        + '\n[[dimensions]]\nkey = "platform"\nlabel = "Communication method"\n'
        f"categories = {CATEGORIES!r}\n".replace("'", '"')
        + 'not_recorded = "Not recorded"\n'
    )


def _write_csv(path: Path, codes: list[str]) -> None:
    cells = [("", ""), *(("platform", c) for c in CATEGORIES), ("platform", "Not recorded")]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["authority", "measure", "period", "dimension", "category", "value",
                         "caveat", "source"])
        for n, code in enumerate(codes):
            for p in range(PERIODS):
                for c, (dimension, category) in enumerate(cells):
                    value = "<5" if (n + p + c) % 19 == 0 else str((n * 7 + p * 3 + c) % 400)
                    writer.writerow([code, "offences", f"m{p}", dimension, category, value,
                                     "keyword search" if c == 0 else "", "table 1"])


@pytest.fixture
def big_import(app, session, tmp_path):
    """The campaign (through the service, committed) and its tidy CSV of ROWS rows."""
    campaign = make_campaign(session, _campaign_file())
    codes = list(session.scalars(
        select(Authority.code).join(Request, Request.authority_id == Authority.id)
        .where(Request.campaign_id == campaign.id).order_by(Authority.code)))
    assert len(codes) == 43
    path = tmp_path / "big.csv"
    _write_csv(path, codes)
    return path


def _foitrack() -> str:
    found = shutil.which("foitrack", path=str(Path(sys.executable).parent)) or shutil.which("foitrack")
    assert found, "the foitrack console script is not installed"
    return found


def _child_env(cli_env: dict[str, str], **extra: str) -> dict[str, str]:
    return {**os.environ, **cli_env, **extra}


def _everything(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return count_rows(connection)


class WritePhase:
    """Tells, from outside the child, that it is part-way through writing: a write transaction
    of its is open and a megabyte of its uncommitted rows has reached the database's files."""

    GROWTH = 1 << 20

    def __init__(self, engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        if self.sqlite:
            self.database = Path(make_url(str(engine.url)).database)
            self.journal = Path(f"{self.database}-wal")
        self.size_before = self._size()

    def _size(self) -> int:
        if self.sqlite:
            return self.database.stat().st_size + (
                self.journal.stat().st_size if self.journal.exists() else 0)
        with self.engine.connect() as connection:
            return connection.scalar(text("SELECT pg_relation_size('figure')"))

    def _open(self) -> bool:
        if self.sqlite:
            # Another connection holds the write lock (taken by the import's first write,
            # let go at commit): ours cannot take it, without waiting.
            probe = sqlite3.connect(self.database, timeout=0)
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.rollback()
                return False
            except sqlite3.OperationalError:
                return True
            finally:
                probe.close()
        with self.engine.connect() as connection:
            # Our own connection never inserts; a RowExclusiveLock on this schema's figure
            # table is the child's open transaction (released at commit or rollback).
            return bool(connection.scalar(text(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = 'figure' AND c.relnamespace = current_schema()::regnamespace "
                "AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()")))

    def started(self) -> bool:
        # SQLite spills a transaction's pages into its log once they outgrow its cache;
        # PostgreSQL writes uncommitted tuples into the table's heap as they are inserted.
        return self._open() and self._size() >= self.size_before + self.GROWTH


def _kill_when(child: subprocess.Popen, ready, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while not ready():
        if child.poll() is not None:
            out, err = child.communicate()
            pytest.fail(f"the child ended (exit {child.returncode}) before it could be killed "
                        f"part-way: {out!r} {err!r}")
        if time.monotonic() > deadline:
            child.kill()
            child.communicate()
            pytest.fail("the write phase never began")
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.communicate()
    assert child.returncode == -signal.SIGKILL  # killed, not finished


def test_a_killed_csv_import_leaves_the_database_as_before(app, big_import, cli_env):
    engine = app.extensions["foitrack.db"].engine
    before = _everything(engine)
    assert before["figure"] == 0
    phase = WritePhase(engine)
    assert not phase.started()

    child = subprocess.Popen(
        [_foitrack(), "figures", "import", "big-import", str(big_import), "--yes"],
        env=_child_env(cli_env), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _kill_when(child, phase.started)
    if phase.sqlite:
        # Uncommitted pages in the log: the kill landed inside a write transaction, whose pages
        # the next connection ignores (no commit record).
        assert phase.journal.stat().st_size > 0

    engine.dispose()  # nothing cached from before the kill
    after = _everything(engine)
    assert after == before  # every table: figures, audit entries, stored files, all of them
    with engine.connect() as connection:
        if phase.sqlite:
            assert connection.scalar(text("PRAGMA integrity_check")) == "ok"

    again = subprocess.run(
        [_foitrack(), "figures", "import", "big-import", str(big_import), "--yes"],
        env=_child_env(cli_env), capture_output=True, text=True, timeout=600, check=False)
    assert again.returncode == 0, again.stderr
    assert f"{ROWS} new, 0 changed" in again.stdout
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Figure)) == ROWS
        assert connection.scalar(text(
            "SELECT count(*) FROM audit_entry WHERE entity_type = 'figure' AND action = 'create'")) == ROWS


@pytest.fixture
def campaign_to_send(app, session):
    make_campaign(session, _campaign_file())


def test_a_killed_send_leaves_every_message_whole(app, campaign_to_send, cli_env, instance_path):
    engine = app.extensions["foitrack.db"].engine
    outbox = instance_path / "outbox"
    env = _child_env(cli_env, FOITRACK_MAIL_THROTTLE_SECONDS="0.2")
    env.pop("FOITRACK_SMTP_HOST", None)
    child = subprocess.Popen([_foitrack(), "mail", "send", "big-import", "--yes"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _kill_when(child, lambda: outbox.is_dir() and len(list(outbox.iterdir())) >= 5)

    engine.dispose()
    with engine.connect() as connection:
        messages = connection.execute(select(
            OutgoingMessage.status, OutgoingMessage.outbox_file, OutgoingMessage.sent_at)).all()
    assert len(messages) == 43  # queued in one transaction before the first went
    written = {path.name for path in outbox.iterdir()}
    done = [m for m in messages if m.status is DeliveryStatus.outbox]
    assert {m.outbox_file for m in done} <= written and all(m.sent_at for m in done)
    # The one being written when the kill came, if any, is "sending": for a person to check.
    assert all(m.status in (DeliveryStatus.outbox, DeliveryStatus.queued, DeliveryStatus.sending)
               for m in messages)
    assert len([m for m in messages if m.status is DeliveryStatus.sending]) <= 1
    assert len(written) - len(done) <= 1
    queued = len([m for m in messages if m.status is DeliveryStatus.queued])
    assert 0 < queued < 43 - 4

    again = subprocess.run([_foitrack(), "mail", "send", "big-import", "--yes"],
                           env={**env, "FOITRACK_MAIL_THROTTLE_SECONDS": "0"},
                           capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 0, again.stderr
    # The queued ones go now. Those only written to the outbox are offered again by design
    # (nothing left, so the request counts as unsent); the "sending" one is left for a person.
    sending = 43 - queued - len(done)
    assert f"{queued + len(done)} written to the outbox" in again.stdout
    with engine.connect() as connection:
        statuses = list(connection.scalars(select(OutgoingMessage.status)))
    assert len(statuses) == 43 + len(done)
    assert statuses.count(DeliveryStatus.queued) == 0
    assert statuses.count(DeliveryStatus.sending) == sending
