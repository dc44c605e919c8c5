"""Replies: reading .eml and .mbox files (or an IMAP mailbox), filing each message against its
request with its attachments, and a triage inbox for the rest.

A message is matched by the request's own reply address it was sent to (domain.reply_addresses),
then by the reference token in its subject, then by In-Reply-To/References to a message foitrack
sent, then by the authority's own reference quoted in it when that names exactly one open
request to the authority of the sender's domain, then by the sender's domain when exactly one
open request to that authority could be meant. A match becomes a "reply received" event; the
researcher then records what the reply was. A bounce is matched to the message it returns and
recorded as "delivery failed", or as a note when it may not concern that sending
(services.bounces). The same message imported twice is kept once.
"""

from __future__ import annotations

import datetime as dt
import email
import hashlib
import mailbox
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from foitrack.domain.bounces import Bounce, read_bounce
from foitrack.domain.clock import today_in_uk
from foitrack.domain.reply_addresses import (
    ReplyKey,
    ReplyKeys,
    reply_keys_from,
    request_id_from,
)
from foitrack.errors import Invalid, NotFound, Problem
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
from foitrack.services import audit, bounces, membership, proposals, reply_reading
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
UNREADABLE = "kept unread: "
# Messages one web upload may hold: about 9 s of work on a busy two-core machine (1,000 took
# 18 s), well inside a worker's 30 s. Larger mailboxes go through `foitrack mail import`.
WEB_UPLOAD_MAX_MESSAGES = 500


@dataclass
class ImportReport:
    filed: list[str] = field(default_factory=list)
    triage: list[str] = field(default_factory=list)
    duplicates: int = 0
    # Messages that could not be read at all: kept whole in the triage inbox, named here.
    unreadable: list[str] = field(default_factory=list)

    def add(self, other: ImportReport) -> None:
        self.filed += other.filed
        self.triage += other.triage
        self.duplicates += other.duplicates
        self.unreadable += other.unreadable

    @property
    def messages(self) -> int:
        """How many messages were read, wherever they went."""
        return len(self.filed) + len(self.triage) + self.duplicates + len(self.unreadable)

    def summary(self) -> str:
        text = (f"{len(self.filed)} filed against requests, {len(self.triage)} waiting in the "
                f"triage inbox, {self.duplicates} already imported")
        if self.unreadable:
            text += (f", {len(self.unreadable)} could not be read (kept as they came in the "
                     "triage inbox)")
        return text


@dataclass
class ReadMessage:
    """One message as read from a file: parsed, or why it could not be."""

    label: str  # the file's name, and the message's place in a mailbox file
    raw: bytes
    message: EmailMessage | None
    problem: str | None = None


def _parse(label: str, raw: bytes) -> ReadMessage:
    """Parse one message on its own: whatever is wrong with it is its problem, nobody else's."""
    try:
        message = email.message_from_bytes(raw, policy=policy.default)
    except RecursionError:
        # The parser recurses once per nested part: 2,000 multiparts in multiparts exhaust the
        # stack. No reply an authority sends is built like that.
        return ReadMessage(label, raw, None, "its parts are nested too deeply to read")
    except Exception as error:  # noqa: BLE001 - any fault in one message is that message's
        return ReadMessage(label, raw, None, f"it cannot be read ({type(error).__name__})")
    return ReadMessage(label, raw, message)


