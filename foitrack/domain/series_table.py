"""A series' table as plain values: each authority's figure for every period asked by any
campaign of the series, the national total per period, the changes on matched panels and the
revisions. Built from a few query results in services.series; nothing here queries.

A period is known by its dates (start, end), not its key: two campaigns may give the same year
different keys. Where several campaigns asked a period, an authority's value is its answer in
the latest campaign that has one (the most recent answer); a differing earlier answer is a
revision, and each campaign's own release used its own answer. A later "not provided" is no
answer: the earlier one stands.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from foitrack.domain.design import comparable
from foitrack.domain.figure_values import value_text

# A year at the end of a slug or title: "-2019", "-2018-19", " 2017/18 and 2018/19", "(2020)".
_YEAR = r"(?:19|20)\d{2}(?:\s*[/–-]\s*\d{2,4})?"
_SLUG_YEAR = re.compile(r"(?:-(?:19|20)\d{2}(?:-\d{2}|-\d{4})?)+$")
_TITLE_YEAR = re.compile(
    rf"[\s,:;–—-]*\(?{_YEAR}(?:\s*(?:,|and|to|&|–|-)\s*{_YEAR})*\)?\s*$")


def without_year(text: str, pattern: re.Pattern[str]) -> str:
    """``text`` without its trailing year-like part, if that leaves something."""
    trimmed = pattern.sub("", text).strip(" ,:;–—-")
    return trimmed or text


def series_slug_base(campaign_slug: str) -> str:
    """The slug a series made from a campaign starts from: "grooming-2019" -> "grooming"."""
    return without_year(campaign_slug, _SLUG_YEAR)


def series_name_base(campaign_title: str) -> str:
    """The name a series made from a campaign takes: "Online grooming, 2017/18 and 2018/19"
    -> "Online grooming"."""
    return without_year(campaign_title, _TITLE_YEAR)


_LAST_YEAR = re.compile(r"(?:19|20)\d{2}(?!.*(?:19|20)\d{2})")


def campaign_label(slug: str, title: str) -> str:
    """How a revision names a campaign: "the 2019 campaign" from the year its slug (or else
    title) ends with, else "the campaign <slug>"."""
    for text in (slug, title):
        found = _LAST_YEAR.search(text)
        if found:
            return f"the {found.group(0)} campaign"
    return f"the campaign {slug}"


# "Not provided": the authority gave no figure and no reason. Asked again, that is no new
# answer, so it neither replaces nor revises the one it gave before.
NOT_PROVIDED = "not_provided"


# ---- inputs ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SeriesCampaign:
    """A campaign of the series the viewer may see, in series order (``position``)."""

    id: int
    slug: str
    title: str
    position: int

    @property
    def label(self) -> str:
        return campaign_label(self.slug, self.title)


@dataclass(frozen=True)
class AskedPeriod:
    """A period one campaign asked for, under its own key and label."""

    campaign_id: int
    key: str
    label: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class AuthorityInfo:
    id: int
    slug: str
    code: str | None
    name: str
    short_name: str


@dataclass(frozen=True)
class Answer:
    """One authority's figure (the total) for one measure and period in one campaign."""

    campaign_id: int
    authority_id: int
    measure: str
    start: dt.date
    end: dt.date
    kind: str
    value: int | None
    lower: int | None
    upper: int | None
    exemption: str | None

    @property
    def text(self) -> str:
        return value_text(self.kind, self.value, self.lower, self.upper, self.exemption)

    @property
    def same_value(self) -> tuple[str, int | None, int | None, int | None]:
        """What a revision compares: the kind and the numbers (not the wording of an
        exemption)."""
        return (self.kind, self.value, self.lower, self.upper)


# ---- outputs -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SeriesPeriod:
    """A column: a span of time asked by one or more campaigns."""

    start: dt.date
    end: dt.date
    label: str  # as the latest campaign asking it calls it (unique in the table)
    campaign: str  # the slug of the latest campaign that asked it: its answers come first
    asked_by: tuple[str, ...]  # every campaign (slug) that asked it, in series order

    @property
    def span(self) -> tuple[dt.date, dt.date]:
        return (self.start, self.end)


@dataclass(frozen=True)
class SeriesCell:
    kind: str
    value: int | None
    text: str
    campaign: str  # the slug of the campaign whose answer this is
    revised: bool = False  # an earlier campaign had a different answer for this period


@dataclass
class SeriesAuthorityRow:
    authority: AuthorityInfo
    cells: dict[tuple[dt.date, dt.date], SeriesCell] = field(default_factory=dict)

    def cell(self, period: SeriesPeriod) -> SeriesCell | None:
        return self.cells.get(period.span)


