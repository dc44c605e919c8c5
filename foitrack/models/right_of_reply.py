"""Right of reply: what a force was shown before publication, and by when it was asked to answer.

One row per message: the force's figures as they were held when it was written (so a later
correction shows as a change), the draft local lines quoted, and the answer-by day. The text
itself is the outgoing message's own, kept with it; when it went is the message's ``sent_at``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foitrack.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from foitrack.models.mail import OutgoingMessage
    from foitrack.models.request import Request


class RightOfReply(Base):
    __tablename__ = "right_of_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id", ondelete="CASCADE"),
                                            index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outgoing_message.id"), unique=True)
    answer_by: Mapped[dt.date] = mapped_column(Date)
    # [{"measure", "period", "dimension", "category", "value"}, ...] as shown, in the order
    # shown: compared with the figures held now to say whether any changed since.
    figures: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # The draft local lines quoted, as text.
    lines: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254))

    request: Mapped[Request] = relationship()
    message: Mapped[OutgoingMessage] = relationship()

    def __repr__(self) -> str:
        return f"<RightOfReply request={self.request_id} answer_by={self.answer_by}>"
