"""Population estimates per authority, the denominators of rates per 100,000 people.

Two origins share the table. "registry": the ONS mid-year estimates shipped with the police
force registry (``POPULATION_FILE``), loaded and refreshed with the forces by
`foitrack authorities load`. "import": rows from `foitrack authorities population import`
(other years, councils, other bases such as children-0-17). An import replaces a row for the
same (authority, base, year) with another number only when asked to (``replace``), and makes
it an import; a registry reload never touches an imported row, so a user's newer or corrected
estimate survives the next load.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from foitrack.domain.csv_files import decode_upload, header_reader, records
from foitrack.errors import Invalid, NotFound, Problem
from foitrack.models import Authority, Population, Request
from foitrack.models.population import DEFAULT_BASE
from foitrack.paths import DATA_DIR
from foitrack.services import audit
from foitrack.services.authorities import SLUG_PATTERN

POPULATION_FILE = DATA_DIR / "police-force-area-population.csv"
FILE_COLUMNS = ("ons_code", "force", "year", "population", "source")
REGISTRY = "registry"
IMPORT = "import"

# Police Scotland and the PSNI have no police force area code: the shipped file gives their
# areas' ONS country codes, which name them here and in an imported file.
COUNTRY_CODES = {"S92000003": "scotland", "N92000002": "northern-ireland"}

# No rank by rate below this many residents. The City of London (8,000 to 13,000 residents)
# is the case: its recorded crime is mostly of and against the half a million who work in or
# visit it, so a rate per resident says little and would top every table.
MIN_RANKED_POPULATION = 100_000
SMALL_POPULATION_NOTE = ("resident population under 100,000: a rate per resident is not "
                         "meaningful for it")

IMPORT_COLUMNS = ("authority", "year", "population", "base", "source")
REQUIRED_COLUMNS = ("authority", "year", "population")
MIN_YEAR, MAX_YEAR = 1900, 2100
MAX_BASE_LENGTH = 50
MAX_SOURCE_LENGTH = 500
MAX_FILE_BYTES = 5 * 1024 * 1024


@dataclass
class LoadReport:
    """What loading the shipped estimates did, counted in rows."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    kept_imported: int = 0
    # ONS codes in the file with no authority loaded (a registry given with --file may lack some).
    no_authority: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.removed} removed; {self.kept_imported} imported estimates kept")
        if self.no_authority:
            text += f"; no authority for {', '.join(self.no_authority)}"
        return text


@dataclass
class ImportReport:
    """What an import did (or, on a dry run, would do), counted in rows."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # "west-mercia population 2018: 1,278,163 -> 1,000", one for each estimate replaced.
    replaced: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


@dataclass(frozen=True)
class PopulationRow:
    """One estimate as listed: whose, which base and year, how many, from where."""

    authority: str  # the authority's ONS code, or its slug when it has none
    slug: str
    name: str
    base: str
    year: int
    population: int
    source: str | None
    origin: str


def _snapshot(row: Population, slug: str) -> dict[str, Any]:
    return {"authority": slug, "base": row.base, "year": row.year, "population": row.population,
            "source": row.source, "origin": row.origin}


# ---- the shipped estimates -------------------------------------------------------------------


def read_shipped(path: Path = POPULATION_FILE) -> list[tuple[str, int, int, str]]:
    """(ONS code, year, population, source) for each row of the shipped file.

    :raises Invalid: naming the line and column of anything malformed.
    """
    rows: list[tuple[str, int, int, str]] = []
    problems: list[Problem] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != FILE_COLUMNS:
            raise Invalid(f"{path.name}: header must be {','.join(FILE_COLUMNS)}")
        for raw in reader:
            year = _whole_number(raw["year"], "year", reader.line_num, problems,
                                 MIN_YEAR, MAX_YEAR)
            population = _whole_number(raw["population"], "population", reader.line_num,
                                       problems, 1)
            if year is not None and population is not None:
                rows.append((raw["ons_code"].strip().upper(), year, population,
                             raw["source"].strip()))
    if problems:
        raise Invalid([Problem(f"{path.name}: {p.message}", p.field, p.line) for p in problems])
    return rows


def load_shipped(session: Session, actor: audit.Actor, path: Path = POPULATION_FILE) -> LoadReport:
    """Create or refresh the registry's estimates from the shipped file; safe to run again.

    Imported rows for the same authority, base and year are kept as they are; registry rows
    the file no longer holds are removed. Audited like any write, so cached pages see it.
    :raises Invalid: when the file is malformed; nothing is changed then.
    """
    shipped = read_shipped(path)
    report = LoadReport()
    by_key = _authority_ids(session)
    existing = {(row.authority_id, row.year): row for row in session.scalars(
        select(Population).where(Population.base == DEFAULT_BASE))}
    slugs = {authority_id: slug for (kind, _key), (authority_id, slug) in by_key.items()
             if kind == "slug"}
    created: list[Population] = []
    wanted: set[tuple[int, int]] = set()
    for code, year, population, source in shipped:
        found = _find(by_key, code)
        if found is None:
            if code not in report.no_authority:
                report.no_authority.append(code)
            continue
        authority_id, slug = found
        wanted.add((authority_id, year))
        row = existing.get((authority_id, year))
        if row is None:
            row = Population(authority_id=authority_id, base=DEFAULT_BASE, year=year,
                             population=population, source=source, origin=REGISTRY)
            session.add(row)
            created.append(row)
        elif row.origin != REGISTRY:
            report.kept_imported += 1
        elif (row.population, row.source) == (population, source):
            report.unchanged += 1
        else:
            before = _snapshot(row, slug)
            row.population, row.source = population, source
            session.flush()
            audit.record(session, actor, "population", row.id, "update",
                         *audit.changed_fields(before, _snapshot(row, slug)))
            report.updated += 1
    for key, row in existing.items():
        if key not in wanted and row.origin == REGISTRY:
            audit.record(session, actor, "population", row.id, "delete",
                         _snapshot(row, slugs.get(row.authority_id, "")), None)
            session.delete(row)
            report.removed += 1
    if created:
        session.flush()
        # One batched insert of the audit entries: the first load writes ~300 rows.
        audit.record_many(session, actor, "population", "create",
                          [(row.id, _snapshot(row, slugs[row.authority_id])) for row in created])
        report.created = len(created)
    session.flush()
    return report


def _authority_ids(session: Session) -> dict[tuple[str, str], tuple[int, str]]:
    """Every authority's (id, slug) by ("code", its ONS code in capitals) and ("slug", slug)."""
    found: dict[tuple[str, str], tuple[int, str]] = {}
    for authority_id, slug, code in session.execute(
            select(Authority.id, Authority.slug, Authority.code)):
        found[("slug", slug)] = (authority_id, slug)
        if code:
            found[("code", code.strip().upper())] = (authority_id, slug)
    return found


