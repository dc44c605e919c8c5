"""A file kept as the source of figures, a reply, or a reply's attachment."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from foitrack.db import Base, UTCDateTime, utcnow


def new_public_id() -> str:
    """A random name for a kept file in links (22 URL-safe characters, 128 bits)."""
    return secrets.token_urlsafe(16)


class StoredFile(Base):
    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What links and URLs name the file by: random, so that knowing one file's address says
    # nothing about another's (the sequential id was guessed to reach files of hidden campaigns).
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # As uploaded, cleaned of any path: shown and offered on download, never used as a path.
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254))

    def __repr__(self) -> str:
        return f"<StoredFile {self.filename} {self.sha256[:12]}>"
