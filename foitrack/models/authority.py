"""Public bodies that receive requests, and named sets of them."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foitrack.db import Base, UTCDateTime, utcnow
from foitrack.domain.clock import Regime

authority_set_member = Table(
    "authority_set_member",
    Base.metadata,
    Column("set_id", ForeignKey("authority_set.id", ondelete="CASCADE"), primary_key=True),
    Column("authority_id", ForeignKey("authority.id", ondelete="CASCADE"), primary_key=True),
)

# Fields of an authority that a user may edit and that the registry loader also sets.
EDITABLE_FIELDS = (
    "name",
    "short_name",
    "former_names",
    "code",
    "kind",
    "country",
    "region",
    "foi_email",
    "website",
    "active",
    "note",
)


class Authority(Base):
    """A public body that answers FOI requests, such as a police force."""

    __tablename__ = "authority"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable identifier used in URLs, campaign files and the CLI; never changes on rename.
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    # ONS code (police force area: E23..., W15...) where one exists.
    code: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str] = mapped_column(String(100))
    # Earlier names, so replies and old spreadsheets under a former name still match.
    former_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    kind: Mapped[str] = mapped_column(String(50), index=True)
    country: Mapped[str | None] = mapped_column(String(50))
    region: Mapped[str | None] = mapped_column(String(100), index=True)
    foi_email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str | None] = mapped_column(Text)
    # Where the row came from: "registry" for the shipped police forces, "import" or "user".
    source: Mapped[str] = mapped_column(String(20), default="user")
    # Name, short name, former names and code, case-folded: what the search box looks in.
    search_text: Mapped[str] = mapped_column(Text, default="")
    # Fields a user changed by hand; the registry loader leaves those alone.
    locally_edited: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # A message to foi_email came back undelivered (services.bounces): when, and the receiving
    # server's words. Cleared when the address is changed; until then it is flagged for checking.
    address_bounced_on: Mapped[dt.date | None]
    address_bounce_reason: Mapped[str | None] = mapped_column(String(500))

    sets: Mapped[list[AuthoritySet]] = relationship(
        secondary=authority_set_member, back_populates="members", order_by="AuthoritySet.slug"
    )

    def refresh_search_text(self) -> None:
        parts = [self.name, self.short_name, self.code or "", *(self.former_names or [])]
        self.search_text = "\n".join(casefold(part) for part in parts if part)

    @property
    def regime(self) -> Regime:
        """FOISA for Scottish public authorities (Police Scotland), FOIA for everyone else."""
        return Regime.foisa if self.country == "Scotland" else Regime.foia

    def snapshot(self) -> dict[str, Any]:
        """The editable fields as plain values, for the audit trail."""
        values: dict[str, Any] = {"slug": self.slug}
        for field in EDITABLE_FIELDS:
            value = getattr(self, field)
            values[field] = list(value) if isinstance(value, list) else value
        return values

    def __repr__(self) -> str:
        return f"<Authority {self.slug} {self.name!r}>"


def casefold(text: str) -> str:
    """Text compared without case or accents: 'Ynys Môn' and 'ynys mon' match."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@event.listens_for(Authority, "before_insert")
@event.listens_for(Authority, "before_update")
def _keep_search_text(_mapper: Any, _connection: Any, authority: Authority) -> None:
    # Kept here, on every write path (edits, imports, registry loads), so it cannot go stale.
    authority.refresh_search_text()


@event.listens_for(Authority.foi_email, "set")
def _forget_bounce(authority: Authority, value: str | None, old: Any, _initiator: Any) -> None:
    # A new address has not bounced: whoever changed it (an edit, an import, the registry) has
    # done what the flag asked. Setting the same address again leaves the flag.
    if isinstance(old, str) and (value or "").strip().lower() != old.strip().lower():
        authority.address_bounced_on = None
        authority.address_bounce_reason = None


class AuthoritySet(Base):
    """A named group of authorities a campaign can target, e.g. ``england-wales``."""

    __tablename__ = "authority_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # Built-in sets are kept in step with the registry by `foitrack authorities load`.
    builtin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[Authority]] = relationship(
        secondary=authority_set_member, back_populates="sets", order_by="Authority.name"
    )

    def __repr__(self) -> str:
        return f"<AuthoritySet {self.slug}>"
