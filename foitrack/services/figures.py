"""Figures: entering them (a request's grid, a tidy CSV), checking them, and exporting them."""

from __future__ import annotations

import csv
import io
import operator
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, BinaryIO, TextIO, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session, selectinload

from foitrack.db import driver_converter, driver_insert, utcnow
from foitrack.domain.csv_files import decode_upload
from foitrack.domain.csv_safety import unprotect
from foitrack.domain.design import CampaignDesign
from foitrack.domain.figure_values import FigureValue, NotAFigure, ValueKind, parse, value_text
from foitrack.errors import Conflict, Forbidden, Invalid, NotFound, Problem
from foitrack.models import (
    Authority,
    Campaign,
    Category,
    Dimension,
    Figure,
    Measure,
    Period,
    Request,
    StoredFile,
    User,
)
from foitrack.models.authority import casefold as _casefold
from foitrack.services import audit, removed_figures
from foitrack.services.authority_names import AuthorityNames
from foitrack.services.locks import hold_campaign_requests
from foitrack.services.requests import campaign_requests

# Pure, and asked again for every row of a large import: the same few labels each time.
casefold = lru_cache(maxsize=4096)(_casefold)

# Scripts rely on these columns, in this order.
CSV_COLUMNS = ("authority", "measure", "period", "dimension", "category", "value", "caveat", "source")
MAX_TEXT = 5000


@dataclass(frozen=True)
class Entry:
    """One figure as given: keys from the campaign file, the value as the authority wrote it."""

    measure: str
    period: str
    dimension: str | None
    category: str | None
    value: str
    caveat: str | None = None
    source: str | None = None
    # Where it came from in the input, for messages: a grid cell id, or a CSV line.
    cell: str | None = None
    line: int | None = None


@dataclass
class SaveReport:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    unchecked: int = 0  # changed figures whose check was cleared
    # The requests whose figures were given, changed or not: what a warning looks at.
    request_ids: set[int] = field(default_factory=set)

    def add(self, other: SaveReport) -> None:
        """Count ``other`` in too (several files or requests make one report)."""
        self.request_ids |= other.request_ids
        self.created += other.created
        self.changed += other.changed
        self.unchanged += other.unchanged
        self.removed += other.removed
        self.unchecked += other.unchecked

    def summary(self) -> str:
        text = (f"{self.created} new, {self.changed} changed, {self.unchanged} unchanged"
                + (f", {self.removed} removed" if self.removed else ""))
        if self.unchecked:
            text += f"; {self.unchecked} changed figures need checking again"
        return text


@dataclass
class DesignIndex:
    """A campaign's design, for turning keys and labels into rows."""

    campaign: Campaign
    measures: dict[str, Measure] = field(default_factory=dict)
    periods: dict[str, Period] = field(default_factory=dict)
    dimensions: dict[str, Dimension] = field(default_factory=dict)
    categories: dict[tuple[str, str], Category] = field(default_factory=dict)

    @classmethod
    def of(cls, campaign: Campaign) -> DesignIndex:
        index = cls(campaign)
        index.measures = {m.key: m for m in campaign.measures}
        index.periods = {p.key: p for p in campaign.periods}
        index.dimensions = {d.key: d for d in campaign.dimensions}
        index.categories = {(d.key, casefold(c.label)): c
                            for d in campaign.dimensions for c in d.categories}
        return index

    def resolve(self, entry: Entry) -> tuple[tuple[Measure, Period, Category | None] | None,
                                              list[Problem]]:
        problems = []
        measure = self.measures.get(entry.measure)
        if measure is None:
            problems.append(self._problem(entry, "measure", f"no measure {entry.measure!r}; the "
                                          f"campaign has {', '.join(self.measures) or 'none'}"))
        period = self.periods.get(entry.period)
        if period is None:
            problems.append(self._problem(entry, "period", f"no period {entry.period!r}; the "
                                          f"campaign has {', '.join(self.periods) or 'none'}"))
        category = None
        if entry.dimension or entry.category:
            if not entry.dimension or entry.dimension not in self.dimensions:
                problems.append(self._problem(
                    entry, "dimension",
                    f"no dimension {entry.dimension or ''!r}; the campaign has "
                    f"{', '.join(self.dimensions) or 'none'} (leave dimension and category empty "
                    "for a total)"))
            else:
                category = self.categories.get((entry.dimension, casefold(entry.category or "")))
                if category is None:
                    labels = [c.label for c in self.dimensions[entry.dimension].categories]
                    problems.append(self._problem(
                        entry, "category", f"{entry.category or ''!r} is not a category of "
                        f"{entry.dimension!r}: {', '.join(labels)}"))
        if problems:
            return None, problems
        assert measure is not None and period is not None
        return (measure, period, category), []

    @staticmethod
    def _problem(entry: Entry, column: str, message: str) -> Problem:
        if entry.line is not None:
            return Problem(message, column, entry.line)
        return Problem(message, entry.cell or column)


