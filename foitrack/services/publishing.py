"""Publishing: a campaign's dataset frozen as a numbered release, the release's files, and the
differences between the live figures and the latest release (candidate corrections).

A release is frozen once, when it is published: every table is worked out by the services the
pages and exports use (the aggregate, the release lines and methods note, the tracker, the
figures) and kept as canonical JSON in the release's row, with each table's schema. Its files
are written from that text alone, so a release exported again a year later gives the same
bytes, whatever has happened to the live figures since.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager, defer

from foitrack.domain.clock import ClockSettings, working_days_between
from foitrack.domain.population import choose_year
from foitrack.errors import Conflict, Invalid, NotFound, Problem
from foitrack.exporters import dataset as writers
from foitrack.exporters import published_release as files
from foitrack.exporters.aggregate import change_dict, row_dict
from foitrack.exporters.dataset import Column, Dataset, ForeignKey, Table
from foitrack.models import (
    Authority,
    Campaign,
    Category,
    Dimension,
    Event,
    Figure,
    Measure,
    Period,
    PublishedRelease,
    Request,
    StoredFile,
)
from foitrack.services import aggregate as agg
from foitrack.services import audit
from foitrack.services.datasets import (
    AGGREGATE_COLUMNS_DESCRIBED,
    AGGREGATE_FOREIGN_KEYS,
    AGGREGATE_KEY,
    CATEGORY_COLUMNS,
    CHANGE_COLUMNS,
    CHANGE_FOREIGN_KEYS,
    CHANGE_KEY,
    DEFAULT_LICENSE,
    FIGURE_COLUMNS,
    FIGURE_KEY,
    MEASURE_COLUMNS,
    METHODS_COLUMNS,
    PERIOD_COLUMNS,
    RELEASE_COLUMNS,
    RELEASE_NUMBER_COLUMNS,
    TRACKER_COLUMNS,
    dataset_sources,
    design_rows,
    figure_rows,
    release_number_rows,
    release_rows,
    tracker_row,
)
from foitrack.services.population import campaign_estimates
from foitrack.services.release import describe_subset, fact_sheet, national_release
from foitrack.services.requests import campaign_requests
from foitrack.storage import FileStore, safe_filename

# Raised when what a release holds, or how it is laid out, changes: a reader of the frozen
# JSON (and of the files) can tell which layout it has. 2: the reply documents ticked are
# part of the release ("documents": each one's name in the folder, SHA-256 and size, written
# from the file store); a format 1 release has none, and is read and written as before.
# 3: each authority's rate and rank by rate (the "rates" table), the address of the version it
# follows, and DataCite metadata (datacite.json) written with the files, to deposit for a DOI.
CONTENT_FORMAT = 3
DATACITE_FROM = 3
DOCUMENTS_FOLDER = "documents"
TITLE_LIMIT = 300
EVERYONE = "every authority the campaign asked"

AUTHORITY_COLUMNS = (
    Column("code", "string", "ONS code of the authority (or its foitrack slug)", 14),
    Column("name", "string", "the authority's name", 36),
    Column("population", "integer", "the authority's resident population (mid-year "
           "estimate) for the release's latest period, when one is held", 12),
    Column("population_year", "integer", "the mid-year (30 June) of that estimate", 10),
)
REQUEST_COLUMNS = (
    *TRACKER_COLUMNS,
    Column("days_taken", "integer", "working days from receipt to the first response (time "
           "on hold for a clarification or a fee is not taken off)", 10),
    Column("wording", "integer", "the number of the request's wording (see the wording "
           "table)", 8),
)
SOURCE_COLUMNS = (
    Column("request_reference", "string", "the authority's reference for the request the "
           "figure answered", 16),
    Column("reply_on", "date", "the date of the reply the figure was taken from, when known",
           12),
    Column("source_document", "string", "the reply document's file name in the release's "
           "documents/ folder, only where the researcher chose to publish it; empty "
           "otherwise", 24),
)
PUBLISHED_FIGURE_COLUMNS = (*FIGURE_COLUMNS, *SOURCE_COLUMNS)
WORDING_COLUMNS = (
    Column("wording", "integer", "the wording's number, 1 for the first", 8),
    Column("subject", "string", "the request's subject line", 40),
    Column("text", "string", "the request as sent", 120),
    Column("requests", "integer", "how many of the requests published were sent with it", 8),
)
# Each authority's rate in a cell (from content format 3): what the rate chart by force and the
# fact sheets' rate lines are drawn from. Only cells with a rate or a reason for none.
RATE_KEY = ("authority_code", "measure", "period", "dimension", "category", "level")
RATE_COLUMNS = (
    Column("authority_code", "string", "ONS code of the authority (or its foitrack slug)", 14),
    Column("measure", "string", "measure key from the campaign file"),
    Column("period", "string", "period or period-group key from the campaign file"),
    Column("dimension", "string", "dimension key; empty for a total"),
    Column("category", "string", "category (or group key); empty for a total", 20),
    Column("level", "string", "total, category or group"),
    Column("value", "integer", "the authority's exact figure in the cell", 8),
    Column("population", "integer", "the resident population (mid-year estimate) the rate is "
           "per; empty without one", 12),
    Column("population_year", "integer", "the mid-year (30 June) of that estimate", 10),
    Column("population_nearest", "boolean", "true when the period's own mid-year had no "
           "estimate and the nearest year's was used", 10),
    Column("rate", "number", "the figure per the measure's base (e.g. per 100,000 people), "
           "unrounded; empty without a population", 10),
    Column("rate_rank", "integer", "its rank by rate among the ranked authorities (1 = "
           "highest; equal rates share a rank); empty when not ranked", 8),
    Column("rate_ranked", "integer", "how many authorities were ranked by rate in the cell", 8),
    Column("rate_note", "string", "why the authority has no rate or no rank, when it has "
           "none", 40),
)
FACT_SHEET_COLUMNS = (
    Column("authority_code", "string", "ONS code of the authority (or its foitrack slug)", 14),
    Column("line", "integer", "the line's number in the authority's fact sheet", 6),
    Column("kind", "string", "what the line is about, e.g. local, rate or share", 12),
    Column("text", "string", "the line as written for the local press", 100),
)
_TO_AUTHORITIES = ForeignKey(("authority_code",), "authorities", ("code",))
_TO_MEASURES = ForeignKey(("measure",), "measures", ("measure",))
_TO_PERIODS = ForeignKey(("period",), "periods", ("period",))
# What a correction is about: the figure itself, not who checked it or where it was noted.
COMPARED = ("kind", "value", "lower", "upper", "exemption", "caveat", "withdrawn")


@dataclass(frozen=True)
class Choice:
    """Which authorities a release covers: ``ids`` None for every one asked."""

    given: str | None
    ids: list[int] | None
    label: str | None


@dataclass(frozen=True)
class Correction:
    """One figure that differs between the latest release and the live data."""

    key: dict[str, str]
    change: str  # "changed", "added" (live only) or "removed" (published only)
    published: dict[str, Any] | None
    live: dict[str, Any] | None
    fields: tuple[str, ...] = field(default=())

    def text(self) -> str:
        where = " ".join(value for value in self.key.values() if value)
        if self.change != "changed":
            return f"{where}: {self.change} since the release"
        assert self.published is not None and self.live is not None
        return f"{where}: " + ", ".join(
            f"{name} {self.published.get(name)!r} -> {self.live.get(name)!r}"
            for name in self.fields)


@dataclass(frozen=True)
class ReplyDocument:
    """A reply document that figures of the campaign were taken from, to tick for a release."""

    file_id: int
    filename: str
    size: int
    authority_name: str
    figure_ids: tuple[int, ...]
    figures: tuple[str, ...]  # each figure it is the source of, in words


@dataclass(frozen=True)
class WrittenFile:
    path: Path
    sha256: str


# --- choosing and checking ----------------------------------------------------------------

def choose_authorities(session: Session, given: str | None) -> Choice:
    """The authorities a release covers, from a set or comma-separated codes (None: all).

    :raises Invalid: naming ``authorities`` when a term names no authority or set.
    """
    try:
        ids, label = agg.subset_ids(session, given)
    except NotFound as error:
        raise Invalid(str(error), field="authorities") from None
    return Choice(given.strip() if given and given.strip() else None, ids, label)


def parse_embargo(text: str | None) -> dt.datetime | None:
    """An embargo time as given ("2019-09-20 00:01"), in UTC. Without an offset it is UK
    time, as a researcher and the newsrooms mean it (00:01 on 20 September 2019 is 23:01 UTC
    the day before, in summer time); an hour that occurs twice when the clocks go back is taken
    at its second occurrence, so that nothing is out early.

    :raises Invalid: naming ``embargo_until`` for anything else.
    """
    if text is None or not text.strip():
        return None
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(f"{text!r} is not a date and time such as 2019-09-20 00:01 (UK time)",
                      field="embargo_until") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo("Europe/London"), fold=1)
    return when.astimezone(dt.UTC)


def latest(session: Session, campaign: Campaign) -> PublishedRelease | None:
    return session.scalar(select(PublishedRelease).where(PublishedRelease.campaign_id == campaign.id)
                          .order_by(PublishedRelease.version.desc()).limit(1))


def releases(session: Session, campaign: Campaign) -> list[PublishedRelease]:
    """Every published version of a campaign, the first first."""
    return list(session.scalars(select(PublishedRelease)
                                .where(PublishedRelease.campaign_id == campaign.id)
                                .order_by(PublishedRelease.version)))


def get_release(session: Session, campaign: Campaign, version: int) -> PublishedRelease:
    """:raises NotFound:"""
    found = session.scalar(select(PublishedRelease).where(
        PublishedRelease.campaign_id == campaign.id, PublishedRelease.version == version))
    if found is None:
        raise NotFound(f"{campaign.slug} has no published version {version}")
    return found


# --- publishing ------------------------------------------------------------------------------

def publish(session: Session, actor: audit.Actor, campaign: Campaign, *, title: str,
            today: dt.date, settings: ClockSettings | None = None,
            authorities: str | None = None, checked_only: bool = False,
            embargo_until: dt.datetime | None = None, note: str | None = None,
            documents: Collection[int] = (), organisation: str = "foitrack",
            base_url: str | None = None, now: dt.datetime | None = None) -> PublishedRelease:
    """Freeze ``campaign`` as its next published version and add it to the session.

    ``documents`` are the ids of figures whose reply document is published with the release
    (each ticked by the researcher): named in the figures table and, once ``write_files`` is
    given the file store, written into the release's documents/ folder. No other document is.

    :raises Invalid: every problem with the title, note, choice of authorities or documents,
        each naming its field; nothing is added then.
    :raises Conflict: when another session published the same version first.
    """
    problems: list[Problem] = []
    title = " ".join((title or "").split())
    if not title:
        problems.append(Problem("a release needs a title", "title"))
    elif len(title) > TITLE_LIMIT:
        problems.append(Problem(f"at most {TITLE_LIMIT} characters", "title"))
    previous = latest(session, campaign)
    version = (previous.version if previous else 0) + 1
    note = (note or "").strip() or None
    if version > 1 and note is None:
        problems.append(Problem(f"version {version} needs a note saying what changed since "
                                f"version {version - 1} and why", "note"))
    try:
        choice = choose_authorities(session, authorities)
    except Invalid as error:
        problems += error.problems
        choice = None
    problems += _document_problems(session, campaign, documents)
    if problems or choice is None:
        raise Invalid(problems)

    created = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    content = freeze(session, campaign, choice, today=today, settings=settings,
                     checked_only=checked_only, documents=documents)
    content["release"] = {
        "version": version, "title": title, "created_at": _stamp(created),
        "created_by": actor.label, "embargo_until": _stamp(embargo_until), "note": note,
        "authorities": choice.given, "checked_only": checked_only,
        "organisation": organisation, "url": release_url(base_url, campaign.slug, version),
        "previous_url": release_url(base_url, campaign.slug, version - 1) if version > 1 else None,
    }
    text = canonical_json(content)
    release = PublishedRelease(
        campaign_id=campaign.id, version=version, title=title, created_at=created,
        created_by=actor.label, embargo_until=embargo_until, note=note,
        authorities=choice.given, checked_only=checked_only, content=text,
        content_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())
    slug = campaign.slug  # read now: after a failed flush the session reads nothing
    session.add(release)
    try:
        session.flush()
    except IntegrityError:  # the unique (campaign, version): someone published meanwhile
        raise Conflict(f"version {version} of {slug} was published at the same "
                       "time by someone else; publish again") from None
    audit.record(session, actor, "published_release", release.id, "publish",
                 after={"campaign": campaign.slug, "version": version, "title": title,
                        "sha256": release.content_sha256}, campaign_id=campaign.id)
    return release


def release_url(base_url: str | None, slug: str, version: int) -> str | None:
    """The release's stable address (the public portal's, once it is served)."""
    return f"{base_url.rstrip('/')}/data/{slug}/v{version}/" if base_url else None


def canonical_json(content: dict[str, Any]) -> str:
    """One spelling for a release's content: sorted keys, no spaces, UTF-8 as it is."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def _stamp(when: dt.datetime | None) -> str | None:
    return None if when is None else when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _document_problems(session: Session, campaign: Campaign,
                       documents: Collection[int]) -> list[Problem]:
    if not documents:
        return []
    held = set(session.scalars(
        select(Figure.id).join(Request, Request.id == Figure.request_id)
        .where(Request.campaign_id == campaign.id, Figure.id.in_(list(documents)),
               Figure.source_file_id.is_not(None))))
    missing = sorted(set(documents) - held)
    return [Problem(f"figure {i} is not a figure of {campaign.slug} with a reply document",
                    "documents") for i in missing]


