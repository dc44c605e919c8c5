"""Consistency checks on a campaign's figures before anything is published.

Findings are worked out from the figures and timelines each time they are asked for, never
stored: a corrected figure makes its finding go away by itself. Only what a researcher said
about a finding ("the force confirmed 31 in its letter of 2 May") is kept, matched to it by
its key, so an explanation survives the figures being entered again and stops applying when
the finding no longer arises.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, selectinload

from foitrack.db import utcnow
from foitrack.domain.clock import ClockSettings, today_in_uk
from foitrack.domain.figure_values import FigureValue, NotAFigure, ValueKind, parse
from foitrack.domain.timeline import EventKind, ordered
from foitrack.errors import Invalid, Problem
from foitrack.models import (
    Authority,
    Campaign,
    Category,
    Dimension,
    Figure,
    FindingExplanation,
    Measure,
    Period,
    Request,
)
from foitrack.services import audit
from foitrack.services.figures import DesignIndex, Entry
from foitrack.services.follow_ups import source_of
from foitrack.services.requests import state_of
from foitrack.services.withdrawals import withdrawn_flag

# The checks, in the order findings about one cell are listed, with what each means.
CATEGORIES_EXCEED_TOTAL = "categories-exceed-total"
CATEGORIES_DIFFER_FROM_TOTAL = "categories-differ-from-total"
YEAR_ON_YEAR_JUMP = "year-on-year-jump"
NO_RESPONSE = "no-response"
NO_SOURCE = "no-source"
REFUSED_WITH_FIGURES = "refused-with-figures"
NOT_HELD_WITH_FIGURES = "not-held-with-figures"
WITHDRAWN_RESPONSE = "withdrawn-response"
NOT_REENTERED = "not-reentered-since-replacement"
CHECKS: dict[str, str] = {
    CATEGORIES_EXCEED_TOTAL: "a breakdown's categories (not recorded included) add up to more "
                             "than the total",
    CATEGORIES_DIFFER_FROM_TOTAL: "every figure is exact, and a breakdown's categories add up to "
                                  "a different total",
    YEAR_ON_YEAR_JUMP: "a figure changed by more than a factor of 3 from the period before, on a "
                       "base of 10 or more",
    NO_RESPONSE: "figures recorded for a request with no response on its timeline",
    NO_SOURCE: "figures with no source (no place in the reply, no imported file)",
    REFUSED_WITH_FIGURES: "figures from a request refused in full (or neither confirmed nor "
                          "denied)",
    NOT_HELD_WITH_FIGURES: "figures from a request answered 'not held'",
    # Practice, not law (services.withdrawals): the aggregate leaves these figures out.
    WITHDRAWN_RESPONSE: "figures from a withdrawn response (left out of the aggregate)",
    NOT_REENTERED: "figures not entered again since the authority replaced its response "
                   "with corrected figures",
}
_ORDER = {check: rank for rank, check in enumerate(CHECKS)}

JUMP_FACTOR = 3  # beyond this either way...
JUMP_BASE = 10  # ...when the larger of the two figures is at least this
SAME_LENGTH_DAYS = 3  # periods this close in length are alike: 365 and 366 days, 28 and 31
MAX_NOTE = 5000
# Outcomes after which a refused or "not held" request may rightly have figures.
_OVERTURNED = {EventKind.internal_review_outcome: {"overturned", "partly_overturned"},
               EventKind.ico_decision: {"upheld", "partly_upheld"}}
_SHOWN_CELLS = 4  # cells named in one finding's detail before "and N more"
# How a finding words a refusal that figures came with anyway.
_SAID = {"refused": "refused", "ncnd": "neither confirm nor deny", "not_held": "not held"}

Cell = tuple[int, int, int | None]  # measure id, period id, category id (None: the total)
# Adds a finding: check, measure, period, dimension, category, detail, its place among its kind.
_Add = Callable[..., None]


@dataclass(frozen=True)
class Finding:
    """Something in the figures to look at before publishing, and what was said about it."""

    authority: str  # the authority's slug
    authority_name: str
    measure: str  # keys from the campaign file
    period: str
    dimension: str | None
    category: str | None  # a category's label
    check: str  # one of CHECKS
    detail: str  # in plain words: "check: 8 -> 31 (2017/18 to 2018/19)"
    key: str  # names the finding by what it is about: see finding_key()
    explanation: str | None = None
    authority_code: str | None = None
    cell: str = ""  # the cell in words: "offences, 2018/19, Communication method: Instagram"
    explained_by: str | None = None
    explained_at: dt.datetime | None = None

    @property
    def is_open(self) -> bool:
        """Not yet explained: counted, and failing `figures check --strict`."""
        return self.explanation is None

    @property
    def message(self) -> str:
        """One line for a warning: the authority, the cell and the check."""
        return f"{self.authority_name}, {self.cell}: {self.detail} ({self.check})"


def finding_key(check: str, authority: str, measure: str, period: str,
                dimension: str | None = None, category: str | None = None) -> str:
    """'check|authority|measure|period|dimension|category', empty parts for none."""
    return "|".join((check, authority, measure, period, dimension or "", category or ""))


@dataclass(frozen=True)
class _Value:
    """One figure as the checks need it."""

    kind: ValueKind
    value: int | None
    lower: int | None
    upper: int | None
    sourced: bool
    withdrawn: bool = False  # from a withdrawn response (services.withdrawals)
    touched: dt.datetime | None = None  # last entered, changed or checked; None: not saved yet

    @property
    def low(self) -> int | None:
        return self.value if self.kind is ValueKind.exact else (
            self.lower if self.kind is ValueKind.suppressed else None)

    @property
    def high(self) -> int | None:
        return self.value if self.kind is ValueKind.exact else (
            self.upper if self.kind is ValueKind.suppressed else None)

    @property
    def text(self) -> str:
        return FigureValue(self.kind, value=self.value, lower=self.lower,
                           upper=self.upper).text if self.kind in (
            ValueKind.exact, ValueKind.suppressed) else self.kind.label


@dataclass
class _Design:
    """The campaign's design, each part with its place in the listing order."""

    measures: list[Measure]
    periods: list[Period]
    dimensions: list[Dimension]
    previous: dict[int, Period]  # period id -> the period to compare it with

    @classmethod
    def load(cls, session: Session, campaign: Campaign) -> _Design:
        measures = list(session.scalars(select(Measure).where(Measure.campaign_id == campaign.id)
                                        .order_by(Measure.position, Measure.id)))
        periods = list(session.scalars(select(Period).where(Period.campaign_id == campaign.id)
                                       .order_by(Period.position, Period.id)))
        dimensions = list(session.scalars(
            select(Dimension).where(Dimension.campaign_id == campaign.id)
            .order_by(Dimension.position, Dimension.id).options(selectinload(Dimension.categories))))
        return cls(measures, periods, dimensions, previous_periods(periods))

    def slots(self) -> list[tuple[Dimension | None, Category | None]]:
        """The total, then every category of every dimension."""
        return [(None, None), *((d, c) for d in self.dimensions for c in d.categories)]