def read_messages(filename: str, data: bytes, max_messages: int | None = None) -> list[ReadMessage]:
    """The messages in an .eml or .mbox file, each parsed on its own, with its raw bytes.

    :raises Invalid: naming the file when it is empty, holds no message at all, or holds more
        than ``max_messages`` (counted before any is parsed).
    """
    if not data.strip():
        raise Invalid(f"{filename}: the file is empty")
    if filename.lower().endswith(".mbox") or data.startswith(b"From "):
        with tempfile.NamedTemporaryFile(suffix=".mbox") as handle:
            handle.write(data)
            handle.flush()
            box = mailbox.mbox(handle.name, factory=None, create=False)
            # Each message's bytes, split on the "From " lines without parsing: a message the
            # email package chokes on is then that message's problem, not the mailbox's.
            raws = [box.get_bytes(key) for key in box.iterkeys()]
        if not raws:
            raise Invalid(f"{filename}: no messages in this mailbox file")
        if max_messages is not None and len(raws) > max_messages:
            raise Invalid(
                f"{filename}: {len(raws):,} messages, more than the {max_messages:,} a web upload "
                "takes at once (a long import would be cut off part-way). Import it on the server "
                f"with `foitrack mail import {filename}`, which has no limit; nothing was imported")
        return [_parse(f"{filename}, message {number}", raw)
                for number, raw in enumerate(raws, start=1)]
    if max_messages is not None and max_messages < 1:
        raise Invalid(f"{filename}: a web upload takes at most {WEB_UPLOAD_MAX_MESSAGES:,} "
                      "messages at once; import more with `foitrack mail import`; nothing was "
                      "imported")
    found = _parse(filename, data)
    if found.message is not None and not found.message.keys():
        raise Invalid(f"{filename}: is not an email message (.eml)")
    return [found]


def _text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeDecodeError, AssertionError):
        content = _decoded_payload(part).decode("utf-8", "replace")
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


def _match(session: Session, message: InboundMessage, who: _Uploader,
           recipients: Sequence[str] = (),
           reply_key: ReplyKey | None = None) -> tuple[Request | None, str | None]:
    """The request a message answers, of those ``who`` may see: a request hidden from them is
    passed over exactly as if it did not exist. Tried in turn: the request's own reply address
    among ``recipients`` (checked with ``reply_key``), the reference token in the subject, the
    thread it answers, the authority's own reference, and (a guess) the sender's domain."""
    request = _by_address(session, recipients, reply_key, who)
    if request is not None:
        return request, "address"
    for how, by in (("token", _by_token), ("thread", _by_thread), ("reference", _by_reference)):
        request = by(session, message, who)
        if request is not None:
            chosen = _in_chain(request, who)
            return (chosen, how) if chosen is not None else (None, None)
    request = _by_sender(session, message, who)
    if request is not None:
        return request, "sender"
    return None, None


def _in_chain(request: Request, who: _Uploader) -> Request | None:
    """Where a reply matched to a first request by its token, thread or reference goes when the
    authority was also sent narrowed follow-ups (each a new request, FOIA s.1(1), with its own
    clock, s.10(1)): a letter quoting the first request's subject or reference may answer any
    of them. With the first answered and one follow-up awaiting its response, to that
    follow-up; with the first and a follow-up both awaiting one, to triage (None): a person
    decides. Otherwise (nothing awaiting: a later letter) to the request matched, as ever.
    The reply address names one request exactly and is never second-guessed here."""
    if request.is_follow_up or not request.follow_ups:
        return request
    waiting = [f for f in request.follow_ups if _awaits_answer(f) and who.may_file(f)]
    if not waiting:
        return request
    if _still_awaits(request) or len(waiting) > 1:
        return None
    return waiting[0]


def _still_awaits(request: Request) -> bool:
    """Sent, not withdrawn, and with no answer standing: none yet, or the latest withdrawn by
    the authority (services.withdrawals)."""
    events = sorted((e for e in request.events if e.removed_at is None),
                    key=lambda e: (e.occurred_on, e.id))
    kinds = {e.kind.value for e in events}
    answers = [e.kind.value for e in events
               if e.kind.value in ("response", "response_replaced", "response_withdrawn")]
    return ("sent" in kinds and "withdrawn" not in kinds
            and (not answers or answers[-1] == "response_withdrawn"))


def _by_address(session: Session, recipients: Sequence[str], reply_key: ReplyKey | None,
                who: _Uploader) -> Request | None:
    """The request whose own reply address the message was sent to; a made-up one (its check
    wrong) names none."""
    request_id = request_id_from(recipients, reply_key) if reply_key else None
    request = session.get(Request, request_id) if request_id is not None else None
    return request if request is not None and who.may_file(request) else None


