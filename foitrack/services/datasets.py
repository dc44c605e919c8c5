"""A campaign's dataset: the aggregate and its changes, every authority's figures, the request
tracker, the release lines with the cell behind each number, the methods note and the design,
gathered as tables for the exporters. Figures are read from the database in batches."""

from __future__ import annotations

import datetime as dt
import itertools
import tempfile
import typing
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any, BinaryIO

from sqlalchemy import Select, String, case, cast, func, literal, select, type_coerce
from sqlalchemy.orm import Session, selectinload

from foitrack.domain.clock import ClockSettings
from foitrack.domain.figure_values import ValueKind, value_text
from foitrack.exporters import dataset as writers
from foitrack.exporters.aggregate import CSV_COLUMNS as AGGREGATE_COLUMNS
from foitrack.exporters.aggregate import change_dict, row_dict
from foitrack.exporters.dataset import Column, Dataset, ForeignKey, Table
from foitrack.models import Authority, Campaign, Category, Dimension, Figure, Measure, Period, Request
from foitrack.services import aggregate as agg
from foitrack.services import reference_figures as references
from foitrack.services.release import Num, Release, national_release
from foitrack.services.requests import campaign_requests, state_of
from foitrack.services.templates import XLSX_TYPE
from foitrack.services.withdrawals import from_withdrawn_response, withdrawn_flag

# The licence the data package states, by default. The figures are public authorities'
# information released under the Freedom of Information Act; the Open Government Licence v3.0
# is the default licence for re-using public sector information under The National Archives'
# UK Government Licensing Framework, and the one UK public bodies (police forces among them)
# usually name in their replies. OGL-UK-3.0 is its SPDX identifier. A reply under other terms,
# or a licence chosen per campaign, is not provided for yet.
DEFAULT_LICENSE = {
    "name": "OGL-UK-3.0",
    "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
    "title": "Open Government Licence v3.0",
}

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
    # After the columns scripts rely on (services.withdrawals: practice, not law).
    Column("withdrawn", "boolean", "true when the figure is from a response the authority "
           "withdrew; the aggregate leaves it out", 10),
)

_AGGREGATE_TYPES = {"total": "integer", "lower_bound": "integer", "upper_bound": "integer",
                    "share_where_recorded": "number", "authorities_with_figure": "integer",
                    "authorities_asked": "integer", "exact": "integer", "suppressed": "integer",
                    "not_recorded": "integer", "not_held": "integer", "withheld": "integer",
                    "not_provided": "integer", "no_reply": "integer", "recorded_total": "integer",
                    # The rates (issue 18), after the columns scripts rely on.
                    "population": "integer", "rate": "number", "rate_per": "integer",
                    "rate_total": "integer", "rate_authorities": "integer",
                    "rate_lower": "number", "rate_upper": "number",
                    "population_year": "integer", "population_nearest": "boolean",
                    "refused": "integer"}
