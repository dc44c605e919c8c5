"""Accounts: creating them, signing in, roles, passwords (argon2id, memory-hard)."""

from __future__ import annotations

import contextlib
import threading
import unicodedata
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from foitrack.db import utcnow
from foitrack.domain.email_addresses import email_key
from foitrack.errors import Conflict, Invalid, NotFound, Problem
from foitrack.models import Invitation, Role, User
from foitrack.models.user import new_session_token
from foitrack.services import api_tokens, audit

MIN_PASSWORD_LENGTH = 10
# Far above any real passphrase; stops a megabyte "password" costing a hash.
MAX_PASSWORD_LENGTH = 1024
# The rules check_password applies, said before it refuses a password: every form that sets one
# shows this as its hint, so the hint and the check cannot drift apart.
PASSWORD_RULE = (
    f"At least {MIN_PASSWORD_LENGTH} characters and hard to guess: three or four uncommon words "
    "work well. Not your email address or name."
)

_hasher = PasswordHasher()
# Verified against when the email is unknown, so a wrong address takes as long as a wrong password.
# Made on first use, not at import: hashing costs a quarter of a second every command would pay.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("not a real password, used for timing only")
    return _DUMMY_HASH


def normalise_email(email: str, field: str = "email") -> str:
    """The address in the form we store it. :raises Invalid: naming ``field``."""
    from email_validator import EmailNotValidError, validate_email  # slow to import

    try:
        result = validate_email((email or "").strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise Invalid(f"enter a valid email address ({error})", field=field) from None
    return result.normalized.lower()


# Scripts that may share one label, after Unicode TS #39's "highly restrictive" level: Japanese
# and Korean are written in several scripts at once, and Latin mixes with each of them.
_SCRIPT_SETS = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
# unicodedata has no Script property; a character's name starts with its script's name, except
# for these (a Python-only check keeps the dependency list as it is; see docs/reliability.md).
_NAME_TO_SCRIPT = {"CJK": "HAN", "KATAKANA-HIRAGANA": "KATAKANA"}


def _script(character: str) -> str | None:
    """The script of a letter or digit (by its Unicode name), None for anything else."""
    if character.isascii():
        return "LATIN" if character.isalpha() else None
    if unicodedata.category(character)[0] not in "LN":
        return None  # accents (combining marks) and punctuation belong to no one script
    words = unicodedata.name(character, "UNKNOWN").split()
    if words[0] in {"FULLWIDTH", "HALFWIDTH"} and len(words) > 1:
        words = words[1:]
    return _NAME_TO_SCRIPT.get(words[0], words[0])


def mixed_script_label(email: str) -> tuple[str, list[str]] | None:
    """The first part of an address (between dots or the @) whose letters come from scripts
    that are not written together, and those scripts; None when there is none.

    A Cyrillic "а" in "pаypal.example" looks like the Latin "a": an account under such an
    address can pass for someone else's in the audit trail and on every page that names users.
    """
    local, _, domain = email.rpartition("@")
    for label in [*local.split("."), *domain.split(".")]:
        scripts = {script for script in map(_script, label) if script is not None}
        if len(scripts) > 1 and not any(scripts <= allowed for allowed in _SCRIPT_SETS):
            return label, sorted(scripts)
    return None


def check_account_email(email: str) -> str:
    """An address fit for an account, normalised. :raises Invalid: naming the field."""
    email = normalise_email(email)
    mixed = mixed_script_label(email)
    if mixed is not None:
        label, scripts = mixed
        names = " and ".join(script.title() for script in scripts)
        raise Invalid(
            f"{label!r} mixes {names} letters, which can make one address look like another; "
            "type the address in one script", field="email")
    return email


# How guessable a password may be, on zxcvbn's 0-4 scale: 3 is "safely unguessable" against an
# online attack and takes ~10^8 guesses offline. zxcvbn (Dropbox's estimator) ranks a password
# against 30,000 common passwords, names, words and keyboard patterns, so it refuses
# "password12" and "aaaaaaaaaa" that a length rule lets through, yet passes a long passphrase.
MIN_PASSWORD_SCORE = 3
# zxcvbn refuses to look at more than 72 characters (its matching grows fast with length); the
# first 72 are scored, which is enough to tell a weak password from a strong one.
_ZXCVBN_MAX_LENGTH = 72
# zxcvbn keeps the user's inputs in a module global while it scores, so two threads scoring at
# once could each see the other's.
_zxcvbn_lock = threading.Lock()


def _personal_words(email: str, name: str) -> list[str]:
    local = email.rpartition("@")[0]
    return [word for word in [email, local, *local.replace("_", ".").replace("-", ".").split("."),
                              name, *name.split(), "foitrack"] if word]


def check_password(password: str, *, email: str = "", name: str = "") -> list[Problem]:
    """What is wrong with ``password`` for the account of ``email`` and ``name`` (empty when
    nothing is): too short or long, too easy to guess, or made of the email address."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(
            Problem(f"must be at least {MIN_PASSWORD_LENGTH} characters", field="password")
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(
            Problem(f"must be at most {MAX_PASSWORD_LENGTH} characters", field="password")
        )
    if problems:
        return problems
    lowered, email = password.lower(), email_key(email)
    local = email.rpartition("@")[0]
    if email and email in lowered:
        return [Problem("must not contain your email address", field="password")]
    # A local part of one or two letters is in too many words to refuse them all; zxcvbn
    # still counts it as a guessable part of the password.
    if len(local) >= 3 and local in lowered:
        return [Problem(f"must not contain {local!r}, the first part of your email address",
                        field="password")]
    from zxcvbn import zxcvbn  # here, not at the top: its word lists are slow to import

    with _zxcvbn_lock:
        result = zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=_personal_words(email, name))
    if result["score"] < MIN_PASSWORD_SCORE:
        feedback = result["feedback"]
        advice = " ".join([feedback["warning"], *feedback["suggestions"]]).strip() or (
            "Add another word or two. Uncommon words are better.")
        problems.append(Problem(
            f"is too easy to guess (password-guessing tools would try it early): "
            f"{advice}", field="password"))
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
    return session.scalar(select(User).where(User.email == email_key(email)))


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
    password: str | None,
) -> User:
    """Add an account; with ``password`` None it has none until its user chooses one through an
    invitation (services/invitations). :raises Invalid: naming the field; :raises Conflict:
    email in use."""
    problems: list[Problem] = []
    try:
        email = check_account_email(email)
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
    if password is not None:
        problems += check_password(password, email=email, name=name)
    if problems:
        raise Invalid(problems)
    if find_by_email(session, email) is not None:
        raise Conflict(f"there is already an account for {email}")
    user = User(email=email, name=name, role=role,
                password_hash=_hasher.hash(password) if password is not None else None)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user", user.id, "create", None, snapshot(user))
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None.

    Records the sign-in, or the failed attempt on a known account, in the audit trail.
    """
    # Made before the look-up, known address or not, so that making it (once per process)
    # cannot tell an unknown address from a known one.
    dummy = _dummy_hash()
    user = find_by_email(session, email or "")
    if (user is None or not user.active or user.password_hash is None
            or len(password) > MAX_PASSWORD_LENGTH):
        with contextlib.suppress(VerificationError):
            _hasher.verify(dummy, password[:MAX_PASSWORD_LENGTH])
        if user is not None:
            reason = ("no password chosen yet (invited)" if user.password_hash is None
                      else "deactivated or too long")
            audit.record(session, audit.Actor.system("sign-in form"), "user", user.id,
                         "sign_in_refused", None, {"reason": reason})
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
            end_sessions(user)
            # Revoked, not only unusable while deactivated: reactivating an account must not
            # bring back keys that may have been copied meanwhile (they stay in the token list,
            # marked revoked).
            api_tokens.revoke_all(session, actor, user)
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


def end_sessions(user: User) -> None:
    """Sign ``user`` out of every browser, remembered ones included: the signed-in session's
    id carries the session token (User.get_id), so a copy of an old session or remember-me
    cookie no longer matches once the token is new."""
    user.session_token = new_session_token()


def change_password(
    session: Session, actor: audit.Actor, user: User, current: str | None, new: str
) -> None:
    """Set a new password; ``current`` must match unless an admin resets someone else's.

    :raises Invalid: naming the field.
    """
    if current is not None:
        try:
            if user.password_hash is None:
                raise VerificationError("no password yet")
            _hasher.verify(user.password_hash, current)
        except (VerificationError, InvalidHashError):
            raise Invalid("is not your current password", field="current_password") from None
    problems = check_password(new, email=user.email, name=user.name)
    if problems:
        raise Invalid(problems)
    user.password_hash = _hasher.hash(new)
    # Every other signed-in browser, remembered ones included, must sign in again.
    end_sessions(user)
    # A link still in someone's mailbox must not set the password again (whoever reads it).
    session.execute(update(Invitation)
                    .where(Invitation.user_id == user.id, Invitation.used_at.is_(None),
                           Invitation.superseded_at.is_(None))
                    .values(superseded_at=utcnow()))
    session.flush()
    audit.record(session, actor, "user", user.id, "change_password", None, {"password": "changed"})