@dataclass(frozen=True)
class NationalPoint:
    """The national total in one period over the authorities with an exact figure."""

    period: SeriesPeriod
    total: int
    authorities: int  # with an exact figure
    asked: int  # asked for the period by a campaign of the series


@dataclass(frozen=True)
class SeriesChange:
    """One period against the one before it, on the matched panel: the authorities with exact
    figures in both."""

    from_period: SeriesPeriod
    to_period: SeriesPeriod
    panel_size: int
    panel_from: int
    panel_to: int
    comparable: bool  # periods of the same length; a quarter against a year is not

    @property
    def change(self) -> int:
        return self.panel_to - self.panel_from

    @property
    def ratio(self) -> float | None:
        return self.panel_to / self.panel_from if self.panel_from else None


@dataclass(frozen=True)
class Revision:
    """An authority's answer for a period that a later campaign of the series asked again and
    got differently."""

    authority: AuthorityInfo
    measure: str
    measure_label: str
    period_label: str
    start: dt.date
    end: dt.date
    earlier: SeriesCampaign
    earlier_text: str
    later: SeriesCampaign
    later_text: str

    @property
    def sentence(self) -> str:
        """"revised: 73 in the 2019 campaign, 75 in the 2020 campaign"."""
        return (f"revised: {self.earlier_text} in {self.earlier.label}, "
                f"{self.later_text} in {self.later.label}")

    @property
    def used(self) -> str:
        """Which value each release used: each campaign's aggregate reads its own figures."""
        return (f"{_capitalise(self.earlier.label)}'s release used {self.earlier_text}; "
                f"{self.later.label}'s used {self.later_text}")


@dataclass
class SeriesTable:
    slug: str
    name: str
    measure: str
    measure_label: str
    measures: tuple[tuple[str, str], ...]  # every measure of the series: (key, label)
    campaigns: tuple[SeriesCampaign, ...]
    periods: tuple[SeriesPeriod, ...]
    rows: list[SeriesAuthorityRow]
    national: list[NationalPoint]
    changes: list[SeriesChange]
    revisions: list[Revision]

    def row(self, slug: str) -> SeriesAuthorityRow:
        """:raises KeyError: for an authority not in the table."""
        for row in self.rows:
            if row.authority.slug == slug:
                return row
        raise KeyError(slug)

    def change(self, from_label: str, to_label: str) -> SeriesChange:
        """:raises KeyError:"""
        for change in self.changes:
            if (change.from_period.label, change.to_period.label) == (from_label, to_label):
                return change
        raise KeyError((from_label, to_label))


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


# ---- assembling -------------------------------------------------------------------------------

def series_periods(campaigns: Sequence[SeriesCampaign],
                   asked: Iterable[AskedPeriod]) -> tuple[SeriesPeriod, ...]:
    """The distinct spans asked, in time order, each labelled by the latest campaign asking it.

    Two spans sharing a label (a "2019" calendar year and a "2019" data year) get their dates
    added, so every column's label is unique."""
    order = {c.id: c.position for c in campaigns}
    slugs = {c.id: c.slug for c in campaigns}
    by_span: dict[tuple[dt.date, dt.date], list[AskedPeriod]] = {}
    for period in asked:
        if period.campaign_id in order:
            by_span.setdefault((period.start, period.end), []).append(period)
    found = []
    for span in sorted(by_span):
        askers = sorted(by_span[span], key=lambda p: order[p.campaign_id])
        latest = askers[-1]
        found.append(SeriesPeriod(
            start=span[0], end=span[1], label=latest.label, campaign=slugs[latest.campaign_id],
            asked_by=tuple(dict.fromkeys(slugs[p.campaign_id] for p in askers))))
    labels = [p.label for p in found]
    return tuple(
        SeriesPeriod(p.start, p.end, f"{p.label} ({p.start.isoformat()} to {p.end.isoformat()})",
                     p.campaign, p.asked_by) if labels.count(p.label) > 1 else p
        for p in found)


