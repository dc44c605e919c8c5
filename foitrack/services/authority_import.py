"""Adding authorities of any kind (councils, NHS trusts...) and sets from a CSV file.

The whole file is checked before anything is written: one bad cell and nothing is imported.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from foitrack.models import Authority, AuthoritySet
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
from foitrack.services.errors import Invalid, Problem

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
    "sets",
)
REQUIRED_COLUMNS = ("name", "kind")
MAX_FILE_BYTES = 5 * 1024 * 1024


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


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Invalid(
            f"the file is not UTF-8 text (byte {error.start + 1} cannot be read); "
            "in Excel use Save As > CSV UTF-8"
        ) from None


def _parse(text: str) -> tuple[list[_Row], list[Problem]]:
    problems: list[Problem] = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        header = next(reader, None)
    except csv.Error as error:
        raise Invalid(f"line 1: the CSV header cannot be read: {error}") from None
    if header is None:
        raise Invalid("the file is empty; the first line must name the columns")
    columns = [column.strip().lower() for column in header]
    unknown = [column for column in columns if column not in IMPORT_COLUMNS]
    for column in unknown:
        problems.append(
            Problem(f"unknown column {column!r}; columns are {', '.join(IMPORT_COLUMNS)}", line=1)
        )
    for column in REQUIRED_COLUMNS:
        if column not in columns:
            problems.append(Problem(f"the header has no {column!r} column", line=1))
    duplicated = sorted({column for column in columns if columns.count(column) > 1})
    for column in duplicated:
        problems.append(Problem(f"column {column!r} appears more than once", line=1))
    if problems:
        raise Invalid(problems)

    rows: list[_Row] = []
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(columns):
                problems.append(
                    Problem(f"has {len(record)} cells but the header has {len(columns)}", line=line)
                )
                continue
            cells = dict(zip(columns, record, strict=True))
            given = {column for column, cell in cells.items() if cell.strip()}
            values: dict[str, Any] = {
                column: clean_text(cells.get(column))
                for column in IMPORT_COLUMNS
                if column not in ("former_names", "sets")
            }
            values["former_names"] = split_names(cells.get("former_names", ""))
            values["short_name"] = values["short_name"] or values["name"]
            if not values["slug"] and values["name"]:
                values["slug"] = slugify(values["short_name"] or values["name"])
            sets = split_names(cells.get("sets", ""))
            for problem in check_values(values):
                if problem.field == "short_name" and "short_name" not in given:
                    continue
                problems.append(Problem(problem.message, problem.field, line))
            for slug in sets:
                if not SLUG_PATTERN.match(slug) or len(slug) > MAX_LENGTHS["slug"]:
                    problems.append(
                        Problem(f"{slug!r} is not a set name (lower-case, hyphens)", "sets", line)
                    )
            rows.append(_Row(line, values, given, sets))
    except csv.Error as error:
        problems.append(Problem(f"the CSV cannot be read: {error}", line=reader.line_num))
    if not rows and not problems:
        problems.append(Problem("the file has a header but no rows"))
    return rows, problems


def _match(session: Session, row: _Row) -> Authority | None:
    """The existing authority a row describes: by slug if given, else by name.

    A code alone never matches: a row with another body's code but a different name is more
    likely a mistake than a rename, so it is reported as a clash instead.
    """
    options = selectinload(Authority.sets)
    if "slug" in row.given:
        return session.scalar(
            select(Authority).where(Authority.slug == row.values["slug"]).options(options)
        )
    return session.scalar(
        select(Authority)
        .where(func.lower(Authority.name) == row.values["name"].lower())
        .options(options)
    )


def _former_name_of(session: Session, name: str) -> Authority | None:
    lowered = name.lower()
    for authority in session.scalars(select(Authority).where(Authority.former_names.is_not(None))):
        if any(former.lower() == lowered for former in authority.former_names or []):
            return authority
    return None


def _check_against_database(session: Session, rows: list[_Row]) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        row.existing = _match(session, row)
        for key in ("slug", "name", "code"):
            value = row.values.get(key)
            if not value:
                continue
            marker = (key, value.lower())
            if marker in seen:
                problems.append(
                    Problem(f"{value!r} is also on line {seen[marker]}", field=key, line=row.line)
                )
            else:
                seen[marker] = row.line
            if key == "slug" and row.existing is not None:
                continue
            column = getattr(Authority, key)
            clash = session.scalar(
                select(Authority).where(func.lower(column) == value.lower())
            )
            if clash is not None and clash is not row.existing:
                problems.append(
                    Problem(f"{value!r} is already used by {clash.name}", field=key, line=row.line)
                )
        if row.existing is None and row.values.get("name"):
            renamed = _former_name_of(session, row.values["name"])
            if renamed is not None:
                problems.append(
                    Problem(
                        f"{row.values['name']!r} is a former name of {renamed.name}; to update that "
                        f"authority give its slug ({renamed.slug}) in a slug column",
                        field="name",
                        line=row.line,
                    )
                )
        for slug in row.sets:
            found = session.scalar(select(AuthoritySet).where(AuthoritySet.slug == slug))
            if found is not None and found.builtin:
                problems.append(
                    Problem(
                        f"{slug!r} is a built-in set kept by `foitrack authorities load`; "
                        "choose another set name",
                        field="sets",
                        line=row.line,
                    )
                )
    return problems


def import_authorities(session: Session, actor: audit.Actor, source: BinaryIO) -> ImportReport:
    """Create or update authorities and sets from a CSV file.

    A row matching an existing authority (by slug if given, else by name) updates the cells it fills
    in; empty cells leave the authority as it is. Fields changed this way count as local
    edits and survive registry reloads.
    :raises Invalid: listing every problem by line and column; nothing is changed then.
    """
    data = source.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise Invalid(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    rows, problems = _parse(_decode(data))
    if problems:
        raise Invalid(problems)
    problems = _check_against_database(session, rows)
    if problems:
        raise Invalid(problems)

    report = ImportReport()
    sets: dict[str, AuthoritySet] = {}
    for row in rows:
        authority = _write_row(session, actor, row, report)
        for slug in row.sets:
            if slug not in sets:
                found = session.scalar(
                    select(AuthoritySet)
                    .where(AuthoritySet.slug == slug)
                    .options(selectinload(AuthoritySet.members))
                )
                if found is None:
                    found = AuthoritySet(slug=slug, title=slug.replace("-", " ").capitalize())
                    session.add(found)
                    session.flush()
                    audit.record(
                        session, actor, "authority_set", found.id, "create", None,
                        {"title": found.title},
                    )
                    report.sets_created.append(slug)
                sets[slug] = found
            target = sets[slug]
            if authority not in target.members:
                target.members.append(authority)
                session.flush()
                audit.record(
                    session, actor, "authority_set", target.id, "add_member", None,
                    {"authority": authority.slug},
                )
                report.memberships_added += 1
    return report


def _write_row(session: Session, actor: audit.Actor, row: _Row, report: ImportReport) -> Authority:
    fields = [
        "name", "kind", "code", "short_name", "former_names", "country", "region",
        "foi_email", "website", "note",
    ]
    existing = row.existing
    if existing is None:
        authority = Authority(slug=row.values["slug"], source="import", locally_edited=[])
        for name in fields:
            setattr(authority, name, row.values[name])
        session.add(authority)
        session.flush()
        audit.record(session, actor, "authority", authority.id, "create", None, authority.snapshot())
        report.created.append(authority.slug)
        return authority
    before = existing.snapshot()
    renamed_from = None
    for name in fields:
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
