"""Correspondence: messages sent for requests, messages received, and their attachments."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foitrack.db import Base, UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from foitrack.models.reply_reading import ReplyReading
    from foitrack.models.request import Event, Request
    from foitrack.models.stored_file import StoredFile


class MessageKind(enum.StrEnum):
    request = "request"
    chaser = "chaser"
    internal_review = "internal_review"
    clarification = "clarification"
    digest = "digest"
    right_of_reply = "right_of_reply"  # a force shown its figures before publication


class DeliveryStatus(enum.StrEnum):
    queued = "queued"  # to be sent
    sending = "sending"  # handed to the mail server; if still here after a crash, check by hand
    sent = "sent"  # accepted by the mail server
    outbox = "outbox"  # no mail server configured: written to the outbox folder, not sent
    failed = "failed"  # refused; will be tried again
    cancelled = "cancelled"  # a person stopped the send before it went: never sent


class OutgoingMessage(Base):
    __tablename__ = "outgoing_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("request.id"), index=True)
    kind: Mapped[MessageKind] = mapped_column(str_enum(MessageKind, "message_kind", 20))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(400))
    body: Mapped[str] = mapped_column(Text)
    # The Message-ID header, so replies can be matched by In-Reply-To and References.
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    attach_template: Mapped[bool] = mapped_column(default=False)
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus, "delivery_status", 20),
                                                   default=DeliveryStatus.queued, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The .eml written to the outbox when no mail server is configured.
    outbox_file: Mapped[str | None] = mapped_column(String(300))
    # The background job sending it, if any (foitrack.models.job).
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"), index=True)
    # Set (and committed) just before the message is handed to the mail server. A message left
    # "sending" without it was never handed over, so a worker that died there may send it
    # again; with it, it may have gone, and a person checks.
    handed_over_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[Request | None] = relationship()

    def __repr__(self) -> str:
        return f"<OutgoingMessage {self.kind.value} {self.status.value} to {self.to_address}>"


class InboundMessage(Base):
    """A message received: filed against its request, or waiting in the triage inbox."""

    __tablename__ = "inbound_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The Message-ID, or a hash of the message when it has none: the same message is kept once.
    message_key: Mapped[str] = mapped_column(String(300), unique=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("request.id"), index=True)
    matched_by: Mapped[str | None] = mapped_column(String(40))
    from_address: Mapped[str] = mapped_column(String(254))
    from_name: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(1000))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    body_text: Mapped[str] = mapped_column(Text)
    in_reply_to: Mapped[str | None] = mapped_column(String(1000))
    references: Mapped[str | None] = mapped_column(Text)
    is_bounce: Mapped[bool] = mapped_column(default=False)
    raw_file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_by: Mapped[str] = mapped_column(String(254))

    request: Mapped[Request | None] = relationship()
    raw_file: Mapped[StoredFile] = relationship()
    event: Mapped[Event | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(back_populates="message",
                                                         order_by="Attachment.id")
    # Read once, when imported (services.reply_reading.keep_reading).
    reading: Mapped[ReplyReading | None] = relationship(back_populates="message",
                                                        cascade="all, delete-orphan")


class Attachment(Base):
    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("inbound_message.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    # None when the attachment was refused (too large, or a type not allowed): see refused.
    stored_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    refused: Mapped[str | None] = mapped_column(String(300))
    # Archives are kept but flagged: open them with care.
    flagged: Mapped[bool] = mapped_column(default=False)

    message: Mapped[InboundMessage] = relationship(back_populates="attachments")
    stored_file: Mapped[StoredFile | None] = relationship()


class MailTemplate(Base):
    """A campaign's own wording for one kind of message; the defaults apply otherwise."""

    __tablename__ = "mail_template"
    __table_args__ = (UniqueConstraint("campaign_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    kind: Mapped[MessageKind] = mapped_column(str_enum(MessageKind, "message_kind", 20))
    subject: Mapped[str] = mapped_column(String(400))
    body: Mapped[str] = mapped_column(Text)
    # Raised by one on every save: a form carries the version it was loaded at, so a save over
    # someone else's newer wording is refused, not silently written over (0: the defaults).
    version: Mapped[int] = mapped_column(default=1)