def _by_reference(session: Session, message: InboundMessage, who: _Uploader) -> Request | None:
    """The one open request to the sender's own authority whose reference (e.g. "FOI
    2019/00123") the message quotes in its subject or text; none when it quotes several.

    Only the authority whose FOI address has the sender's domain is looked at: references are
    short and authorities number alike ("0153" is inside another force's "FOI 2024/0153"), so a
    reference alone would file one authority's reply on another's request."""
    domain = _domain(message.from_address)
    if not domain:
        return None
    authority_ids = [a.id for a in session.scalars(select(Authority).where(
        Authority.foi_email.is_not(None))) if _domain(a.foi_email or "") == domain]
    if not authority_ids:
        return None
    text = f"{message.subject}\n{message.body_text}"
    found = [r for r in session.scalars(select(Request).join(Campaign).where(
        Request.reference.is_not(None), Request.authority_id.in_(authority_ids),
        Campaign.status == CampaignStatus.active))
        if _quotes(text, r.reference or "") and who.may_file(r)]
    return found[0] if len(found) == 1 else None


def _quotes(text: str, reference: str) -> bool:
    """Whether ``text`` holds ``reference`` as a whole token, whatever its case and spacing: not
    inside a longer one ("0153" is not in "2024/0153"). One too short, or without a digit,
    would be found in any letter."""
    pieces = reference.split()
    if len("".join(pieces)) < 4 or not any(c.isdigit() for c in reference):
        return False
    # A reference's own joiners (/ - . _) between letters or digits continue a token.
    pattern = (r"(?<![A-Za-z0-9])(?<![A-Za-z0-9][/\-._])"
               + r"\s*".join(re.escape(p) for p in pieces)
               + r"(?![A-Za-z0-9])(?![/\-._][A-Za-z0-9])")
    return re.search(pattern, text, re.IGNORECASE) is not None


def _by_token(session: Session, message: InboundMessage, who: _Uploader) -> Request | None:
    token = TOKEN.search(message.subject.upper())
    if token:
        request = session.get(Request, int(token.group(2)))
        if request is not None and token_for(request) == token.group(1) and who.may_file(request):
            return request
    return None


def _by_thread(session: Session, message: InboundMessage, who: _Uploader) -> Request | None:
    ids = re.findall(r"<[^>]+>", f"{message.in_reply_to or ''} {message.references or ''}")
    if ids:
        for sent in session.scalars(select(OutgoingMessage).where(
                OutgoingMessage.message_id.in_(ids), OutgoingMessage.request_id.is_not(None))):
            if sent.request is not None and who.may_file(sent.request):
                return sent.request
    return None


def _by_sender(session: Session, message: InboundMessage, who: _Uploader) -> Request | None:
    """The one request still waiting for an answer from the one authority whose FOI address
    has the sender's domain, if there is exactly one of each."""
    # The sender's domain is a guess: never made for a message that may belong to a campaign
    # hidden from the uploader, which would file it where everyone could read it.
    domain = _domain(message.from_address)
    if not domain or who.screen.hides(message):
        return None
    authorities = [a for a in session.scalars(select(Authority).where(
        Authority.foi_email.is_not(None))) if _domain(a.foi_email or "") == domain]
    if len(authorities) != 1:
        return None
    open_requests = list(session.scalars(
        select(Request).join(Campaign).where(
            Request.authority_id == authorities[0].id,
            Campaign.status == CampaignStatus.active)))
    # Only requests still waiting for their answer: anything else from that domain
    # (a newsletter, another team) goes to triage.
    waiting = [r for r in open_requests if _awaits_answer(r) and who.may_file(r)]
    return waiting[0] if len(waiting) == 1 else None


def _awaits_answer(request: Request) -> bool:
    """Sent, and neither answered nor withdrawn (removed events aside)."""
    kinds = {e.kind.value for e in request.events if e.removed_at is None}
    return "sent" in kinds and not kinds & {"response", "withdrawn"}


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
        yield name or "attachment", content_type, _decoded_payload(part)


def _decoded_payload(part: Message) -> bytes:
    """A part's bytes, its transfer encoding undone."""
    payload = part.get_payload(decode=True)
    # Always bytes for a part that is not multipart, the only kind asked for here.
    return payload if isinstance(payload, bytes) else b""


@dataclass
class _Extracted:
    """What is kept of one message, all read before anything is written."""

    key: str
    from_address: str
    from_name: str | None
    subject: str
    sent_at: dt.datetime | None
    body_text: str
    in_reply_to: str | None
    references: str | None
    is_bounce: bool
    attachments: list[tuple[str, str, bytes]]
    # Every address it was sent to (To, Cc and what the mail servers wrote on the way in).
    recipients: list[str] = field(default_factory=list)
    bounce: Bounce | None = None  # what it says, when it is a bounce


