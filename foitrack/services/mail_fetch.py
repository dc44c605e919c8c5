"""Fetching replies from the IMAP mailbox and filing them, for `foitrack mail fetch` and the
scheduled fetch alike.

One connection does the whole run. The unread messages are found by UID, which names a message
for as long as the folder lasts; a sequence number shifts when another mail client deletes a
message, so marking by number what was read by number (in another connection, as foitrack once
did) marked the wrong messages read. Each is read with BODY.PEEK, which leaves it unread, filed
and committed in a transaction of its own, and only then marked \\Seen.
A run cut off between the commit and the mark leaves that message unread: the next run reads it
again and finds it already kept (inbound keeps a message once, by its Message-ID), so nothing is
filed twice. A message inbound refuses (empty, or no email at all) is left unread in the mailbox
for a person; one it cannot read is kept as it came in the triage inbox (inbound.import_file).

Unlike most services this one commits, once per message, like mail.deliver: it takes a session
factory, not a session.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import re
import ssl
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foitrack.domain.reply_addresses import ReplyKey
from foitrack.errors import Invalid
from foitrack.services import audit, inbound
from foitrack.services.inbound import ImapSettings, ImportReport
from foitrack.storage import FileStore

NewSession = Callable[[], AbstractContextManager[Session]]


@dataclass
class FetchReport:
    """What one fetch did: ``imported`` as for a file import, and what stayed in the mailbox."""

    fetched: int = 0  # messages read from the mailbox, wherever they went
    imported: ImportReport = field(default_factory=ImportReport)
    marked_read: int = 0
    # Refused by the import (empty, or not an email at all): left unread for a person.
    refused: list[str] = field(default_factory=list)
    # Kept, but the server would not mark them read: the next fetch reads them again and finds
    # them already kept.
    not_marked: list[str] = field(default_factory=list)

    @property
    def filed(self) -> int:
        """How many were filed against their requests."""
        return len(self.imported.filed)

    @property
    def kept(self) -> int:
        """How many are kept in foitrack: filed, in the triage inbox, or kept before."""
        return self.fetched - len(self.refused)

    @property
    def lines(self) -> list[str]:
        """The messages filed against requests, one line each."""
        return list(self.imported.filed)

    @property
    def warnings(self) -> list[str]:
        """What a person should look at, one line each."""
        return ([f"could not read {line}: kept in the triage inbox"
                 for line in self.imported.unreadable]
                + [f"not imported: {line}" for line in self.refused]
                + [f"kept, but not marked read in the mailbox: {line}"
                   for line in self.not_marked])

    def summary(self) -> str:
        return f"Fetched {self.fetched} messages: {self.imported.summary()}"


class MailboxUnavailable(Exception):
    """The mailbox could not be reached, signed in to or read. ``report`` holds what was
    fetched and filed (and committed) before that."""

    def __init__(self, reason: str, report: FetchReport) -> None:
        super().__init__(reason)
        self.reason, self.report = reason, report


class _ImapFailure(Exception):
    """Any failure talking to the server, its reason in words."""


def fetch_and_file(new_session: NewSession, settings: ImapSettings, store: FileStore,
                   actor: audit.Actor, today: dt.date) -> FetchReport:
    """File the mailbox's unread messages, oldest first, each committed on its own and then
    marked read.

    :raises MailboxUnavailable: when the server cannot be reached, refuses the sign-in or the
        folder, or the connection fails part-way; what was filed before that stays filed.
    """
    report = FetchReport()
    try:
        with _signed_in(settings) as client:
            for uid in _unread(client):
                raw = _peek(client, uid)
                if raw is None:
                    continue  # deleted meanwhile by another mail client
                report.fetched += 1
                name = f"imap-{uid}.eml"
                if not _file(new_session, store, actor, today, name, raw, report,
                             settings.reply_key):
                    continue
                refusal = _mark_read(client, uid)
                if refusal is None:
                    report.marked_read += 1
                else:
                    report.not_marked.append(f"{name}: {refusal}")
    except _ImapFailure as error:
        raise MailboxUnavailable(str(error), report) from error
    return report


def _file(new_session: NewSession, store: FileStore, actor: audit.Actor, today: dt.date,
          name: str, raw: bytes, report: FetchReport, reply_key: ReplyKey | None = None) -> bool:
    """File one message; True once it is kept (now, or by an earlier fetch)."""
    try:
        try:
            imported = _import(new_session, store, actor, today, name, raw, reply_key)
        except IntegrityError:
            # Another fetch (cron's beside the scheduler's) kept the same message between this
            # one's check and its insert. Read again, it is a duplicate.
            imported = _import(new_session, store, actor, today, name, raw, reply_key)
    except Invalid as error:
        report.refused.append(f"{error} (left unread in the mailbox)")
        return False
    report.imported.add(imported)
    return True


def _import(new_session: NewSession, store: FileStore, actor: audit.Actor, today: dt.date,
            name: str, raw: bytes, reply_key: ReplyKey | None) -> ImportReport:
    with new_session() as session:
        imported = inbound.import_file(session, actor, store, name, raw, today,
                                       reply_key=reply_key)
        session.commit()
    return imported


# ---- talking to the server -------------------------------------------------------------------

@contextmanager
def _speaking(what: str) -> Iterator[None]:
    """Any socket, TLS or protocol failure inside, as an _ImapFailure saying what was tried."""
    try:
        yield
    except (OSError, imaplib.IMAP4.error) as error:
        raise _ImapFailure(f"{what}: {_reason(error)}") from error


def _reason(error: Exception) -> str:
    """An error's words; imaplib's come as the server's bytes."""
    if len(error.args) == 1 and isinstance(error.args[0], bytes):
        return error.args[0].decode("utf-8", "replace")
    return str(error) or type(error).__name__


