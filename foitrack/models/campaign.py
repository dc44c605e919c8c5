"""Campaigns: one question sent to many authorities, and the versions of its wording."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foitrack.db import Base, UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from foitrack.models.authority import AuthoritySet
    from foitrack.models.design import CategoryGroup, Dimension, Measure, Period, PeriodGroup
    from foitrack.models.request import Request
    from foitrack.models.series import Series
    from foitrack.models.user import User


class CampaignStatus(enum.StrEnum):
    draft = "draft"
    active = "active"
    closed = "closed"


class Campaign(Base):
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[CampaignStatus] = mapped_column(
        str_enum(CampaignStatus, "campaign_status", 30), default=CampaignStatus.draft
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The set the campaign was aimed at, if any; the requests are the actual targets.
    target_set_id: Mapped[int | None] = mapped_column(ForeignKey("authority_set.id"))
    embargo_until: Mapped[dt.date | None]
    # The day the request is to be emailed by itself (the scheduler, or `mail send --due`).
    send_on: Mapped[dt.date | None]
    # The send_on day its owner was reminded of (5 working days before): set once per day
    # asked for, so moving send_on re-arms the reminder and a restart does not repeat it.
    send_on_reminded: Mapped[dt.date | None]
    notes: Mapped[str | None] = mapped_column(Text)
    # The earlier campaign this one repeats, so next year's answers line up with last year's.
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"))
    # The series it belongs to (a repeat joins its source's), for figures across the years.
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id", ondelete="SET NULL"),
                                                  index=True)
    # How far apart its repeats are, in months: "Repeat next year" moves the periods on by it.
    cadence_months: Mapped[int] = mapped_column(default=12, server_default="12")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    owner: Mapped[User | None] = relationship()
    target_set: Mapped[AuthoritySet | None] = relationship()
    repeat_of: Mapped[Campaign | None] = relationship(remote_side=[id])
    series: Mapped[Series | None] = relationship(back_populates="campaigns")
    versions: Mapped[list[CampaignVersion]] = relationship(
        back_populates="campaign", order_by="CampaignVersion.number",
        cascade="all, delete-orphan",
    )
    requests: Mapped[list[Request]] = relationship(back_populates="campaign")
    # Suppressed values written "*" stand for 0 to this minus one.
    suppression_threshold: Mapped[int | None]
    # Release thresholds (None: the defaults in services.release): the share of the authorities
    # asked that must give a usable figure for a national line, and the smallest base a share
    # may be stated on.
    min_coverage: Mapped[float | None]
    min_base: Mapped[int | None]
    # Raised by every change of the data design (foitrack.services.design.apply_design): the
    # design page's form carries the version it was loaded at, so a save over a colleague's
    # newer design is refused instead of silently undoing it.
    design_version: Mapped[int] = mapped_column(default=1, server_default="1")

    measures: Mapped[list[Measure]] = relationship(order_by="Measure.position",
                                                   cascade="all, delete-orphan")
    periods: Mapped[list[Period]] = relationship(order_by="Period.position",
                                                 cascade="all, delete-orphan")
    period_groups: Mapped[list[PeriodGroup]] = relationship(order_by="PeriodGroup.position",
                                                            cascade="all, delete-orphan")
    dimensions: Mapped[list[Dimension]] = relationship(order_by="Dimension.position",
                                                       cascade="all, delete-orphan")
    groups: Mapped[list[CategoryGroup]] = relationship(order_by="CategoryGroup.position",
                                                       cascade="all, delete-orphan")

    @property
    def current_version(self) -> CampaignVersion:
        return self.versions[-1]

    def __repr__(self) -> str:
        return f"<Campaign {self.slug} {self.status.value}>"


class CampaignVersion(Base):
    """One wording of the request. Once a request has gone out with it, it is never edited."""

    __tablename__ = "campaign_version"
    __table_args__ = (UniqueConstraint("campaign_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    number: Mapped[int]
    subject: Mapped[str] = mapped_column(String(300))
    request_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254))

    campaign: Mapped[Campaign] = relationship(back_populates="versions")

    def __repr__(self) -> str:
        return f"<CampaignVersion {self.campaign_id} v{self.number}>"


class CampaignMember(Base):
    """A person let into a campaign. While its embargo lasts, only its owner, its members and
    admins see it; afterwards the list still says who works on it."""

    __tablename__ = "campaign_member"
    __table_args__ = (UniqueConstraint("campaign_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by: Mapped[str] = mapped_column(String(254))

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<CampaignMember {self.campaign_id} user {self.user_id}>"