def reply_documents(session: Session, campaign: Campaign) -> list[ReplyDocument]:
    """Every reply document figures of ``campaign`` were taken from, with those figures' ids
    (what ``publish`` takes as ``documents``), by authority then file name."""
    query = (
        select(StoredFile.id, StoredFile.filename, StoredFile.size, Authority.name, Figure.id,
               Measure.key, Period.key, Category.label)
        .join(Figure, Figure.source_file_id == StoredFile.id)
        .join(Request, Request.id == Figure.request_id)
        .join(Authority, Authority.id == Request.authority_id)
        .join(Measure, Measure.id == Figure.measure_id)
        .join(Period, Period.id == Figure.period_id)
        .outerjoin(Category, Category.id == Figure.category_id)
        .where(Request.campaign_id == campaign.id)
        .order_by(Authority.name, StoredFile.filename, StoredFile.id, Figure.id))
    grouped: dict[int, list[Any]] = {}
    for row in session.execute(query):
        grouped.setdefault(row[0], []).append(row)
    return [ReplyDocument(
        file_id=file_id, filename=rows[0][1], size=rows[0][2], authority_name=rows[0][3],
        figure_ids=tuple(row[4] for row in rows),
        figures=tuple(" ".join(part for part in (row[5], row[6], row[7]) if part)
                      for row in rows))
        for file_id, rows in grouped.items()]


