"""Accounts: creating them, signing in, roles, passwords (argon2id, memory-hard)."""

from __future__ import annotations

import contextlib
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from foitrack.db import utcnow
from foitrack.models import Role, User
from foitrack.models.user import new_session_token
from foitrack.services import audit
from foitrack.services.errors import Conflict, Invalid, NotFound, Problem

MIN_PASSWORD_LENGTH = 10
# Far above any real passphrase; stops a megabyte "password" costing a hash.
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHasher()
# Verified against when the email is unknown, so a wrong address takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password, used for timing only")


def normalise_email(email: str, field: str = "email") -> str:
    """The address in the form we store it. :raises Invalid: naming ``field``."""
    try:
        result = validate_email((email or "").strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise Invalid(f"enter a valid email address ({error})", field=field) from None
    return result.normalized.lower()


def check_password(password: str) -> list[Problem]:
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(
            Problem(f"must be at least {MIN_PASSWORD_LENGTH} characters", field="password")
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(
            Problem(f"must be at most {MAX_PASSWORD_LENGTH} characters", field="password")
        )
    return problems


def parse_role(value: str | Role) -> Role:
    try:
        return Role(value)
    except ValueError:
        choices = ", ".join(role.value for role in Role)
        raise Invalid(f"{value!r} is not a role; choose {choices}", field="role") from None


def snapshot(user: User) -> dict[str, Any]:
    """What the audit trail keeps of a user: never the password hash."""
    return {"email": user.email, "name": user.name, "role": user.role.value, "active": user.active}


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.active.desc(), User.email)))


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def create_user(
    session: Session,
    actor: audit.Actor,
    *,
    email: str,
    name: str,
    role: str | Role,
    password: str,
) -> User:
    """Add an account. :raises Invalid: naming the field; :raises Conflict: email in use."""
    problems: list[Problem] = []
    try:
        email = normalise_email(email)
    except Invalid as error:
        problems += error.problems
    name = (name or "").strip()
    if not name:
        problems.append(Problem("is required", field="name"))
    elif len(name) > 200:
        problems.append(Problem("is longer than 200 characters", field="name"))
    try:
        role = parse_role(role)
    except Invalid as error:
        problems += error.problems
    problems += check_password(password)
    if problems:
        raise Invalid(problems)
    if find_by_email(session, email) is not None:
        raise Conflict(f"there is already an account for {email}")
    user = User(email=email, name=name, role=role, password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    audit.record(session, actor, "user", user.id, "create", None, snapshot(user))
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None.

    Records the sign-in, or the failed attempt on a known account, in the audit trail.
    """
    user = find_by_email(session, email or "")
    if user is None or not user.active or len(password) > MAX_PASSWORD_LENGTH:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password[:MAX_PASSWORD_LENGTH])
        if user is not None:
            audit.record(session, audit.Actor.system("sign-in form"), "user", user.id,
                         "sign_in_refused", None, {"reason": "deactivated or too long"})
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        audit.record(session, audit.Actor.system("sign-in form"), "user", user.id,
                     "sign_in_failed", None, {"reason": "wrong password"})
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        # Parameters were raised since this hash was made; upgrade it while we have the password.
        user.password_hash = _hasher.hash(password)
    user.last_sign_in_at = utcnow()
    audit.record(session, audit.Actor.for_user(user), "user", user.id, "sign_in", None,
                 {"at": user.last_sign_in_at})
    return user


def _active_admins(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.admin, User.active.is_(True))
    ) or 0


def update_user(
    session: Session,
    actor: audit.Actor,
    user: User,
    *,
    name: str | None = None,
    role: str | Role | None = None,
    active: bool | None = None,
) -> None:
    """Change a user's name, role or whether they can sign in.

    :raises Conflict: when it would leave no active admin.
    """
    before = snapshot(user)
    if name is not None:
        name = name.strip()
        if not name:
            raise Invalid("is required", field="name")
        user.name = name
    if role is not None:
        user.role = parse_role(role)
    if active is not None:
        if user.active and not active:
            user.session_token = new_session_token()  # signs them out everywhere
        user.active = active
    was_admin = before["role"] == Role.admin.value and before["active"]
    if was_admin and not (user.role == Role.admin and user.active):
        session.flush()
        if _active_admins(session) == 0:
            raise Conflict("this is the last active admin; make someone else an admin first")
    old, new = audit.changed_fields(before, snapshot(user))
    if new:
        session.flush()
        audit.record(session, actor, "user", user.id, "update", old, new)


def change_password(
    session: Session, actor: audit.Actor, user: User, current: str | None, new: str
) -> None:
    """Set a new password; ``current`` must match unless an admin resets someone else's.

    :raises Invalid: naming the field.
    """
    if current is not None:
        try:
            _hasher.verify(user.password_hash, current)
        except (VerificationError, InvalidHashError):
            raise Invalid("is not your current password", field="current_password") from None
    problems = check_password(new)
    if problems:
        raise Invalid(problems)
    user.password_hash = _hasher.hash(new)
    # Every other signed-in browser, remembered ones included, must sign in again.
    user.session_token = new_session_token()
    session.flush()
    audit.record(session, actor, "user", user.id, "change_password", None, {"password": "changed"})