_AGGREGATE_TEXT = {
    "measure": "measure key", "period": "period or period-group key",
    "dimension": "dimension key; empty for totals", "category": "category, or a group's key",
    "total": "sum of the exact figures", "lower_bound": "total plus the least suppressed figures could be",
    "upper_bound": "total plus the most suppressed figures could be",
    "share_where_recorded": "share of the dimension's recorded total (0 to 1)",
    "authorities_with_figure": "authorities with an exact or suppressed figure",
    "authorities_asked": "authorities asked", "level": "total, category or group",
    "no_reply": "authorities asked that gave nothing for this cell and have not replied at "
                "all (a refusal is a reply: see refused)",
    "refused": "authorities asked that gave nothing for this cell and refused the request "
               "(refused, or neither confirm nor deny, after any review or decision notice)",
    "recorded_total": "the denominator of the share: the dimension's recorded categories",
    "population": "the population (of the measure's base) of the authorities the rate is "
                  "over: those with a usable figure and a population estimate",
    "rate": "rate_total per rate_per of population, over those same authorities, to one "
            "decimal place; empty when the measure is not rated or no such authority exists",
    "rate_lower": "the rate counting suppressed figures at their least",
    "rate_upper": "the rate counting suppressed figures at their most",
    "rate_per": "the rate is per this many of the population (e.g. 100000)",
    "rate_base": "what the population counts: population (all residents) or an imported base",
    "rate_total": "the exact figures of the authorities the rate is over",
    "rate_authorities": "how many authorities the rate is over",
    "population_year": "the mid-year (30 June) of the population estimates used: the period's "
                       "own, or where several were used the period's own if any, else the "
                       "earliest",
    "population_years": "every mid-year whose estimates were used, separated by ' | ' (more "
                        "than one when some authority had no estimate for the period's own "
                        "mid-year and its nearest year's was used)",
    "population_nearest": "true when some authority's estimate is from the nearest year with "
                          "one, not the period's own mid-year; empty without a rate",
}
AGGREGATE_COLUMNS_DESCRIBED = tuple(
    Column(name, _AGGREGATE_TYPES.get(name, "string"),
           _AGGREGATE_TEXT.get(name, f"authorities whose figure was {name.replace('_', ' ')}"),
           22 if name in ("category", "share_where_recorded") else 12)
    for name in AGGREGATE_COLUMNS
)

_CHANGE_TEXT = {
    "measure": ("string", "measure key"),
    "from_period": ("string", "the earlier period's key"),
    "to_period": ("string", "the later period's key"),
    "dimension": ("string", "dimension key; empty for a total"),
    "category": ("string", "category, or a group's key; empty for a total"),
    "level": ("string", "total, category or group"),
    "from_total": ("integer", "total in the earlier period, over every authority with a figure"),
    "to_total": ("integer", "total in the later period, over every authority with a figure"),
    "change": ("integer", "to_total minus from_total"),
    "panel_size": ("integer", "authorities with an exact figure in both periods (the matched "
                   "panel)"),
    "panel_from": ("integer", "the panel's total in the earlier period"),
    "panel_to": ("integer", "the panel's total in the later period"),
    "panel_change": ("integer", "panel_to minus panel_from: the like-for-like change"),
    "change_ratio": ("number", "to_total divided by from_total; empty when from_total is 0"),
    "panel_ratio": ("number", "panel_to divided by panel_from; empty when panel_from is 0"),
}
CHANGE_COLUMNS = tuple(
    Column(name, kind, text, 22 if name == "category" else 12)
    for name, (kind, text) in _CHANGE_TEXT.items()
)

RELEASE_COLUMNS = (
    Column("line", "integer", "the line's number, in the release's order", 6),
    Column("kind", "string", "what the line is about, e.g. total, share or change", 12),
    Column("text", "string", "the line as written for the press", 100),
)
RELEASE_NUMBER_COLUMNS = (
    Column("line", "integer", "the release line the number is in", 6),
    Column("position", "integer", "the number's place among the line's numbers (1 = first)", 9),
    Column("start", "integer", "the position of the number's first character in the line's "
           "text (1 = first, as a spreadsheet's MID counts)", 8),
    Column("text", "string", "the number as written in the line", 24),
    Column("measure", "string", "measure key of the cell it came from"),
    Column("period", "string", "period or period-group key of the cell it came from"),
    Column("dimension", "string", "dimension key of the cell; empty for a total"),
    Column("category", "string", "category (or group key) of the cell; empty for a total", 20),
    Column("authority", "string", "the authority whose own figure it is; empty for a sum", 14),
)
METHODS_COLUMNS = (
    Column("line", "integer", "the paragraph's number, in the note's order", 6),
    Column("text", "string", "the methods note, a paragraph a row", 120),
)
MEASURE_COLUMNS = (
    Column("measure", "string", "measure key from the campaign file"),
    Column("label", "string", "what is counted", 60),
    Column("unit", "string", "the noun its counts take in words"),
)
PERIOD_COLUMNS = (
    Column("period", "string", "period or period-group key from the campaign file"),
    Column("label", "string", "the period's name in words", 20),
    Column("kind", "string", "period, or group (the sum of several periods)", 10),
    Column("start", "date", "first day of the period; empty for a group", 12),
    Column("end", "date", "last day of the period; empty for a group", 12),
    Column("members", "string", "a group's periods, separated by ' | '", 24),
)
CATEGORY_COLUMNS = (
    Column("dimension", "string", "dimension key; empty for the total"),
    Column("category", "string", "category, or a group's key; empty for the total", 20),
    Column("level", "string", "total, category or group"),
    Column("label", "string", "the category's or group's name", 24),
    Column("dimension_label", "string", "the dimension's name", 24),
    Column("not_recorded", "boolean", "the category for cases where the detail was not "
           "recorded, left out of shares where recorded", 10),
    Column("overlapping", "boolean", "a case may be counted under several of the dimension's "
           "categories, so they may add up to more than the total", 10),
    Column("members", "string", "a group's categories, separated by ' | '", 30),
)