def _find(by_key: dict[tuple[str, str], tuple[int, str]], cell: str) -> tuple[int, str] | None:
    """An authority by ONS code (any case), country code (Scotland, Northern Ireland) or slug."""
    code = cell.strip().upper()
    return (by_key.get(("code", code)) or by_key.get(("slug", COUNTRY_CODES.get(code, "")))
            or by_key.get(("slug", cell.strip().lower())))


# ---- importing a file ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    line: int
    authority_id: int
    slug: str
    base: str
    year: int
    population: int
    source: str | None


def import_populations(session: Session, actor: audit.Actor, data: bytes,
                       replace: bool = False) -> ImportReport:
    """Add estimates from a CSV file (columns ``IMPORT_COLUMNS``, base and source optional):
    all or nothing. With ``replace``, a row also replaces another number held for its
    authority, base and year (the shipped ones included) and marks it imported; without it,
    such a row is refused: a mistyped 1,000 would otherwise quietly replace the ONS estimate
    every rate of that force is worked out on.

    :raises Invalid: listing every problem by line and column; nothing is changed then.
    """
    if len(data) > MAX_FILE_BYTES:
        raise Invalid(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    by_key = _authority_ids(session)
    problems: list[Problem] = []
    rows: list[_Row] = []
    seen: dict[tuple[int, str, int], int] = {}
    for line, cells in records(decode_upload(data), _read_header, problems):
        row = _import_row(by_key, {column: cell.strip() for column, cell in cells.items()},
                          line, problems)
        if row is None:
            continue
        key = (row.authority_id, row.base, row.year)
        if key in seen:
            problems.append(Problem(f"{row.slug} {row.base} {row.year} is also on line "
                                    f"{seen[key]}", "year", line))
            continue
        seen[key] = line
        rows.append(row)
    if not rows and not problems:
        problems.append(Problem("the file has a header but no rows"))
    existing = {(p.authority_id, p.base, p.year): p for p in session.scalars(
        select(Population).where(Population.authority_id.in_({row.authority_id for row in rows})))}
    if not replace:
        for row in rows:
            held = existing.get((row.authority_id, row.base, row.year))
            if held is not None and held.population != row.population:
                problems.append(Problem(
                    f"{row.slug} {row.base} {row.year} is already {held.population:,} "
                    f"({held.source or held.origin}); to change it to {row.population:,}, "
                    "import with --replace", "population", seen[
                        (row.authority_id, row.base, row.year)]))
    if problems:
        raise Invalid(sorted(problems, key=lambda p: p.line or 0))
    report = ImportReport()
    for row in rows:
        found = existing.get((row.authority_id, row.base, row.year))
        if found is None:
            found = Population(authority_id=row.authority_id, base=row.base, year=row.year,
                               population=row.population, source=row.source, origin=IMPORT)
            session.add(found)
            session.flush()
            audit.record(session, actor, "population", found.id, "create", None,
                         _snapshot(found, row.slug))
            report.created += 1
            continue
        if found.population == row.population and row.source in (None, found.source):
            report.unchanged += 1  # the same number: the estimate stays as it came
            continue
        before = _snapshot(found, row.slug)
        if found.population != row.population:
            report.replaced.append(f"{row.slug} {row.base} {row.year}: "
                                   f"{found.population:,} -> {row.population:,}")
        found.population, found.source, found.origin = row.population, row.source, IMPORT
        old, new = audit.changed_fields(before, _snapshot(found, row.slug))
        if new:
            session.flush()
            audit.record(session, actor, "population", found.id, "update", old, new)
            report.updated += 1
        else:
            report.unchanged += 1
    session.flush()
    return report


_read_header = header_reader(IMPORT_COLUMNS, REQUIRED_COLUMNS,
                             "the columns are authority,year,population and, if wanted, base "
                             "and source")


def _import_row(by_key: dict[tuple[str, str], tuple[int, str]], cells: dict[str, str],
                line: int, problems: list[Problem]) -> _Row | None:
    found_before = len(problems)
    for column in REQUIRED_COLUMNS:
        if not cells[column]:
            problems.append(Problem("is required", column, line))
    authority = None
    if cells["authority"]:
        authority = _find(by_key, cells["authority"])
        if authority is None:
            problems.append(Problem(f"no authority with the ONS code or slug "
                                    f"{cells['authority']!r}", "authority", line))
    year = (_whole_number(cells["year"], "year", line, problems, MIN_YEAR, MAX_YEAR)
            if cells["year"] else None)
    population = (_whole_number(cells["population"], "population", line, problems, 1)
                  if cells["population"] else None)
    base = cells.get("base") or DEFAULT_BASE
    if len(base) > MAX_BASE_LENGTH or not SLUG_PATTERN.match(base):
        problems.append(Problem(f"{base!r} is not a base's name (lower case, letters, digits and "
                                f"hyphens, at most {MAX_BASE_LENGTH} characters, such as "
                                "population or children-0-17)", "base", line))
    source = " ".join((cells.get("source") or "").split()) or None
    if source is not None and len(source) > MAX_SOURCE_LENGTH:
        problems.append(Problem(f"is longer than {MAX_SOURCE_LENGTH} characters", "source", line))
    if len(problems) > found_before or authority is None or year is None or population is None:
        return None
    return _Row(line, authority[0], authority[1], base, year, population, source)


def _whole_number(cell: str, column: str, line: int, problems: list[Problem], least: int,
                  most: int | None = None) -> int | None:
    """A whole number cell ("1,234,567" as written in a spreadsheet too), within its range."""
    text = cell.strip().replace(",", "")
    if not text.isascii() or not text.isdigit():
        problems.append(Problem(f"{cell.strip()!r} is not a whole number", column, line))
        return None
    number = int(text)
    if number < least or (most is not None and number > most):
        problems.append(Problem(f"{number} is out of range ({least} to {most})" if most
                                else f"must be at least {least}", column, line))
        return None
    return number


# ---- reading ---------------------------------------------------------------------------------


def list_populations(session: Session, authority: str | None = None,
                     base: str | None = None) -> list[PopulationRow]:
    """Every estimate, by authority name, base and year; of one authority (ONS code, country
    code or slug) or base if given. :raises NotFound: for no such authority."""
    query = (select(Population, Authority.slug, Authority.code, Authority.name)
             .join(Authority, Authority.id == Population.authority_id)
             .order_by(Authority.name, Population.base, Population.year))
    if authority:
        found = _find(_authority_ids(session), authority)
        if found is None:
            raise NotFound(f"no authority with the ONS code or slug {authority!r}")
        query = query.where(Population.authority_id == found[0])
    if base:
        query = query.where(Population.base == base)
    return [PopulationRow(code or slug, slug, name, row.base, row.year, row.population,
                          row.source, row.origin)
            for row, slug, code, name in session.execute(query)]


# (authority id, base) -> {year: population}
Estimates = dict[tuple[int, str], dict[int, int]]


def campaign_estimates(session: Session, campaign_id: int, bases: Collection[str],
                       authority_ids: Sequence[int] | None = None) -> Estimates:
    """The estimates of ``bases`` for the authorities a campaign asked (of ``authority_ids``
    if given): one query, the small population table joined to the requests."""
    if not bases:
        return {}
    query = (select(Population.authority_id, Population.base, Population.year,
                    Population.population)
             .join(Request, Request.authority_id == Population.authority_id)
             .where(Request.campaign_id == campaign_id, Population.base.in_(sorted(bases))))
    if authority_ids is not None:
        query = query.where(Population.authority_id.in_(authority_ids))
    estimates: Estimates = {}
    for authority_id, base, year, population in session.execute(query):
        estimates.setdefault((authority_id, base), {})[year] = int(population)
    return estimates
