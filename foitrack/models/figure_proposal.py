"""A figure read from a reply's attachment and kept until a person accepts or rejects it
(issue 19). Proposals are never figures: accepting one saves it through the grid's save."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foitrack.db import Base, UTCDateTime, str_enum, utcnow
from foitrack.models.request import Request
from foitrack.models.stored_file import StoredFile


class ProposalState(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class FigureProposal(Base):
    """One cell as read from one stored file.

    The keys are the design's keys as text (measure, period, dimension, category; dimension and
    category empty for the total), not ids: a proposal outlives a design edit and is checked
    again through the grid's save when accepted. ``value`` is as written in the file.
    """

    __tablename__ = "figure_proposal"
    __table_args__ = (Index("ix_figure_proposal_request_state", "request_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id", ondelete="CASCADE"))
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    measure: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(200))
    dimension: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(String(200))
    parsed_kind: Mapped[str] = mapped_column(String(20))
    parsed_text: Mapped[str] = mapped_column(String(200))  # canonical: "12*" is "12"
    caveat: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str] = mapped_column(String(300))
    page: Mapped[int | None]
    bbox: Mapped[list[float] | None] = mapped_column(JSON)
    # The cells around a sheet's or Word table's cell (domain.extraction.neighbourhood), shown in
    # place of a crop.
    neighbourhood: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    layout: Mapped[str] = mapped_column(String(20))
    extractor: Mapped[str] = mapped_column(String(100))
    extractor_version: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[float] = mapped_column(Float)
    state: Mapped[ProposalState] = mapped_column(
        str_enum(ProposalState, "figure_proposal_state", 20), default=ProposalState.PENDING)
    decided_by: Mapped[str | None] = mapped_column(String(254))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The figure accepting it saved: the figure's drill-down shows this cell's crop while the
    # figure's source still names this file and place.
    figure_id: Mapped[int | None] = mapped_column(
        ForeignKey("figure.id", ondelete="SET NULL"), index=True)

    request: Mapped[Request] = relationship()
    stored_file: Mapped[StoredFile] = relationship()

    def __repr__(self) -> str:
        return f"<FigureProposal {self.id} {self.location} {self.value!r} {self.state}>"