def _length(period: Any) -> int:
    return (period.end - period.start).days


def previous_periods(periods: Sequence[Any]) -> dict[int, Any]:
    """Each period's comparable period before it: the latest one of the same length (a quarter
    is not a year) that ends before it starts."""
    found = {}
    for period in periods:
        earlier = [p for p in periods if p.end < period.start
                   and abs(_length(p) - _length(period)) <= SAME_LENGTH_DAYS]
        if earlier:
            found[period.id] = max(earlier, key=lambda p: (p.end, p.start))
    return found


def is_jump(before: int, after: int) -> bool:
    """Beyond a factor of 3 either way, on a base of 10 or more (the larger of the two):
    8 -> 31 and 0 -> 12 are, 8 -> 24 and 2 -> 9 are not."""
    return max(before, after) >= JUMP_BASE and (after > JUMP_FACTOR * before
                                                or before > JUMP_FACTOR * after)


def findings(session: Session, campaign: Campaign, authority_ids: Sequence[int] | None = None,
             *, today: dt.date | None = None,
             settings: ClockSettings | None = None) -> list[Finding]:
    """Every finding, explained ones included, for the campaign or these authorities, by
    authority name, measure, period and check. A fixed number of queries, however many
    figures."""
    where = Request.authority_id.in_(list(authority_ids)) if authority_ids is not None else None
    return _findings(session, campaign, where, today, settings)