def grid_entry(measure: Measure, period: Period, category: Category | None, text: str,
               figure: Figure | None, caveat: str | None, source: str | None,
               threshold: int | None, cell: str) -> Entry:
    """One grid cell as an entry. The form's caveat and source go only on figures that are new
    or whose value changed: a figure left as it was keeps its own caveat and source."""
    unchanged = False
    if figure is not None and text.strip():
        try:
            unchanged = parse(text, threshold) == figure.figure_value
        except NotAFigure:
            unchanged = False
    if unchanged and figure is not None:
        caveat, source = figure.caveat, figure.source
    elif figure is not None:
        caveat, source = (caveat or figure.caveat), (source or figure.source)
    return Entry(measure.key, period.key, category.dimension.key if category else None,
                 category.label if category else None, text, caveat, source, cell=cell)


def figures_of(session: Session, request: Request) -> dict[tuple[int, int, int | None], Figure]:
    """A request's figures by (measure id, period id, category id or None)."""
    found = session.scalars(select(Figure).where(Figure.request_id == request.id)
                            .options(selectinload(Figure.source_file)))
    return {(f.measure_id, f.period_id, f.category_id): f for f in found}


def _clean(text: str | None, entry: Entry, column: str, problems: list[Problem]) -> str | None:
    text = (text or "").strip() or None
    if text and len(text) > MAX_TEXT:
        problems.append(DesignIndex._problem(entry, column, f"is longer than {MAX_TEXT} characters"))
    return text


def _check_entry(index: DesignIndex, entry: Entry, threshold: int | None, problems: list[Problem]
                 ) -> tuple[tuple[Measure, Period, Category | None] | None, FigureValue | None,
                            str | None, str | None]:
    """One entry checked against the design: its cell, its value (None when blank), caveat and
    source; what is wrong is added to ``problems``."""
    target, found = index.resolve(entry)
    problems += found
    value: FigureValue | None = None
    if entry.value.strip():
        try:
            value = parse(entry.value, threshold)
        except NotAFigure as error:
            problems.append(DesignIndex._problem(entry, "value", str(error)))
    caveat = _clean(entry.caveat, entry, "caveat", problems)
    source = _clean(entry.source, entry, "source", problems)
    return target, value, caveat, source


