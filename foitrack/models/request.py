"""Requests (one campaign's request to one authority) and the events of their timelines."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foitrack.db import Base, UTCDateTime, str_enum, utcnow
from foitrack.domain.timeline import EventKind, TimelineEvent

if TYPE_CHECKING:
    from foitrack.models.authority import Authority
    from foitrack.models.campaign import Campaign, CampaignVersion


class Request(Base):
    """What one authority was asked in one campaign. Its status is derived from its events."""

    __tablename__ = "request"
    # One first request per campaign and authority, then its follow-ups numbered 1, 2...
    __table_args__ = (UniqueConstraint("campaign_id", "authority_id", "follow_up_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id"), index=True)
    # The authority's own reference number, e.g. "FOI 2019/00123".
    reference: Mapped[str | None] = mapped_column(String(100))
    # The wording it was sent with; set when the "sent" event is recorded.
    version_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_version.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A narrowed follow-up (services.follow_ups): a new request under FOIA s.1 to the same
    # authority in the same campaign, usually after a cost refusal (s.12). 0 is the first
    # request; a follow-up links to it (a follow-up of a follow-up too) and is numbered 1, 2...
    follow_up_number: Mapped[int] = mapped_column(default=0, server_default="0")
    follow_up_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("request.id", ondelete="CASCADE"), index=True)
    # A follow-up's own wording (the narrowed question); None: the campaign's.
    question: Mapped[str | None] = mapped_column(Text)
    # On a first request: the request of its chain whose reply the authority's figures come
    # from, as the researcher marked it; None: the first request itself. The figures
    # themselves stay on the first request, so the campaign holds one set per authority.
    figures_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("request.id", ondelete="SET NULL"))

    campaign: Mapped[Campaign] = relationship(back_populates="requests")
    authority: Mapped[Authority] = relationship()
    version: Mapped[CampaignVersion | None] = relationship()
    events: Mapped[list[Event]] = relationship(
        back_populates="request", order_by="Event.id", cascade="all, delete-orphan"
    )

    follow_ups: Mapped[list[Request]] = relationship(
        foreign_keys=[follow_up_of_id], order_by="Request.follow_up_number",
        cascade="all, delete-orphan", passive_deletes=True, back_populates="first")
    first: Mapped[Request | None] = relationship(
        foreign_keys=[follow_up_of_id], remote_side=[id], back_populates="follow_ups")

    @property
    def is_follow_up(self) -> bool:
        return self.follow_up_number > 0

    def timeline(self) -> list[TimelineEvent]:
        """The events that count: removed ones are kept for the record but left out."""
        return [event.as_timeline() for event in self.events if event.removed_at is None]

    def __repr__(self) -> str:
        number = f"#{self.follow_up_number}" if self.follow_up_number else ""
        return f"<Request {self.campaign_id}/{self.authority_id}{number}>"


class Event(Base):
    """One step in a request's timeline."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_request_on", "request_id", "occurred_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id", ondelete="CASCADE"))
    kind: Mapped[EventKind] = mapped_column(
        str_enum(EventKind, "event_kind")
    )
    occurred_on: Mapped[dt.date]
    occurred_at: Mapped[dt.time | None]
    note: Mapped[str | None] = mapped_column(Text)
    # response / review / Commissioner outcome, as the values of timeline's outcome enums.
    outcome: Mapped[str | None] = mapped_column(String(40))
    # Sections cited, e.g. ["s.12", "s.40(2)"].
    exemptions: Mapped[list[str]] = mapped_column(JSON, default=list)
    received_on: Mapped[dt.date | None]
    due_on: Mapped[dt.date | None]
    # Complaint, decision notice, appeal: the Commissioner's (tribunal's, court's) reference.
    case_reference: Mapped[str | None] = mapped_column(String(100))
    # Decision notice: the steps it orders (FOIA s.50(4), FOISA s.49(6)) and the date for them.
    steps_ordered: Mapped[str | None] = mapped_column(Text)
    comply_by: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254))
    # A mistaken event is removed, never deleted: it stays on the record, struck through.
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    removed_by: Mapped[str | None] = mapped_column(String(254))

    request: Mapped[Request] = relationship(back_populates="events")

    def as_timeline(self) -> TimelineEvent:
        return TimelineEvent(
            kind=self.kind, on=self.occurred_on, seq=self.id or 0, at=self.occurred_at,
            outcome=self.outcome, exemptions=tuple(self.exemptions or ()),
            received_on=self.received_on, due_on=self.due_on,
            case_reference=self.case_reference, steps_ordered=self.steps_ordered,
            comply_by=self.comply_by,
        )

    def snapshot(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "occurred_on": self.occurred_on,
            "occurred_at": self.occurred_at.isoformat() if self.occurred_at else None,
            "note": self.note,
            "outcome": self.outcome,
            "exemptions": list(self.exemptions or []),
            "received_on": self.received_on,
            "due_on": self.due_on,
            "case_reference": self.case_reference,
            "steps_ordered": self.steps_ordered,
            "comply_by": self.comply_by,
        }

    def __repr__(self) -> str:
        return f"<Event {self.kind.value} {self.occurred_on}>"