# Keys, as the data package declares them. "" in a key column is the total's empty dimension
# or category (a value, not a missing one: see foitrack.exporters.dataset.table_schema).
_CELL_KEY = ("dimension", "category", "level")
_TO_CATEGORIES = ForeignKey(_CELL_KEY, "categories", _CELL_KEY)
_TO_MEASURES = ForeignKey(("measure",), "measures", ("measure",))
AGGREGATE_KEY = ("measure", "period", "level", "dimension", "category")
AGGREGATE_FOREIGN_KEYS = (_TO_MEASURES, ForeignKey(("period",), "periods", ("period",)),
                          _TO_CATEGORIES)
CHANGE_KEY = ("measure", "from_period", "to_period", "level", "dimension", "category")
CHANGE_FOREIGN_KEYS = (_TO_MEASURES, ForeignKey(("from_period",), "periods", ("period",)),
                       ForeignKey(("to_period",), "periods", ("period",)), _TO_CATEGORIES)
FIGURE_KEY = ("authority_code", "measure", "period", "dimension", "category")
FIGURE_FOREIGN_KEYS = (ForeignKey(("authority_code",), "tracker", ("authority_code",)),
                       _TO_MEASURES, ForeignKey(("period",), "periods", ("period",)))

REFERENCE_COLUMNS = (
    Column("measure", "string", "what the official figure counts: the campaign's measure key "
           "when it sits beside the campaign's own figures, else the statistic in words", 30),
    Column("period", "string", "the campaign's period key, or the period in words", 20),
    Column("area", "string", "the area the figure covers, e.g. England and Wales", 20),
    Column("value", "number", "the official figure as published; never added into the FOI "
           "totals", 12),
    Column("source", "string", "who published it, e.g. ONS", 30),
    Column("url", "string", "where it was published", 40),
)
REFERENCE_KEY = ("measure", "period", "area")