def save_figures(
    session: Session,
    actor: audit.Actor,
    request: Request,
    entries: Sequence[Entry],
    *,
    remove_blank: bool = False,
    user: User | None = None,
    existing: dict[tuple[int, int, int | None], Figure] | None = None,
    source_file: StoredFile | None = None,
) -> SaveReport:
    """Set a request's figures. All or nothing: any bad entry and nothing is saved.

    An entry with an empty value removes that figure when ``remove_blank`` (a cleared grid
    cell) and is skipped otherwise. Changing a checked figure clears its check.
    :raises Invalid: naming each bad cell or line and column.
    """
    index = DesignIndex.of(request.campaign)
    threshold = request.campaign.suppression_threshold
    problems: list[Problem] = []
    planned: list[tuple[Entry, tuple[Measure, Period, Category | None], FigureValue | None,
                        str | None, str | None]] = []
    for entry in entries:
        target, value, caveat, source = _check_entry(index, entry, threshold, problems)
        if target is not None:
            planned.append((entry, target, value, caveat, source))
    if problems:
        raise Invalid(problems)

    figures = existing if existing is not None else figures_of(session, request)
    report = SaveReport(request_ids={request.id})
    created: list[Figure] = []
    updated: list[tuple[Figure, dict[str, Any]]] = []
    for _entry, (measure, period, category), value, caveat, source in planned:
        key = (measure.id, period.id, category.id if category else None)
        figure = figures.get(key)
        if value is None:
            if figure is not None and remove_blank:
                removed_figures.record_removal(session, actor, figure)
                session.delete(figure)
                del figures[key]
                report.removed += 1
            continue
        if figure is None:
            figure = Figure(request=request, measure=measure, period=period, category=category,
                            caveat=caveat, source=source, entered_by=actor.label,
                            entered_by_user_id=user.id if user else None, source_file=source_file)
            figure.set_value(value)
            session.add(figure)
            figures[key] = figure
            created.append(figure)
            report.created += 1
            continue
        before = figure.snapshot()
        if (figure.figure_value, figure.caveat, figure.source) == (value, caveat, source):
            report.unchanged += 1
            continue
        report.unchecked += _change(figure, value, caveat, source, actor, user, source_file)
        updated.append((figure, before))
        report.changed += 1
    # One flush for the lot (ids for the audit trail), not one per figure.
    session.flush()
    for figure in created:
        audit.record(session, actor, "figure", figure.id, "create", None, figure.snapshot())
    for figure, before in updated:
        old, new = audit.changed_fields(before, figure.snapshot())
        audit.record(session, actor, "figure", figure.id, "update", old, new)
    return report


def _change(figure: Figure, value: FigureValue, caveat: str | None, source: str | None,
            actor: audit.Actor, user: User | None, source_file: StoredFile | None) -> bool:
    """Give a figure a new value, caveat and source; True when that cleared its check."""
    unchecked = False
    if figure.figure_value != value and figure.checked_by:
        # A checked number that changes must be checked again.
        figure.checked_by, figure.checked_at = None, None
        unchecked = True
    figure.set_value(value)
    figure.caveat, figure.source = caveat, source
    if source_file is not None:
        figure.source_file = source_file
    figure.entered_by = actor.label
    figure.entered_by_user_id = user.id if user else None
    return unchecked


def check_figures(session: Session, actor: audit.Actor, figures: Iterable[Figure], user: User,
                  seen: Mapping[int, str] | None = None) -> int:
    """Mark figures checked. The checker must not be the one who entered them.

    ``seen`` is each figure's value as the checker's page showed it (by figure id): a figure
    changed or added since then is not theirs to vouch for, so nothing is marked.
    :raises Forbidden: naming the first figure the user entered themselves.
    :raises Conflict: naming the figures that changed since the checker's page was drawn.
    """
    figures = list(figures)
    if seen is not None:
        changed = [f for f in figures if not f.checked_by and seen.get(f.id) != f.figure_value.text]
        if changed:
            names = ", ".join(f"{f.measure.key} {f.period.key} "
                              f"{f.category.label if f.category else 'total'} (now {f.figure_value.text})"
                              for f in changed)
            raise Conflict(f"{len(changed)} figure{'s' if len(changed) != 1 else ''} changed or "
                           f"came in since your page was drawn: {names}; look at them again")
    count = 0
    for figure in figures:
        if figure.checked_by:
            continue
        if figure.entered_by_user_id == user.id:
            raise Forbidden("a second researcher must check a figure: you entered "
                            f"{figure.measure.key} {figure.period.key} "
                            f"{figure.category.label if figure.category else 'total'} yourself")
        figure.checked_by, figure.checked_at = user.email, utcnow()
        audit.record(session, actor, "figure", figure.id, "check", None, {"checked_by": user.email})
        count += 1
    session.flush()
    return count