def freeze(session: Session, campaign: Campaign, choice: Choice, *, today: dt.date,
           settings: ClockSettings | None = None, checked_only: bool = False,
           documents: Collection[int] = ()) -> dict[str, Any]:
    """Everything a release holds, as plain JSON values: each table with its schema and rows,
    the methods note, the wording, licence and sources. Worked out by the same services as the
    pages, over the chosen authorities."""
    ids = choice.ids
    figure_sources, published = _figure_sources(session, campaign, set(documents))
    # With each authority's rows: the subset's rate line names those left out of it (as
    # `foitrack release --authorities` does), and the fact sheets rank each force by them.
    result = agg.build(session, campaign, ids, checked_only=checked_only, subset=choice.label)
    national = result if ids is None else agg.build(session, campaign, checked_only=checked_only)
    if ids is None:
        subject = None
        release = national_release(session, campaign, result, today, settings)
    else:
        # As `foitrack release --authorities` words it (and the page): the subset named.
        subject = describe_subset(session, ids, choice.label)
        release = national_release(session, campaign, result, today, settings,
                                   authority_ids=ids, subject=subject)
    wanted = set(ids) if ids is not None else None
    requests = [r for r in campaign_requests(session, campaign)
                if wanted is None or r.authority_id in wanted]
    codes = {r.authority.code or r.authority.slug for r in requests}
    design = design_rows(campaign)
    methods = list(release.methods)
    tables = [
        _table("authorities", "Authorities", "Every authority asked, with its population.",
               AUTHORITY_COLUMNS, _authority_rows(session, campaign, requests, ids),
               primary_key=("code",)),
        _table("requests", "Requests", "Every request: when it was sent, when it was due, when "
               "and how it was answered, and the working days it took.", REQUEST_COLUMNS,
               _request_rows(requests, today, settings), primary_key=("authority_code",),
               foreign_keys=(_TO_AUTHORITIES,
                             ForeignKey(("wording",), "wording", ("wording",)))),
        _table("figures", "Figures", "Every figure each authority gave, with its caveat and "
               "the request and reply it came from.", PUBLISHED_FIGURE_COLUMNS,
               _figure_rows(session, campaign, codes, checked_only, figure_sources),
               primary_key=FIGURE_KEY,
               foreign_keys=(_TO_AUTHORITIES, _TO_MEASURES, _TO_PERIODS)),
        _table("aggregate", "Aggregate", "Totals, bounds, coverage, shares and rates for each "
               "measure, period, category and group.", AGGREGATE_COLUMNS_DESCRIBED,
               (row_dict(row) for row in result.rows), primary_key=AGGREGATE_KEY,
               foreign_keys=AGGREGATE_FOREIGN_KEYS),
        _table("rates", "Rates", "Each authority's rate per the measure's base (e.g. per "
               "100,000 people) and its rank by rate, where it has one or a reason for none.",
               RATE_COLUMNS, _rate_rows(result), primary_key=RATE_KEY,
               foreign_keys=(_TO_AUTHORITIES, _TO_MEASURES, _TO_PERIODS)),
        _table("changes", "Changes", "Each period against every earlier one, over every "
               "authority with a figure and over the matched panel.", CHANGE_COLUMNS,
               (change_dict(change) for change in result.changes), primary_key=CHANGE_KEY,
               foreign_keys=CHANGE_FOREIGN_KEYS),
        _table("release_lines", "Release lines", "The release lines, as published.",
               RELEASE_COLUMNS, release_rows(release), primary_key=("line",)),
        _table("release_numbers", "Release numbers", "Every number in the release lines, "
               "with the cell of the aggregate it came from.", RELEASE_NUMBER_COLUMNS,
               release_number_rows(release), primary_key=("line", "position"),
               foreign_keys=(ForeignKey(("line",), "release_lines", ("line",)), _TO_MEASURES,
                             _TO_PERIODS)),
        _table("fact_sheets", "Fact sheets", "Each authority's own lines, for its local "
               "press, with the national context (as `foitrack release --authority` writes "
               "them).", FACT_SHEET_COLUMNS,
               _fact_sheet_rows(session, campaign, national, requests, today, settings),
               primary_key=("authority_code", "line"), foreign_keys=(_TO_AUTHORITIES,)),
        _table("methods", "Methods", "The methods note, a paragraph a row.", METHODS_COLUMNS,
               ({"line": i, "text": text} for i, text in enumerate(methods, start=1)),
               primary_key=("line",)),
        _table("wording", "Wording", "The request's wording, each version sent.",
               WORDING_COLUMNS, _wording_rows(campaign, requests), primary_key=("wording",)),
        _table("measures", "Measures", "The campaign's measures.", MEASURE_COLUMNS,
               design["measures"], primary_key=("measure",)),
        _table("periods", "Periods", "The campaign's periods and period groups.",
               PERIOD_COLUMNS, design["periods"], primary_key=("period",)),
        _table("categories", "Categories", "The total, then each dimension's categories and "
               "each category group.", CATEGORY_COLUMNS, design["categories"],
               primary_key=("dimension", "category", "level")),
    ]
    named = _named_documents(tables)
    names = {r.authority.name for r in requests}
    sources = [s for s in dataset_sources(session, campaign)
               if any(s["title"].endswith(f"request to {name}")
                      or f"request to {name} (reference" in s["title"] for name in names)]
    return {
        "format": CONTENT_FORMAT,
        "campaign": {"slug": campaign.slug, "title": campaign.title},
        "subject": subject or EVERYONE,
        "authority_codes": sorted(codes),
        "checked_only": checked_only,
        "frozen_on": today.isoformat(),
        "lines_title": release.title,
        "methods": methods,
        "licenses": [DEFAULT_LICENSE],
        "sources": sources,
        "tables": tables,
        # Only the documents of figures the release holds (a ticked document of an authority
        # left out of a subset is not published).
        "documents": [document for document in published if document["name"] in named],
    }


