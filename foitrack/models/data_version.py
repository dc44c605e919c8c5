"""One number that goes up with every committed change that the audit trail records."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from foitrack.db import Base


class DataVersion(Base):
    """A single row: pages cache what they derive under its number (foitrack.services.data_version)."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(default=0)
    # Random at every bump: a database restored from a backup and then written to may reach a
    # number seen before, but not with the same stamp.
    stamp: Mapped[str] = mapped_column(String(32), default="")

    def __repr__(self) -> str:
        return f"<DataVersion {self.number}>"
