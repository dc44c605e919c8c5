"""What a campaign's heavy pages derive, and the keys it is kept under: the aggregate with its
charts, the charts' images, and the table and charts of the campaign's series.

The aggregate page, its chart images, the release, the fact sheets and the series page build
these when a page asks (foitrack.web.views.figures, .series); the warm-up builds them ahead of
the page after a write (in
the web process, foitrack.web.warm, or in a worker into the shared cache,
foitrack.worker.tasks.warm_up). Both go through here, so what the warm-up builds is exactly
what the page looks for: the same key under the same data versions, read before the data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from foitrack.domain.clock import ClockSettings
from foitrack.domain.series_table import SeriesTable
from foitrack.errors import NotFound
from foitrack.exporters import chart_images, charts, series_charts
from foitrack.models import Authority, Campaign, Figure, Request, Series
from foitrack.services import aggregate, checks, data_version, membership
from foitrack.services import release as release_service
from foitrack.services import series as series_service
from foitrack.services.campaigns import authority_kinds
from foitrack.services.release import Release

T = TypeVar("T")
Key = tuple[Hashable, ...]
Draw = Callable[[dict[str, Any], str], bytes]  # a spec and a format -> the image's bytes

# Fact sheets built ahead after a write: of the authorities whose figures changed last.
FACT_SHEETS_WARMED = 1
# The format the pages show charts in (<img src=...svg>); PNG is drawn only for a download.
SHOWN_FORMAT = "svg"


class Store(Protocol):
    """Where built values are kept: a process's PageCache, or the shared cache itself."""

    def get(self, version: data_version.Version, key: Key, build: Callable[[], T],
            *, shared: bool = ...) -> T: ...


@dataclass(frozen=True)
class Built:
    """An aggregate and its charts under the data versions they were built from."""

    version: data_version.Version
    result: aggregate.Aggregate
    problem: str | None  # why the choice of authorities could not be used; None when it could
    charts: list[charts.Chart]


# ---- the keys ---------------------------------------------------------------------------------

def aggregate_key(campaign_id: int, subset: str | None, checked: bool) -> Key:
    """The aggregate and its charts for a choice of authorities (None: everyone) and figures."""
    return ("aggregate", campaign_id, subset, checked)


def chart_key(campaign_id: int, subset: str | None, checked: bool, chart: str) -> Key:
    """One of the aggregate's charts, by name."""
    return (*aggregate_key(campaign_id, subset, checked), chart)


def fact_sheet_page_key(campaign_id: int, authority_slug: str, today: dt.date,
                        clock: ClockSettings) -> Key:
    """A fact sheet's words and charts, as on the day they are read (the deadlines in its
    methods note count from it). Dates and settings written as strings and numbers, so that
    the shared cache can name it (services.shared_cache keeps only keys written as JSON)."""
    return ("fact sheet page", campaign_id, authority_slug, today.isoformat(),
            dataclasses.astuple(clock))


def release_key(campaign_id: int, subset: str | None, checked: bool, today: dt.date,
                clock: ClockSettings) -> Key:
    """The release's lines for a choice of authorities and figures, as on the day they are
    read (its methods note counts deadlines from it); written as JSON, as the fact sheet's."""
    return ("release", campaign_id, subset, checked, today.isoformat(),
            dataclasses.astuple(clock))


def fact_sheet_key(campaign_id: int, authority_slug: str, measure: str) -> Key:
    """A fact sheet's chart: one authority's figure for a measure beside the national total."""
    return ("fact sheet", campaign_id, authority_slug, measure)


def series_key(series_id: int, measure: str | None, seen: Sequence[int], today: dt.date) -> Key:
    """A series' table and charts for a measure (None: the page's default) over the campaigns
    a viewer may see (``seen``, in id order): two people let into different campaigns of one
    series see different tables, and two who see the same ones share it."""
    return ("series", series_id, measure, tuple(seen), today.isoformat())  # JSON: see above


def series_chart_key(series: Key, chart: str) -> Key:
    """One of a series table's charts, by name (``series`` a ``series_key``)."""
    return (*series, chart)


