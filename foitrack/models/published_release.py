"""Published releases: a campaign's dataset frozen at one moment, numbered 1, 2, ... per campaign.

Not the release *lines* (foitrack.services.release writes those from the live figures): a
published release keeps what was handed to the press, so it never changes afterwards. A
correction is a new version with a note saying what changed and why.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foitrack.db import Base, UTCDateTime, utcnow
from foitrack.errors import Conflict

if TYPE_CHECKING:
    from foitrack.models.campaign import Campaign


class PublishedRelease(Base):
    """One version of a campaign's published dataset, with its frozen content."""

    __tablename__ = "published_release"
    __table_args__ = (UniqueConstraint("campaign_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # RESTRICT: a campaign with a published release keeps it; what was published stays citable.
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="RESTRICT"),
                                             index=True)
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254))
    embargo_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # What changed since the last version and why: required from version 2.
    note: Mapped[str | None] = mapped_column(Text)
    # The choice of authorities as given (a set's slug or codes; None: every one asked), and
    # its words as the release's lines name it.
    authorities: Mapped[str | None] = mapped_column(Text)
    checked_only: Mapped[bool] = mapped_column(default=False)
    # The frozen content as canonical JSON text (sorted keys), not a JSON column: PostgreSQL's
    # jsonb reorders keys, and the files are re-exported from these exact bytes.
    content: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))

    campaign: Mapped[Campaign] = relationship()

    def __repr__(self) -> str:
        return f"<PublishedRelease {self.campaign_id} v{self.version}>"


@event.listens_for(PublishedRelease, "before_update")
def _never_updated(_mapper: Any, _connection: Any, target: PublishedRelease) -> None:
    """A published release is what was published: a correction is a new version."""
    raise Conflict(f"version {target.version} of a published release cannot be changed; "
                   "publish a new version with a note instead")
