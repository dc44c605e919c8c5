"""Figures: the numbers (or coded non-numbers) an authority returned, with caveat and source."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foitrack.db import Base, UTCDateTime, str_enum, utcnow
from foitrack.domain.figure_values import FigureValue, ValueKind

if TYPE_CHECKING:
    from foitrack.models.design import Category, Measure, Period
    from foitrack.models.request import Event, Request
    from foitrack.models.stored_file import StoredFile


class Figure(Base):
    """One value for one request, measure, period and category (no category: the total)."""

    __tablename__ = "figure"
    __table_args__ = (
        # One figure per cell. Two partial indexes, because NULLs are never equal in a plain one.
        Index("uq_figure_cell_total", "request_id", "measure_id", "period_id", unique=True,
              sqlite_where=text("category_id IS NULL"),
              postgresql_where=text("category_id IS NULL")),
        Index("uq_figure_cell_category", "request_id", "measure_id", "period_id", "category_id",
              unique=True, sqlite_where=text("category_id IS NOT NULL"),
              postgresql_where=text("category_id IS NOT NULL")),
        Index("ix_figure_measure_period", "measure_id", "period_id"),
        # A campaign's figures by request: the partial indexes above cannot serve a plain join
        # on request_id, so without it every aggregate and export scans all figures of every
        # campaign (the plans are in docs/benchmarks.md).
        Index("ix_figure_request_id", "request_id"),
        # Never hand out a removed figure's id again (SQLite reuses the highest by default):
        # the audit trail, and so the figure's history page, knows a figure by its id.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id", ondelete="CASCADE"))
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id", ondelete="CASCADE"))
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id", ondelete="CASCADE"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="CASCADE"))
    kind: Mapped[ValueKind] = mapped_column(str_enum(ValueKind, "value_kind", 20))
    value: Mapped[int | None]  # exact figures
    lower: Mapped[int | None]  # suppressed figures: the bounds
    upper: Mapped[int | None]
    exemption: Mapped[str | None] = mapped_column(String(40))  # withheld figures
    caveat: Mapped[str | None] = mapped_column(Text)
    # Where in the reply it came from: "letter p.2", "table 1, cell C4".
    source: Mapped[str | None] = mapped_column(Text)
    # The response event (the reply) it was taken from, when known.
    source_event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"))
    # The file it was imported from (a filled response template), kept as the source.
    source_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    entered_by: Mapped[str] = mapped_column(String(254))
    entered_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    checked_by: Mapped[str | None] = mapped_column(String(254))
    checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[Request] = relationship()
    measure: Mapped[Measure] = relationship()
    period: Mapped[Period] = relationship()
    category: Mapped[Category | None] = relationship()
    source_event: Mapped[Event | None] = relationship()
    source_file: Mapped[StoredFile | None] = relationship()

    @property
    def figure_value(self) -> FigureValue:
        return FigureValue(self.kind, value=self.value, lower=self.lower, upper=self.upper,
                           exemption=self.exemption)

    def set_value(self, value: FigureValue) -> None:
        self.kind, self.value, self.lower, self.upper, self.exemption = (
            value.kind, value.value, value.lower, value.upper, value.exemption
        )

    def snapshot(self) -> dict[str, Any]:
        return {
            "value": self.figure_value.text,
            "caveat": self.caveat,
            "source": self.source,
            "checked_by": self.checked_by,
        }

    def __repr__(self) -> str:
        return f"<Figure {self.request_id}/{self.measure_id}/{self.period_id}/{self.category_id}>"