def _plain(value: Any) -> Any:
    """A cell as JSON keeps it: dates as ISO text, whole floats left as floats."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "value") and isinstance(value.value, str):  # enums
        return value.value
    return value


def _rate_rows(result: agg.Aggregate) -> Iterator[dict[str, Any]]:
    for row in result.authorities:
        if row.rate is None and not row.rate_note:
            continue
        yield {"authority_code": row.code or row.slug, "measure": row.cell.measure,
               "period": row.cell.period, "dimension": row.cell.dimension or "",
               "category": row.cell.category or "", "level": row.cell.level,
               "value": row.value, "population": row.population,
               "population_year": row.population_year,
               "population_nearest": row.population_nearest, "rate": row.rate,
               "rate_rank": row.rate_rank, "rate_ranked": row.rate_ranked,
               "rate_note": row.rate_note or ""}


def _table(name: str, title: str, description: str, columns: Sequence[Column],
           rows: Any, *, primary_key: tuple[str, ...] = (),
           foreign_keys: tuple[ForeignKey, ...] = ()) -> dict[str, Any]:
    return {
        "name": name, "title": title, "description": description,
        "columns": [[c.name, c.type, c.description, c.width] for c in columns],
        "primary_key": list(primary_key),
        "foreign_keys": [[list(k.fields), k.resource, list(k.reference)] for k in foreign_keys],
        "rows": [[_plain(row.get(c.name)) for c in columns] for row in rows],
    }


def _authority_rows(session: Session, campaign: Campaign, requests: Sequence[Request],
                    ids: list[int] | None) -> Iterator[dict[str, Any]]:
    """Each authority asked, with the population of the latest period's own mid-year (or the
    nearest year held), as the rates choose it (domain.population.choose_year)."""
    estimates = campaign_estimates(session, campaign.id, {"population"}, ids)
    latest_period = max(campaign.periods, key=lambda p: p.start, default=None)
    for request in requests:
        authority = request.authority
        years = estimates.get((authority.id, "population"), {})
        chosen = (choose_year(latest_period.start, latest_period.end, years)
                  if latest_period is not None else None)
        yield {"code": authority.code or authority.slug, "name": authority.name,
               "population": years[chosen.year] if chosen else None,
               "population_year": chosen.year if chosen else None}


def _fact_sheet_rows(session: Session, campaign: Campaign, national: agg.Aggregate,
                     requests: Sequence[Request], today: dt.date,
                     settings: ClockSettings | None) -> Iterator[dict[str, Any]]:
    for request in requests:
        code = request.authority.code or request.authority.slug
        # Only the lines are kept (the release has its own methods note): the sheet's note,
        # half its cost, is left empty.
        sheet = fact_sheet(session, campaign, national, request.authority.slug, today, settings,
                           methods=())
        for number, line in enumerate(sheet.lines, start=1):
            yield {"authority_code": code, "line": number, "kind": line.kind, "text": line.text}


def _request_rows(requests: Sequence[Request], today: dt.date,
                  settings: ClockSettings | None) -> Iterator[dict[str, Any]]:
    for request in requests:
        row = tracker_row(request, today, settings)
        received, answered = row["received_on"], row["responded_on"]
        row["days_taken"] = (working_days_between(received, answered, request.authority.regime)
                             if received and answered else None)
        row["wording"] = request.version.number if request.version else None
        yield row


def _wording_rows(campaign: Campaign, requests: Sequence[Request]) -> Iterator[dict[str, Any]]:
    """Every wording a published request was sent with; the current one when none was sent."""
    used: dict[int, int] = {}
    for request in requests:
        if request.version is not None:
            used[request.version.number] = used.get(request.version.number, 0) + 1
    for version in campaign.versions:
        if version.number in used or (not used and version is campaign.versions[-1]):
            yield {"wording": version.number, "subject": version.subject,
                   "text": version.request_text, "requests": used.get(version.number, 0)}


def _named_documents(tables: list[dict[str, Any]]) -> set[str]:
    """The documents/ names the frozen figures table names in its source_document column."""
    figures = next(t for t in tables if t["name"] == "figures")
    at = [c[0] for c in figures["columns"]].index("source_document")
    return {f"{DOCUMENTS_FOLDER}/{row[at]}" for row in figures["rows"] if row[at]}


def _figure_rows(session: Session, campaign: Campaign, codes: Collection[str],
                 checked_only: bool, sources: dict[tuple[Any, ...], tuple[str, dt.date | None,
                                                                        str]]
                 ) -> Iterator[dict[str, Any]]:
    """The export's figure rows (datasets.figure_rows) of the chosen authorities, each with
    the request and reply it came from, and its document's name only where ticked."""
    for row in figure_rows(session, campaign, checked_only=checked_only):
        if row["authority_code"] not in codes:
            continue
        key = tuple(row[name] for name in FIGURE_KEY)
        reference, reply_on, document = sources.get(key, ("", None, ""))
        yield {**row, "request_reference": reference, "reply_on": reply_on,
               "source_document": document}


