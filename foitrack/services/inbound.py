"""Replies: reading .eml and .mbox files (or an IMAP mailbox), filing each message against its
request with its attachments, and a triage inbox for the rest.

A message is matched by the reference token in its subject, then by In-Reply-To/References to a
message foitrack sent, then by the sender's domain when exactly one open request to that
authority could be meant. A match becomes a "reply received" event; the researcher then records
what the reply was. The same message imported twice is kept once.
"""

from __future__ import annotations

import datetime as dt
import email
import hashlib
import imaplib
import mailbox
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from foitrack.models import (
    Attachment,
    Authority,
    Campaign,
    CampaignStatus,
    InboundMessage,
    OutgoingMessage,
    Request,
    StoredFile,
)
from foitrack.services import audit
from foitrack.services.errors import Invalid, NotFound
from foitrack.services.mail import TOKEN, token_for
from foitrack.services.requests import add_event
from foitrack.storage import FileStore, safe_filename

ALLOWED = {
    ".pdf": "application/pdf", ".xlsx": "application/vnd.openxmlformats-officedocument."
    "spreadsheetml.sheet", ".xls": "application/vnd.ms-excel", ".csv": "text/csv",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet", ".png": "image/png",
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".tif": "image/tiff",
    ".tiff": "image/tiff",
}
ARCHIVES = {".zip", ".7z", ".rar", ".gz", ".tar"}
MAX_ATTACHMENT_BYTES = 25 * 2**20


@dataclass
class ImportReport:
    filed: list[str] = field(default_factory=list)
    triage: list[str] = field(default_factory=list)
    duplicates: int = 0

    def add(self, other: ImportReport) -> None:
        self.filed += other.filed
        self.triage += other.triage
        self.duplicates += other.duplicates

    def summary(self) -> str:
        return (f"{len(self.filed)} filed against requests, {len(self.triage)} waiting in the "
                f"triage inbox, {self.duplicates} already imported")


def read_messages(filename: str, data: bytes) -> list[tuple[EmailMessage, bytes]]:
    """The messages in an .eml or .mbox file, each with its raw bytes. :raises Invalid:"""
    if not data.strip():
        raise Invalid(f"{filename}: the file is empty")
    if filename.lower().endswith(".mbox") or data.startswith(b"From "):
        with tempfile.NamedTemporaryFile(suffix=".mbox") as handle:
            handle.write(data)
            handle.flush()
            box = mailbox.mbox(handle.name, factory=None, create=False)
            found = [(email.message_from_bytes(m.as_bytes(), policy=policy.default), m.as_bytes())
                     for m in box]
        if not found:
            raise Invalid(f"{filename}: no messages in this mailbox file")
        return found  # type: ignore[return-value]
    message = email.message_from_bytes(data, policy=policy.default)
    if not message.keys():
        raise Invalid(f"{filename}: is not an email message (.eml)")
    return [(message, data)]  # type: ignore[list-item]


def _text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeDecodeError, AssertionError):
        content = part.get_payload(decode=True).decode("utf-8", "replace")  # type: ignore[union-attr]
    if part.get_content_subtype() == "html":
        content = re.sub(r"(?s)<(script|style).*?</\1>", " ", content)
        content = re.sub(r"<br\s*/?>|</p>", "\n", content, flags=re.I)
        content = re.sub(r"<[^>]+>", " ", content)
        import html

        content = html.unescape(content).replace("\xa0", " ")
    lines = (re.sub(r"[ \t]+", " ", line).strip() for line in content.splitlines())
    return "\n".join(line for line in lines if line)


