"""Bounces: what a returned message says about the message it returns, read with the stdlib.

A delivery status notification (RFC 3464: ``multipart/report; report-type=delivery-status``) is
read by its fields. Mail servers that send something else write the same facts as prose, and
three kinds are common enough to read: Exim's "This message was created automatically by mail
delivery software", Postfix's "Undelivered Mail Returned to Sender" when it is not a DSN, and
Microsoft Exchange's "Delivery has failed to these recipients or groups". From any of them we
want who could not be reached, the status (5.x.x: for good; 4.x.x: delayed) with the server's
words, and the Message-ID (else the recipient and subject) of the message that went.

flufl.bounce reads more formats, but it answers only with addresses: it finds neither the
returned Message-ID nor the status, the two things a bounce is matched and explained by.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from email.utils import parseaddr

# The headers of the returned message, quoted in the bounce's prose after one of these.
_QUOTED_HEADERS = re.compile(
    r"^.*(?:This is a copy of the message|Original message headers:|Below this line is a copy "
    r"of the message|----- ?Original message ?-----|The original message headers|"
    r"Undelivered Message Headers).*$", re.IGNORECASE | re.MULTILINE)
_STATUS = re.compile(r"(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.])")
_SMTP_CODE = re.compile(r"(?<![\d.])([45]\d\d)(?:[ -]|$)", re.MULTILINE)
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_MESSAGE_ID = re.compile(r"^\s*Message-ID:\s*(<[^>\s]+>)", re.IGNORECASE | re.MULTILINE)
_SUBJECT = re.compile(r"^\s*Subject:\s*(.+(?:\n[ \t]+.+)*)", re.IGNORECASE | re.MULTILINE)
_TO = re.compile(r"^\s*To:\s*(.+)", re.IGNORECASE | re.MULTILINE)

# What each prose format is known by, and the words of a bounce in general.
_FORMATS = (
    ("exim", re.compile(r"created automatically by mail delivery software", re.I)),
    ("exchange", re.compile(r"Delivery has failed to these recipients or groups|"
                            r"Remote Server returned '", re.I)),
    ("postfix", re.compile(r"This is the mail system at host|Undelivered Mail Returned to "
                           r"Sender|could not be delivered to one or more recipients", re.I)),
)
_BOUNCE_SUBJECT = re.compile(
    r"Undeliver|Undelivered Mail|Mail delivery failed|Delivery Status Notification|"
    r"Returned mail|failure notice|Delivery failure|Non[- ]?delivery", re.I)
_BOUNCE_SENDER = re.compile(r"^(mailer-daemon|postmaster|microsoftexchange[^@]*|"
                            r"mail-?delivery[^@]*)@", re.I)
_DELAYED = re.compile(r"has not yet been delivered|Delivery delayed|will (?:keep|continue) "
                      r"trying|temporary (?:failure|error)|\(Delay\)", re.I)
_PERMANENT = re.compile(r"This is a permanent error|permanent fatal error", re.I)


@dataclass(frozen=True)
class FailedRecipient:
    """One address a bounce says could not be reached, and why."""

    address: str
    status: str  # the enhanced status code, e.g. "5.1.1"; "" when the bounce gives none
    diagnostic: str  # the receiving server's own words, e.g. "550 5.1.1 User unknown"

    @property
    def permanent(self) -> bool:
        return not self.status.startswith("4")


@dataclass(frozen=True)
class Bounce:
    """What a bounce says: who failed, and which message it returns."""

    form: str  # "dsn", "exim", "postfix", "exchange" or "other"
    recipients: tuple[FailedRecipient, ...]
    original_message_id: str | None
    original_subject: str | None
    original_to: str | None

    @property
    def permanent(self) -> bool:
        """Delivery failed for good (not merely delayed) for at least one recipient. A report
        that names no failed recipient (a "relayed" or "delivered" notice) failed nothing."""
        return any(r.permanent for r in self.recipients)

    @property
    def reason(self) -> str:
        """The status and the server's words, for a person: "5.1.1: 550 5.1.1 User unknown"."""
        first = next((r for r in self.recipients if r.permanent), None) or \
            (self.recipients[0] if self.recipients else None)
        if first is None:
            return "returned undelivered (no reason given)"
        words = first.diagnostic or "no reason given"
        return f"{first.status}: {words}" if first.status and first.status not in words \
            else words

    def failed(self, address: str) -> FailedRecipient | None:
        """The failure of ``address``, if the bounce names it."""
        wanted = address.strip().lower()
        return next((r for r in self.recipients if r.address.lower() == wanted), None)


def read_bounce(message: EmailMessage) -> Bounce | None:
    """The bounce ``message`` is, or None when it is not one (a reply, an auto-reply)."""
    report = _delivery_status(message)
    if report is not None:
        return _from_report(message, report)
    text = _text(message)
    form = next((name for name, marker in _FORMATS if marker.search(text)), None)
    subject = str(message.get("Subject", ""))
    sender = parseaddr(str(message.get("From", "")))[1]
    if form is None and not (_BOUNCE_SUBJECT.search(subject) and _BOUNCE_SENDER.match(sender)):
        return None
    return _from_prose(message, form or "other", text)


# ---- RFC 3464 -----------------------------------------------------------------------------------

def _delivery_status(message: Message) -> Message | None:
    for part in message.walk():
        if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
            return part
    return None