def _figure_sources(session: Session, campaign: Campaign, documents: set[int]
                    ) -> tuple[dict[tuple[Any, ...], tuple[str, dt.date | None, str]],
                               list[dict[str, Any]]]:
    """Each figure's request reference, reply date and (ticked only) document name in the
    release's documents/ folder, by figure key; and the documents ticked, one per distinct
    content, each with its name, SHA-256 and size."""
    query = (
        select(Figure.id, func.coalesce(func.nullif(Authority.code, ""), Authority.slug),
               Measure.key, Period.key, Dimension.key, Category.label, Request.reference,
               Event.occurred_on, StoredFile.filename, StoredFile.sha256, StoredFile.size)
        .join(Request, Request.id == Figure.request_id)
        .join(Authority, Authority.id == Request.authority_id)
        .join(Measure, Measure.id == Figure.measure_id)
        .join(Period, Period.id == Figure.period_id)
        .outerjoin(Category, Category.id == Figure.category_id)
        .outerjoin(Dimension, Dimension.id == Category.dimension_id)
        .outerjoin(Event, Event.id == Figure.source_event_id)
        .outerjoin(StoredFile, StoredFile.id == Figure.source_file_id)
        .where(Request.campaign_id == campaign.id))
    found = session.execute(query).all()
    ticked = {(row.sha256, row.filename, row.size) for row in found
              if row.id in documents and row.sha256}
    names = _document_names(ticked)
    sources = {
        (code, measure, period, dimension or "", category or ""):
            (reference or "", reply_on,
             names.get(sha256, "") if figure_id in documents and sha256 else "")
        for figure_id, code, measure, period, dimension, category, reference, reply_on, _,
        sha256, _ in found
    }
    sizes = {sha256: size for sha256, _, size in ticked}
    published = sorted(({"name": f"{DOCUMENTS_FOLDER}/{name}", "sha256": sha256,
                         "size": sizes[sha256]} for sha256, name in names.items()),
                       key=lambda document: document["name"])
    return sources, published


