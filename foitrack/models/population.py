"""How many people live in an authority's area, by year and base, for rates per 100,000."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foitrack.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from foitrack.models.authority import Authority

# The base every measure is rated on unless its campaign file names another.
DEFAULT_BASE = "population"


class Population(Base):
    """One mid-year estimate (30 June of ``year``) of one base for one authority's area.

    ``base`` is what is counted: "population" (all usual residents, the ONS mid-year
    estimate) or another imported base such as "children-0-17".
    """

    __tablename__ = "population"
    __table_args__ = (UniqueConstraint("authority_id", "base", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id", ondelete="CASCADE"),
                                              index=True)
    base: Mapped[str] = mapped_column(String(50), default=DEFAULT_BASE)
    year: Mapped[int]
    population: Mapped[int] = mapped_column(BigInteger)
    # Where the number comes from, as the file gave it ("ONS mye23tablesew.xlsx MYE4 ...").
    source: Mapped[str | None] = mapped_column(Text)
    # "registry" for the shipped ONS estimates (reloaded with the forces), "import" otherwise.
    origin: Mapped[str] = mapped_column(String(20), default="import")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    authority: Mapped[Authority] = relationship()

    def __repr__(self) -> str:
        return f"<Population {self.authority_id} {self.base} {self.year}: {self.population}>"