TRACKER_COLUMNS = (
    Column("authority_code", "string", "ONS code of the authority (or its foitrack slug)", 14),
    Column("authority", "string", "the authority's name", 36),
    Column("reference", "string", "the authority's reference number", 16),
    Column("status", "string", "where the request is, worked out from its timeline", 20),
    Column("outcome", "string", "what stands: the latest decision's outcome (the response, "
           "then an internal review, then the Commissioner's decision notice)", 14),
    Column("exemptions", "string", "sections cited in a refusal", 14),
    Column("sent_on", "date", "date the request was sent", 12),
    Column("received_on", "date", "date of receipt (the day sent, unless known)", 12),
    Column("due", "date", "statutory due date, with any valid extension", 12),
    Column("responded_on", "date", "date of the first response", 12),
    Column("answered_on_time", "boolean", "whether the first response came by the due date", 10),
    Column("days_late", "integer", "working days late: of the response, or so far", 10),
    Column("last_chased", "date", "date of the last chaser", 12),
    # After the columns scripts rely on: where the outcome came from, and the first response's.
    Column("first_outcome", "string", "what the authority decided in its first response", 14),
    Column("outcome_from", "string", "the event whose decision stands: response, "
           "internal_review_outcome or ico_decision", 22),
    # After those: the later steps (docs/lifecycle.md), each the last of its kind.
    Column("review_requested_on", "date", "date an internal review was asked for", 12),
    Column("review_outcome", "string", "what the internal review decided: upheld, "
           "partly_overturned or overturned", 16),
    Column("complaint_on", "date", "date of the complaint to the ICO (FOIA s.50) or the "
           "application to the Scottish Information Commissioner (FOISA s.47)", 12),
    Column("complaint_reference", "string", "the Commissioner's case reference", 16),
    Column("decision_on", "date", "date of the Commissioner's decision notice", 12),
    Column("decision_outcome", "string", "what the Commissioner decided: upheld, "
           "partly_upheld, not_upheld or resolved_informally", 16),
    Column("appeal_on", "date", "date of an appeal against the decision: to the First-tier "
           "Tribunal (FOIA s.57) or the Court of Session (FOISA s.56)", 12),
    # Last again (issue 17): a withdrawn response leaves the outcome empty; this says why.
    Column("response_withdrawn_on", "date", "the date the authority withdrew its response, "
           "when nothing has come since (the outcome is then empty)", 12),
    # After all those (scripts read the columns above by position): narrowed follow-ups, each a
    # new request with its own clock (FOIA s.1(1), s.10(1)), kept on the first request's row
    # so the tracker stays one row per authority (and a re-imported tracker still matches).
    Column("follow_up_count", "integer", "how many narrowed follow-up requests were sent", 10),
    Column("figures_from", "string", "the request the figures come from: 'first request' or "
           "'follow-up N'", 14),
    Column("follow_up_sent_on", "date", "the latest follow-up: date sent", 12),
    Column("follow_up_due_on", "date", "the latest follow-up: its own statutory due date", 12),
    Column("follow_up_status", "string", "the latest follow-up: where it is", 20),
    Column("follow_up_outcome", "string", "the latest follow-up: what stands", 14),
)
FIRST_REQUEST = "first request"


def _figure_query(campaign: Campaign, batch: int, checked_only: bool) -> Select[*tuple[Any, ...]]:
    """One query with its joins for every figure (or every checked one), in a stable order."""
    return (
        select(Figure.kind, Figure.value, Figure.lower, Figure.upper, Figure.exemption,
               Figure.caveat, Figure.source, Figure.checked_by, Authority.code, Authority.slug,
               Authority.name, Measure.key, Period.key, Period.start, Period.end, Dimension.key,
               Category.label, withdrawn_flag())
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
         measure, period, start, end, dimension, category, withdrawn) in session.execute(
            _figure_query(campaign, batch, checked_only)):
        yield {
            "authority_code": code or slug, "authority": name, "measure": measure,
            "period": period, "period_start": start, "period_end": end,
            "dimension": dimension or "", "category": category or "", "kind": ValueKind(kind).value,
            "value": value, "lower": lower, "upper": upper,
            "as_given": value_text(kind, value, lower, upper, exemption),
            "exemption": exemption or "", "caveat": caveat or "", "source": source or "",
            "checked_by": checked_by or "", "withdrawn": bool(withdrawn),
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


def _driver_rows(session: Session, query: Select[*tuple[Any, ...]],
                 batch: int) -> Iterator[tuple[Any, ...]]:
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
        case((from_withdrawn_response(), "true"), else_="false"),
    )


def figures_from(first: Request, follow_ups: list[Request]) -> str:
    """Where an authority's figures come from, in the tracker's words: the first request
    unless one of its ``follow_ups`` is marked as the source (services.follow_ups)."""
    for follow_up in follow_ups:
        if follow_up.id == first.figures_from_id:
            return f"follow-up {follow_up.follow_up_number}"
    return FIRST_REQUEST