def _document_names(ticked: Collection[tuple[str, str, int]]) -> dict[str, str]:
    """A name in the documents/ folder for each distinct content (by SHA-256): the stored
    file's name made safe, and numbered ("reply-2.pdf") where two different documents share a
    name, ignoring case as some file systems do. The same ticks give the same names."""
    chosen: dict[str, str] = {}
    taken: set[str] = set()
    by_content: dict[str, str] = {}
    for sha256, filename, _ in sorted(ticked):
        by_content.setdefault(sha256, filename)  # one content stored under two names: the first
    for sha256, filename in sorted(by_content.items(),
                                   key=lambda item: (safe_filename(item[1], "document").casefold(),
                                                     item[0])):
        name = safe_filename(filename, "document")
        stem, dot, suffix = name.rpartition(".")
        if not stem:  # no extension, or a name such as ".pdf" made safe to "pdf"
            stem, dot, suffix = name, "", ""
        number = 1
        while name.casefold() in taken:
            number += 1
            name = f"{stem}-{number}{dot}{suffix}"
        taken.add(name.casefold())
        chosen[sha256] = name
    return chosen


# --- reading a release back -------------------------------------------------------------------

def content_of(release: PublishedRelease) -> dict[str, Any]:
    content: dict[str, Any] = json.loads(release.content)
    return content


def tables_of(content: dict[str, Any]) -> list[Table]:
    """The frozen tables as the exporters take them: dates as dates again, schemas as frozen."""
    tables = []
    for frozen in content["tables"]:
        columns = tuple(Column(name, kind, text, width)
                        for name, kind, text, width in frozen["columns"])
        tables.append(Table(
            frozen["name"], frozen["title"], frozen["description"], columns,
            _rows_reader(columns, frozen["rows"]), primary_key=tuple(frozen["primary_key"]),
            foreign_keys=tuple(ForeignKey(tuple(fields), resource, tuple(reference))
                               for fields, resource, reference in frozen["foreign_keys"])))
    return tables


def _rows_reader(columns: tuple[Column, ...], rows: list[list[Any]]) -> Any:
    dates = [c.type == "date" for c in columns]

    def read() -> Iterator[dict[str, Any]]:
        for row in rows:
            yield {c.name: (dt.date.fromisoformat(v) if is_date and isinstance(v, str) and v
                            else v)
                   for c, v, is_date in zip(columns, row, dates, strict=True)}
    return read


def release_dataset(content: dict[str, Any]) -> Dataset:
    """The release as the dataset exporters take it (XLSX, data package)."""
    meta = content["release"]
    return Dataset(
        slug=f"{content['campaign']['slug']}-v{meta['version']}", title=meta["title"],
        methods=list(content["methods"]), tables=tables_of(content),
        created=dt.date.fromisoformat(meta["created_at"][:10]),
        licenses=list(content["licenses"]), sources=list(content["sources"]))


def citation_of(content: dict[str, Any]) -> files.Citation:
    meta = content["release"]
    licence = content["licenses"][0]["name"] if content["licenses"] else "other"
    return files.Citation(
        title=meta["title"], organisation=meta["organisation"], version=meta["version"],
        published=dt.date.fromisoformat(meta["created_at"][:10]), url=meta["url"],
        licence=licence,
        description=f"{content['campaign']['title']}: figures from Freedom of Information "
                    f"requests to {content['subject']}.")


# --- files -------------------------------------------------------------------------------------

def release_folder(root: Path, release: PublishedRelease) -> Path:
    """Where a release's files go: <root>/<campaign>/v<version>/ (root: the instance's
    ``releases`` folder)."""
    return root / release.campaign.slug / f"v{release.version}"