def build_table(*, slug: str, name: str, measure: str, measure_label: str,
                measures: Sequence[tuple[str, str]], campaigns: Sequence[SeriesCampaign],
                asked_periods: Iterable[AskedPeriod], authorities: Sequence[AuthorityInfo],
                asked: Iterable[tuple[int, int]], answers: Iterable[Answer]) -> SeriesTable:
    """The series table for ``measure`` (its totals).

    ``campaigns`` in series order; ``asked_periods`` the periods of the campaigns that have the
    measure; ``asked`` (campaign id, authority id) for every request; ``answers`` the measure's
    totals in those campaigns.
    """
    campaigns = sorted(campaigns, key=lambda c: c.position)
    by_id = {c.id: c for c in campaigns}
    asked_periods = list(asked_periods)
    periods = series_periods(campaigns, asked_periods)
    spans = {p.span for p in periods}
    answers = sorted((a for a in answers if a.measure == measure and a.campaign_id in by_id
                      and (a.start, a.end) in spans),
                     key=lambda a: by_id[a.campaign_id].position)
    rows = {a.id: SeriesAuthorityRow(a) for a in authorities}
    revisions = _revisions(campaigns, answers, {a.id: a for a in authorities},
                           {p.span: p.label for p in periods}, dict(measures))
    revised = {(r.authority.id, (r.start, r.end)) for r in revisions}
    for answer in answers:  # in series order: a later campaign's answer replaces an earlier one
        row = rows.get(answer.authority_id)
        span = (answer.start, answer.end)
        if row is None or (answer.kind == NOT_PROVIDED and span in row.cells):
            continue
        row.cells[span] = SeriesCell(answer.kind, answer.value, answer.text,
                                     by_id[answer.campaign_id].slug,
                                     (answer.authority_id, span) in revised)
    ordered = sorted(rows.values(), key=lambda r: (r.authority.name.casefold(), r.authority.slug))
    asked_by_campaign: dict[int, set[int]] = {}
    for campaign_id, authority_id in asked:
        asked_by_campaign.setdefault(campaign_id, set()).add(authority_id)
    spans_of: dict[tuple[dt.date, dt.date], set[int]] = {}
    for one in asked_periods:
        spans_of.setdefault((one.start, one.end), set()).add(one.campaign_id)
    national = []
    for period in periods:
        exact = [row.cells[period.span].value for row in ordered
                 if period.span in row.cells and row.cells[period.span].kind == "exact"]
        asked_for = set().union(*(asked_by_campaign.get(c, set())
                                  for c in spans_of.get(period.span, set())))
        national.append(NationalPoint(period, sum(v or 0 for v in exact), len(exact),
                                      len(asked_for)))
    changes = []
    for before, after in zip(periods, periods[1:], strict=False):
        both = [(row.cells[before.span].value or 0, row.cells[after.span].value or 0)
                for row in ordered
                if all(s in row.cells and row.cells[s].kind == "exact"
                       for s in (before.span, after.span))]
        changes.append(SeriesChange(before, after, len(both), sum(b for b, _ in both),
                                    sum(a for _, a in both), comparable(before, after)))
    return SeriesTable(slug=slug, name=name, measure=measure, measure_label=measure_label,
                       measures=tuple(measures), campaigns=tuple(campaigns), periods=periods,
                       rows=ordered, national=national, changes=changes, revisions=revisions)


def find_revisions(campaigns: Sequence[SeriesCampaign], asked_periods: Iterable[AskedPeriod],
                   authorities: Sequence[AuthorityInfo], answers: Iterable[Answer],
                   measures: Sequence[tuple[str, str]]) -> list[Revision]:
    """Every revision in the series, over all measures: by measure, authority and period."""
    campaigns = sorted(campaigns, key=lambda c: c.position)
    by_id = {c.id: c for c in campaigns}
    periods = series_periods(campaigns, asked_periods)
    answers = sorted((a for a in answers if a.campaign_id in by_id),
                     key=lambda a: by_id[a.campaign_id].position)
    return _revisions(campaigns, answers, {a.id: a for a in authorities},
                      {p.span: p.label for p in periods}, dict(measures))


def _revisions(campaigns: Sequence[SeriesCampaign], answers: Sequence[Answer],
               authorities: dict[int, AuthorityInfo],
               labels: dict[tuple[dt.date, dt.date], str],
               measure_labels: dict[str, str]) -> list[Revision]:
    """Each answer that differs from the same authority's previous answer (in series order)
    for the same measure and period. ``answers`` are in series order."""
    by_id = {c.id: c for c in campaigns}
    previous: dict[tuple[int, str, dt.date, dt.date], Answer] = {}
    found = []
    for answer in answers:
        if answer.kind == NOT_PROVIDED:  # no answer given again: the earlier one stands
            continue
        key = (answer.authority_id, answer.measure, answer.start, answer.end)
        before = previous.get(key)
        previous[key] = answer
        authority = authorities.get(answer.authority_id)
        if before is None or authority is None or before.campaign_id == answer.campaign_id:
            continue
        if before.same_value != answer.same_value:
            found.append(Revision(
                authority=authority, measure=answer.measure,
                measure_label=measure_labels.get(answer.measure, answer.measure),
                period_label=labels.get((answer.start, answer.end), answer.start.isoformat()),
                start=answer.start, end=answer.end,
                earlier=by_id[before.campaign_id], earlier_text=before.text,
                later=by_id[answer.campaign_id], later_text=answer.text))
    order = {m: i for i, m in enumerate(measure_labels)}
    found.sort(key=lambda r: (order.get(r.measure, len(order)), r.authority.name.casefold(),
                              r.start, r.end, r.later.position))
    return found
