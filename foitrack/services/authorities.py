"""Authorities and sets: finding, validating and editing them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from foitrack.errors import Conflict, Invalid, NotFound, Problem
from foitrack.models import Authority, AuthoritySet
from foitrack.models.authority import EDITABLE_FIELDS, casefold
from foitrack.services import audit

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_LENGTHS = {
    "slug": 80,
    "code": 20,
    "name": 200,
    "short_name": 100,
    "kind": 50,
    "country": 50,
    "region": 100,
    "foi_email": 254,
    "website": 500,
}
REQUIRED = ("name", "short_name", "kind")


def slugify(text: str) -> str:
    """A URL-safe identifier from a name: 'West Mercia' -> 'west-mercia', 'Ynys Môn' -> 'ynys-mon'.

    May be empty for a name with no Latin letters or digits; callers must check.
    """
    plain = casefold(text.replace("&", " and "))
    slug = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")
    return slug[: MAX_LENGTHS["slug"]].strip("-")


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with % _ and \\ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def split_names(cell: str) -> list[str]:
    """Former names as written in one cell, separated by '|' or ';'."""
    return [name.strip() for name in re.split(r"[|;]", cell) if name.strip()]


def check_values(values: Mapping[str, Any]) -> list[Problem]:
    """Problems with an authority's field values, each naming its field. Shape only, no DB."""
    problems: list[Problem] = []
    for field in REQUIRED:
        if field in values and not (values[field] or "").strip():
            problems.append(Problem("is required", field=field))
    for field, limit in MAX_LENGTHS.items():
        value = values.get(field)
        if isinstance(value, str) and len(value) > limit:
            problems.append(Problem(f"is longer than {limit} characters", field=field))
    slug = values.get("slug")
    if slug and not SLUG_PATTERN.match(slug):
        problems.append(
            Problem(f"{slug!r} must be lower-case letters, digits and single hyphens", field="slug")
        )
    kind = values.get("kind")
    if kind and not SLUG_PATTERN.match(kind):
        problems.append(
            Problem(f"{kind!r} must be lower-case words joined by hyphens, e.g. nhs-trust", "kind")
        )
    email = values.get("foi_email")
    if email:
        # Here, not at the top: its import is a tenth of a second every command would pay.
        from email_validator import EmailNotValidError, validate_email

        try:
            validate_email(email, check_deliverability=False)
        except EmailNotValidError as error:
            problems.append(Problem(f"{email!r} is not an email address: {error}", "foi_email"))
    website = values.get("website")
    if website and not re.match(r"^https?://[^\s/$.?#][^\s]*$", website):
        problems.append(
            Problem(f"{website!r} is not a web address starting http:// or https://", "website")
        )
    for name in values.get("former_names") or []:
        if len(name) > MAX_LENGTHS["name"]:
            problems.append(Problem("a former name is longer than 200 characters", "former_names"))
    return problems