def write_files(release: PublishedRelease, folder: Path,
                store: FileStore | None = None) -> list[WrittenFile]:
    """Write every file of ``release`` into ``folder`` from its frozen content alone (and the
    reply documents it holds from ``store``, by their frozen SHA-256), and return each with
    its SHA-256, in name order. Writing again gives the same bytes.

    :raises Invalid: naming ``documents`` when the release holds a reply document and no
        store is given, or the store has lost it; the caller publishes nothing then.
    """
    content = content_of(release)
    documents = _document_bytes(content, store)
    meta = content["release"]
    stem = f"{content['campaign']['slug']}-v{meta['version']}"
    created = dt.datetime.fromisoformat(meta["created_at"].replace("Z", "+00:00"))
    folder.mkdir(parents=True, exist_ok=True)
    data = release_dataset(content)
    citation = citation_of(content)

    files.write_sqlite(data.tables, folder / f"{stem}.sqlite")
    xlsx = io.BytesIO()
    writers.write_xlsx(data, xlsx)
    _write_bytes(folder / f"{stem}.xlsx", files.repeatable_zip(xlsx.getvalue(), created))
    package = folder / "datapackage"
    writers.write_datapackage(data, package)
    _describe_package(package / "datapackage.json", content, citation)
    _write_bytes(folder / "methods.html", files.methods_html(_methods_page(content, citation))
                 .encode("utf-8"))
    _write_bytes(folder / "CITATION.cff", files.citation_cff(citation).encode("utf-8"))
    _write_bytes(folder / "citation.txt", citation.text().encode("utf-8"))
    if _has_datacite(content):
        _write_bytes(folder / "datacite.json", files.datacite_json(
            citation, content["licenses"], previous_url=meta.get("previous_url"),
            methods=list(content["methods"])).encode("utf-8"))
    _write_bytes(folder / "release.json", (release.content + "\n").encode("utf-8"))
    for name, document in documents.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        _write_bytes(folder / name, document)
    # The files named, not the folder listed: a file left there by anything else is no part
    # of the release.
    paths = [folder / f"{stem}.sqlite", folder / f"{stem}.xlsx", package / "datapackage.json",
             *(package / "data" / f"{table.name}.csv" for table in data.tables),
             folder / "methods.html", folder / "CITATION.cff", folder / "citation.txt",
             folder / "release.json", *(folder / name for name in documents),
             *([folder / "datacite.json"] if _has_datacite(content) else [])]
    written = [WrittenFile(path, _sha256(path))
               for path in sorted(paths, key=lambda p: p.relative_to(folder).as_posix())]
    sums = "".join(f"{f.sha256}  {f.path.relative_to(folder).as_posix()}\n" for f in written)
    _write_bytes(folder / "SHA256SUMS", sums.encode("utf-8"))
    return [*written, WrittenFile(folder / "SHA256SUMS", _sha256(folder / "SHA256SUMS"))]


def _document_bytes(content: dict[str, Any], store: FileStore | None) -> dict[str, bytes]:
    """Each reply document the release holds (none before content format 2), by its name in
    the folder, read from the file store and checked against its frozen SHA-256."""
    documents = content.get("documents", [])
    if documents and store is None:
        raise Invalid(f"version {content['release']['version']} publishes reply documents, "
                      "which are read from the file store: none was given", field="documents")
    found = {}
    for document in documents:
        assert store is not None
        try:
            data = store.read(document["sha256"])
        except FileNotFoundError:
            data = None
        if data is None or hashlib.sha256(data).hexdigest() != document["sha256"]:
            raise Invalid(f"the reply document {document['name']} (SHA-256 "
                          f"{document['sha256'][:12]}...) is not in the file store",
                          field="documents")
        found[document["name"]] = data
    return found


def _write_bytes(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.part")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _describe_package(path: Path, content: dict[str, Any], citation: files.Citation) -> None:
    """The descriptor write_datapackage wrote, with the release's version, its exact time,
    address and citation (the Data Package's own properties), written the same way again."""
    meta = content["release"]
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    descriptor["version"] = f"{meta['version']}.0.0"  # Data Package versions are SemVer
    descriptor["created"] = meta["created_at"]
    descriptor["contributors"] = [{"title": meta["organisation"], "role": "publisher"}]
    if meta["url"]:
        descriptor["id"] = descriptor["homepage"] = meta["url"]
    descriptor["citation"] = citation.text().strip()
    if meta["note"]:
        descriptor["description"] = f"Version {meta['version']}: {meta['note']}\n\n" \
                                    + descriptor["description"]
    path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n",
                    encoding="utf-8")


def _methods_page(content: dict[str, Any], citation: files.Citation) -> files.MethodsPage:
    meta = content["release"]
    tables = {t["name"]: t for t in content["tables"]}
    text_at = [c[0] for c in tables["release_lines"]["columns"]].index("text")
    return files.MethodsPage(
        title=meta["title"], campaign=content["campaign"]["title"], version=meta["version"],
        published=_in_words(meta["created_at"]),
        embargo=_in_words(meta["embargo_until"]) if meta["embargo_until"] else None,
        note=meta["note"], subject=content["subject"], checked_only=content["checked_only"],
        methods=content["methods"], lines=[row[text_at] for row in tables["release_lines"]["rows"]],
        wording=[(row[0], row[1], row[2]) for row in tables["wording"]["rows"]],
        citation=citation.text())


