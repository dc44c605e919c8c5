"""A campaign's dataset: the aggregate, every authority's figures and the request tracker,
gathered as tables for the exporters. Figures are read from the database in batches."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Select, String, case, cast, func, literal, select, type_coerce
from sqlalchemy.orm import Session

from foitrack import aggregate as agg
from foitrack.clock import ClockSettings
from foitrack.exporters.aggregate import CSV_COLUMNS as AGGREGATE_COLUMNS
from foitrack.exporters.aggregate import row_dict
from foitrack.exporters.dataset import Column, Dataset, Table
from foitrack.figure_values import ValueKind, value_text
from foitrack.models import Authority, Campaign, Category, Dimension, Figure, Measure, Period, Request
from foitrack.services.release import methods_note
from foitrack.services.requests import campaign_requests, state_of

FIGURE_COLUMNS = (
    Column("authority_code", "string", "ONS code of the authority (or its foitrack slug)", 14),
    Column("authority", "string", "the authority's name", 36),
    Column("measure", "string", "measure key from the campaign file"),
    Column("period", "string", "period key from the campaign file"),
    Column("period_start", "date", "first day of the period", 12),
    Column("period_end", "date", "last day of the period", 12),
    Column("dimension", "string", "dimension key; empty for a total"),
    Column("category", "string", "category; empty for a total", 20),
    Column("kind", "string", "exact, suppressed, not_recorded, not_held, withheld or not_provided"),
    Column("value", "integer", "the figure, when exact", 10),
    Column("lower", "integer", "lowest value a suppressed figure could be", 8),
    Column("upper", "integer", "highest value a suppressed figure could be", 8),
    Column("as_given", "string", "the value as the authority wrote it, e.g. <5", 12),
    Column("exemption", "string", "the section a withheld figure was withheld under", 10),
    Column("caveat", "string", "the authority's caveat", 40),
    Column("source", "string", "where in the reply the figure is", 30),
    Column("checked_by", "string", "the second researcher who checked it", 24),
)

_AGGREGATE_TYPES = {"total": "integer", "lower_bound": "integer", "upper_bound": "integer",
                    "share_where_recorded": "number", "authorities_with_figure": "integer",
                    "authorities_asked": "integer", "exact": "integer", "suppressed": "integer",
                    "not_recorded": "integer", "not_held": "integer", "withheld": "integer",
                    "not_provided": "integer", "no_reply": "integer", "recorded_total": "integer"}
_AGGREGATE_TEXT = {
    "measure": "measure key", "period": "period or period-group key",
    "dimension": "dimension key; empty for totals", "category": "category, or a group's key",
    "total": "sum of the exact figures", "lower_bound": "total plus the least suppressed figures could be",
    "upper_bound": "total plus the most suppressed figures could be",
    "share_where_recorded": "share of the dimension's recorded total (0 to 1)",
    "authorities_with_figure": "authorities with an exact or suppressed figure",
    "authorities_asked": "authorities asked", "level": "total, category or group",
    "no_reply": "authorities asked that gave nothing for this cell",
    "recorded_total": "the denominator of the share: the dimension's recorded categories",
}
AGGREGATE_COLUMNS_DESCRIBED = tuple(
    Column(name, _AGGREGATE_TYPES.get(name, "string"),
           _AGGREGATE_TEXT.get(name, f"authorities whose figure was {name.replace('_', ' ')}"),
           22 if name in ("category", "share_where_recorded") else 12)
    for name in AGGREGATE_COLUMNS
)

TRACKER_COLUMNS = (
    Column("authority_code", "string", "ONS code of the authority (or its foitrack slug)", 14),
    Column("authority", "string", "the authority's name", 36),
    Column("reference", "string", "the authority's reference number", 16),
    Column("status", "string", "where the request is, worked out from its timeline", 20),
    Column("outcome", "string", "what the authority decided", 14),
    Column("exemptions", "string", "sections cited in a refusal", 14),
    Column("sent_on", "date", "date the request was sent", 12),
    Column("received_on", "date", "date of receipt (the day sent, unless known)", 12),
    Column("due", "date", "statutory due date, with any valid extension", 12),
    Column("responded_on", "date", "date of the first response", 12),
    Column("answered_on_time", "boolean", "whether the first response came by the due date", 10),
    Column("days_late", "integer", "working days late: of the response, or so far", 10),
    Column("last_chased", "date", "date of the last chaser", 12),
)


def _figure_query(campaign: Campaign, batch: int, checked_only: bool) -> Select[Any]:
    """One query with its joins for every figure (or every checked one), in a stable order."""
    return (
        select(Figure.kind, Figure.value, Figure.lower, Figure.upper, Figure.exemption,
               Figure.caveat, Figure.source, Figure.checked_by, Authority.code, Authority.slug,
               Authority.name, Measure.key, Period.key, Period.start, Period.end, Dimension.key,
               Category.label)
        .join(Request, Request.id == Figure.request_id)
        .join(Authority, Authority.id == Request.authority_id)
        .join(Measure, Measure.id == Figure.measure_id)
        .join(Period, Period.id == Figure.period_id)
        .outerjoin(Category, Category.id == Figure.category_id)
        .outerjoin(Dimension, Dimension.id == Category.dimension_id)
        .where(Request.campaign_id == campaign.id,
               *([Figure.checked_by.is_not(None)] if checked_only else []))
        .order_by(Authority.name, Measure.position, Period.position,
                  Dimension.position.nulls_first(), Category.position.nulls_first())
        .execution_options(yield_per=batch)
    )


def figure_rows(session: Session, campaign: Campaign, batch: int = 2000,
                checked_only: bool = False) -> Iterator[dict[str, Any]]:
    """Every figure (or every checked one), in a stable order, read in batches."""
    # Plain columns, not ORM objects: this runs once per figure of the largest exports.
    for (kind, value, lower, upper, exemption, caveat, source, checked_by, code, slug, name,
         measure, period, start, end, dimension, category) in session.execute(
            _figure_query(campaign, batch, checked_only)):
        yield {
            "authority_code": code or slug, "authority": name, "measure": measure,
            "period": period, "period_start": start, "period_end": end,
            "dimension": dimension or "", "category": category or "", "kind": ValueKind(kind).value,
            "value": value, "lower": lower, "upper": upper,
            "as_given": value_text(kind, value, lower, upper, exemption),
            "exemption": exemption or "", "caveat": caveat or "", "source": source or "",
            "checked_by": checked_by or "",
        }


def figure_text_rows(session: Session, campaign: Campaign, batch: int = 10_000,
                     checked_only: bool = False) -> Iterator[Sequence[str]]:
    """The same figures as figure_rows, as the CSV's text cells in FIGURE_COLUMNS order.

    The database writes every cell as text (numbers, dates, the value as given, "" for none),
    so each row goes from the cursor to csv.writer as it is: no Python work a row.
    """
    query = _figure_query(campaign, batch, checked_only).with_only_columns(
        *_figure_text_columns(session.get_bind().dialect.name), maintain_column_froms=True)
    yield from _driver_rows(session, query, batch)


_CURSORS = itertools.count()


def _driver_rows(session: Session, query: Select[Any], batch: int) -> Iterator[tuple[Any, ...]]:
    """A query's rows as the driver's own tuples, fetched ``batch`` at a time (on PostgreSQL
    from a server-side cursor): a SQLAlchemy Row for each of a million rows cost a tenth of
    the export."""
    connection = session.connection()
    dialect = connection.dialect
    compiled = query.compile(dialect=dialect)
    params: Any = (tuple(compiled.params[name] for name in compiled.positiontup or ())
                   if dialect.positional else compiled.params)
    driver = connection.connection.driver_connection
    assert driver is not None
    # A name of its own: a generator left unfinished keeps its cursor until it is collected.
    cursor = (driver.cursor(name=f"foitrack_export_{next(_CURSORS)}")
              if dialect.name == "postgresql" else driver.cursor())
    try:
        cursor.execute(str(compiled), params)
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()


def _figure_text_columns(dialect: str) -> tuple[Any, ...]:
    """FIGURE_COLUMNS as SQL text expressions, written as figure_rows and value_text write them."""
    def text(column: Any) -> Any:
        return func.coalesce(cast(column, String), "")

    def day(column: Any) -> Any:
        # SQLite keeps a date as its ISO text already; PostgreSQL's own text follows DateStyle.
        return (type_coerce(column, String) if dialect == "sqlite"
                else func.to_char(column, "YYYY-MM-DD"))

    kind = type_coerce(Figure.kind, String)
    as_given = case(
        (kind == ValueKind.exact.value, cast(Figure.value, String)),
        (kind == ValueKind.suppressed.value, case(
            (Figure.lower == 0, literal("<", String).concat(
                cast(func.coalesce(Figure.upper, 0) + 1, String))),
            else_=cast(Figure.lower, String).concat("-").concat(cast(Figure.upper, String)))),
        (kind == ValueKind.withheld.value, case(
            (func.coalesce(Figure.exemption, "") != "",
             literal("withheld ", String).concat(Figure.exemption)),
            else_="withheld")),
        else_=func.replace(kind, "_", " "),
    )
    return (
        func.coalesce(func.nullif(Authority.code, ""), Authority.slug), Authority.name,
        Measure.key, Period.key, day(Period.start), day(Period.end),
        func.coalesce(Dimension.key, ""), func.coalesce(Category.label, ""), kind,
        text(Figure.value), text(Figure.lower), text(Figure.upper), func.coalesce(as_given, ""),
        func.coalesce(Figure.exemption, ""), func.coalesce(Figure.caveat, ""),
        func.coalesce(Figure.source, ""), func.coalesce(Figure.checked_by, ""),
    )


def tracker_row(request: Request, today: dt.date, settings: ClockSettings | None = None
                ) -> dict[str, Any]:
    """One request as the tracker shows it: dates, status, outcome, lateness, exemptions."""
    state = state_of(request, today, settings)
    deadline = state.response_deadline
    late = state.answered_days_late if state.first_response_on else state.working_days_late
    return {
        "authority_code": request.authority.code or request.authority.slug,
        "authority": request.authority.name, "reference": request.reference or "",
        "status": state.status.value, "outcome": state.outcome or "",
        "exemptions": ", ".join(state.exemptions), "sent_on": state.sent_on,
        "received_on": state.received_on, "due": deadline.due if deadline else None,
        "responded_on": state.first_response_on, "answered_on_time": state.answered_on_time,
        "days_late": late if state.sent_on else None, "last_chased": state.last_chased_on,
    }


def tracker_rows(session: Session, campaign: Campaign, today: dt.date,
                 settings: ClockSettings | None = None) -> Iterator[dict[str, Any]]:
    """Every request of a campaign, as ``tracker_row``."""
    for request in campaign_requests(session, campaign):
        yield tracker_row(request, today, settings)


def campaign_dataset(session: Session, campaign: Campaign, today: dt.date,
                     settings: ClockSettings | None = None, checked_only: bool = False) -> Dataset:
    result = agg.build(session, campaign, checked_only=checked_only, with_authorities=False)
    note = methods_note(session, campaign, today, settings)
    if checked_only:
        note = ["Only figures checked by a second researcher are counted.", *note]
    return Dataset(
        slug=campaign.slug, title=campaign.title, methods=note, created=today,
        tables=[
            Table("aggregate", "Aggregate",
                  "Totals, bounds, coverage and shares for each measure, period, category and "
                  "group.", AGGREGATE_COLUMNS_DESCRIBED,
                  lambda: (row_dict(row) for row in result.rows)),
            Table("figures", "Figures", "Every figure each authority gave, with its caveat and "
                  "source.", FIGURE_COLUMNS,
                  lambda: figure_rows(session, campaign, checked_only=checked_only),
                  text_rows=lambda: figure_text_rows(session, campaign, checked_only=checked_only)),
            Table("tracker", "Requests", "Every request: dates, status, outcome and lateness.",
                  TRACKER_COLUMNS, lambda: tracker_rows(session, campaign, today, settings)),
            Table("coverage", "Coverage", "Who gave a usable total, for each measure and period.",
                  AGGREGATE_COLUMNS_DESCRIBED,
                  lambda: (row_dict(row) for row in result.rows if row.cell.level == "total")),
        ],
    )