def clean_text(value: Any) -> str | None:
    """Trimmed text, or None for blank."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def get_authority(session: Session, slug: str) -> Authority:
    """The authority with this slug. :raises NotFound:"""
    authority = session.scalar(
        select(Authority).where(Authority.slug == slug).options(selectinload(Authority.sets))
    )
    if authority is None:
        raise NotFound(f"no authority {slug!r}")
    return authority


def get_set(session: Session, slug: str) -> AuthoritySet:
    """The set with this slug. :raises NotFound:"""
    found = session.scalar(select(AuthoritySet).where(AuthoritySet.slug == slug))
    if found is None:
        known = ", ".join(session.scalars(select(AuthoritySet.slug).order_by(AuthoritySet.slug)))
        raise NotFound(f"no authority set {slug!r}; known sets: {known or 'none'}")
    return found


def list_sets(session: Session) -> list[tuple[AuthoritySet, int]]:
    """Every set with its member count, built-in ones first."""
    from foitrack.models import authority_set_member

    counts = (
        select(authority_set_member.c.set_id, func.count().label("members"))
        .group_by(authority_set_member.c.set_id)
        .subquery()
    )
    rows = session.execute(
        select(AuthoritySet, func.coalesce(counts.c.members, 0))
        .outerjoin(counts, counts.c.set_id == AuthoritySet.id)
        .order_by(AuthoritySet.builtin.desc(), AuthoritySet.slug)
    )
    return [(row[0], row[1]) for row in rows]


def list_regions(session: Session) -> list[str]:
    """The regions authorities are in, alphabetically."""
    return list(
        session.scalars(
            select(Authority.region).where(Authority.region.is_not(None)).distinct()
            .order_by(Authority.region)
        )
    )


def find_authorities(
    session: Session,
    *,
    set_slug: str | None = None,
    region: str | None = None,
    search: str | None = None,
    include_inactive: bool = True,
) -> list[Authority]:
    """Authorities by name, narrowed by set, region and a search of names and codes.

    :raises NotFound: when ``set_slug`` names no set.
    """
    query = select(Authority).options(selectinload(Authority.sets)).order_by(Authority.name)
    if set_slug:
        chosen = get_set(session, set_slug)
        query = query.where(Authority.sets.any(AuthoritySet.id == chosen.id))
    if region:
        query = query.where(Authority.region == region)
    if not include_inactive:
        query = query.where(Authority.active.is_(True))
    if search and search.strip():
        query = query.where(
            Authority.search_text.like(like_pattern(casefold(search.strip())), escape="\\")
        )
    return list(session.scalars(query))


def version_of(authority: Authority) -> str:
    """A marker that changes whenever the authority does, for spotting stale edit forms."""
    # None until the new authority is first flushed (the column default fills it in then).
    return authority.updated_at.isoformat() if authority.updated_at is not None else ""


def remember_former_name(authority: Authority, old_name: str) -> None:
    """Keep a replaced name, so replies and spreadsheets that use it still match."""
    if old_name not in (authority.former_names or []):
        authority.former_names = [*(authority.former_names or []), old_name]


def holder_of(session: Session, field: str, value: str) -> Authority | None:
    """The authority whose ``field`` (name, code or slug) is ``value``, ignoring case."""
    column = getattr(Authority, field)
    return session.scalar(select(Authority).where(func.lower(column) == value.lower()))


def _clash(session: Session, authority: Authority, field: str, value: Any) -> Problem | None:
    other = holder_of(session, field, value)
    if other is not None and other.id != authority.id:
        return Problem(f"{value!r} is already used by {other.name}", field=field)
    return None


def _edited_values(changes: Mapping[str, Any]) -> dict[str, Any]:
    """An edit's values tidied as stored: names trimmed, empty text None.
    :raises Invalid: naming each field that cannot be edited."""
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise Invalid([Problem("cannot be edited", field=field) for field in unknown])
    values: dict[str, Any] = {}
    for field, value in changes.items():
        if field == "former_names":
            values[field] = [name.strip() for name in value if name.strip()]
        elif field == "active":
            values[field] = bool(value)
        elif field in REQUIRED:
            values[field] = (value or "").strip()
        else:
            values[field] = clean_text(value)
    return values


def update_authority(
    session: Session,
    actor: audit.Actor,
    authority: Authority,
    changes: Mapping[str, Any],
    expected_version: str | None = None,
) -> list[str]:
    """Edit an authority by hand; the fields changed are kept through registry reloads.

    ``expected_version`` is the ``version_of`` the editor started from: if the authority
    changed since, the edit is refused rather than silently undoing the other change.
    Returns the names of the fields that changed.
    :raises Invalid: naming each bad field; :raises Conflict: on a stale edit. Nothing is
        changed then.
    """
    if expected_version is not None and expected_version != version_of(authority):
        raise Conflict(
            f"{authority.name} was changed by someone else after you opened this form; "
            "open it again to see the new values, then make your change"
        )
    values = _edited_values(changes)
    problems = check_values(values)
    for field in ("name", "code"):
        if values.get(field) and not any(p.field == field for p in problems):
            clash = _clash(session, authority, field, values[field])
            if clash:
                problems.append(clash)
    if problems:
        raise Invalid(problems)
    before = authority.snapshot()
    renamed_from = authority.name if values.get("name", authority.name) != authority.name else None
    for field, value in values.items():
        setattr(authority, field, value)
    if renamed_from:
        remember_former_name(authority, renamed_from)
    after = authority.snapshot()
    old, new = audit.changed_fields(before, after)
    if not new:
        return []
    authority.locally_edited = sorted(set(authority.locally_edited or []) | set(new))
    session.flush()
    audit.record(session, actor, "authority", authority.id, "update", old, new)
    return sorted(new)
