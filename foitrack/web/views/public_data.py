"""The public data portal at /data/: published releases, read only, served without sign-in.

Only what is public is ever reachable: a release published and past its embargo (compared
with the current time on every request, so it opens by itself). Anything else, an embargoed
or unknown version, a campaign with nothing public, a file the release did not write, answers
the same 404, so that its existence is not told. The same for signed-in users: these pages
show what the public sees, never more.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any, NoReturn

from flask import (
    Blueprint,
    abort,
    current_app,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from sqlalchemy import or_, select

from foitrack.errors import NotFound
from foitrack.exporters import public_charts
from foitrack.models import Authority, PublishedRelease
from foitrack.services import publishing
from foitrack.web import page_cache
from foitrack.web.context import db_session

blueprint = Blueprint("public_data", __name__, url_prefix="/data")

# Data files download as attachments; the methods note and the plain-text files open in the
# browser. Served under the site's CSP and nosniff like every other response.
CONTENT_TYPES = {
    ".sqlite": ("application/vnd.sqlite3", True),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", True),
    ".csv": ("text/csv; charset=utf-8", True),
    ".json": ("application/json", True),
    ".html": ("text/html; charset=utf-8", False),
    ".cff": ("text/plain; charset=utf-8", False),
    ".txt": ("text/plain; charset=utf-8", False),
}


# The pages whose answer changes when an embargo lifts or a version is published.
CHANGING = {"public_data.index", "public_data.campaign", "public_data.corrections"}


def now() -> dt.datetime:
    """The current time in UTC, or the app's fixed NOW (tests set it to open an embargo)."""
    fixed: dt.datetime | None = current_app.config.get("NOW")
    return fixed if fixed is not None else dt.datetime.now(dt.UTC)


def _not_found() -> NoReturn:
    abort(404)


@blueprint.errorhandler(404)
def _public_not_found(_error: Any) -> Any:
    # One answer for everything not public, in the public layout (no link into signed-in pages).
    return render_template("public/not_found.html"), 404


@blueprint.after_request
def _revalidate_what_an_embargo_changes(response: Any) -> Any:
    """A 404, the list and a campaign's latest page or log change when an embargo lifts: a
    cache must ask again each time (a version's own page and files never change once public).
    A signed-in user's ``no-store`` (set by the app) is kept."""
    if (response.status_code == 404 or request.endpoint in CHANGING) \
            and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-cache"
    return response


def _release(slug: str, version: int | None) -> PublishedRelease:
    try:
        return publishing.public_release(db_session(), slug, version, now())
    except NotFound:
        _not_found()


def _root() -> Path:
    return Path(current_app.instance_path) / "releases"


def _files(release: PublishedRelease, content: dict[str, Any]) -> list[dict[str, Any]]:
    """The release's files present in its folder, each with its size and SHA-256."""
    folder = publishing.release_folder(_root(), release)
    listed = []
    for name in publishing.release_file_names(content):
        path = folder / name
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            listed.append({"name": name, "size": path.stat().st_size, "sha256": digest})
    return listed


def _authority_slugs(content: dict[str, Any]) -> dict[str, str]:
    """Each frozen authority code -> the authority's slug, for the per-force addresses."""
    codes = [row["code"] for row in publishing.table_rows(content, "authorities")]
    found = db_session().execute(select(Authority.code, Authority.slug).where(
        or_(Authority.code.in_(codes), Authority.slug.in_(codes))))
    slugs: dict[str, str] = {}
    for code, slug in found:
        slugs[code if code and code in codes else slug] = slug
    return slugs


def _drawn(release: PublishedRelease, key: tuple[str, ...], draw: Any) -> Any:
    """A release's chart images, drawn once (a published release never changes)."""
    return page_cache.of(current_app.extensions).get(
        (("published release", release.id, ""),), ("public pictures", release.id, *key), draw,
        shared=True)


def _page(release: PublishedRelease, *, latest: bool) -> Any:
    content = publishing.content_of(release)
    slugs = _authority_slugs(content)
    links = {code: url_for("public_data.authority", slug=release.campaign.slug,
                           version=release.version, authority=slug) for code, slug in slugs.items()}
    national = [row for row in publishing.table_rows(content, "aggregate")
                if not row["dimension"]]
    return render_template(
        "public/release.html", release=release, content=content, meta=content["release"],
        latest=latest, citation=publishing.citation_of(content).text(),
        lines=publishing.table_rows(content, "release_lines"), national=national,
        authorities=[{**row, "slug": slugs.get(row["code"])}
                     for row in publishing.table_rows(content, "authorities")],
        files=_files(release, content),
        charts=_drawn(release, (), lambda: public_charts.pictures(
            public_charts.release_charts(content))),
        force_map=public_charts.force_map(content, links))


@blueprint.get("/")
def index() -> Any:
    return render_template("public/index.html",
                           releases=publishing.latest_public(db_session(), now()))


@blueprint.get("/<slug>/")
def campaign(slug: str) -> Any:
    return _page(_release(slug, None), latest=True)


@blueprint.get("/<slug>/v<int:version>/")
def version(slug: str, version: int) -> Any:
    return _page(_release(slug, version), latest=False)


@blueprint.get("/<slug>/corrections")
def corrections(slug: str) -> Any:
    try:
        versions = publishing.public_versions(db_session(), slug, now())
    except NotFound:
        _not_found()
    return render_template("public/corrections.html", versions=versions,
                           campaign=versions[-1].campaign)


@blueprint.get("/<slug>/v<int:version>/<authority>")
def authority(slug: str, version: int, authority: str) -> Any:
    release = _release(slug, version)
    content = publishing.content_of(release)
    code = next((c for c, s in _authority_slugs(content).items() if s == authority), None)
    if code is None:
        _not_found()
    named = next(row for row in publishing.table_rows(content, "authorities")
                 if row["code"] == code)
    requests = [r for r in publishing.table_rows(content, "requests")
                if r["authority_code"] == code]
    return render_template(
        "public/authority.html", release=release, meta=content["release"], authority=named,
        figures=[r for r in publishing.table_rows(content, "figures")
                 if r["authority_code"] == code],
        lines=[r for r in publishing.table_rows(content, "fact_sheets")
               if r["authority_code"] == code],
        request=requests[0] if requests else None,
        charts=_drawn(release, (code,), lambda: public_charts.pictures(
            public_charts.authority_charts(content, code))))


@blueprint.get("/<slug>/v<int:version>/files/<path:filename>")
def file(slug: str, version: int, filename: str) -> Any:
    release = _release(slug, version)
    # Only a name the release wrote: anything else (another file in the folder, `../`, a
    # reply document) is unknown here, checked before the disk is touched.
    if filename not in publishing.release_file_names(publishing.content_of(release)):
        _not_found()
    folder = publishing.release_folder(_root(), release)
    if not (folder / filename).is_file():
        _not_found()
    suffix = Path(filename).suffix
    mimetype, attachment = CONTENT_TYPES.get(suffix, ("text/plain; charset=utf-8", False))
    if filename.startswith(f"{publishing.DOCUMENTS_FOLDER}/"):
        # A force's reply as it came (a PDF, a spreadsheet, even HTML): always a download of
        # bytes, never a page opened under this site's address.
        mimetype, attachment = "application/octet-stream", True
    return send_from_directory(folder, filename, mimetype=mimetype, as_attachment=attachment,
                               download_name=Path(filename).name)