def _header(message: EmailMessage, name: str) -> str:
    """A header as text; one the email package cannot make sense of, as it came."""
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a malformed header is kept raw, not fatal
        value = next((v for k, v in message.raw_items() if k.lower() == name.lower()), None)
    return _storable(str(value or ""))


def _sent_at(message: EmailMessage) -> dt.datetime | None:
    """The Date header in UTC; none when it is missing, unreadable or beyond what a date can
    hold (``Fri, 31 Dec 9999 23:59:59 -1400`` falls in the year 10000 in UTC)."""
    try:
        value = message["Date"]
        if not value:
            return None
        parsed = getattr(value, "datetime", None) or parsedate_to_datetime(str(value))
        if parsed is None:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.astimezone(dt.UTC)
    except (TypeError, ValueError, OverflowError, IndexError, LookupError, AttributeError):
        return None


# Where a message's recipients are: its own headers and those mail servers add on delivery.
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To",
                     "X-Delivered-To", "Original-Recipient")


def _recipients(message: EmailMessage) -> list[str]:
    found = []
    for name in RECIPIENT_HEADERS:
        for key, value in message.raw_items():
            if key.lower() == name.lower():
                found.append(re.sub(r"\s+", " ", _storable(str(value))).removeprefix("rfc822;"))
    return found


def _bounce(message: EmailMessage) -> Bounce | None:
    try:
        return read_bounce(message)
    except Exception:  # noqa: BLE001 - a bounce read wrongly is kept as a message, not lost
        return None


def _extract(message: EmailMessage, raw: bytes) -> _Extracted:
    """Everything kept of a message. May raise whatever the email package raises."""
    key = _header(message, "Message-ID").strip() or f"sha256:{hashlib.sha256(raw).hexdigest()}"
    name, address = parseaddr(_header(message, "From"))
    name, address = _storable(name), _storable(address)
    bounce = _bounce(message)
    return _Extracted(
        key=key[:300], from_address=(address or "unknown")[:254],
        from_name=(name or None) and name[:254], subject=_header(message, "Subject")[:1000],
        sent_at=_sent_at(message), body_text=_storable(_text_body(message)),
        in_reply_to=_header(message, "In-Reply-To")[:1000] or None,
        references=_header(message, "References") or None,
        is_bounce=_is_bounce(message) or bounce is not None,
        attachments=list(_attachments(message)), recipients=_recipients(message), bounce=bounce,
    )


def _unreadable(raw: bytes, problem: str) -> _Extracted:
    """A message kept as it came: the triage inbox shows its start and offers its file."""
    return _Extracted(
        key=f"sha256:{hashlib.sha256(raw).hexdigest()}", from_address="unknown", from_name=None,
        subject=f"(a message that could not be read: {problem})"[:1000], sent_at=None,
        body_text=_storable(raw[:4000].decode("utf-8", "replace")), in_reply_to=None,
        references=None, is_bounce=False, attachments=[],
    )


class _Uploader:
    """Who is importing: what they may file against, and what their triage screen hides."""

    def __init__(self, session: Session, user: Any, today: dt.date) -> None:
        self.session, self.user, self.today = session, user, today
        self.screen = membership.triage_screen(session, user, today)

    def may_file(self, request: Request) -> bool:
        return membership.can_see(self.session, self.user, request.campaign, self.today)