def findings_key(campaign_id: int, today: dt.date, clock: ClockSettings) -> Key:
    """A campaign's consistency findings, as the checks page lists them. Kept in one process
    only: a date and the clock's settings are in the key, database objects in the value."""
    return ("findings", campaign_id, today, clock)


def image_key(chart: Key, image_format: str) -> Key:
    """A chart (``chart_key``, ``fact_sheet_key`` or ``series_chart_key``) drawn as an image."""
    return ("image", *chart, image_format)


# ---- the builders -----------------------------------------------------------------------------

def outline(session: Session, campaign: Campaign) -> charts.Outline:
    """The campaign's design as the charts need it."""
    return charts.outline(campaign, authority_kinds(session, campaign))


def aggregate_for(session: Session, campaign: Campaign, subset: str | None,
                  checked: bool) -> tuple[aggregate.Aggregate, str | None]:
    """The aggregate over a choice of authorities, and why the choice could not be used (an
    unknown or ambiguous set or authority: then an empty aggregate, labelled as no choice)."""
    try:
        ids, label = aggregate.subset_ids(session, subset)
    except NotFound as error:
        # Headed as what it is, never "Aggregate: nobody".
        return aggregate.build(session, campaign, [], subset="no authorities chosen"), str(error)
    return aggregate.build(session, campaign, ids, checked_only=checked, subset=label), None


def built(session: Session, store: Store, campaign: Campaign, subset: str | None = None,
          checked: bool = False) -> Built:
    """The aggregate and charts for a choice of authorities and figures, built once per data
    version: the page, each of its chart images and the fact sheets' charts share it.
    ``subset`` is spelt one way for each choice (the page's canonical spelling)."""
    # Before the data, so they are no older; a write to another campaign leaves them.
    version = data_version.of_campaigns(session, [campaign.id])

    def build() -> Built:
        # The campaign was loaded before the versions were read: read it again, so a change
        # committed in between (its title, its design) is not kept under the newer versions.
        session.refresh(campaign)
        result, problem = aggregate_for(session, campaign, subset, checked)
        return Built(version, result, problem, charts.catalogue(outline(session, campaign), result))

    return store.get(version, aggregate_key(campaign.id, subset, checked), build, shared=True)


@dataclass(frozen=True)
class SeriesBuilt:
    """A series' table and charts, as some viewers may see it, under the data versions they
    were built from."""

    version: data_version.Version
    key: Key
    table: SeriesTable
    charts: list[charts.Chart]


def series_built(session: Session, store: Store, series: Series, seen: Sequence[int],
                 today: dt.date, measure: str | None = None) -> SeriesBuilt:
    """The table of ``measure`` over the campaigns ``seen`` of the series (the ids a viewer may
    see: the caller has checked them), with its charts, built once per data version.

    Kept under the versions of every campaign of the series (hidden ones too: a superset only
    costs a rebuild) and the series' own, read before the data; a write to a campaign outside
    the series leaves it. :raises Invalid: naming ``measure`` when no campaign has it."""
    version = data_version.of_campaigns(session, [c.id for c in series.campaigns],
                                        data_version.series_scope(series.id))
    key = series_key(series.id, measure, seen, today)

    def build() -> SeriesBuilt:
        session.refresh(series)  # loaded before the versions were read: its name is no older
        # Exactly the campaigns in the key, whoever asks: their visibility is in the key.
        table = series_service.series_table(session, series, membership.OPERATOR, today,
                                            measure, only=seen)
        return SeriesBuilt(version, key, table, series_charts.catalogue(table))

    return store.get(version, key, build, shared=True)


def findings_built(session: Session, store: Store, campaign: Campaign, today: dt.date,
                   clock: ClockSettings) -> list[checks.Finding]:
    """Every finding of the campaign, explained ones included (the checks page), kept until
    the campaign changes: they are worked out from every figure and timeline (0.3 s at 43
    forces x 40 figures)."""
    version = data_version.of_campaigns(session, [campaign.id])  # before the data: no older

    def build() -> list[checks.Finding]:
        session.refresh(campaign)  # loaded before the versions were read: no older than them
        return checks.findings(session, campaign, today=today, settings=clock)

    return store.get(version, findings_key(campaign.id, today, clock), build)


