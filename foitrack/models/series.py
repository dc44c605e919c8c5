"""A series: the campaigns that ask the same question year after year, compared together."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foitrack.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from foitrack.models.campaign import Campaign


class Series(Base):
    """Campaigns linked by "repeat" (or by hand): each force's figures across their years."""

    __tablename__ = "series"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    campaigns: Mapped[list[Campaign]] = relationship(back_populates="series",
                                                     order_by="Campaign.id")

    def __repr__(self) -> str:
        return f"<Series {self.slug}>"
