"""A real SMTP server (aiosmtpd) and a real IMAP server (Debian's Dovecot) on localhost for the
mail tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from tests.imap_server import MISSING, DovecotServer, Mailbox, dovecot_binary, running_dovecot


class Recorder:
    """Keeps every message the server accepts; refuses recipients listed in ``refuse``."""

    def __init__(self) -> None:
        self.messages: list = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.lower() in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield recorder, controller.port
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """Dovecot on a loopback port for this test process, stopped at its end.

    Fails, rather than skips, when Dovecot is missing: `make test` installs it (`make tools`),
    and a skipped test would pass off an untested fetch as a tested one.
    """
    if dovecot_binary() is None:
        pytest.fail(MISSING, pytrace=False)
    with running_dovecot() as server:
        yield server


@pytest.fixture
def imap_mailbox(dovecot: DovecotServer) -> Mailbox:
    """An empty INBOX of this test's own on the real IMAP server."""
    return dovecot.new_mailbox()
