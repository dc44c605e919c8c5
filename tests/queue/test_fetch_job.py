"""The scheduler's mailbox fetch, run by a real worker against a real IMAP server (Dovecot):
replies filed to their requests, nothing filed twice, one at a time (issue 21, point 3)."""

from __future__ import annotations

import os
import subprocess
import sys
from email import message_from_bytes, policy

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from foitrack.cli import main
from foitrack.models import InboundMessage, Job, JobKind, JobState
from foitrack.services import jobs
from tests.factories import TEST_ACTOR
from tests.mail.conftest import dovecot, imap_mailbox  # noqa: F401 - fixtures used below
from tests.mail.test_imap_fetch import reply_to
from tests.queue.conftest import wait_for
from tests.queue.test_worker import _api, _campaign, _finished

pytestmark = pytest.mark.slow


def _nested(depth: int = 2000) -> bytes:
    """A message whose parts nest too deeply to be read: kept for a person, never lost."""
    head = b"From: x@y.example\r\nMessage-ID: <deep@y.example>\r\nSubject: Deep\r\n"
    inner = b"Content-Type: text/plain\r\n\r\nhi\r\n"
    for level in range(depth):
        inner = (f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'
                 .encode() + inner + f"\r\n--b{level}--\r\n".encode())
    return head + inner


def _filed(session) -> int:
    return session.scalar(select(func.count()).select_from(InboundMessage).where(
        InboundMessage.request_id.is_not(None)).execution_options(populate_existing=True))


def test_the_scheduler_fetches_replies_and_a_worker_files_them_once(
        app, session, cli_env, worker_env, slow_smtp, start_worker, imap_mailbox):  # noqa: F811
    _campaign(session, ["west-mercia", "kent", "sussex"])
    client, headers = _api(app, session)
    imap = imap_mailbox.env()
    start_worker("w1", env=imap)
    sent = client.post("/api/v1/campaigns/grooming-2019/send", headers=headers).get_json()
    wait_for(_finished(client, headers, sent["url"]), what="the send")
    replies = [reply_to(message_from_bytes(m.as_bytes(), policy=policy.default))
               for m in slow_smtp.messages]
    uids = imap_mailbox.deliver(*replies, _nested())
    scheduler = subprocess.Popen([sys.executable, "-m", "foitrack.cli", "scheduler"],
                                 env={**os.environ, **worker_env, **imap},
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        job = wait_for(lambda: session.scalars(select(Job).where(
            Job.kind == JobKind.fetch, Job.state == JobState.done).execution_options(
            populate_existing=True)).first(), what="the scheduled fetch")
    finally:
        scheduler.terminate()
        output = scheduler.communicate(timeout=30)[0]
    assert job.created_by == "scheduler", output
    assert (job.total, job.done, job.failed) == (4, 4, 0)
    assert _filed(session) == 3  # each reply on its request; the unreadable one kept for triage
    assert session.scalar(select(func.count()).select_from(InboundMessage)) == 4
    assert imap_mailbox.seen() == set(uids)
    # Fetched again (cron's `mail fetch` beside the scheduler): nothing is filed twice.
    imap_mailbox.mark_unseen(*uids)
    result = CliRunner(env={**cli_env, **imap}).invoke(main, ["mail", "fetch"])
    assert result.exit_code == 0, result.output
    assert "4 already imported" in result.stdout
    assert session.scalar(select(func.count()).select_from(InboundMessage)) == 4


def test_fetches_run_one_at_a_time(session):
    first = jobs.fetch(session, TEST_ACTOR)
    assert first is not None
    assert jobs.fetch(session, TEST_ACTOR) is None  # one queued: no second
    first.state = JobState.done
    import datetime as dt

    assert jobs.fetch(session, TEST_ACTOR, every=dt.timedelta(minutes=5)) is None  # too soon
    assert jobs.fetch(session, TEST_ACTOR) is not None