def _storable(text: str) -> str:
    """Mail text as every database here can keep it: a NUL (PostgreSQL refuses one) dropped, and
    bytes the email package could not decode (kept as lone surrogates) shown as '?'."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _is_bounce(message: EmailMessage) -> bool:
    sender = parseaddr(str(message.get("From", "")))[1].lower()
    return (message.get_content_type() == "multipart/report"
            or sender.startswith(("mailer-daemon@", "postmaster@")))


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower().strip(">") if "@" in address else ""


def _match(session: Session, message: EmailMessage) -> tuple[Request | None, str | None]:
    subject = str(message.get("Subject", ""))
    token = TOKEN.search(subject.upper())
    if token:
        request = session.get(Request, int(token.group(2)))
        if request is not None and token_for(request) == token.group(1):
            return request, "token"
    ids = re.findall(r"<[^>]+>", f"{message.get('In-Reply-To', '')} {message.get('References', '')}")
    if ids:
        sent = session.scalar(select(OutgoingMessage).where(OutgoingMessage.message_id.in_(ids)))
        if sent is not None and sent.request is not None:
            return sent.request, "thread"
    sender = parseaddr(str(message.get("From", "")))[1]
    domain = _domain(sender)
    if domain:
        authorities = [a for a in session.scalars(select(Authority).where(
            Authority.foi_email.is_not(None))) if _domain(a.foi_email or "") == domain]
        if len(authorities) == 1:
            open_requests = list(session.scalars(
                select(Request).join(Campaign).where(
                    Request.authority_id == authorities[0].id,
                    Campaign.status == CampaignStatus.active)))
            # Only requests still waiting for their answer: anything else from that domain
            # (a newsletter, another team) goes to triage.
            open_requests = [r for r in open_requests
                             if any(e.kind.value == "sent" and e.removed_at is None
                                    for e in r.events)
                             and not any(e.kind.value in ("response", "withdrawn")
                                         and e.removed_at is None for e in r.events)]
            if len(open_requests) == 1:
                return open_requests[0], "sender"
    return None, None


def _attachments(message: EmailMessage) -> Iterable[tuple[str, str, bytes]]:
    """Every file in the message, however deeply nested (signed, related, forwarded mail)."""
    body = message.get_body(preferencelist=("plain", "html"))
    for part in message.walk():
        if part is body or part.is_multipart():
            continue
        content_type = part.get_content_type()
        name = part.get_filename()
        if content_type == "message/rfc822" or (name is None and content_type.startswith("text/")):
            continue  # forwarded messages are walked into; unnamed text is the body
        if content_type in ("application/pkcs7-signature", "application/x-pkcs7-signature"):
            continue  # the signature of a signed message, not a document
        payload = part.get_payload(decode=True) or b""
        yield name or "attachment", content_type, payload  # type: ignore[misc]


def import_message(session: Session, actor: audit.Actor, store: FileStore, message: EmailMessage,
                   raw: bytes, today: dt.date) -> tuple[InboundMessage | None, str]:
    """File one message. Returns it (None if already imported) and where it went."""
    key = _storable(str(message.get("Message-ID") or "").strip()) or \
        f"sha256:{hashlib.sha256(raw).hexdigest()}"
    if session.scalar(select(InboundMessage.id).where(InboundMessage.message_key == key[:300])):
        return None, "duplicate"
    digest = store.put(raw)
    raw_file = StoredFile(sha256=digest, filename="message.eml", content_type="message/rfc822",
                          size=len(raw), created_by=actor.label)
    session.add(raw_file)
    name, address = parseaddr(str(message.get("From", "")))
    try:
        sent_at = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
        if sent_at is not None and sent_at.tzinfo is None:
            sent_at = sent_at.replace(tzinfo=dt.UTC)
    except (TypeError, ValueError):
        sent_at = None
    name, address = _storable(name), _storable(address)
    inbound = InboundMessage(
        message_key=key[:300], from_address=(address or "unknown")[:254],
        from_name=(name or None) and name[:254],
        subject=_storable(str(message.get("Subject", "")))[:1000], sent_at=sent_at,
        body_text=_storable(_text_body(message)),
        in_reply_to=_storable(str(message.get("In-Reply-To") or ""))[:1000] or None,
        references=_storable(str(message.get("References") or "")) or None,
        is_bounce=_is_bounce(message), raw_file=raw_file, received_by=actor.label,
    )
    session.add(inbound)
    session.flush()
    for filename, content_type, payload in _attachments(message):
        clean = safe_filename(filename, "attachment")
        suffix = Path(clean).suffix.lower()
        attachment = Attachment(message_id=inbound.id, filename=clean,
                                content_type=_storable(content_type)[:100],
                                size=len(payload), flagged=suffix in ARCHIVES)
        if len(payload) > MAX_ATTACHMENT_BYTES:
            attachment.refused = f"larger than {MAX_ATTACHMENT_BYTES // 2**20} MB"
        elif suffix not in ALLOWED and suffix not in ARCHIVES:
            attachment.refused = f"{suffix or 'no extension'} is not an allowed type"
        else:
            # Served back with the type its extension says (archives as plain bytes), never the
            # sender's own claim.
            stored = StoredFile(sha256=store.put(payload), filename=clean,
                                content_type=ALLOWED.get(suffix, "application/octet-stream"),
                                size=len(payload), created_by=actor.label)
            session.add(stored)
            attachment.stored_file = stored
        session.add(attachment)
    request, how = _match(session, message)
    where = "triage"
    if request is not None:
        try:
            file_against(session, actor, inbound, request, how or "manual", today)
        except Invalid as error:
            # E.g. a reply to a withdrawn request: kept for a person to look at, not lost.
            inbound.request = None
            inbound.matched_by = None
            where = f"triage ({error})"
        else:
            where = f"filed against {request.authority.name} ({how})"
    audit.record(session, actor, "inbound_message", inbound.id, "import", None,
                 {"from": inbound.from_address, "subject": inbound.subject, "where": where})
    return inbound, where


def file_against(session: Session, actor: audit.Actor, inbound: InboundMessage, request: Request,
                 how: str, today: dt.date) -> None:
    """File a message against a request: a "reply received" event, or a note for a bounce."""
    inbound.request = request
    inbound.matched_by = how
    day = inbound.sent_at.date() if inbound.sent_at else today
    day = min(day, today)
    sent = [e for e in request.events if e.kind.value == "sent" and e.removed_at is None]
    kind = "note" if inbound.is_bounce or not sent or day < sent[0].occurred_on else "reply_received"
    prefix = "Delivery failed: " if inbound.is_bounce else ""
    event = add_event(session, actor, request, kind, day, today=today,
                      note=f"{prefix}{inbound.subject} (from {inbound.from_address})")
    inbound.event = event
    session.flush()


def assign(session: Session, actor: audit.Actor, inbound_id: int, request: Request,
           today: dt.date) -> InboundMessage:
    """A researcher files a triage message against a request. :raises NotFound:"""
    inbound = session.get(InboundMessage, inbound_id)
    if inbound is None or inbound.request_id is not None:
        raise NotFound("no such message waiting in the triage inbox")
    file_against(session, actor, inbound, request, "manual", today)
    audit.record(session, actor, "inbound_message", inbound.id, "assign", None,
                 {"request_id": request.id})
    return inbound


def import_file(session: Session, actor: audit.Actor, store: FileStore, filename: str,
                data: bytes, today: dt.date) -> ImportReport:
    report = ImportReport()
    for message, raw in read_messages(filename, data):
        try:
            inbound, where = import_message(session, actor, store, message, raw, today)
        except (ValueError, IndexError, LookupError, TypeError) as error:
            # A malformed header the email package cannot read: say which message, keep going.
            raise Invalid(f"{filename}: a message could not be read ({error}); nothing was "
                          "imported from this file") from None
        if inbound is None:
            report.duplicates += 1
        elif inbound.request_id is None:
            report.triage.append(inbound.subject)
        else:
            report.filed.append(f"{inbound.subject}: {where}")
    return report


def filed_messages(session: Session, request_id: int) -> list[InboundMessage]:
    """The replies filed against a request, oldest first, with their attachments' files."""
    return list(session.scalars(
        select(InboundMessage).where(InboundMessage.request_id == request_id)
        .order_by(InboundMessage.id)
        .options(selectinload(InboundMessage.attachments).selectinload(Attachment.stored_file))
    ))


