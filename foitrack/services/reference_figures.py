"""Official figures a campaign sets beside its FOI figures for context ("over 9,000 child sexual
offences with an online element, ONS"): imported from a CSV, listed, deleted, matched to the
campaign's cells. They are kept in their own table and never added into the FOI totals: the
aggregate does not read them.

The CSV has exactly the columns ``measure,period,area,value,source,url``. ``measure`` and
``period`` are the campaign's keys when the figure sits beside one of its cells, or free text
for a statistic the campaign did not ask for. The whole file is checked before anything is
written: one bad cell and nothing is imported, every problem named by line and column.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from foitrack.domain.csv_files import decode_upload, header_reader, records
from foitrack.errors import Invalid, NotFound, Problem
from foitrack.models import Campaign, ReferenceFigure
from foitrack.services import audit

CSV_COLUMNS = ("measure", "period", "area", "value", "source", "url")
REQUIRED = ("measure", "period", "area", "value", "source")
MAX_LENGTHS = {"measure": 300, "period": 200, "area": 200, "url": 500, "source": 2000}
MAX_FILE_BYTES = 1024 * 1024
MAX_ROWS = 1000
# A plain number: digits with optional thousands commas ("9,000" or "9000"), an optional
# minus and decimals. Not "16%" or "£450": the unit belongs in the measure's words, and a
# number read two ways ("1.234" as a thousand?) would be worse than a refusal.
_NUMBER = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
# The column is Numeric(20, 4): 16 digits before the point, 4 after.
MAX_PLACES = 4
MAX_WHOLE_DIGITS = 16
NUMBER_RULE = ("a plain number, with or without thousands commas (9,000 or 9000), "
               "without % or a currency sign (write 16% as 16 and say 'per cent' in the measure)")


@dataclass(frozen=True)
class ReferenceRow:
    """One row of the file, checked."""

    line: int
    measure: str
    period: str
    area: str
    value: Decimal
    source: str
    url: str | None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.measure, self.period, self.area)


@dataclass
class ImportReport:
    added: int = 0
    replaced: int = 0  # stored figures taken away by --replace
    rows: list[ReferenceRow] = field(default_factory=list)

    def summary(self) -> str:
        said = f"{self.added} reference {'figure' if self.added == 1 else 'figures'} added"
        if self.replaced:
            said += f", {self.replaced} replaced"
        return said


def parse_value(text: str) -> Decimal:
    """'9,000' -> Decimal('9000'). :raises ValueError: saying what a value must be."""
    cleaned = text.strip()
    if not _NUMBER.fullmatch(cleaned):
        raise ValueError(f"{text.strip()!r} is not {NUMBER_RULE}")
    try:
        value = Decimal(cleaned.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern allows only what Decimal reads
        raise ValueError(f"{text.strip()!r} is not {NUMBER_RULE}") from None
    whole, _, places = cleaned.replace(",", "").lstrip("-").partition(".")
    if len(places) > MAX_PLACES:
        raise ValueError(f"{cleaned!r} has more than {MAX_PLACES} decimal places")
    if len(whole.lstrip("0")) > MAX_WHOLE_DIGITS:
        raise ValueError(f"{cleaned!r} is too large (at most {MAX_WHOLE_DIGITS} digits before "
                         "the decimal point)")
    return value


def plain_value(value: Decimal) -> int | float:
    """A stored value as a plain number for exports: 9000, or 16.4 (never 9000.0000)."""
    return int(value) if value == value.to_integral_value() else float(value.normalize())


def value_text(value: Decimal) -> str:
    """A stored value as it is written in a line or a table: '9,000', '16.4'."""
    plain = plain_value(value)
    return f"{plain:,}" if isinstance(plain, int) else f"{Decimal(str(plain)):,f}"


_read_header = header_reader(CSV_COLUMNS, CSV_COLUMNS,
                             f"the header must be exactly {','.join(CSV_COLUMNS)}")


def _row(line: int, cells: dict[str, str], problems: list[Problem]) -> ReferenceRow | None:
    values = {column: " ".join((cells.get(column) or "").split()) for column in CSV_COLUMNS}
    before = len(problems)
    for column in REQUIRED:
        if not values[column]:
            problems.append(Problem("is empty; every row needs a " + column, column, line))
    for column, limit in MAX_LENGTHS.items():
        if len(values[column]) > limit:
            problems.append(Problem(f"is longer than {limit} characters", column, line))
    url = values["url"]
    if url and not re.fullmatch(r"https?://\S+", url):
        problems.append(Problem(f"{url!r} is not a web address (http:// or https://)", "url",
                                line))
    value = Decimal(0)
    if values["value"]:
        try:
            value = parse_value(values["value"])
        except ValueError as error:
            problems.append(Problem(str(error), "value", line))
    if len(problems) > before:
        return None
    return ReferenceRow(line, values["measure"], values["period"], values["area"], value,
                        values["source"], url or None)


def parse_csv(data: bytes) -> list[ReferenceRow]:
    """The file's rows, every one checked. :raises Invalid: naming each line and column."""
    if len(data) > MAX_FILE_BYTES:
        raise Invalid(f"the file is larger than {MAX_FILE_BYTES // 1024} KB")
    text = decode_upload(data)
    problems: list[Problem] = []
    rows: list[ReferenceRow] = []
    seen: dict[tuple[str, str, str], int] = {}
    for line, cells in records(text, _read_header, problems):
        row = _row(line, cells, problems)
        if row is None:
            continue
        if row.key in seen:
            problems.append(Problem(
                f"repeats line {seen[row.key]}: the same measure, period and area", "measure",
                line))
            continue
        seen[row.key] = line
        rows.append(row)
    if not rows and not problems:
        problems.append(Problem("the file has a header but no rows"))
    if len(rows) > MAX_ROWS:
        problems.append(Problem(f"the file has more than {MAX_ROWS} rows"))
    if problems:
        raise Invalid(sorted(problems, key=lambda p: p.line or 0))
    return rows


