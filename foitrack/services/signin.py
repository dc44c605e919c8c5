"""Signing in with a limit on failures per account and per client address.

Failures are rows in ``sign_in_failure`` so every gunicorn worker counts the same ones. The
window slides: an address or account is refused while it has ``per_account`` (or ``per_client``)
failures in the last ``window``, and may try again when the oldest of them falls out of it.
Refused attempts are not counted, so waiting always ends a lock-out.

Counting is atomic. An attempt is counted *before* its password is checked: ``start_attempt``
holds the account and the address (one transaction at a time per email and per client: a
PostgreSQL advisory lock, SQLite's write lock), counts their failures, and writes the attempt
as a failure; the caller commits, then ``finish_attempt`` checks the password and clears the
account's failures when it was right. Counting first and checking afterwards meant that
attempts arriving together (several workers, several threads) all read the same count and all
had their passwords checked: 6 with 2 workers, 9 with 8, for a limit of 5. Now at most the limit
of password checks happen per window, however many arrive at once; an attempt whose worker
dies mid-check stays counted as a failure, the safe side. The locks are held only for the count
and the insert, never for the slow password hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from foitrack.domain.email_addresses import email_key
from foitrack.errors import TooManyAttempts
from foitrack.models import SignInFailure, User
from foitrack.services import users
from foitrack.services.locks import sqlite_write_lock


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
    return email_key(email)[:254]


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


# The first key of the advisory locks taken here, so they cannot clash with any other use of
# PostgreSQL advisory locks on the same database ("FOIS" in ASCII).
_LOCK_SPACE = 0x464F4953


def _lock_key(kind: str, value: str) -> int:
    """A stable signed 32-bit key for one account or address (a hash collision only makes two
    sign-ins wait for each other, never lets one past)."""
    digest = hashlib.blake2b(f"{kind}:{value}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def _hold(session: Session, email_key: str, client: str) -> None:
    """Let one transaction at a time count and record attempts for this account or address,
    until this transaction ends."""
    if sqlite_write_lock(session):  # SQLite: one writer at a time, from now on
        return
    # In key order, so that two attempts wanting the same two locks cannot deadlock.
    for key in sorted({_lock_key("email", email_key), _lock_key("client", client)}):
        session.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"),
                        {"space": _LOCK_SPACE, "key": key})


@dataclass(frozen=True)
class Attempt:
    """A sign-in that has been counted and whose password is still to be checked."""

    email: str
    client: str
    failure_id: int
    at: dt.datetime


def start_attempt(session: Session, email: str, client: str, limits: Limits,
                  now: dt.datetime) -> Attempt:
    """Count a sign-in attempt as a failure until ``finish_attempt`` says otherwise. The caller
    commits before checking the password, so the attempt counts for attempts arriving meanwhile.

    :raises TooManyAttempts: when the account or the address has failed too often lately,
        whatever the password (and whether or not the account exists); nothing is recorded.
    """
    key, client = _email_key(email), client[:64]
    _hold(session, key, client)
    until = refused_until(session, email, client, limits, now)
    if until is not None:
        raise TooManyAttempts(until)
    failure = SignInFailure(email=key, client=client, failed_at=now)
    session.add(failure)
    # Old rows are of no further use; pruning here keeps the table as small as the window.
    session.execute(delete(SignInFailure).where(SignInFailure.failed_at <= now - limits.window))
    session.flush()
    return Attempt(email=email, client=client, failure_id=failure.id, at=now)


def finish_attempt(session: Session, attempt: Attempt, password: str) -> User | None:
    """The user with the attempt's email and this password, or None (the attempt stays a
    failure); a success clears the account's failures."""
    user = users.authenticate(session, attempt.email, password)
    key = _email_key(attempt.email)
    if user is not None:
        session.execute(delete(SignInFailure).where(SignInFailure.email == key))
    elif session.get(SignInFailure, attempt.failure_id) is None:
        # Someone's right password cleared the account's failures while this one was being
        # checked: this wrong one still counts.
        session.add(SignInFailure(email=key, client=attempt.client, failed_at=attempt.at))
    session.flush()
    return user