def open_findings(session: Session, campaign: Campaign,
                  authority_ids: Sequence[int] | None = None, *, today: dt.date | None = None,
                  settings: ClockSettings | None = None) -> list[Finding]:
    """The findings no one has explained yet."""
    return [f for f in findings(session, campaign, authority_ids, today=today, settings=settings)
            if f.is_open]


def warnings_for(session: Session, campaign: Campaign, request_ids: Iterable[int], *,
                 entries: Mapping[int, Sequence[Entry]] | None = None,
                 today: dt.date | None = None,
                 settings: ClockSettings | None = None) -> list[Finding]:
    """The open findings of these requests only, for a warning when figures are saved or
    imported; with ``entries`` (by request id), as they would be once those were saved (a
    preview: an entry with no value empties its cell). Entries count as having a source."""
    ids = sorted(set(request_ids))
    if not ids:
        return []
    found = _findings(session, campaign, Request.id.in_(ids), today, settings, entries or {})
    return [f for f in found if f.is_open]


def warning_lines(found: Sequence[Finding], limit: int = 8) -> list[str]:
    """Warning lines naming the authority, the cell and the check, at most ``limit`` of them
    and then how many more."""
    lines = [f.message for f in found[:limit]]
    if len(found) > limit:
        lines.append(f"and {len(found) - limit} more")
    return lines


def explain(session: Session, actor: audit.Actor, campaign: Campaign, key: str, note: str, *,
            today: dt.date | None = None) -> FindingExplanation:
    """Mark the finding ``key`` explained with ``note`` (again: the note is replaced). The key's
    authority may be given by code, as the CSV lists it.

    :raises Invalid: naming "key" for a finding that does not arise now, "note" for an empty
        or overlong note.
    """
    key, authority_id = _canonical(session, (key or "").strip())
    note = (note or "").strip()
    problems = []
    arises = authority_id is not None and any(
        f.key == key for f in findings(session, campaign, [authority_id], today=today))
    if not arises:
        problems.append(Problem("is not a finding of this campaign now; run the checks again, "
                                "the figures may have changed", "key"))
    if not note:
        problems.append(Problem("say what explains the finding", "note"))
    elif len(note) > MAX_NOTE:
        problems.append(Problem(f"is longer than {MAX_NOTE:,} characters", "note"))
    if problems:
        raise Invalid(problems)
    explanation = _explanation(session, campaign, key)
    before = None
    if explanation is None:
        explanation = FindingExplanation(campaign_id=campaign.id, key=key, note=note,
                                         explained_by=actor.label)
        session.add(explanation)
    else:
        before = {"key": key, "note": explanation.note, "explained_by": explanation.explained_by}
        explanation.note, explanation.explained_by = note, actor.label
        explanation.explained_at = utcnow()
    session.flush()
    audit.record(session, actor, "campaign", campaign.id, "explain_finding", before,
                 {"key": key, "note": note, "explained_by": actor.label})
    return explanation


def unexplain(session: Session, actor: audit.Actor, campaign: Campaign, key: str) -> None:
    """Take back a finding's explanation: it counts as open again (if it still arises).

    :raises Invalid: naming "key" when the finding has no explanation.
    """
    key, _ = _canonical(session, (key or "").strip())
    explanation = _explanation(session, campaign, key) if key else None
    if explanation is None:
        raise Invalid("no finding of this campaign is explained under this key", field="key")
    before = {"key": key, "note": explanation.note, "explained_by": explanation.explained_by}
    session.delete(explanation)
    session.flush()
    audit.record(session, actor, "campaign", campaign.id, "unexplain_finding", before, None)


def _explanation(session: Session, campaign: Campaign, key: str) -> FindingExplanation | None:
    return session.scalar(select(FindingExplanation).where(
        FindingExplanation.campaign_id == campaign.id, FindingExplanation.key == key))


