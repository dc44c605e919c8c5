"""Adding authorities of any kind (councils, NHS trusts...) and sets from a CSV file.

The whole file is checked before anything is written: one bad cell and nothing is imported.
A file exported by foitrack (`authorities list --format csv`, the list page's download)
imports back unchanged.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from foitrack.domain.csv_files import decode_upload, records
from foitrack.errors import Invalid, Problem
from foitrack.models import Authority, AuthoritySet
from foitrack.models.authority import casefold
from foitrack.services import audit
from foitrack.services.authorities import (
    MAX_LENGTHS,
    SLUG_PATTERN,
    check_values,
    clean_text,
    remember_former_name,
    slugify,
    split_names,
)

IMPORT_COLUMNS = (
    "name",
    "kind",
    "slug",
    "code",
    "short_name",
    "former_names",
    "country",
    "region",
    "foi_email",
    "website",
    "note",
    "active",
    "sets",
)
REQUIRED_COLUMNS = ("name", "kind")
WRITTEN_FIELDS = (
    "name", "kind", "code", "short_name", "former_names", "country", "region", "foi_email",
    "website", "note", "active",
)
MAX_FILE_BYTES = 5 * 1024 * 1024
_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0"}


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    sets_created: list[str] = field(default_factory=list)
    memberships_added: int = 0

    def summary(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged; {len(self.sets_created)} sets created, "
            f"{self.memberships_added} set memberships added"
        )


@dataclass
class _Row:
    line: int
    values: dict[str, Any]
    given: set[str]
    sets: list[str]
    existing: Authority | None = None


def _read_header(reader: Any) -> list[str]:
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise Invalid(f"line 1: the CSV header cannot be read: {error}") from None
    if header is None:
        raise Invalid("the file is empty; the first line must name the columns")
    columns = [column.strip().lower() for column in header]
    problems = [
        Problem(f"unknown column {column!r}; columns are {', '.join(IMPORT_COLUMNS)}", line=1)
        for column in columns
        if column not in IMPORT_COLUMNS
    ]
    problems += [
        Problem(f"the header has no {column!r} column", line=1)
        for column in REQUIRED_COLUMNS
        if column not in columns
    ]
    problems += [
        Problem(f"column {column!r} appears more than once", line=1)
        for column in sorted({c for c in columns if columns.count(c) > 1})
    ]
    if problems:
        raise Invalid(problems)
    return columns


def _row_values(cells: dict[str, str], line: int, problems: list[Problem]) -> _Row:
    given = {column for column, cell in cells.items() if cell.strip()}
    values: dict[str, Any] = {
        column: clean_text(cells.get(column))
        for column in IMPORT_COLUMNS
        if column not in ("former_names", "sets", "active")
    }
    values["former_names"] = split_names(cells.get("former_names", ""))
    values["short_name"] = values["short_name"] or values["name"]
    active = (cells.get("active") or "").strip().lower()
    if active in _TRUE or not active:
        values["active"] = True
    elif active in _FALSE:
        values["active"] = False
    else:
        problems.append(Problem(f"{active!r} is not yes or no", "active", line))
    if "slug" not in given and values["name"]:
        # From the full name, so "Kent County Council" does not take the police force's "kent".
        values["slug"] = slugify(values["name"])
        if not values["slug"]:
            problems.append(
                Problem("no slug can be made from this name; add a slug column", "slug", line)
            )
    for problem in check_values(values):
        if problem.field == "short_name" and "short_name" not in given:
            continue
        problems.append(Problem(problem.message, problem.field, line))
    sets = split_names(cells.get("sets", ""))
    for slug in sets:
        if not SLUG_PATTERN.match(slug) or len(slug) > MAX_LENGTHS["slug"]:
            problems.append(Problem(f"{slug!r} is not a set name (lower-case, hyphens)", "sets", line))
    return _Row(line, values, given, sets)


def _parse(text: str) -> tuple[list[_Row], list[Problem]]:
    problems: list[Problem] = []
    rows = [_row_values(cells, line, problems)
            for line, cells in records(text, _read_header, problems)]
    if not rows and not problems:
        problems.append(Problem("the file has a header but no rows"))
    return rows, problems


@dataclass
class _Known:
    """Every authority and set, loaded once, looked up without case."""

    by_slug: dict[str, Authority]
    by_name: dict[str, Authority]
    by_code: dict[str, Authority]
    by_former_name: dict[str, Authority]
    sets: dict[str, AuthoritySet]

    @classmethod
    def load(cls, session: Session) -> _Known:
        authorities = session.scalars(select(Authority).options(selectinload(Authority.sets))).all()
        sets = session.scalars(select(AuthoritySet).options(selectinload(AuthoritySet.members)))
        return cls(
            by_slug={a.slug: a for a in authorities},
            by_name={casefold(a.name): a for a in authorities},
            by_code={a.code.lower(): a for a in authorities if a.code},
            by_former_name={casefold(n): a for a in authorities for n in a.former_names or []},
            sets={s.slug: s for s in sets},
        )


def _reserved_slugs() -> dict[str, str]:
    """Slugs the police force registry uses, whether or not it has been loaded yet."""
    from foitrack.services.registry import read_registry

    return {row["slug"]: row["name"] for row in read_registry()}


def _check_against_database(known: _Known, rows: list[_Row]) -> list[Problem]:
    """Every problem the rows have with each other and with what is stored, row by row; sets
    each row's ``existing`` authority on the way."""
    problems: list[Problem] = []
    reserved = _reserved_slugs()
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        if "slug" in row.given:
            row.existing = known.by_slug.get(row.values["slug"])
        else:
            row.existing = known.by_name.get(casefold(row.values["name"] or ""))
        problems += _clashes(known, row, seen)
        if row.existing is None:
            problems += _new_authority_problems(known, row, reserved)
        problems += _builtin_set_problems(known, row)
    return problems