def _from_report(message: EmailMessage, report: Message) -> Bounce:
    blocks = [b for b in report.get_payload() if isinstance(b, Message)] \
        if isinstance(report.get_payload(), list) else []
    recipients = []
    for block in blocks[1:] or blocks:  # the first block is about the message, not a recipient
        action = str(block.get("Action", "")).strip().lower()
        if action not in ("failed", "delayed"):
            continue  # delivered, relayed, expanded: not a failure
        address = _typed_value(block.get("Final-Recipient") or block.get("Original-Recipient"))
        status = str(block.get("Status", "")).strip().split()[0] if block.get("Status") else ""
        if action == "delayed" and not status.startswith("4"):
            status = "4.0.0"
        diagnostic = _typed_value(block.get("Diagnostic-Code"))
        recipients.append(FailedRecipient(address, status, _squeezed(diagnostic)))
    headers = _returned_headers(message)
    return Bounce("dsn", tuple(recipients), *_original(headers, _text(message)))


def _typed_value(value: object) -> str:
    """'rfc822; foi@kent.police.uk' -> 'foi@kent.police.uk' (RFC 3464's "type; value")."""
    text = _squeezed(str(value or ""))
    return text.split(";", 1)[1].strip() if ";" in text else text


# ---- prose --------------------------------------------------------------------------------------

def _from_prose(message: EmailMessage, form: str, text: str) -> Bounce:
    headers = _returned_headers(message)
    notice = _QUOTED_HEADERS.split(text, 1)[0]  # the server's words, before the copy
    original = _original(headers, text)
    named = [a.strip() for a in str(message.get("X-Failed-Recipients", "")).split(",") if a.strip()]
    addresses = named or _addresses_in(notice, exclude=_sender_addresses(message))
    if not addresses and original[2]:
        addresses = [parseaddr(original[2])[1]]
    delayed = bool(_DELAYED.search(notice)) and not _PERMANENT.search(notice)
    recipients = []
    for address in dict.fromkeys(a.lower() for a in addresses if a):
        line = _diagnostic_for(notice, address)
        status = _first(_STATUS, line) or _first(_STATUS, notice)
        if not status:
            code = _first(_SMTP_CODE, line) or _first(_SMTP_CODE, notice)
            status = f"{code[0]}.0.0" if code else ""
        if delayed and not status.startswith("4"):
            status = "4.0.0"
        recipients.append(FailedRecipient(address, status or "5.0.0", line))
    return Bounce(form, tuple(recipients), *original)


def _addresses_in(text: str, exclude: set[str]) -> list[str]:
    found = [a for a in _ADDRESS.findall(text) if a.lower() not in exclude]
    return [a for a in found if not _BOUNCE_SENDER.match(a)]


def _sender_addresses(message: EmailMessage) -> set[str]:
    return {parseaddr(str(message.get(name, "")))[1].lower() for name in ("From", "To")}


def _diagnostic_for(notice: str, address: str) -> str:
    """The server's words about ``address``: the paragraph that names it with a status, or the
    first paragraph anywhere that holds a status or an SMTP code."""
    paragraphs = [p for p in re.split(r"\n\s*\n", notice) if p.strip()]
    with_code = [p for p in paragraphs if _STATUS.search(p) or _SMTP_CODE.search(p)]
    about = [p for p in with_code if address in p.lower()] or with_code
    if not about:
        return ""
    paragraph = about[0]
    # Exchange: "Remote Server returned '550 5.1.1 ...'" is the server's own reply.
    quoted = re.search(r"Remote Server returned '([^']+)'", paragraph)
    if quoted:
        return _squeezed(quoted.group(1))
    lines = paragraph.splitlines()
    start = next((i for i, line in enumerate(lines)
                  if _STATUS.search(line) or _SMTP_CODE.search(line)), 0)
    return _squeezed(" ".join(lines[start:]))[:500]


# ---- the returned message -----------------------------------------------------------------------

def _returned_headers(message: EmailMessage) -> Message | None:
    """The returned message's headers, from a message/rfc822 or text/rfc822-headers part."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        elif kind == "text/rfc822-headers":
            return HeaderParser().parsestr(_part_text(part))
    return None


def _original(headers: Message | None, text: str) -> tuple[str | None, str | None, str | None]:
    """(Message-ID, Subject, To) of the returned message: from its attached headers, else from
    the copy quoted in the prose."""
    if headers is not None and headers.get("Message-ID"):
        return (_squeezed(str(headers["Message-ID"])) or None,
                _squeezed(str(headers.get("Subject", ""))) or None,
                _squeezed(str(headers.get("To", ""))) or None)
    quoted = _QUOTED_HEADERS.split(text, 1)
    copy = quoted[1] if len(quoted) > 1 else text
    subject = _first(_SUBJECT, copy) if len(quoted) > 1 else ""
    to = _first(_TO, copy) if len(quoted) > 1 else ""
    return (_first(_MESSAGE_ID, copy) or None, _squeezed(subject) or None,
            _squeezed(to) or None)


def _text(message: Message) -> str:
    """The bounce's text parts (not those of a returned message), one after the other."""
    return "\n\n".join(_part_text(part) for part in _own_parts(message)
                       if part.get_content_type() in ("text/plain", "text/rfc822-headers"))


def _own_parts(message: Message) -> Iterable[Message]:
    if message.get_content_type() in ("message/rfc822", "message/delivery-status"):
        return
    if message.is_multipart():
        for part in message.get_payload():
            if isinstance(part, Message):
                yield from _own_parts(part)
    else:
        yield message


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(part.get_payload() or "")
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def _first(pattern: re.Pattern[str], text: str) -> str:
    found = pattern.search(text)
    return found.group(1) if found else ""


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
