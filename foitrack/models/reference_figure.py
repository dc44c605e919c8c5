"""Official statistics a campaign sets beside its FOI figures, never added into them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from foitrack.db import Base, UTCDateTime, utcnow


class ReferenceFigure(Base):
    """One official figure for context: "over 9,000 child sexual offences with an online
    element, October 2017 to September 2018, England and Wales (ONS)".

    ``measure`` and ``period`` are the campaign's keys when the figure sits beside one of its
    cells, or free text for a statistic the campaign did not ask for.
    """

    __tablename__ = "reference_figure"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"),
                                             index=True)
    measure: Mapped[str] = mapped_column(String(300))
    period: Mapped[str] = mapped_column(String(200))
    area: Mapped[str] = mapped_column(String(200))
    # Decimal, not float: a published 16.4% or 9,012 is kept exactly as printed.
    value: Mapped[Decimal] = mapped_column(Numeric(20, 4))
    source: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254), default="")

    def __repr__(self) -> str:
        return f"<ReferenceFigure {self.measure} {self.period} {self.area}: {self.value}>"