def _clashes(known: _Known, row: _Row, seen: dict[tuple[str, str], int]) -> list[Problem]:
    """A slug, name or code given on an earlier line (``seen``, updated here) or held by
    another authority."""
    problems = []
    lookups = {"slug": known.by_slug, "name": known.by_name, "code": known.by_code}
    for key in ("slug", "name", "code"):
        value = row.values.get(key)
        if not value:
            continue
        marker = (key, casefold(value))
        if marker in seen:
            problems.append(Problem(f"{value!r} is also on line {seen[marker]}", key, row.line))
            continue
        seen[marker] = row.line
        holder = lookups[key].get(value if key == "slug" else casefold(value) if key == "name"
                                  else value.lower())
        if holder is not None and holder is not row.existing:
            problems.append(Problem(f"{value!r} is already used by {holder.name}", key, row.line))
    return problems


def _new_authority_problems(known: _Known, row: _Row, reserved: dict[str, str]) -> list[Problem]:
    """A new authority may not take a slug the registry keeps, nor another's former name."""
    problems = []
    values, line = row.values, row.line
    slug = values.get("slug")
    if slug in reserved:
        problems.append(Problem(
            f"{slug!r} is kept for {reserved[slug]} in the police force registry; "
            "choose another slug", "slug", line,
        ))
    if values.get("name"):
        renamed = known.by_former_name.get(casefold(values["name"]))
        if renamed is not None:
            problems.append(Problem(
                f"{values['name']!r} is a former name of {renamed.name}; to update that "
                f"authority give its slug ({renamed.slug}) in a slug column", "name", line,
            ))
    return problems


def _builtin_set_problems(known: _Known, row: _Row) -> list[Problem]:
    """Built-in sets take no new members from a file."""
    problems = []
    for set_slug in row.sets:
        found = known.sets.get(set_slug)
        already_in = found is not None and row.existing is not None and row.existing in found.members
        if found is not None and found.builtin and not already_in:
            problems.append(Problem(
                f"{set_slug!r} is a built-in set kept by `foitrack authorities load`; "
                "choose another set name", "sets", row.line,
            ))
    return problems


def import_authorities(session: Session, actor: audit.Actor, source: BinaryIO) -> ImportReport:
    """Create or update authorities and sets from a CSV file.

    A row matching an existing authority (by slug if given, else by name) updates the cells
    it fills in; empty cells leave the authority as it is. Fields changed this way count as
    local edits and survive registry reloads.
    :raises Invalid: listing every problem by line and column; nothing is changed then.
    """
    data = source.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise Invalid(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    rows, problems = _parse(decode_upload(data))
    if problems:
        raise Invalid(problems)
    known = _Known.load(session)
    problems = _check_against_database(known, rows)
    if problems:
        raise Invalid(problems)

    report = ImportReport()
    for row in rows:
        authority = _write_row(session, actor, row, report)
        for slug in row.sets:
            target = known.sets.get(slug)
            if target is None:
                target = AuthoritySet(slug=slug, title=slug.replace("-", " ").capitalize())
                session.add(target)
                session.flush()
                audit.record(session, actor, "authority_set", target.id, "create", None,
                             {"title": target.title})
                report.sets_created.append(slug)
                known.sets[slug] = target
            if authority not in target.members:
                target.members.append(authority)
                session.flush()
                audit.record(session, actor, "authority_set", target.id, "add_member", None,
                             {"authority": authority.slug})
                report.memberships_added += 1
    return report


def _write_row(session: Session, actor: audit.Actor, row: _Row, report: ImportReport) -> Authority:
    existing = row.existing
    if existing is None:
        authority = Authority(slug=row.values["slug"], source="import", locally_edited=[])
        for name in WRITTEN_FIELDS:
            setattr(authority, name, row.values[name])
        session.add(authority)
        session.flush()
        audit.record(session, actor, "authority", authority.id, "create", None, authority.snapshot())
        report.created.append(authority.slug)
        return authority
    before = existing.snapshot()
    renamed_from = None
    for name in WRITTEN_FIELDS:
        if name not in row.given:
            continue
        if name == "former_names":
            merged = list(existing.former_names or [])
            merged += [n for n in row.values[name] if n not in merged]
            existing.former_names = merged
            continue
        if name == "name" and row.values["name"] != existing.name:
            renamed_from = existing.name
        setattr(existing, name, row.values[name])
    if renamed_from:
        remember_former_name(existing, renamed_from)
    old, new = audit.changed_fields(before, existing.snapshot())
    if new:
        existing.locally_edited = sorted(set(existing.locally_edited or []) | set(new))
        session.flush()
        audit.record(session, actor, "authority", existing.id, "update", old, new)
        report.updated.append(existing.slug)
    else:
        report.unchanged.append(existing.slug)
    return existing