def follow_up_fields(follow_ups: list[Request], today: dt.date,
                     settings: ClockSettings | None = None) -> dict[str, Any]:
    """The tracker's follow-up columns for a first request's ``follow_ups`` (in number order):
    how many, and the latest one's own clock (FOIA s.10(1)), status and outcome."""
    fields: dict[str, Any] = {"follow_up_count": len(follow_ups), "follow_up_sent_on": None,
                              "follow_up_due_on": None, "follow_up_status": "",
                              "follow_up_outcome": ""}
    if follow_ups:
        state = state_of(follow_ups[-1], today, settings)
        deadline = state.response_deadline
        fields.update(follow_up_sent_on=state.sent_on,
                      follow_up_due_on=deadline.due if deadline else None,
                      follow_up_status=state.status.value, follow_up_outcome=state.outcome or "")
    return fields


def tracker_row(request: Request, today: dt.date, settings: ClockSettings | None = None,
                follow_ups: list[Request] | None = None) -> dict[str, Any]:
    """One request as the tracker shows it: dates, status, outcome, lateness, exemptions, and
    its narrowed follow-ups (``follow_ups`` when loaded already, else read from the request)."""
    state = state_of(request, today, settings)
    if follow_ups is None:
        follow_ups = list(request.follow_ups)
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
        "first_outcome": state.first_outcome or "",
        "outcome_from": state.outcome_from.value if state.outcome_from else "",
        "review_requested_on": state.review_requested_on,
        "review_outcome": state.review_outcome or "",
        "complaint_on": state.complaint_on, "complaint_reference": state.complaint_reference or "",
        "decision_on": state.decision_on, "decision_outcome": state.decision_outcome or "",
        "appeal_on": state.appeal_on,
        "response_withdrawn_on": state.response_withdrawn_on,
        **follow_up_fields(follow_ups, today, settings),
        "figures_from": figures_from(request, follow_ups),
    }


def campaign_follow_ups(session: Session, campaign: Campaign) -> dict[int, list[Request]]:
    """A campaign's narrowed follow-ups with their events, by their first request's id, in
    number order: one query for the whole tracker."""
    found: dict[int, list[Request]] = {}
    for follow_up in session.scalars(
            select(Request).where(Request.campaign_id == campaign.id,
                                  Request.follow_up_number > 0)
            .order_by(Request.follow_up_number).options(selectinload(Request.events))):
        found.setdefault(follow_up.follow_up_of_id or 0, []).append(follow_up)
    return found


def tracker_rows(session: Session, campaign: Campaign, today: dt.date,
                 settings: ClockSettings | None = None) -> Iterator[dict[str, Any]]:
    """Every authority's first request of a campaign, as ``tracker_row``: one row each."""
    follow_ups = campaign_follow_ups(session, campaign)
    for request in campaign_requests(session, campaign):
        yield tracker_row(request, today, settings, follow_ups.get(request.id, []))


def release_rows(release: Release) -> Iterator[dict[str, Any]]:
    """The release's lines, numbered from 1, as written."""
    for number, line in enumerate(release.lines, start=1):
        yield {"line": number, "kind": line.kind, "text": line.text}


def release_number_rows(release: Release) -> Iterator[dict[str, Any]]:
    """Every number in the release's lines, with where it sits and the cell it came from."""
    for number, line in enumerate(release.lines, start=1):
        start, position = 1, 0
        for part in line.parts:
            if isinstance(part, Num):
                position += 1
                yield {"line": number, "position": position, "start": start, "text": part.text,
                       "measure": part.measure, "period": part.period,
                       "dimension": part.dimension or "", "category": part.category or "",
                       "authority": part.authority or ""}
            start += len(part if isinstance(part, str) else part.text)