def release_built(session: Session, store: Store, campaign: Campaign, national: Built,
                  subset: str | None, checked: bool, today: dt.date,
                  clock: ClockSettings) -> Release:
    """The release worded from ``national`` (``built`` for the same choice), kept with it: its
    methods note reads every figure and timeline of the campaign, and a write to another
    campaign leaves it."""

    def build() -> Release:
        session.refresh(campaign)  # loaded before the versions were read (see ``built``)
        ids: list[int] | None = None
        subject = None
        if subset:
            ids, label = aggregate.subset_ids(session, subset)
            subject = release_service.describe_subset(session, ids or [], label)
        return release_service.national_release(session, campaign, national.result, today,
                                                 clock, subject=subject, authority_ids=ids)

    return store.get(national.version, release_key(campaign.id, subset, checked, today, clock),
                     build, shared=True)


@dataclass(frozen=True)
class FactSheetBuilt:
    """One authority's fact sheet and its charts, with the national aggregate beside it."""

    national: Built
    sheet: Release
    charts: list[charts.Chart]


def fact_sheet_built(session: Session, store: Store, campaign: Campaign, authority: Authority,
                     today: dt.date, clock: ClockSettings,
                     national: Built | None = None) -> FactSheetBuilt:
    """The fact sheet of ``authority`` (one the campaign asked), built once per data version:
    kept like the release, as its methods note reads the whole campaign."""
    # As the aggregate page keeps it; given by a caller that has it (the warm-up), so the
    # versions and the kept aggregate (from Redis, in a worker) are not read again.
    national = national or built(session, store, campaign)

    def build() -> tuple[Release, list[charts.Chart]]:
        session.refresh(campaign)  # loaded before the versions were read (see ``built``)
        return (release_service.fact_sheet(session, campaign, national.result, authority.slug,
                                           today, clock),
                charts.fact_sheet_catalogue(outline(session, campaign), national.result,
                                            authority.slug, authority.name))

    sheet, drawn = store.get(national.version,
                             fact_sheet_page_key(campaign.id, authority.slug, today, clock),
                             build, shared=True)
    return FactSheetBuilt(national, sheet, drawn)


def fact_sheet_chart(session: Session, store: Store, campaign: Campaign, authority: Authority,
                     measure: str, national: Built | None = None
                     ) -> tuple[data_version.Version, charts.Chart | None]:
    """A fact sheet's chart for ``measure`` (None for a measure the design does not have), and
    the versions it is kept under."""
    national = national or built(session, store, campaign)  # as in fact_sheet_built

    def draw() -> charts.Chart | None:
        # The design read after the versions (in ``built``), so it is no older than they are.
        design = outline(session, campaign)
        info = design.measure(measure)
        return (charts.authority_against_total(design, national.result, authority.slug,
                                               authority.name, info)
                if info is not None else None)

    return national.version, store.get(
        national.version, fact_sheet_key(campaign.id, authority.slug, measure), draw,
        shared=True)


def recently_written(session: Session, campaign: Campaign, limit: int) -> list[Authority]:
    """The authorities whose figures in the campaign were changed last, the latest first: whose
    fact sheets a person who has just entered figures is likeliest to open next."""
    latest = func.max(Figure.updated_at)
    ids = list(session.scalars(
        select(Request.authority_id).join(Figure, Figure.request_id == Request.id)
        .where(Request.campaign_id == campaign.id)
        .group_by(Request.authority_id).order_by(latest.desc(), Request.authority_id)
        .limit(limit)))
    found = {a.id: a for a in session.scalars(select(Authority).where(Authority.id.in_(ids)))}
    return [found[i] for i in ids]


