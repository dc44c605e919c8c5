"""Reading replies: what each proposes for its request's timeline, and which replies of a
campaign cite a section in near-identical words (a shared template often means a coordinated
answer). A reply is read once, when it is imported (keep_reading), and its reading kept with
it, so no page extracts a letter's text; nothing here records an event: a person accepts a
proposal through the event form."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from foitrack.domain.document_text import READABLE, attachment_text
from foitrack.domain.reply_reading import (
    NCND,
    READER_VERSION,
    SIGNAL_NAMES,
    SharedParagraph,
    group_shared,
    read_reply,
    reading_as_json,
    reading_from_json,
)
from foitrack.domain.reply_reading import Reading as Reading
from foitrack.domain.timeline import EVENT_FIELDS, is_classified
from foitrack.models import (
    Attachment,
    Authority,
    Campaign,
    InboundMessage,
    ReplyReading,
    Request,
)
from foitrack.storage import FileStore


@dataclass(frozen=True)
class Proposal:
    """A filed reply's reading, worded for the page, with the event form's fields to pre-fill."""

    message_id: int
    subject: str
    reading: Reading
    # The add-event form's fields (kind, outcome, exemptions, note): only those the kind takes.
    form: dict[str, str]

    @property
    def summary(self) -> str:
        """'Response received, refused, s.12': the kind, the outcome and what is cited."""
        kind = self.reading.kind
        parts = [kind.label] if kind is not None else []
        if self.reading.outcome is not None:
            parts.append(self.reading.outcome.label.lower())
        parts += list(self.reading.exemptions)
        signals = [SIGNAL_NAMES[label] for label in sorted(self.reading.labels)
                   if label in SIGNAL_NAMES and label != NCND]
        return ", ".join(parts + [s for s in signals if s not in parts])


def reply_text(message: InboundMessage, store: FileStore | None,
               readable: Sequence[str] = READABLE) -> str:
    """The message's body and the text of the attachments that can be read (PDF, Word,
    OpenDocument, CSV; ``readable``: the kinds to read), each after a blank line."""
    texts = [message.body_text or ""]
    if store is not None:
        for attachment in message.attachments:
            kept = attachment.stored_file
            if kept is None or PurePath(attachment.filename).suffix.lower() not in readable:
                continue
            texts.append(_attachment_text(store, kept.sha256, attachment.filename))
    return "\n\n".join(text for text in texts if text.strip())


# A file's text by its SHA-256 and kind: a stored file never changes, so what was read once is
# right for good. Reading a PDF takes about 0.3 s a page and the request page shows every
# reply's proposal on each visit, so without this each visit would read them all again.
_READ: OrderedDict[tuple[str, str], str] = OrderedDict()
_READ_MOST = 512
_READ_LOCK = threading.Lock()


def _attachment_text(store: FileStore, sha256: str, filename: str) -> str:
    key = (sha256, PurePath(filename).suffix.lower())
    with _READ_LOCK:
        if key in _READ:
            _READ.move_to_end(key)
            return _READ[key]
    try:
        data = store.read(sha256)
    except (OSError, ValueError):
        return ""  # a file missing from the store: the body is still read (and not kept)
    text = attachment_text(filename, data)
    with _READ_LOCK:
        _READ[key] = text
        while len(_READ) > _READ_MOST:
            _READ.popitem(last=False)
    return text


def keep_reading(message: InboundMessage, store: FileStore | None) -> Reading:
    """The reply's reading: the one kept with it, or (none kept yet, or kept by older rules) read
    now and kept, for the caller's transaction to save. A reply imported before readings were
    kept is read on its first showing (the page's commit keeps it); one read by older rules is
    read again from its kept text, its attachments not opened again. Without ``store`` the
    attachments cannot be read, so a reading of the body alone is given and not kept."""
    kept = message.reading
    if kept is not None and kept.reader_version == READER_VERSION:
        try:
            return reading_from_json(kept.reading)
        except (ValueError, KeyError, TypeError):
            pass  # kept in a shape no longer understood: read again below
    if kept is None and store is None:
        return read_reply(reply_text(message, None))
    text = kept.text if kept is not None else reply_text(message, store)
    reading = read_reply(text)
    if kept is None:
        message.reading = ReplyReading(reader_version=READER_VERSION, text=text,
                                       reading=reading_as_json(reading))
    else:
        kept.reader_version, kept.reading = READER_VERSION, reading_as_json(reading)
    return reading


def classified(message: InboundMessage) -> bool:
    """Whether a filed reply has been classified: an event saying what it was (a response, a
    refusal, an acknowledgement...) was recorded after the "reply received" it was filed as
    (domain.timeline.is_classified), so its proposal has been taken up or overruled."""
    if message.request is None or message.event_id is None:
        return False
    return is_classified(message.request.timeline(), message.event_id)


def propose(message: InboundMessage, store: FileStore | None,
            filed_on: Mapping[int, dt.date] | None = None) -> Proposal | None:
    """What a reply proposes; None for a delivery failure, a reply already classified, or one
    that says nothing the timeline records. ``filed_on``: the date of each event by id, so the
    proposal is dated as the reply's "reply received" event is."""
    if message.is_bounce or classified(message):
        return None
    reading = keep_reading(message, store)
    if reading.kind is None:
        return None
    takes = EVENT_FIELDS[reading.kind]
    form = {"kind": reading.kind.value}
    if "outcome" in takes and reading.outcome is not None:
        form["outcome"] = reading.outcome.value
    if "exemptions" in takes and reading.exemptions:
        form["exemptions"] = ", ".join(reading.exemptions)
    if reading.because:
        form["note"] = f"From the reply \u201c{message.subject}\u201d: {reading.because}"[:1000]
    on = (filed_on or {}).get(message.event_id or 0)
    if on is not None:
        form["occurred_on"] = on.isoformat()
    return Proposal(message.id, message.subject, reading, form)


def proposals_for(messages: Sequence[InboundMessage], store: FileStore | None,
                  filed_on: Mapping[int, dt.date] | None = None) -> dict[int, Proposal]:
    """Each reply's proposal, by message id (replies with nothing to propose, or classified
    already, left out)."""
    found = {}
    for message in messages:
        proposal = propose(message, store, filed_on)
        if proposal is not None:
            found[message.id] = proposal
    return found


# What a whole campaign's comparison reads: not PDFs, at about 0.3 s a page, since the checks
# page builds it inside a web request (45 forces' letters would keep it waiting for minutes).
QUICK_TO_READ = tuple(kind for kind in READABLE if kind != ".pdf")


def shared_paragraphs(session: Session, campaign: Campaign, store: FileStore | None = None,
                      threshold: float = 0.6) -> list[SharedParagraph]:
    """The sections a campaign's replies cite in near-identical paragraphs, each with the
    authorities that sent them ("7 authorities sent the same s.12 paragraph"), largest first."""
    messages = session.scalars(
        select(InboundMessage).join(Request, InboundMessage.request_id == Request.id)
        .join(Authority, Request.authority_id == Authority.id)
        .where(Request.campaign_id == campaign.id, InboundMessage.is_bounce.is_(False))
        .order_by(Authority.name, InboundMessage.id)
        .options(selectinload(InboundMessage.request).selectinload(Request.authority),
                 selectinload(InboundMessage.attachments).selectinload(Attachment.stored_file)))
    cited = []
    for message in messages:
        assert message.request is not None  # joined on it
        name = message.request.authority.name
        for finding in read_reply(reply_text(message, store, QUICK_TO_READ)).findings:
            cited.append((name, finding.label, finding.paragraph))
    return group_shared(cited, threshold)
