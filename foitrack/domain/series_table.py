"""A series' table as plain values: each authority's figure for every period asked by any
campaign of the series, the national total per period, the changes on matched panels and the
revisions. Built from a few query results in services.series; nothing here queries.

A period is known by its dates (start, end), not its key: two campaigns may give the same year
different keys. Where several campaigns asked a period, an authority's value is its answer in
the latest campaign that gave a figure (exact or suppressed: the most recent answer); a
differing earlier figure is a revision, and each campaign's own release used its own answer. A
later refusal ("withheld", "not recorded", "not held", "not provided") takes no figure back: the
earlier one stands, and the refusal is noted but is no revision. Only where no campaign got a
figure does the cell show the latest refusal.
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
# answer, so it neither replaces nor revises the one it gave before, even another refusal.
NOT_PROVIDED = "not_provided"
# A figure: what the totals and panels count (exact) or bound (suppressed). Anything else is
# a refusal or an absence, which says nothing about how many there were, so a later one never
# takes back a figure given before.
USABLE = frozenset({"exact", "suppressed"})


def _replaces(standing: Answer | None, later: Answer) -> bool:
    """Whether ``later`` (from a later campaign) takes the place of the answer standing: a
    figure always does; a refusal only of another refusal, and "not provided" of nothing."""
    if standing is None:
        return True
    if later.kind in USABLE:
        return True
    if standing.kind in USABLE:
        return False
    return later.kind != NOT_PROVIDED


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
    """One period against the latest earlier one of the same length (a year against the year
    before, past any quarter between them), on the matched panel: the authorities with exact
    figures in both."""

    from_period: SeriesPeriod
    to_period: SeriesPeriod
    panel_size: int
    panel_from: int
    panel_to: int
    comparable: bool  # always True now (only periods of the same length are paired); kept
    # because the JSON, the API and the charts carry it

    @property
    def change(self) -> int:
        return self.panel_to - self.panel_from

    @property
    def ratio(self) -> float | None:
        return self.panel_to / self.panel_from if self.panel_from else None


@dataclass(frozen=True)
class AskedAgain:
    """An authority's answer for a period, and its answer when a later campaign of the series
    asked the same period again."""

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


@dataclass(frozen=True)
class Revision(AskedAgain):
    """A period asked again and answered with another figure."""

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


@dataclass(frozen=True)
class LaterRefusal(AskedAgain):
    """A later campaign asked a period again and got no figure ("withheld s.12", "not
    recorded"...) where an earlier campaign had one: the earlier figure stands. Not a
    revision."""

    @property
    def sentence(self) -> str:
        """"later refused/not recorded: withheld s.12 in the 2020 campaign; 73 from the 2019
        campaign stands"."""
        return (f"later refused/not recorded: {self.later_text} in {self.later.label}; "
                f"{self.earlier_text} from {self.earlier.label} stands")


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
    later_refusals: list[LaterRefusal] = field(default_factory=list)

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
    history = _history(campaigns, answers, {a.id: a for a in authorities},
                       {p.span: p.label for p in periods}, dict(measures))
    revised = {(r.authority.id, (r.start, r.end)) for r in history.revisions}
    for (authority_id, _measure, start, end), answer in history.standing.items():
        row = rows.get(authority_id)
        if row is not None:
            row.cells[(start, end)] = SeriesCell(
                answer.kind, answer.value, answer.text, by_id[answer.campaign_id].slug,
                (authority_id, (start, end)) in revised)
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
    for index, after in enumerate(periods):
        # Year on year, quarter on quarter: the latest earlier period of the same length, past
        # any of other lengths between them (a quarter between two years).
        before = next((p for p in reversed(periods[:index]) if comparable(p, after)), None)
        if before is None:
            continue
        both = [(row.cells[before.span].value or 0, row.cells[after.span].value or 0)
                for row in ordered
                if all(s in row.cells and row.cells[s].kind == "exact"
                       for s in (before.span, after.span))]
        changes.append(SeriesChange(before, after, len(both), sum(b for b, _ in both),
                                    sum(a for _, a in both), True))
    return SeriesTable(slug=slug, name=name, measure=measure, measure_label=measure_label,
                       measures=tuple(measures), campaigns=tuple(campaigns), periods=periods,
                       rows=ordered, national=national, changes=changes,
                       revisions=history.revisions, later_refusals=history.refusals)


def find_revisions(campaigns: Sequence[SeriesCampaign], asked_periods: Iterable[AskedPeriod],
                   authorities: Sequence[AuthorityInfo], answers: Iterable[Answer],
                   measures: Sequence[tuple[str, str]]) -> list[Revision]:
    """Every revision in the series, over all measures: by measure, authority and period."""
    campaigns = sorted(campaigns, key=lambda c: c.position)
    by_id = {c.id: c for c in campaigns}
    periods = series_periods(campaigns, asked_periods)
    answers = sorted((a for a in answers if a.campaign_id in by_id),
                     key=lambda a: by_id[a.campaign_id].position)
    return _history(campaigns, answers, {a.id: a for a in authorities},
                    {p.span: p.label for p in periods}, dict(measures)).revisions


_Key = tuple[int, str, dt.date, dt.date]  # authority id, measure, start, end


@dataclass
class _History:
    standing: dict[_Key, Answer]  # the answer each cell shows
    revisions: list[Revision]
    refusals: list[LaterRefusal]


def _history(campaigns: Sequence[SeriesCampaign], answers: Sequence[Answer],
             authorities: dict[int, AuthorityInfo],
             labels: dict[tuple[dt.date, dt.date], str],
             measure_labels: dict[str, str]) -> _History:
    """Walk the answers in series order (as given) keeping, per authority, measure and period,
    the answer standing (see ``_replaces``). A figure replacing a different answer from an
    earlier campaign is a revision; a refusal after a figure is a later refusal."""
    by_id = {c.id: c for c in campaigns}
    standing: dict[_Key, Answer] = {}
    revisions, refusals = [], []
    for answer in answers:
        key = (answer.authority_id, answer.measure, answer.start, answer.end)
        before = standing.get(key)
        replaces = _replaces(before, answer)
        if replaces:
            standing[key] = answer
        authority = authorities.get(answer.authority_id)
        if before is None or authority is None or before.campaign_id == answer.campaign_id:
            continue
        facts = (authority, answer.measure, measure_labels.get(answer.measure, answer.measure),
                 labels.get((answer.start, answer.end), answer.start.isoformat()),
                 answer.start, answer.end, by_id[before.campaign_id], before.text,
                 by_id[answer.campaign_id], answer.text)
        if answer.kind in USABLE and before.kind != NOT_PROVIDED \
                and before.same_value != answer.same_value:
            revisions.append(Revision(*facts))
        elif not replaces and before.kind in USABLE:
            refusals.append(LaterRefusal(*facts))
    order = {m: i for i, m in enumerate(measure_labels)}

    def sort_key(found: Revision | LaterRefusal) -> tuple[int, str, dt.date, dt.date, int]:
        return (order.get(found.measure, len(order)), found.authority.name.casefold(),
                found.start, found.end, found.later.position)

    revisions.sort(key=sort_key)
    refusals.sort(key=sort_key)
    return _History(standing, revisions, refusals)
