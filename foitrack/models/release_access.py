"""Who may see a published release before its embargo lifts (a partner newsroom's private
link), what each link opened, and when the release opened to everyone.

A link's token is shown once, when it is made; only its SHA-256 is kept, so a copy of the
database opens nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foitrack.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from foitrack.models.published_release import PublishedRelease


class ReleasePartner(Base):
    """One partner's private link to one embargoed release."""

    __tablename__ = "release_partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    # RESTRICT, as the release's own campaign: a release is never deleted, nor its links' record.
    release_id: Mapped[int] = mapped_column(
        ForeignKey("published_release.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254))
    # Kept, not deleted: the access log still names who the link was for.
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(254))

    release: Mapped[PublishedRelease] = relationship()

    def __repr__(self) -> str:
        return f"<ReleasePartner {self.id} {self.name!r} release {self.release_id}>"


class PartnerAccess(Base):
    """One page or file a partner's link served before the embargo."""

    __tablename__ = "partner_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("release_partner.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The address below the link ("/", "/kent", "/files/SHA256SUMS"): never the token itself.
    path: Mapped[str] = mapped_column(String(1000))

    partner: Mapped[ReleasePartner] = relationship()

    def __repr__(self) -> str:
        return f"<PartnerAccess {self.partner_id} {self.path!r}>"


class ReleaseOpening(Base):
    """That the scheduler saw an embargoed release open to the public: one row per release, so
    the opening is recorded once however often (or however many schedulers) look."""

    __tablename__ = "release_opening"

    release_id: Mapped[int] = mapped_column(
        ForeignKey("published_release.id", ondelete="RESTRICT"), primary_key=True)
    # When it was seen (the embargo time itself is the release's embargo_until).
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ReleaseOpening {self.release_id}>"