def _in_words(stamp: str) -> str:
    """'2019-09-20T00:01:00Z' as '2019-09-20 00:01 UTC'."""
    return f"{stamp[:10]} {stamp[11:16]} UTC"


# --- corrections -------------------------------------------------------------------------------

def candidate_corrections(session: Session, campaign: Campaign, *, today: dt.date,
                          settings: ClockSettings | None = None) -> list[Correction]:
    """The figures whose live value, caveat or withdrawal differs from the latest release's
    (over the same authorities, checked or not as it was): each a correction to consider
    publishing as a new version. Empty when nothing is published yet or nothing differs."""
    release = latest(session, campaign)
    if release is None:
        return []
    published = content_of(release)
    codes = set(published["authority_codes"])
    live = _table("figures", "", "", PUBLISHED_FIGURE_COLUMNS,
                  _figure_rows(session, campaign, codes, published["checked_only"],
                               _figure_sources(session, campaign, set())[0]))
    frozen = next(t for t in published["tables"] if t["name"] == "figures")
    before, after = _keyed(frozen), _keyed(live)
    corrections = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        named = dict(zip(FIGURE_KEY, key, strict=True))
        if old is None:
            corrections.append(Correction(named, "added", None, new))
        elif new is None:
            corrections.append(Correction(named, "removed", old, None))
        elif changed := tuple(name for name in COMPARED if old.get(name) != new.get(name)):
            corrections.append(Correction(named, "changed", old, new, changed))
    return corrections


def _keyed(table: dict[str, Any]) -> dict[tuple[str, ...], dict[str, Any]]:
    names = [c[0] for c in table["columns"]]
    rows = (dict(zip(names, row, strict=True)) for row in table["rows"])
    return {tuple(row[name] for name in FIGURE_KEY): row for row in rows}


# --- the public portal (read only) -------------------------------------------------------------

def is_public(release: PublishedRelease, now: dt.datetime) -> bool:
    """Published and past its embargo (or with none): compared with ``now`` on every read, so
    a release becomes public at its embargo time by itself, with nothing written."""
    return release.embargo_until is None or release.embargo_until <= now


def releases_public_at(session: Session, now: dt.datetime) -> Iterator[PublishedRelease]:
    """Every release public at ``now``, by campaign slug then version (the embargo compared in
    Python, in UTC, the same way on every database), its frozen content (the bulk of each row)
    left unread until asked for: the portal's list and Datasette ask on every request."""
    found = session.scalars(
        select(PublishedRelease).join(PublishedRelease.campaign)
        .options(defer(PublishedRelease.content), contains_eager(PublishedRelease.campaign))
        .order_by(Campaign.slug, PublishedRelease.version))
    for release in found:
        if is_public(release, now):
            yield release


def latest_public(session: Session, now: dt.datetime) -> list[PublishedRelease]:
    """Each campaign's latest public version, by campaign slug."""
    chosen: dict[int, PublishedRelease] = {}
    for release in releases_public_at(session, now):
        chosen[release.campaign_id] = release  # versions come in order: the last wins
    return sorted(chosen.values(), key=lambda r: r.campaign.slug)


def public_versions(session: Session, slug: str, now: dt.datetime) -> list[PublishedRelease]:
    """A campaign's public versions, the first first.

    :raises NotFound: when it has none (whether or not the campaign, or an embargoed
        version, exists: the same answer, so that nothing unpublished is told).
    """
    found = [release for release in session.scalars(
        select(PublishedRelease).join(PublishedRelease.campaign)
        .where(Campaign.slug == slug).order_by(PublishedRelease.version))
        if is_public(release, now)]
    if not found:
        raise NotFound("no such published release")
    return found


def public_release(session: Session, slug: str, version: int | None,
                   now: dt.datetime) -> PublishedRelease:
    """One public version (None: the latest public one).

    :raises NotFound: for an unknown, embargoed or unpublished version alike.
    """
    versions = public_versions(session, slug, now)
    if version is None:
        return versions[-1]
    for release in versions:
        if release.version == version:
            return release
    raise NotFound("no such published release")


def release_file_names(content: dict[str, Any]) -> list[str]:
    """The names (relative to the release's folder) of every file ``write_files`` writes for
    this content, in the order it lists them: the only names the portal serves."""
    meta = content["release"]
    stem = f"{content['campaign']['slug']}-v{meta['version']}"
    names = [f"{stem}.sqlite", f"{stem}.xlsx", "datapackage/datapackage.json",
             *(f"datapackage/data/{table['name']}.csv" for table in content["tables"]),
             "methods.html", "CITATION.cff", "citation.txt", "release.json",
             *(document["name"] for document in content.get("documents", [])),
             *(["datacite.json"] if _has_datacite(content) else [])]
    return [*sorted(names), "SHA256SUMS"]


def _has_datacite(content: dict[str, Any]) -> bool:
    """Whether the release writes datacite.json: those frozen since format 3 (an older one is
    written again exactly as it was, with no file added)."""
    return int(content.get("format", 1)) >= DATACITE_FROM


def table_rows(content: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """One frozen table's rows as dicts by column name (empty when the release has none)."""
    for table in content["tables"]:
        if table["name"] == name:
            columns = [column[0] for column in table["columns"]]
            return [dict(zip(columns, row, strict=True)) for row in table["rows"]]
    return []
