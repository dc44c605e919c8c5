"""Signing in with a limit on failures per account and per client address.

Failures are rows in ``sign_in_failure`` so every gunicorn worker counts the same ones. The
window slides: an address or account is refused while it has ``per_account`` (or ``per_client``)
failures in the last ``window``, and may try again when the oldest of them falls out of it.
Refused attempts are not counted, so waiting always ends a lock-out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from foitrack.models import SignInFailure, User
from foitrack.services import users
from foitrack.services.errors import TooManyAttempts


@dataclass(frozen=True)
class Limits:
    """How many failures are allowed within ``window`` before sign-in is refused."""

    per_account: int = 5
    per_client: int = 20
    window: dt.timedelta = dt.timedelta(minutes=15)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        return cls(
            per_account=config["SIGN_IN_MAX_FAILURES"],
            per_client=config["SIGN_IN_MAX_FAILURES_PER_ADDRESS"],
            window=dt.timedelta(minutes=config["SIGN_IN_WINDOW_MINUTES"]),
        )


def _email_key(email: str) -> str:
    return (email or "").strip().lower()[:254]


def _retry_at(session: Session, condition: Any, limit: int, limits: Limits,
              now: dt.datetime) -> dt.datetime | None:
    """When the failures matching ``condition`` drop below ``limit``; None if they already are."""
    since = now - limits.window
    times = session.scalars(
        select(SignInFailure.failed_at)
        .where(condition, SignInFailure.failed_at > since)
        .order_by(SignInFailure.failed_at.desc())
        .limit(limit)
    ).all()
    if len(times) < limit:
        return None
    # The limit-th most recent failure is the one whose expiry lets the next attempt through.
    return times[-1] + limits.window


def refused_until(session: Session, email: str, client: str, limits: Limits,
                  now: dt.datetime) -> dt.datetime | None:
    """When this account and address may try again, or None when they may now."""
    times = [
        _retry_at(session, SignInFailure.email == _email_key(email), limits.per_account, limits, now),
        _retry_at(session, SignInFailure.client == client[:64], limits.per_client, limits, now),
    ]
    waits = [time for time in times if time is not None]
    return max(waits) if waits else None


def sign_in(session: Session, email: str, password: str, client: str, limits: Limits,
            now: dt.datetime) -> User | None:
    """The user with this email and password, or None; counts a failure, clears on success.

    :raises TooManyAttempts: when the account or the address has failed too often lately,
        whatever the password (and whether or not the account exists).
    """
    until = refused_until(session, email, client, limits, now)
    if until is not None:
        raise TooManyAttempts(until)
    user = users.authenticate(session, email, password)
    key = _email_key(email)
    if user is None:
        session.add(SignInFailure(email=key, client=client[:64], failed_at=now))
        # Old rows are of no further use; pruning here keeps the table as small as the window.
        session.execute(delete(SignInFailure).where(SignInFailure.failed_at <= now - limits.window))
    else:
        session.execute(delete(SignInFailure).where(SignInFailure.email == key))
    session.flush()
    return user

