"""Failed sign-ins, counted per account and per client address to slow password guessing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from foitrack.db import Base, UTCDateTime, utcnow


class SignInFailure(Base):
    """One wrong email or password. Kept in the database, not in a worker's memory, so that
    every gunicorn worker counts the same attempts; rows older than the window are pruned."""

    __tablename__ = "sign_in_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The address as typed (lower-cased), whether or not an account has it: counting unknown
    # addresses the same way keeps the limit from revealing which accounts exist.
    email: Mapped[str] = mapped_column(String(254), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    failed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<SignInFailure {self.email} from {self.client} at {self.failed_at:%H:%M:%S}>"