def design_rows(campaign: Campaign) -> dict[str, list[dict[str, Any]]]:
    """The campaign's design as small tables (measures, periods, categories), which the other
    tables' keys refer to. The categories start with the total (empty dimension and category)."""
    measures = [{"measure": m.key, "label": m.label, "unit": m.unit} for m in campaign.measures]
    periods = [{"period": p.key, "label": p.label, "kind": "period", "start": p.start,
                "end": p.end, "members": ""} for p in campaign.periods]
    periods += [{"period": g.key, "label": g.label, "kind": "group", "start": None, "end": None,
                 "members": " | ".join(p.key for p in g.periods)} for g in campaign.period_groups]
    categories: list[dict[str, Any]] = [{
        "dimension": "", "category": "", "level": "total", "label": "Total",
        "dimension_label": "", "not_recorded": None, "overlapping": None, "members": ""}]
    for dimension in campaign.dimensions:
        for category in dimension.categories:
            categories.append({
                "dimension": dimension.key, "category": category.label, "level": "category",
                "label": category.label, "dimension_label": dimension.label,
                "not_recorded": category.is_not_recorded, "overlapping": dimension.overlapping,
                "members": ""})
    for group in campaign.groups:
        categories.append({
            "dimension": group.dimension.key, "category": group.key, "level": "group",
            "label": group.label, "dimension_label": group.dimension.label,
            "not_recorded": False, "overlapping": group.dimension.overlapping,
            "members": " | ".join(c.label for c in group.categories)})
    return {"measures": measures, "periods": periods, "categories": categories}


def dataset_sources(session: Session, campaign: Campaign) -> list[dict[str, str]]:
    """The data package's sources: the FOI request to each authority asked, by name."""
    asked = session.execute(
        select(Authority.name, Request.reference, Request.follow_up_number).join(Request.authority)
        .where(Request.campaign_id == campaign.id)
        .order_by(Authority.name, Request.follow_up_number))
    return [{"title": f"{campaign.title}: Freedom of Information request to {name}"
                      + (f", narrowed follow-up {number}" if number else "")
                      + (f" (reference {reference})" if reference else "")}
            for name, reference, number in asked]


def campaign_dataset(session: Session, campaign: Campaign, today: dt.date,
                     settings: ClockSettings | None = None, checked_only: bool = False) -> Dataset:
    """Every table of the campaign's dataset. The aggregate, its changes and the release lines
    are worked out here, once; the figures and the tracker are read as a writer asks for them."""
    result = agg.build(session, campaign, checked_only=checked_only, with_authorities=False)
    # The release the `release` command writes from this same aggregate, and its methods note
    # (which says so itself when only checked figures count), carried by the README sheet and
    # the package's description too.
    release = national_release(session, campaign, result, today, settings)
    note = list(release.methods)
    design = design_rows(campaign)
    reference = references.export_rows(references.reference_figures(session, campaign))
    return Dataset(
        slug=campaign.slug, title=campaign.title, methods=note, created=today,
        licenses=[DEFAULT_LICENSE], sources=dataset_sources(session, campaign),
        tables=[
            Table("aggregate", "Aggregate",
                  "Totals, bounds, coverage and shares for each measure, period, category and "
                  "group.", AGGREGATE_COLUMNS_DESCRIBED,
                  lambda: (row_dict(row) for row in result.rows),
                  primary_key=AGGREGATE_KEY, foreign_keys=AGGREGATE_FOREIGN_KEYS),
            Table("figures", "Figures", "Every figure each authority gave, with its caveat and "
                  "source.", FIGURE_COLUMNS,
                  lambda: figure_rows(session, campaign, checked_only=checked_only),
                  text_rows=lambda: figure_text_rows(session, campaign, checked_only=checked_only),
                  primary_key=FIGURE_KEY, foreign_keys=FIGURE_FOREIGN_KEYS),
            Table("tracker", "Requests", "Every request: dates, status, outcome and lateness.",
                  TRACKER_COLUMNS, lambda: tracker_rows(session, campaign, today, settings),
                  primary_key=("authority_code",)),
            Table("coverage", "Coverage", "Who gave a usable total, for each measure and period.",
                  AGGREGATE_COLUMNS_DESCRIBED,
                  lambda: (row_dict(row) for row in result.rows if row.cell.level == "total"),
                  primary_key=AGGREGATE_KEY, foreign_keys=AGGREGATE_FOREIGN_KEYS),
            Table("changes", "Changes",
                  "Each period against every earlier one, for each total, category and group: "
                  "over every authority with a figure, and over the matched panel of "
                  "authorities with exact figures in both.", CHANGE_COLUMNS,
                  lambda: (change_dict(change) for change in result.changes),
                  primary_key=CHANGE_KEY, foreign_keys=CHANGE_FOREIGN_KEYS),
            Table("release", "Release", "The release lines, as `foitrack release` writes them.",
                  RELEASE_COLUMNS, lambda: release_rows(release), primary_key=("line",)),
            Table("release_numbers", "Release numbers",
                  "Every number in the release lines, with the cell of the aggregate it came "
                  "from.", RELEASE_NUMBER_COLUMNS, lambda: release_number_rows(release),
                  primary_key=("line", "position"),
                  foreign_keys=(ForeignKey(("line",), "release", ("line",)), _TO_MEASURES,
                                ForeignKey(("period",), "periods", ("period",)))),
            # The JSON document has the note already, as "methods".
            Table("methods", "Methods", "The methods note, a paragraph a row.", METHODS_COLUMNS,
                  lambda: ({"line": i, "text": text} for i, text in enumerate(note, start=1)),
                  primary_key=("line",), in_json=False),
            Table("measures", "Measures", "The campaign's measures.", MEASURE_COLUMNS,
                  lambda: iter(design["measures"]), primary_key=("measure",)),
            Table("periods", "Periods", "The campaign's periods and period groups.",
                  PERIOD_COLUMNS, lambda: iter(design["periods"]), primary_key=("period",)),
            Table("categories", "Categories",
                  "The total, then each dimension's categories and each category group.",
                  CATEGORY_COLUMNS, lambda: iter(design["categories"]), primary_key=_CELL_KEY),
            Table("reference_figures", "Reference figures",
                  "Official statistics set beside the FOI figures for context, with their "
                  "sources (`foitrack figures reference`). Not FOI figures: never added into "
                  "any total.", REFERENCE_COLUMNS, lambda: iter(reference),
                  primary_key=REFERENCE_KEY),
        ],
    )


