"""API tokens: made, listed, revoked, and checked when a script calls the API."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from foitrack.db import utcnow
from foitrack.errors import Conflict, Invalid, NotFound
from foitrack.models import ApiToken, User
from foitrack.services import audit

# Recognisable in logs and by secret scanners; the rest is 256 random bits.
TOKEN_PREFIX = "foit_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, actor: audit.Actor, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``: returns the row and the token, which is never shown again.

    :raises Invalid: for a missing or long name; :raises Conflict: for a deactivated user.
    """
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid("give the token a name of up to 100 characters, e.g. 'newsroom scripts'",
                      field="name")
    if not user.active:
        # It could not be used now, and reactivating the account must not bring a token
        # made meanwhile into use (see users.update_user, which revokes them all).
        raise Conflict(f"the account {user.email} is deactivated; reactivate it first")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=_digest(plain),
                     prefix=plain[:len(TOKEN_PREFIX) + 4])
    session.add(token)
    session.flush()
    audit.record(session, actor, "api_token", token.id, "create", None,
                 {"name": name, "user": user.email, "prefix": token.prefix})
    return token, plain


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """``user``'s tokens, newest first."""
    return list_tokens(session, user)


def list_tokens(session: Session, user: User | None = None) -> list[ApiToken]:
    """Every user's tokens, or only ``user``'s, newest first, each with its user loaded (one
    query for an operator's list of them all)."""
    query = (select(ApiToken).options(joinedload(ApiToken.user))
             .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(session.scalars(query))


def get_token(session: Session, token_id: int) -> ApiToken:
    """Any user's token by its id (for an operator, who revokes with revoke_token and
    the token's user). :raises NotFound:"""
    # An id past the column's range is no token, not a database error (PostgreSQL refuses
    # to compare an integer column with it).
    token = session.get(ApiToken, token_id) if 0 < token_id < 2**31 else None
    if token is None:
        raise NotFound(f"no API token with id {token_id}")
    return token


def revoke_token(session: Session, actor: audit.Actor, user: User, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s tokens. :raises NotFound: for another user's or no token."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("no such token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, actor, "api_token", token.id, "revoke", {"prefix": token.prefix}, None)
    return token


def revoke_all(session: Session, actor: audit.Actor, user: User) -> None:
    """Revoke every token ``user`` still has (when the account is deactivated)."""
    for token in tokens_of(session, user):
        if token.revoked_at is None:
            revoke_token(session, actor, user, token.id)


def user_for_token(session: Session, plain: str) -> User | None:
    """The active user a presented token belongs to, or None; notes when it was last used."""
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(plain)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    token.last_used_at = utcnow()
    return token.user
