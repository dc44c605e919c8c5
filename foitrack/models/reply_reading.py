"""A reply's reading, kept once it is read: the text of its body and attachments, and what the
reading proposes (domain.reply_reading), so no page reads a letter again."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foitrack.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from foitrack.models.mail import InboundMessage


class ReplyReading(Base):
    """One inbound message's reading. Kept, though it could be derived, because deriving it means
    extracting text from PDFs (about 0.3 s a page): ``reader_version`` says which rules read it,
    and one read by older rules is read again from ``text`` without the attachments."""

    __tablename__ = "reply_reading"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("inbound_message.id", ondelete="CASCADE"), primary_key=True)
    reader_version: Mapped[int]
    # The body and the readable attachments' text, as read (services.reply_reading.reply_text).
    text: Mapped[str] = mapped_column(Text)
    reading: Mapped[dict[str, Any]] = mapped_column(JSON)  # domain.reply_reading.reading_as_json
    read_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    message: Mapped[InboundMessage] = relationship(back_populates="reading")

    def __repr__(self) -> str:
        return f"<ReplyReading {self.message_id} v{self.reader_version}>"