# ---- authorities by any name they go by -------------------------------------------------


@dataclass
class AuthorityIndex:
    """A campaign's requests by their authority's code, slug, name, short name or former name."""

    names: AuthorityNames[Request]

    @classmethod
    def of(cls, requests: Iterable[Request]) -> AuthorityIndex:
        return cls(AuthorityNames((request.authority, request) for request in requests))

    def find(self, text: str) -> Request | str:
        """The request for this authority, or why none could be chosen.

        No guessing at spellings: nothing previews a bulk import before it is written.
        """
        found = self.names.by_key(text)
        if found is None:
            found = self.names.by_name(text)
        if found is not None:
            return found
        matches = self.names.by_words(text)
        if len({id(m) for m in matches}) == 1:
            return matches[0]
        if matches:
            return f"{text!r} could be {' or '.join(m.authority.name for m in matches)}"
        return f"{text!r} is not an authority in this campaign"


def import_csv(session: Session, actor: audit.Actor, campaign: Campaign, source: BinaryIO,
               user: User | None = None) -> SaveReport:
    """Figures from a tidy CSV (CSV_COLUMNS). One bad row and nothing is imported.

    Rows are checked and written in batches as the file is read, so a file of a million rows
    never has a million rows in memory. After the first problem nothing more is written and
    the rest of the file is only checked; the caller rolls back on ``Invalid``, as on any
    domain error, so what was written before it goes too.
    :raises Invalid: naming each line and column.
    """
    # Any of the campaign's requests may be written: all held (by id) before the figures are
    # read, so a grid save meanwhile waits instead of being overwritten or hitting the
    # one-figure-a-cell index, and no figure read below is gone when its change is written.
    hold_campaign_requests(session, campaign)
    reader, header = _open_csv(source.read())
    rows = _CsvRows(session, actor, campaign, user, header)
    line = 2
    try:
        for record in reader:
            start, line = line, reader.line_num + 1
            rows.take(start, record)
    except csv.Error as error:
        rows.problems.append(Problem(f"the CSV cannot be read: {error}", line=line))
    if rows.problems:
        raise Invalid(sorted(rows.problems, key=lambda p: (p.line or 0)))
    return rows.writer.finish()


