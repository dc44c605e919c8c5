"""A researcher's explanation of a consistency finding (the findings themselves are derived
from the figures every time, so only what a person said about one is stored)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from foitrack.db import Base, UTCDateTime, utcnow


class FindingExplanation(Base):
    """A finding marked "explained", e.g. "the force confirmed 31 in its letter of 2 May".

    ``key`` names the finding by what it is about (check, authority, measure, period, dimension,
    category), not by an id, so an explanation still applies after the figures are re-entered
    and stops applying when the finding no longer arises.
    """

    __tablename__ = "finding_explanation"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(600))
    note: Mapped[str] = mapped_column(Text)
    explained_by: Mapped[str] = mapped_column(String(254))
    explained_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<FindingExplanation {self.campaign_id} {self.key}>"