def import_message(session: Session, actor: audit.Actor, store: FileStore,
                   message: EmailMessage | None, raw: bytes, today: dt.date, *,
                   uploader: Any = membership.OPERATOR, problem: str | None = None,
                   who: _Uploader | None = None,
                   reply_key: ReplyKey | None = None) -> tuple[InboundMessage | None, str]:
    """File one message (``problem``: why it could not be read; it is kept as it came).
    Returns it (None if already imported) and where it went.

    Only requests ``uploader`` may see are matched: a reply to one hidden from them goes to the
    triage inbox, exactly as a reply to no request at all would. ``reply_key`` checks the
    requests' own reply addresses (reply_key_from); without it they are not looked at.
    """
    who = who or _Uploader(session, uploader, today)
    found = None
    if problem is None and message is not None:
        try:
            found = _extract(message, raw)
        except Exception as error:  # noqa: BLE001 - any fault in one message is that message's
            problem = f"it cannot be read ({type(error).__name__})"
    if found is None:
        problem = problem or "it cannot be read"
        found = _unreadable(raw, problem)
    if session.scalar(select(InboundMessage.id).where(InboundMessage.message_key == found.key)):
        return None, "duplicate"
    raw_file = StoredFile(sha256=store.put(raw), filename="message.eml",
                          content_type="message/rfc822", size=len(raw), created_by=actor.label)
    session.add(raw_file)
    inbound = InboundMessage(
        message_key=found.key, from_address=found.from_address, from_name=found.from_name,
        subject=found.subject, sent_at=found.sent_at, body_text=found.body_text,
        in_reply_to=found.in_reply_to, references=found.references, is_bounce=found.is_bounce,
        raw_file=raw_file, received_by=actor.label,
    )
    session.add(inbound)
    session.flush()
    for filename, content_type, payload in found.attachments:
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
    if problem is None and not found.is_bounce:
        _read_once(inbound, store)
    request, how, returned = None, None, None
    if problem is None:
        returned = _returned_message(session, found.bounce, who)
        request, how = (returned.request, "bounce") if returned is not None else _match(
            session, inbound, who, found.recipients, reply_key)
    where = f"{UNREADABLE}{problem}" if problem is not None else "triage"
    if request is not None:
        try:
            if returned is not None and found.bounce is not None:
                _file_bounce(session, actor, inbound, returned, found.bounce, today)
            else:
                file_against(session, actor, inbound, request, how or "manual", today)
        except Invalid as error:
            # E.g. a reply to a withdrawn request: kept for a person to look at, not lost.
            inbound.request = None
            inbound.matched_by = None
            where = f"triage ({error})"
        else:
            where = f"filed against {request.authority.name} ({how})"
            proposals.on_filed(session, store, inbound)  # issue 19: figures read from attachments
    audit.record(session, actor, "inbound_message", inbound.id, "import", None,
                 {"from": inbound.from_address, "subject": inbound.subject, "where": where})
    return inbound, where


def _read_once(inbound: InboundMessage, store: FileStore) -> None:
    """Read the reply and keep its reading (services.reply_reading), here at filing and not on
    every showing of the pages that propose it: a PDF letter takes about 0.3 s a page. (A fetch
    files replies inside its background job already; an upload reads at most MAX_PDF_PAGES a
    letter.) A fault in the reading leaves the reply unread, to be read when first shown."""
    try:
        reply_reading.keep_reading(inbound, store)
    except Exception:  # noqa: BLE001 - a reply is filed whatever its reading does
        inbound.reading = None


def _returned_message(session: Session, bounce: Bounce | None,
                      who: _Uploader) -> OutgoingMessage | None:
    """The message to a request (one ``who`` may see) that ``bounce`` returns."""
    if bounce is None:
        return None
    returned = bounces.bounced_message(session, bounce)
    if returned is None or returned.request is None or not who.may_file(returned.request):
        return None
    return returned


def _file_bounce(session: Session, actor: audit.Actor, inbound: InboundMessage,
                 returned: OutgoingMessage, bounce: Bounce, today: dt.date) -> None:
    """File a bounce against the request of the message it returns: "delivery failed".
    :raises Invalid: when the timeline refuses it."""
    assert returned.request is not None
    inbound.request = returned.request
    inbound.matched_by = "bounce"
    # The day in the UK, as the sending was recorded: a request returned at 00:10 BST is
    # returned on the day it went, not (in UTC) the day before.
    day = min(today_in_uk(inbound.sent_at) if inbound.sent_at else today, today)
    inbound.event = bounces.record(session, actor, returned, bounce, day, today)
    session.flush()