# The dataset's file formats by the name a download asks for, with their media types.
EXPORT_FORMATS = {"csv": "text/csv", "xlsx": XLSX_TYPE, "json": "application/json",
                  "zip": "application/zip"}
# The tables a CSV export may hold (one each); xlsx, json and zip hold every table.
CSV_TABLES = ("figures", "aggregate", "tracker", "coverage", "changes", "reference_figures")


def export_filename(slug: str, fmt: str, table: str, day: dt.date) -> str:
    """The name a dataset export is saved under, e.g. ``knife-crime-figures-2026-12-03.csv``."""
    stamp = day.isoformat()
    return {"csv": f"{slug}-{table}-{stamp}.csv", "json": f"{slug}-{stamp}.json",
            "xlsx": f"{slug}-{stamp}.xlsx", "zip": f"{slug}-datapackage-{stamp}.zip"}[fmt]


def write_export(data: Dataset, fmt: str, out: IO[bytes], table: str = "figures") -> None:
    """The dataset in one of EXPORT_FORMATS onto ``out``: the one place a format name picks its
    exporter (csv: the one ``table``; zip: the data package, its files under the slug).

    :raises KeyError: for a format not in EXPORT_FORMATS."""
    if fmt not in EXPORT_FORMATS:
        raise KeyError(fmt)
    if fmt == "csv":
        _write_text(writers.iter_csv(data.table(table)), out)
    elif fmt == "json":
        _write_text(writers.iter_json(data), out)
    elif fmt == "xlsx":
        writers.write_xlsx(data, typing.cast(BinaryIO, out))
    else:
        _write_datapackage_zip(data, out)


def _write_text(pieces: Iterator[str], out: IO[bytes]) -> None:
    for piece in pieces:
        out.write(piece.encode("utf-8"))


def _write_datapackage_zip(data: Dataset, out: IO[bytes]) -> None:
    slug = data.slug
    with tempfile.TemporaryDirectory() as folder:
        writers.write_datapackage(data, Path(folder) / slug)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted((Path(folder) / slug).rglob("*")):
                if path.is_file():
                    archive.write(path, f"{slug}/{path.relative_to(Path(folder) / slug)}")