def _words(data: Sequence[object]) -> str:
    return " ".join(item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
                    for item in data if item is not None)


@contextmanager
def _signed_in(settings: ImapSettings) -> Iterator[imaplib.IMAP4]:
    """A connection, signed in, with the folder selected; signed out afterwards."""
    with _speaking("cannot connect"):
        if settings.ssl:
            # A verified certificate: imaplib's own default context checks none, which would
            # hand the mailbox's password to anyone in between.
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                settings.host, settings.port, ssl_context=ssl.create_default_context(),
                timeout=settings.timeout)
        else:
            client = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
    try:
        with _speaking("cannot sign in"):
            client.login(settings.username, settings.password)
        with _speaking(f"cannot open the folder {settings.folder}"):
            status, data = client.select(_quoted(settings.folder))
            if status != "OK":
                raise _ImapFailure(f"cannot open the folder {settings.folder}: {_words(data)}")
        yield client
    finally:
        with suppress(OSError, imaplib.IMAP4.error):  # already gone: nothing to sign out of
            client.logout()


def _quoted(folder: str) -> str:
    """A folder name as an IMAP quoted string (imaplib sends arguments as they are given)."""
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unread(client: imaplib.IMAP4) -> list[int]:
    with _speaking("cannot list the unread messages"):
        status, data = client.uid("SEARCH", "UNSEEN")
        if status != "OK":
            raise _ImapFailure(f"cannot list the unread messages: {_words(data)}")
    found = data[0] if data and isinstance(data[0], bytes) else b""
    return sorted(int(uid) for uid in found.split())


_UID = re.compile(rb"\bUID (\d+)")


def _peek(client: imaplib.IMAP4, uid: int) -> bytes | None:
    """A message's bytes, leaving it unread; None when it is no longer there."""
    with _speaking(f"cannot read message {uid}"):
        status, data = client.uid("FETCH", str(uid), "(BODY.PEEK[])")
        if status != "OK":
            raise _ImapFailure(f"cannot read message {uid}: {_words(data)}")
    for item in data:
        if isinstance(item, tuple):
            named = _UID.search(item[0])
            # A server may add news of other messages; only this one's body is wanted.
            if named is None or int(named.group(1)) == uid:
                return item[1]
    return None


def _mark_read(client: imaplib.IMAP4, uid: int) -> str | None:
    """Mark a kept message read; None when done, else the server's reason for refusing."""
    with _speaking(f"cannot mark message {uid} read"):
        status, data = client.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Seen)")
    return None if status == "OK" else _words(data) or status
