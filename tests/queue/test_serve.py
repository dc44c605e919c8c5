"""`foitrack serve` with no broker configured starts a worker beside itself: `make run` sends
in the background with nothing but SQLite (issue 21, point 1)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from foitrack.models import Job, JobState
from foitrack.services import api_tokens
from foitrack.services.design import create_from_file
from tests.factories import EXAMPLE_DESIGN, TEST_ACTOR, load_forces, make_user
from tests.queue.conftest import free_port, wait_for

pytestmark = pytest.mark.slow


def _ps_children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(line) for line in found.stdout.split()]


def test_serve_starts_a_worker_that_sends_and_stops_with_it(app, session, cli_env, slow_smtp):
    load_forces(session)
    create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'authorities = "england-wales"', 'authorities = ["west-mercia", "kent", "sussex"]'))
    user = make_user(session, role="researcher")
    _, token = api_tokens.create_token(session, TEST_ACTOR, user, "scripts")
    session.commit()
    port = free_port()
    env = {**os.environ, **cli_env, "FOITRACK_SMTP_HOST": "127.0.0.1",
           "FOITRACK_SMTP_PORT": str(slow_smtp.port), "FOITRACK_SMTP_STARTTLS": "0",
           "FOITRACK_MAIL_THROTTLE_SECONDS": "0"}
    env.pop("FOITRACK_BROKER_URL", None)  # the embedded default: no broker at all
    server = subprocess.Popen([sys.executable, "-m", "foitrack.cli", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(f"{base}/healthz"), timeout=30, what="the server")
        workers = wait_for(lambda: _ps_children(server.pid), timeout=10, what="the worker")
        request = urllib.request.Request(f"{base}/api/v1/campaigns/grooming-2019/send",
                                         data=b"{}", method="POST", headers={
                                             "Authorization": f"Bearer {token}",
                                             "Content-Type": "application/json"})
        started = time.monotonic()
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
        assert time.monotonic() - started < 5
        wait_for(lambda: len(slow_smtp.messages) == 3, timeout=60, what="three messages")
        session.expire_all()
        wait_for(lambda: session.scalar(select(Job.state).execution_options(
            populate_existing=True)) is JobState.done, what="the job to be done")
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode(errors="replace")
    assert "Starting a worker for background jobs" in output
    for pid in workers:  # the worker went with the server
        wait_for(lambda pid=pid: _gone(pid), timeout=20, what=f"worker {pid} to stop")


def _gone(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().split()[2] == "Z"  # a zombie has stopped
    except FileNotFoundError:
        return True


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