def _canonical(session: Session, key: str) -> tuple[str, int | None]:
    """The key with its authority (the second part) by slug, and that authority's id; a key
    naming no authority comes back as it is, with None."""
    parts = key.split("|")
    if len(parts) < 6 or not parts[1]:
        return key, None
    found = session.execute(select(Authority.id, Authority.slug).where(
        or_(Authority.slug == parts[1], Authority.code == parts[1]))).first()
    if found is None:
        return key, None
    parts[1] = found.slug
    return "|".join(parts), found.id


# ---- working them out ---------------------------------------------------------------------

def _findings(session: Session, campaign: Campaign, where: ColumnElement[bool] | None,
              today: dt.date | None, settings: ClockSettings | None,
              entries: Mapping[int, Sequence[Entry]] | None = None) -> list[Finding]:
    design = _Design.load(session, campaign)
    chosen = [Request.campaign_id == campaign.id, *([where] if where is not None else [])]
    requests = list(session.scalars(
        select(Request).where(*chosen)
        .options(selectinload(Request.events), selectinload(Request.authority))))
    cells: dict[int, dict[Cell, _Value]] = {}
    for (request_id, measure_id, period_id, category_id, kind, value, lower, upper, source,
         source_file_id, withdrawn, touched) in session.execute(
            select(Figure.request_id, Figure.measure_id, Figure.period_id, Figure.category_id,
                   Figure.kind, Figure.value, Figure.lower, Figure.upper, Figure.source,
                   Figure.source_file_id, withdrawn_flag(), Figure.updated_at)
            .join(Request, Request.id == Figure.request_id).where(*chosen)):
        cells.setdefault(request_id, {})[(measure_id, period_id, category_id)] = _Value(
            ValueKind(kind), value, lower, upper,
            bool((source or "").strip()) or source_file_id is not None, bool(withdrawn), touched)
    if entries:
        _apply_entries(campaign, cells, entries)
    explanations = {e.key: e for e in session.scalars(
        select(FindingExplanation).where(FindingExplanation.campaign_id == campaign.id))}
    day = today or today_in_uk()
    ranked: list[tuple[tuple[Any, ...], Finding]] = []
    for request in requests:
        if cells.get(request.id):
            ranked += _request_findings(design, request, cells[request.id], day, settings)
    ranked.sort(key=lambda pair: pair[0])
    result = []
    for _, finding in ranked:
        said = explanations.get(finding.key)
        if said is not None:
            finding = replace(finding, explanation=said.note, explained_by=said.explained_by,
                              explained_at=said.explained_at)
        result.append(finding)
    return result


def _apply_entries(campaign: Campaign, cells: dict[int, dict[Cell, _Value]],
                   entries: Mapping[int, Sequence[Entry]]) -> None:
    """Put values not yet saved over the saved ones (a preview)."""
    index = DesignIndex.of(campaign)
    for request_id, given in entries.items():
        mine = cells.setdefault(request_id, {})
        for entry in given:
            target, _ = index.resolve(entry)
            if target is None:
                continue
            measure, period, category = target
            cell = (measure.id, period.id, category.id if category else None)
            if not entry.value.strip():
                mine.pop(cell, None)
                continue
            try:
                value = parse(entry.value, campaign.suppression_threshold)
            except NotAFigure:
                continue
            mine[cell] = _Value(value.kind, value.value, value.lower, value.upper, True)


def _overturned(request: Request) -> bool:
    """Whether a review or the Commissioner decided for the requester after the last response,
    so that figures may rightly have come after a refusal."""
    events = ordered(request.timeline())
    last = max((i for i, e in enumerate(events) if e.kind is EventKind.response), default=None)
    if last is None:
        return False
    return any(e.outcome in _OVERTURNED.get(e.kind, ()) for e in events[last + 1:])


def _in_words(dimension: Dimension | None, category: Category | None) -> str:
    if category is None or dimension is None:
        return "total"
    return f"{category.label} ({dimension.label})"


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_SHOWN_CELLS])
    return shown + (f" and {len(names) - _SHOWN_CELLS} more" if len(names) > _SHOWN_CELLS else "")