def image(store: Store, version: data_version.Version, chart: Key, drawn: charts.Chart,
          image_format: str, draw: Draw | None = None) -> bytes:
    """``drawn`` as an image, rendered once per data version (kept under ``chart``'s key), by
    ``draw`` (``charts.render``, in this process, unless given)."""
    return store.get(version, image_key(chart, image_format),
                     lambda: (draw or charts.render)(drawn.spec, image_format), shared=True)


def warm(session: Session, store: Store, campaign: Campaign, today: dt.date,
         clock: ClockSettings, between: Callable[[], object] = lambda: None,
         series: bool = True, draw: Draw | None = None, findings: bool = False) -> Built:
    """Build what the campaign's heavy pages will ask for first, into ``store``, most asked for
    first: the aggregate of everyone with its charts (which the release and the fact sheets
    use too), the release worded from it, and the charts' images as the page shows them; the
    table, charts and images of the series the campaign is in, unless ``series`` is false (as
    seen by whoever may see all its campaigns: its owners, and everyone once none of them is
    embargoed); and the fact sheet, with its chart images, of the authority whose figures were
    written last (FACT_SHEETS_WARMED: each costs some 0.5 s, all 43 would cost 20 s a write).
    What is there already is not built again.

    ``between`` is called before each step: a web process's warm-up waits there while it
    serves a request, so that a person never waits behind a build nobody has asked for.
    ``draw``, a drawer in a process apart (``chart_images.draw_apart``), has the images drawn
    while this thread builds the next page's data, instead of in turn (``charts.render``, here,
    when not given); all are drawn when this returns. ``findings``: the checks page's findings
    too, for a store of this process (their key is not one the shared cache takes)."""
    images = _Images(store, draw)
    try:
        between()
        found = built(session, store, campaign)
        for drawn in found.charts:
            images.add(found.version, chart_key(campaign.id, None, False, drawn.name), drawn)
        between()
        release_built(session, store, campaign, found, None, False, today, clock)
        # The series before the fact sheet: its images take longest to draw (1.5 s), and
        # are drawn while the rest is built.
        if series and campaign.series is not None:
            between()
            kept = series_built(session, store, campaign.series,
                                sorted(c.id for c in campaign.series.campaigns), today)
            for drawn in kept.charts:
                images.add(kept.version, series_chart_key(kept.key, drawn.name), drawn)
        for authority in recently_written(session, campaign, FACT_SHEETS_WARMED):
            between()
            sheet = fact_sheet_built(session, store, campaign, authority, today, clock, found)
            for drawn in sheet.charts:
                between()
                version, chart = fact_sheet_chart(session, store, campaign, authority,
                                                  drawn.name, found)
                if chart is not None:
                    images.add(version, fact_sheet_key(campaign.id, authority.slug, drawn.name),
                               chart)
        if findings:
            between()
            findings_built(session, store, campaign, today, clock)
    finally:
        images.wait()
    return found


class _Images:
    """The warm-up's chart images. Drawn here in turn; or, with a drawer apart, each handed to a
    thread that waits (without the interpreter lock) for the drawing process while the warm-up
    builds the next page's data: at 50 x 43 the images are some 2 s of a 3.5 s warm-up."""

    def __init__(self, store: Store, draw: Draw | None) -> None:
        self._store = store
        self._draw = draw
        self._pool = (ThreadPoolExecutor(chart_images.drawers(), "foitrack-warm-image")
                      if draw is not None else None)
        self._pending: list[Future[bytes]] = []

    def add(self, version: data_version.Version, chart: Key, drawn: charts.Chart) -> None:
        if self._pool is None:
            image(self._store, version, chart, drawn, SHOWN_FORMAT)
            return
        try:
            self._pending.append(self._pool.submit(image, self._store, version, chart, drawn,
                                                   SHOWN_FORMAT, self._draw))
        except RuntimeError:  # the interpreter is exiting (no new thread may start): here
            image(self._store, version, chart, drawn, SHOWN_FORMAT, self._draw)

    def wait(self) -> None:
        """Every image handed on drawn and kept; the first failure raised."""
        if self._pool is None:
            return
        try:
            for pending in self._pending:
                pending.result()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