def _open_csv(data: bytes) -> tuple[Any, list[str]]:
    """A reader over the file's rows after its header, and the header, checked.

    :raises Invalid: for a file that is not UTF-8 text or whose header is not CSV_COLUMNS.
    """
    decode_upload(data)  # the whole file is text, or a message naming the byte or line
    # Decoded as it is read (a StringIO of the whole file would take four bytes a character).
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=""),
                        strict=True)
    try:
        header = [c.strip().lower() for c in next(reader, [])]
    except csv.Error as error:
        raise Invalid(f"line 1: the header cannot be read: {error}") from None
    missing = [c for c in CSV_COLUMNS if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if missing or unknown:
        raise Invalid([Problem(f"the header needs the columns {','.join(CSV_COLUMNS)}"
                               + (f"; missing {', '.join(missing)}" if missing else "")
                               + (f"; unknown {', '.join(unknown)}" if unknown else ""), line=1)])
    return reader, header


class _CsvRows:
    """The rows of a figures CSV, checked one at a time and written while none has a problem.

    A million rows name the same few authorities, cells and values: each is looked up once.
    """

    def __init__(self, session: Session, actor: audit.Actor, campaign: Campaign,
                 user: User | None, header: list[str]) -> None:
        requests = campaign_requests(session, campaign)
        self.header = header
        self.authorities = AuthorityIndex.of(requests)
        self.index = DesignIndex.of(campaign)
        self.threshold = campaign.suppression_threshold
        self.lines = _CellLines(CampaignDesign.of(campaign), requests)
        self.in_order = operator.itemgetter(*(header.index(c) for c in CSV_COLUMNS))
        self.resolved: dict[tuple[str, str, str, str], _Cell] = {}
        self.values: dict[str, FigureValue] = {}
        self.writer = _BulkWriter(session, actor, campaign, user)
        self.found_by_name: dict[str, Request | str] = {}
        self.problems: list[Problem] = []

    def take(self, start: int, record: list[str]) -> None:
        """Check the row that starts on line ``start``; write it if nothing is wrong so far."""
        cells = [cell.strip() for cell in record]
        if not any(cells):
            return
        if len(record) != len(self.header):
            self.problems.append(Problem(f"has {len(record)} cells but the header has "
                                         f"{len(self.header)}", line=start))
            return
        if "'" in "".join(cells):
            cells = [unprotect(cell) for cell in cells]
        (name, measure_key, period_key, dimension_key, category_label, value_text_,
         caveat_text, source_text) = self.in_order(cells)
        found = self._request(name)
        if isinstance(found, str):
            self.problems.append(Problem(found, "authority", start))
            return
        checked: list[Problem] = []
        cell_key = (measure_key, period_key, dimension_key, casefold(category_label))
        cell = self._cell(cell_key, category_label, value_text_, start, checked)
        value = self._value(value_text_, start, checked)
        for column, text in (("caveat", caveat_text), ("source", source_text)):
            if len(text) > MAX_TEXT:
                checked.append(Problem(f"is longer than {MAX_TEXT} characters", column, start))
        if cell is not None:
            earlier = self.lines.see(found.id, cell, start)
        else:
            earlier = self.lines.see_unresolved((found.id, *cell_key), start)
        if earlier is not None:
            self.problems.append(Problem(f"the same figure is also on line {earlier}", "value",
                                         start))
        self.problems += checked
        if not self.problems and cell is not None and value is not None:
            self.writer.add(found.id, cell.measure_id, cell.period_id, cell.category_id, value,
                            caveat_text or None, source_text or None)

    def _request(self, name: str) -> Request | str:
        found = self.found_by_name.get(name)
        if found is None:
            found = self.found_by_name[name] = self.authorities.find(name)
        return found

    def _cell(self, cell_key: tuple[str, str, str, str], category_label: str, value: str,
              start: int, checked: list[Problem]) -> _Cell | None:
        """The grid cell a row names; what is wrong with its keys goes to ``checked``."""
        cell = self.resolved.get(cell_key)
        if cell is None:
            measure_key, period_key, dimension_key, _ = cell_key
            entry = Entry(measure_key, period_key, dimension_key or None,
                          category_label or None, value, line=start)
            target, found_problems = self.index.resolve(entry)
            checked += found_problems
            if target is not None:
                cell = self.resolved[cell_key] = self.lines.cell(*target)
        return cell

    def _value(self, text: str, start: int, checked: list[Problem]) -> FigureValue | None:
        """The row's figure; an empty one is a problem at once, one that does not parse is
        ``checked``."""
        if not text:
            self.problems.append(Problem(f"is empty; write {'a whole number, <N, A-B, not recorded'}"
                                         "...", "value", start))
            return None
        value = self.values.get(text)
        if value is None:
            try:
                value = parse(text, self.threshold)
            except NotAFigure as error:
                checked.append(Problem(str(error), "value", start))
            else:
                if len(self.values) < 10_000:
                    self.values[text] = value
        return value


@dataclass(frozen=True)
class _Cell:
    """A cell of the campaign's grid: its ids, and where it sits among one request's cells."""

    measure_id: int
    period_id: int
    category_id: int | None
    offset: int


class _CellLines:
    """The line each cell of the campaign's grid was last given on, to find a figure given
    twice: four bytes a cell of the design, however long the file."""

    def __init__(self, design: CampaignDesign, requests: Sequence[Request]) -> None:
        # Offsets in the design's canonical order of cells (CampaignDesign.cells).
        self.requests = {r.id: n for n, r in enumerate(requests)}
        self.measures = {m.id: n for n, m in enumerate(design.measures)}
        self.periods = {p.id: n for n, p in enumerate(design.periods)}
        self.categories = {c.id: n + 1 for n, c in enumerate(
            c for b in design.breakdowns for c in b.categories)}
        self.size = design.cell_count()
        self.seen = array("I", [0]) * (len(self.requests) * self.size)
        # Rows whose cell is not in the design (already a problem), by their text.
        self.unresolved: dict[tuple[Any, ...], int] = {}

    def cell(self, measure: Measure, period: Period, category: Category | None) -> _Cell:
        offset = ((self.measures[measure.id] * len(self.periods) + self.periods[period.id])
                  * (len(self.categories) + 1) + (self.categories[category.id] if category else 0))
        return _Cell(measure.id, period.id, category.id if category else None, offset)

    def see(self, request_id: int, cell: _Cell, line: int) -> int | None:
        """Note the line; the line this cell was last given on before, if any."""
        at = self.requests[request_id] * self.size + cell.offset
        earlier = self.seen[at]
        self.seen[at] = line
        return earlier or None

    def see_unresolved(self, key: tuple[Any, ...], line: int) -> int | None:
        earlier = self.unresolved.get(key)
        self.unresolved[key] = line
        return earlier


_BATCH = 5000
_NEW_FIGURE_COLUMNS = ("request_id", "measure_id", "period_id", "category_id", "kind", "value",
                       "lower", "upper", "exemption", "caveat", "source")


def _driver_values(session: Session, table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """Values as the driver takes them for these columns (each column type's conversion)."""
    dialect = session.get_bind().dialect
    return {name: driver_converter(table, name, dialect)(value) if value is not None else value
            for name, value in values.items()}


def _kind_values(session: Session) -> dict[ValueKind, Any]:
    dialect = session.get_bind().dialect
    process = Figure.__table__.c.kind.type.dialect_impl(dialect).bind_processor(dialect)
    return {kind: process(kind) if process else kind.value for kind in ValueKind}


class _BulkWriter:
    """Writes checked rows in batches: new figures and their audit entries with executemany
    (a large import is mostly new figures), changed ones through their objects as
    save_figures does."""

    def __init__(self, session: Session, actor: audit.Actor, campaign: Campaign,
                 user: User | None) -> None:
        self.session, self.actor, self.user = session, actor, user
        self.campaign_id = campaign.id
        self.report = SaveReport()
        self.now = utcnow()
        self.existing = {
            (request_id, measure_id, period_id, category_id): (figure_id, FigureValue(
                ValueKind(kind), value, lower, upper, exemption), caveat, source)
            for (figure_id, request_id, measure_id, period_id, category_id, kind, value, lower,
                 upper, exemption, caveat, source) in session.execute(
                select(Figure.id, Figure.request_id, Figure.measure_id, Figure.period_id,
                       Figure.category_id, Figure.kind, Figure.value, Figure.lower, Figure.upper,
                       Figure.exemption, Figure.caveat, Figure.source)
                .join(Request, Request.id == Figure.request_id)
                .where(Request.campaign_id == campaign.id))
        }
        self.new: dict[tuple[int, int, int, int | None], tuple[FigureValue, str | None,
                                                                 str | None]] = {}
        self.changes: dict[int, tuple[FigureValue, str | None, str | None]] = {}

    def add(self, request_id: int, measure_id: int, period_id: int, category_id: int | None,
            value: FigureValue, caveat: str | None, source: str | None) -> None:
        key = (request_id, measure_id, period_id, category_id)
        self.report.request_ids.add(request_id)
        old = self.existing.get(key) if self.existing else None
        if old is None:
            self.new[key] = (value, caveat, source)
            if len(self.new) >= _BATCH:
                self._write_new()
        elif old[1:] == (value, caveat, source):
            self.report.unchanged += 1
        else:
            self.changes[old[0]] = (value, caveat, source)
            if len(self.changes) >= _BATCH:
                self._write_changes()

    def finish(self) -> SaveReport:
        self._write_new()
        self._write_changes()
        return self.report

    def _write_new(self) -> None:
        if not self.new:
            return
        session, label = self.session, self.actor.label
        user_id = self.user.id if self.user else None
        # Plain executemany, not INSERT ... RETURNING: SQLite can only return ids in order one
        # row a statement. The batch's ids are read back by cell: ids only grow, so they are
        # those above the largest before it (a range of the primary key, not a scan).
        last = session.scalar(select(func.max(Figure.id))) or 0
        table = cast(Table, Figure.__table__)  # a mapped class's table is a Table
        constants = _driver_values(session, table, {
            "entered_by": label, "entered_by_user_id": user_id, "entered_at": self.now,
            "updated_at": self.now})
        kinds = _kind_values(session)
        # Straight to the driver's executemany, the values already in its terms: SQLAlchemy's
        # per-row parameter processing took twice as long as the inserts themselves.
        driver_insert(session.connection(), table, (*_NEW_FIGURE_COLUMNS, *constants), [
            (request_id, measure_id, period_id, category_id, kinds[value.kind], value.value,
             value.lower, value.upper, value.exemption, caveat, source, *constants.values())
            for (request_id, measure_id, period_id, category_id), (value, caveat, source)
            in self.new.items()])
        created: list[tuple[object, dict[str, Any]]] = []
        for figure_id, *cell in session.execute(
                select(Figure.id, Figure.request_id, Figure.measure_id, Figure.period_id,
                       Figure.category_id).where(Figure.id > last)):
            row = self.new.get(tuple(cell))  # type: ignore[arg-type]
            if row is not None:
                value, caveat, source = row
                created.append((figure_id, {"value": value.text, "caveat": caveat,
                                            "source": source, "checked_by": None}))
        audit.record_many(session, self.actor, "figure", "create", created, at=self.now,
                          campaign_id=self.campaign_id)
        self.report.created += len(self.new)
        self.new = {}

    def _write_changes(self) -> None:
        if not self.changes:
            return
        session, report = self.session, self.report
        updated: list[tuple[Figure, dict[str, Any]]] = []
        for figure in session.scalars(select(Figure).where(Figure.id.in_(list(self.changes)))):
            value, caveat, source = self.changes[figure.id]
            before = figure.snapshot()
            report.unchecked += _change(figure, value, caveat, source, self.actor, self.user,
                                        None)
            updated.append((figure, before))
            report.changed += 1
        session.flush()
        for figure, before in updated:
            old_fields, new_fields = audit.changed_fields(before, figure.snapshot())
            audit.record(session, self.actor, "figure", figure.id, "update", old_fields,
                         new_fields)
        self.changes = {}


def export_rows(session: Session, campaign: Campaign) -> list[dict[str, str]]:
    """Every figure of the campaign as CSV_COLUMNS rows, in a stable order."""
    return [dict(zip(CSV_COLUMNS, row, strict=True)) for row in export_tuples(session, campaign)]


def export_tuples(session: Session, campaign: Campaign) -> Iterator[tuple[str, ...]]:
    """The same rows as tuples in CSV_COLUMNS order: one query, plain columns, no ORM objects."""
    query = (
        select(Authority.code, Authority.name, Measure.key, Period.key, Dimension.key,
               Category.label, Figure.kind, Figure.value, Figure.lower, Figure.upper,
               Figure.exemption, Figure.caveat, Figure.source)
        .join(Request, Request.id == Figure.request_id)
        .join(Authority, Authority.id == Request.authority_id)
        .join(Measure, Measure.id == Figure.measure_id)
        .join(Period, Period.id == Figure.period_id)
        .outerjoin(Category, Figure.category_id == Category.id)
        .outerjoin(Dimension, Category.dimension_id == Dimension.id)
        .where(Request.campaign_id == campaign.id)
        .order_by(Authority.name, Measure.position, Period.position,
                  Dimension.position.nulls_first(), Category.position.nulls_first())
        .execution_options(yield_per=10_000)
    )
    for (code, name, measure, period, dimension, category, kind, value, lower, upper, exemption,
         caveat, source) in session.execute(query):
        yield (code or name, measure, period, dimension or "", category or "",
               value_text(kind, value, lower, upper, exemption), caveat or "", source or "")


def iter_csv(rows: Iterable[dict[str, str] | Sequence[str]]) -> Iterator[str]:
    """Rows (dictionaries, or tuples in CSV_COLUMNS order) as the tidy CSV in pieces of about
    64 KB, formulas made safe; for a streamed download."""
    from foitrack.domain.csv_safety import protect
    from foitrack.exporters.dataset import csv_pieces

    def cells(row: dict[str, str] | Sequence[str]) -> list[str]:
        # Every cell: the authority (its name, when it has no code), the category and the keys
        # are typed by people as much as the caveat and source are; the import unprotects all.
        return [protect(cell) for cell in
                ([row[c] for c in CSV_COLUMNS] if isinstance(row, dict) else row)]

    return csv_pieces(CSV_COLUMNS, (cells(row) for row in rows))


def write_csv(rows: Iterable[dict[str, str] | Sequence[str]], out: TextIO) -> None:
    for piece in iter_csv(rows):
        out.write(piece)


def get_figure(session: Session, figure_id: int) -> Figure:
    figure = session.get(Figure, figure_id)
    if figure is None:
        raise NotFound(f"no figure {figure_id}")
    return figure


@dataclass(frozen=True)
class CellFigure:
    """One authority's figure behind an aggregate number."""

    authority_slug: str
    authority_name: str
    category: str | None
    value: str
    kind: str
    caveat: str | None
    source: str | None
    checked_by: str | None
    entered_by: str
    figure_id: int  # its drill-down, and the place it was read from (services.proposals)


def cell_figures(session: Session, campaign: Campaign, measure: str, period: str,
                 dimension: str | None, category: str | None,
                 authority: str | None = None) -> list[CellFigure]:
    """The figures behind an aggregate cell: a period group's periods, a group's categories."""
    measures = {m.key: m.id for m in campaign.measures}
    periods = {p.key: [p.id] for p in campaign.periods}
    periods.update({g.key: [p.id for p in g.periods] for g in campaign.period_groups})
    if measure not in measures or period not in periods:
        return []
    query = (select(Figure).join(Request).join(Authority)
             .where(Request.campaign_id == campaign.id, Figure.measure_id == measures[measure],
                    Figure.period_id.in_(periods[period]))
             .options(selectinload(Figure.request).selectinload(Request.authority),
                      selectinload(Figure.category))
             .order_by(Authority.name))
    if dimension is None:
        query = query.where(Figure.category_id.is_(None))
    else:
        query = query.where(Figure.category_id.in_(_category_ids(campaign, dimension, category)))
    if authority:
        query = query.where((Authority.slug == authority) | (Authority.code == authority))
    return [CellFigure(f.request.authority.slug, f.request.authority.name,
                       f.category.label if f.category else None, f.figure_value.text, f.kind.value,
                       f.caveat, f.source, f.checked_by, f.entered_by, f.id)
            for f in session.scalars(query)]


def _category_ids(campaign: Campaign, dimension: str, category: str | None) -> list[int]:
    """The categories an aggregate row of a dimension adds up: a group's, one category, or
    (for anything else) the whole dimension where recorded, a share's denominator."""
    groups = {g.key: [c.id for c in g.categories] for g in campaign.groups
              if g.dimension.key == dimension}
    labels = {c.label: c.id for d in campaign.dimensions if d.key == dimension
              for c in d.categories}
    if category in groups:
        return groups[category]
    if category in labels:
        return [labels[category]]
    return [c.id for d in campaign.dimensions if d.key == dimension
            for c in d.categories if not c.is_not_recorded]