def _figures(count: int) -> str:
    return f"{count} figure{'' if count == 1 else 's'}"


def _request_findings(design: _Design, request: Request, cells: dict[Cell, _Value],
                      today: dt.date, settings: ClockSettings | None
                      ) -> list[tuple[tuple[Any, ...], Finding]]:
    authority = request.authority
    found: list[tuple[tuple[Any, ...], Finding]] = []

    def add(check: str, measure: Measure, period: Period, dimension: Dimension | None,
            category: Category | None, detail: str, slot: int = -1) -> None:
        where = [measure.key, period.label]
        if dimension is not None:
            where.append(f"{dimension.label}: {category.label}" if category else dimension.label)
        elif check == YEAR_ON_YEAR_JUMP:
            where.append("total")
        finding = Finding(
            authority=authority.slug, authority_name=authority.name, measure=measure.key,
            period=period.key, dimension=dimension.key if dimension else None,
            category=category.label if category else None, check=check, detail=detail,
            key=finding_key(check, authority.slug, measure.key, period.key,
                            dimension.key if dimension else None,
                            category.label if category else None),
            authority_code=authority.code, cell=", ".join(where))
        found.append(((authority.name, authority.slug, design.measures.index(measure),
                       design.periods.index(period), _ORDER[check], slot), finding))

    slots = design.slots()
    for measure in design.measures:
        for period in design.periods:
            total = cells.get((measure.id, period.id, None))
            if total is not None and total.high is not None:
                for rank, dimension in enumerate(design.dimensions):
                    if not dimension.overlapping:
                        _against_total(add, measure, period, dimension, rank, total, cells)
            before = design.previous.get(period.id)
            if before is not None:
                _year_on_year(add, measure, before, period, cells, slots)
    _request_level(add, design, request, cells, today, settings, slots)
    return found


def _year_on_year(add: _Add, measure: Measure, before: Period, period: Period,
                  cells: dict[Cell, _Value],
                  slots: list[tuple[Dimension | None, Category | None]]) -> None:
    """Each cell against the same cell a period earlier: a jump is worth a second look."""
    for rank, (dimension, category) in enumerate(slots):
        slot = category.id if category else None
        old = cells.get((measure.id, before.id, slot))
        new = cells.get((measure.id, period.id, slot))
        if (old is not None and new is not None and old.kind is ValueKind.exact
                and new.kind is ValueKind.exact
                and is_jump(old.value or 0, new.value or 0)):
            add(YEAR_ON_YEAR_JUMP, measure, period, dimension, category,
                f"check: {old.value} -> {new.value} ({before.label} to "
                f"{period.label})", rank)


def _against_total(add: _Add, measure: Measure, period: Period, dimension: Dimension, rank: int,
                   total: _Value, cells: dict[Cell, _Value]) -> None:
    """A breakdown against its total: never more (by the least the categories could be and the
    most the total could be, so a suppressed figure makes no false finding), and, when every
    figure is exact, the same."""
    values = [cells.get((measure.id, period.id, c.id)) for c in dimension.categories]
    given = [v for v in values if v is not None]
    if not given or total.high is None:
        return
    least = sum(v.low or 0 for v in given)
    every_exact = len(given) == len(values) and all(v.kind is ValueKind.exact for v in given)
    total_words = str(total.value) if total.kind is ValueKind.exact else \
        f"at most {total.high} ({total.text})"
    if least > total.high:
        add(CATEGORIES_EXCEED_TOTAL, measure, period, dimension, None,
            f"the categories add up to {'' if every_exact else 'at least '}{least}, more than "
            f"the total of {total_words}", rank)
    elif every_exact and total.kind is ValueKind.exact and least != total.value:
        add(CATEGORIES_DIFFER_FROM_TOTAL, measure, period, dimension, None,
            f"the categories add up to {least}, not the total of {total.value}", rank)