def reference_figures(session: Session, campaign: Campaign) -> list[ReferenceFigure]:
    """The campaign's reference figures, in the order they were imported."""
    return list(session.scalars(select(ReferenceFigure)
                                .where(ReferenceFigure.campaign_id == campaign.id)
                                .order_by(ReferenceFigure.position, ReferenceFigure.id)))


def _snapshot(figure: ReferenceFigure) -> dict[str, Any]:
    return {"campaign_id": figure.campaign_id, "measure": figure.measure,
            "period": figure.period, "area": figure.area, "value": str(plain_value(figure.value)),
            "source": figure.source, "url": figure.url}


def import_csv(session: Session, actor: audit.Actor, campaign: Campaign, data: bytes, *,
               replace: bool = False) -> ImportReport:
    """Add the file's reference figures to ``campaign`` (with ``replace``: instead of the ones
    it holds). A figure with the measure, period and area of one already held is refused
    unless ``replace``.

    :raises Invalid: naming each line and column; nothing is written.
    """
    rows = parse_csv(data)
    existing = reference_figures(session, campaign)
    report = ImportReport(rows=rows)
    if not replace:
        held = {(f.measure, f.period, f.area) for f in existing}
        clashes = [Problem(f"the campaign already has a reference figure for {row.measure!r}, "
                           f"{row.period!r}, {row.area!r}; delete it first or import with "
                           "--replace", "measure", row.line)
                   for row in rows if row.key in held]
        if clashes:
            raise Invalid(clashes)
    else:
        for figure in existing:
            audit.record(session, actor, "reference_figure", figure.id, "delete",
                         _snapshot(figure), None)
        session.execute(delete(ReferenceFigure)
                        .where(ReferenceFigure.campaign_id == campaign.id))
        report.replaced = len(existing)
    start = 0 if replace else (session.scalar(
        select(func.max(ReferenceFigure.position))
        .where(ReferenceFigure.campaign_id == campaign.id)) or 0)
    added = []
    for index, row in enumerate(rows, start=1):
        figure = ReferenceFigure(campaign_id=campaign.id, measure=row.measure, period=row.period,
                                 area=row.area, value=row.value, source=row.source, url=row.url,
                                 position=start + index, created_by=actor.label)
        session.add(figure)
        added.append(figure)
    session.flush()
    for figure in added:
        audit.record(session, actor, "reference_figure", figure.id, "create", None,
                     _snapshot(figure))
    report.added = len(added)
    return report


def delete_reference_figure(session: Session, actor: audit.Actor, campaign: Campaign,
                            figure_id: int) -> ReferenceFigure:
    """Take one reference figure away. :raises NotFound: for none of that id in the campaign."""
    figure = session.get(ReferenceFigure, figure_id)
    if figure is None or figure.campaign_id != campaign.id:
        raise NotFound(f"campaign {campaign.slug!r} has no reference figure {figure_id}")
    audit.record(session, actor, "reference_figure", figure.id, "delete", _snapshot(figure), None)
    session.delete(figure)
    session.flush()
    return figure


@dataclass(frozen=True)
class Beside:
    """A reference figure as the aggregate page and the release show it: with the campaign's
    measure and period labels when its keys are the campaign's (``matches``)."""

    id: int
    measure: str
    period: str
    area: str
    value: Decimal
    source: str
    url: str | None
    measure_label: str
    period_label: str
    matches: bool

    @property
    def value_text(self) -> str:
        return value_text(self.value)


def beside(campaign: Campaign, figures: Sequence[ReferenceFigure]) -> list[Beside]:
    """Each figure with the campaign's labels for its measure and period, when both are the
    campaign's keys (a period group's key counts); the others keep their own words."""
    measures = {m.key: m.label for m in campaign.measures}
    periods = {p.key: p.label for p in campaign.periods}
    periods.update({g.key: g.label for g in campaign.period_groups})
    return [Beside(f.id, f.measure, f.period, f.area, f.value, f.source, f.url,
                   measures.get(f.measure, f.measure), periods.get(f.period, f.period),
                   f.measure in measures and f.period in periods) for f in figures]


def export_rows(figures: Sequence[ReferenceFigure]) -> list[dict[str, Any]]:
    """The figures as the dataset's ``reference_figures`` table: the import's columns, so an
    export imports back."""
    return [{"measure": f.measure, "period": f.period, "area": f.area,
             "value": plain_value(f.value), "source": f.source, "url": f.url or ""}
            for f in figures]
