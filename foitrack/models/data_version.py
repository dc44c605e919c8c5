"""Numbers that go up with every committed change the audit trail records, one per scope."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from foitrack.db import Base


class DataVersion(Base):
    """One row per scope ("campaign:12", "registry", "accounts", "all"...): pages cache what
    they derive under the numbers of the scopes they read (foitrack.services.data_version).
    A scope nobody has written to yet has no row, and reads as 0."""

    __tablename__ = "data_version"

    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    number: Mapped[int] = mapped_column(default=0)
    # Random at every bump: a database restored from a backup and then written to may reach a
    # number seen before, but not with the same stamp.
    stamp: Mapped[str] = mapped_column(String(32), default="")

    def __repr__(self) -> str:
        return f"<DataVersion {self.scope} {self.number}>"