def _request_level(add: _Add, design: _Design, request: Request, cells: dict[Cell, _Value],
                   today: dt.date, settings: ClockSettings | None,
                   slots: list[tuple[Dimension | None, Category | None]]) -> None:
    """What the request's timeline and the figures' sources say, one finding per measure and
    period, naming the cells."""
    state = state_of(request, today, settings)
    refusal = _standing_refusal(request, state.outcome)
    # A replacement is read on the request the figures come from (a follow-up once marked).
    replaced_at = _replaced_at(source_of(request))
    for measure in design.measures:
        for period in design.periods:
            here = [(_in_words(d, c), v) for d, c in slots
                    if (v := cells.get((measure.id, period.id, c.id if c else None))) is not None]
            if not here:
                continue
            if state.first_response_on is None:
                _figures_without_response(add, measure, period, here)
            _figures_without_source(add, measure, period, here)
            if refusal is not None:
                _figures_despite_refusal(add, measure, period, here, refusal)
            _figures_withdrawn(add, measure, period, here)
            if replaced_at is not None:
                _figures_not_reentered(add, measure, period, here, replaced_at)


def _standing_refusal(request: Request, outcome: str | None) -> str | None:
    """The response's refusal ("refused", "ncnd" or "not_held"), unless a review or the
    Commissioner overturned it since."""
    if outcome not in _SAID or _overturned(request):
        return None
    return outcome


def _figures_without_response(add: _Add, measure: Measure, period: Period,
                              here: list[tuple[str, _Value]]) -> None:
    named = [name for name, v in here if v.kind is not ValueKind.not_provided]
    if named:
        add(NO_RESPONSE, measure, period, None, None,
            f"{_figures(len(named))} ({_listed(named)}) but no response on the "
            "request's timeline")


def _figures_without_source(add: _Add, measure: Measure, period: Period,
                            here: list[tuple[str, _Value]]) -> None:
    unsourced = [name for name, v in here if not v.sourced]
    if unsourced:
        add(NO_SOURCE, measure, period, None, None,
            f"{_figures(len(unsourced))} with no source: {_listed(unsourced)}")


def _figures_despite_refusal(add: _Add, measure: Measure, period: Period,
                             here: list[tuple[str, _Value]], refusal: str) -> None:
    usable = [name for name, v in here if v.kind in (ValueKind.exact, ValueKind.suppressed)]
    if usable:
        add(NOT_HELD_WITH_FIGURES if refusal == "not_held" else REFUSED_WITH_FIGURES,
            measure, period, None, None,
            f"{_figures(len(usable))} ({_listed(usable)}) though the response was "
            f"'{_SAID[refusal]}'")


_ANSWERS = (EventKind.response, EventKind.response_replaced, EventKind.response_withdrawn)


def _replaced_at(request: Request) -> dt.datetime | None:
    """When the replacement that stands was recorded: the request's latest answer (response,
    replacement or withdrawal, in timeline order) is a replacement. Practice, not law: see
    services.withdrawals."""
    answers = sorted((e for e in request.events
                      if e.removed_at is None and e.kind in _ANSWERS),
                     key=lambda e: e.as_timeline().sort_key())
    if not answers or answers[-1].kind is not EventKind.response_replaced:
        return None
    return answers[-1].created_at


def _figures_withdrawn(add: _Add, measure: Measure, period: Period,
                       here: list[tuple[str, _Value]]) -> None:
    """Figures from a response the authority took back: left out of the aggregate, listed so
    that someone enters the new ones or says why there are none."""
    withdrawn = [name for name, v in here if v.withdrawn]
    if withdrawn:
        add(WITHDRAWN_RESPONSE, measure, period, None, None,
            f"{_figures(len(withdrawn))} ({_listed(withdrawn)}) from a response the authority "
            "withdrew; left out of the aggregate")


def _figures_not_reentered(add: _Add, measure: Measure, period: Period,
                           here: list[tuple[str, _Value]], replaced_at: dt.datetime) -> None:
    """Figures last entered before the replacement was recorded (and not already listed as
    withdrawn): each may be the figure the correction changed."""
    older = [name for name, v in here
             if not v.withdrawn and v.touched is not None and v.touched < replaced_at]
    if older:
        add(NOT_REENTERED, measure, period, None, None,
            f"{_figures(len(older))} ({_listed(older)}) not entered again since the authority "
            "replaced its response with corrected figures")