def reply_key_from(config: Any) -> ReplyKeys | None:
    """The keys the requests' own reply addresses are checked with, as services.mail signs
    them: FOITRACK_REPLY_ADDRESS_KEY, or one derived from the app's secret key, and those that
    signed addresses before (domain.reply_addresses.reply_keys)."""
    return reply_keys_from(config)


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
           today: dt.date, store: FileStore | None = None) -> InboundMessage:
    """A researcher files a triage message against a request; with ``store``, a reply imported
    before replies were read at import is read now, and figures are proposed from its
    attachments. :raises NotFound:"""
    inbound = session.get(InboundMessage, inbound_id)
    if inbound is None or inbound.request_id is not None:
        raise NotFound("no such message waiting in the triage inbox")
    file_against(session, actor, inbound, request, "manual", today)
    if store is not None and not inbound.is_bounce and inbound.reading is None:
        _read_once(inbound, store)
    if store is not None:
        proposals.on_filed(session, store, inbound)  # issue 19: its files, as at import
    audit.record(session, actor, "inbound_message", inbound.id, "assign", None,
                 {"request_id": request.id})
    return inbound


def import_file(session: Session, actor: audit.Actor, store: FileStore, filename: str,
                data: bytes, today: dt.date, *, uploader: Any = membership.OPERATOR,
                refuse_unreadable: bool = False, max_messages: int | None = None,
                reply_key: ReplyKey | None = None) -> ImportReport:
    """Import every message in an .eml or .mbox file, each on its own.

    ``uploader`` is who asked (the command line's operator, who sees everything, by default):
    replies to requests they cannot see go to the triage inbox, and the report reads as it
    would if those requests did not exist. A message that cannot be read at all is kept as it
    came, in the triage inbox, and named in the report; with ``refuse_unreadable`` (a web
    upload, whose sender can fix the file) it is refused instead and nothing is imported. A
    file of more than ``max_messages`` messages is refused before any is read. ``reply_key``
    (reply_key_from) checks the requests' own reply addresses.

    :raises Invalid: naming the file when it holds no message, or an unreadable one is refused.
    """
    report = ImportReport()
    found = read_messages(filename, data, max_messages)
    if refuse_unreadable:
        bad = [f"{m.label}: {m.problem}" for m in found if m.problem is not None]
        if bad:
            raise Invalid([Problem(f"{line}; nothing was imported") for line in bad])
    who = _Uploader(session, uploader, today)
    for read in found:
        inbound, where = import_message(session, actor, store, read.message, read.raw, today,
                                        problem=read.problem, who=who, reply_key=reply_key)
        if inbound is None:
            report.duplicates += 1
        elif where.startswith(UNREADABLE):
            report.unreadable.append(f"{read.label}: {where.removeprefix(UNREADABLE)}")
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
        .options(selectinload(InboundMessage.attachments).selectinload(Attachment.stored_file),
                 selectinload(InboundMessage.raw_file), selectinload(InboundMessage.reading))
    ))


def triage(session: Session) -> list[InboundMessage]:
    """Every message waiting in the triage inbox, newest first, before any is hidden (see
    membership.visible_triage)."""
    return list(session.scalars(
        select(InboundMessage).where(InboundMessage.request_id.is_(None))
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
        .options(selectinload(InboundMessage.attachments).selectinload(Attachment.stored_file),
                 selectinload(InboundMessage.raw_file), selectinload(InboundMessage.reading))))


@dataclass(frozen=True)
class ImapSettings:
    """The mailbox replies are fetched from (FOITRACK_IMAP_*); services/mail_fetch reads it."""

    host: str
    username: str
    password: str = field(repr=False)  # never in a log line or a job's failure report
    port: int = 993
    folder: str = "INBOX"
    ssl: bool = True
    # Seconds to wait on the server before giving up: a scheduled fetch must never hang.
    timeout: float = 60.0
    # Checks the requests' own reply addresses in what is fetched (reply_key_from).
    reply_key: ReplyKey | None = field(default=None, repr=False)


def imap_settings_from(config: Any) -> ImapSettings | None:
    """The mailbox from the app's configuration; None when FOITRACK_IMAP_HOST is not set."""
    if not config.get("IMAP_HOST"):
        return None
    return ImapSettings(
        host=config["IMAP_HOST"], username=config.get("IMAP_USERNAME") or "",
        password=config.get("IMAP_PASSWORD") or "", port=config.get("IMAP_PORT") or 993,
        folder=config.get("IMAP_FOLDER") or "INBOX", ssl=config.get("IMAP_SSL", True),
        reply_key=reply_key_from(config))
