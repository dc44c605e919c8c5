"""Series pages: the list, and one series' table with its charts and revisions.

What a viewer sees of a series is only what its campaigns visible to them hold
(services.series reads through membership's rules): the app's access check guards
``/campaigns/<slug>`` pages, not these, so the service's viewer argument is the guard here.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_login import current_user

from foitrack.domain.series_table import SeriesTable
from foitrack.exporters import charts
from foitrack.exporters import series as writers
from foitrack.services import page_data
from foitrack.services import series as service
from foitrack.storage import safe_filename
from foitrack.web import page_cache
from foitrack.web.context import db_session, today
from foitrack.web.render_budget import refused_render
from foitrack.web.views.figures import (  # ChartLink: the shape templates/figures/_charts.html reads
    ChartLink,
    shown_narrow,
)

blueprint = Blueprint("series", __name__, url_prefix="/series")


def _viewer() -> Any:
    return current_user._get_current_object()


def _kept(slug: str) -> page_data.SeriesBuilt:
    """The series as the signed-in user may see it, with its charts; 404 for one hidden from
    them. Built once per data version for everyone who may see the same campaigns of it
    (services.page_data.series_built), and ahead of them after a write (the warm-up)."""
    session = db_session()
    found = service.visible_series(session, slug, _viewer(), today())
    measure = request.args.get("measure", "").strip() or None
    seen = service.visible_campaign_ids(session, found, _viewer(), today())
    return page_data.series_built(session, page_cache.of(current_app.extensions), found, seen,
                                  today(), measure)


def _table(slug: str) -> SeriesTable:
    return _kept(slug).table


@blueprint.get("/")
def index() -> Any:
    found = service.list_series(db_session(), _viewer(), today())
    return render_template("series/index.html", series=found)


@blueprint.get("/<slug>")
def detail(slug: str) -> Any:
    kept = _kept(slug)
    table = kept.table
    chosen: dict[str, Any] = {"measure": table.measure} if request.args.get("measure") else {}

    def url(chart: charts.Chart, image_format: str, **extra: Any) -> str:
        return url_for("series.chart", slug=slug, chart=chart.name, image_format=image_format,
                       **chosen, **extra)

    links = [ChartLink(chart, url(chart, "svg"), url(chart, "png", download="1"),
                       url(chart, "svg", download="1"), url(chart, "svg", layout="narrow"))
             for chart in kept.charts]
    return render_template("series/detail.html", table=table, charts=links,
                           change_line=writers.change_line)


@blueprint.get("/<slug>/table.csv")
def download(slug: str) -> Any:
    """The table as `foitrack series show --format csv` writes it."""
    table = _table(slug)
    out = io.StringIO()
    writers.write_csv(table, out)
    name = safe_filename(f"{slug}-{table.measure}.csv", "series.csv")
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@blueprint.get("/<slug>/charts/<chart>.<image_format>")
def chart(slug: str, chart: str, image_format: str) -> Any:
    """One of the series page's charts, for what the signed-in user may see of it."""
    if image_format not in charts.FORMATS:
        abort(404)
    kept = _kept(slug)
    found = next((c for c in kept.charts if c.name == chart), None)
    if found is None:
        abort(404)
    key = page_data.series_chart_key(kept.key, chart)
    if shown_narrow(image_format):  # the page's phone picture, kept apart
        key, found = (*key, "narrow"), charts.for_phone(found)
    refused = refused_render(kept.version, page_data.image_key(key, image_format))
    if refused is not None:
        return refused
    image = page_data.image(page_cache.of(current_app.extensions), kept.version, key, found,
                            image_format)
    disposition = "attachment" if request.args.get("download") == "1" else "inline"
    name = safe_filename(f"{slug}-{chart}.{image_format}", f"chart.{image_format}")
    return Response(image, mimetype=charts.FORMATS[image_format],
                    headers={"Content-Disposition": f'{disposition}; filename="{name}"',
                             "Cache-Control": "no-cache"})
