"""Invitations: one-time links by which a new user chooses their own password."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foitrack.db import Base, UTCDateTime, utcnow
from foitrack.models.user import User


class Invitation(Base):
    """One link sent to one user. Only the SHA-256 of its token is kept (the token is 256
    random bits, so a slow hash would add nothing): a copy of the database opens no account.
    It works once (``used_at``), until ``expires_at``, and not after a newer one was sent or
    the password was set some other way (``superseded_at``)."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who sent it, as the audit trail names them; the email says it too.
    created_by: Mapped[str] = mapped_column(String(254))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Invitation {self.id} for user {self.user_id}>"