def triage(session: Session) -> list[InboundMessage]:
    return list(session.scalars(select(InboundMessage).where(InboundMessage.request_id.is_(None))
                                .order_by(InboundMessage.received_at.desc())))


@dataclass(frozen=True)
class ImapSettings:
    host: str
    username: str
    password: str
    port: int = 993
    folder: str = "INBOX"
    ssl: bool = True


def fetch_imap(settings: ImapSettings) -> list[tuple[str, bytes]]:
    """Unseen messages from an IMAP mailbox, as (name, raw bytes). Marks them seen."""
    client_class = imaplib.IMAP4_SSL if settings.ssl else imaplib.IMAP4
    with client_class(settings.host, settings.port) as client:
        client.login(settings.username, settings.password)
        client.select(settings.folder)
        status, numbers = client.search(None, "UNSEEN")
        found = []
        for number in (numbers[0] or b"").split():
            # PEEK: fetching must not mark it read; mark_seen() does, after the import commits.
            status, data = client.fetch(number, "(BODY.PEEK[])")
            if status == "OK" and data and isinstance(data[0], tuple):
                found.append((f"imap-{number.decode()}.eml", data[0][1]))
        return found


def mark_seen(settings: ImapSettings, names: list[str]) -> None:
    """Mark fetched messages read once they are safely imported."""
    client_class = imaplib.IMAP4_SSL if settings.ssl else imaplib.IMAP4
    with client_class(settings.host, settings.port) as client:
        client.login(settings.username, settings.password)
        client.select(settings.folder)
        for name in names:
            client.store(name.removeprefix("imap-").removesuffix(".eml"), "+FLAGS", "\\Seen")



