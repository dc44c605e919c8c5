"""People who sign in, and what their role lets them do."""

from __future__ import annotations

import datetime as dt
import enum
import secrets

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from foitrack.db import Base, UTCDateTime, str_enum, utcnow


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class Role(enum.StrEnum):
    """Roles in increasing power: each can do everything the one before it can."""

    viewer = "viewer"
    researcher = "researcher"
    admin = "admin"

    @property
    def rank(self) -> int:
        # A page asks once per link it may show (600 times on a long checks page): a lookup,
        # not a list built each time.
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        """Whether this role may do what ``needed`` may."""
        return self.rank >= needed.rank


_RANKS = {role: position for position, role in enumerate(Role)}

class User(Base):
    """An account. Never deleted, only deactivated, so the audit trail keeps its names."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased so sign-in does not depend on how the address was typed.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(
        str_enum(Role, "role", 20),
        default=Role.viewer,
    )
    # None until the user chooses a password through their invitation (services/invitations):
    # no password signs in to such an account.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Part of the signed-in session's id: changing it (new password, deactivation) signs the
    # user out everywhere, remembered browsers included.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @property
    def has_password(self) -> bool:
        """False while an invited user has not yet chosen their password."""
        return self.password_hash is not None

    # Flask-Login reads these; kept here so the model needs no Flask import.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"
