"""The public data portal at /data/: published releases, read only, served without sign-in.

Only what is public is ever reachable: a release published and past its embargo (compared
with the current time on every request, so it opens by itself). Anything else, an embargoed
or unknown version, a campaign with nothing public, a file the release did not write, answers
the same 404, so that its existence is not told. The same for signed-in users: these pages
show what the public sees, never more.

The one way in before the embargo is a partner's private link, /data/shared/<token>/
(foitrack.services.partners): the same pages and files of the one release the link was made
for, under a banner naming the embargo and the partner, each one served logged. A revoked or
unknown token is the same 404 again; once the embargo lifts, the link sends to the public page.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from sqlalchemy import or_, select

from foitrack.errors import NotFound
from foitrack.exporters import public_charts
from foitrack.models import Authority, PublishedRelease, ReleasePartner
from foitrack.services import partners, publishing
from foitrack.web import page_cache
from foitrack.web.context import db_session, now

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


def _not_found() -> NoReturn:
    abort(404)


@blueprint.errorhandler(404)
def _public_not_found(_error: Any) -> Any:
    # One answer for everything not public, in the public layout (no link into signed-in pages),
    # without a partner's banner even under their link.
    g.pop("shared", None)
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
    # Under a partner's link the tiles lead to the force pages under it, as every other link.
    shared: Shared | None = g.get("shared")
    link_to = shared.url_for if shared is not None else url_for
    links = {code: link_to("public_data.authority", slug=release.campaign.slug,
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
    return _authority_page(_release(slug, version), authority)


def _authority_page(release: PublishedRelease, authority: str) -> Any:
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
    return _send_file(_release(slug, version), filename)


def _send_file(release: PublishedRelease, filename: str) -> Any:
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


# --- partners' private links ------------------------------------------------------------------

UK = ZoneInfo("Europe/London")
SHARED = {"public_data.shared_release", "public_data.shared_corrections",
          "public_data.shared_authority", "public_data.shared_file"}


class Shared:
    """The partner's link this request came through, as its pages need it: the banner's words
    and the addresses of the release's pages, kept inside the link."""

    def __init__(self, link: ReleasePartner, token: str) -> None:
        self.token = token
        self.name = link.name
        self.release = link.release
        self.slug = link.release.campaign.slug
        self.version = link.release.version
        uk = link.release.embargo_until.astimezone(UK) if link.release.embargo_until else None
        # As the newsrooms read an embargo: "00:01 on 20 September 2019".
        self.embargo_in_uk = f"{uk:%H:%M} on {uk.day} {uk:%B %Y}" if uk else ""

    def url_for(self, endpoint: str, **values: Any) -> str:
        """``flask.url_for``, except that the public address of this release's pages (which
        would be a 404 until the embargo) is the same page under the link. Another release's
        address is left public: the link opens this one only."""
        ours = values.get("slug") == self.slug
        this_version = ours and values.get("version") == self.version
        # The campaign's latest page, to the partner, is the release they were given.
        if (endpoint == "public_data.campaign" and ours) \
                or (endpoint == "public_data.version" and this_version):
            return url_for("public_data.shared_release", token=self.token)
        if endpoint == "public_data.corrections" and ours:
            return url_for("public_data.shared_corrections", token=self.token)
        if endpoint == "public_data.authority" and this_version:
            return url_for("public_data.shared_authority", token=self.token,
                           authority=values["authority"])
        if endpoint == "public_data.file" and this_version:
            return url_for("public_data.shared_file", token=self.token,
                           filename=values["filename"])
        return url_for(endpoint, **values)


@blueprint.context_processor
def _partner_context() -> dict[str, Any]:
    """Under a partner's link: the banner, and every link to the release kept under it (the
    page templates are the public ones, their ``url_for`` this one)."""
    shared: Shared | None = g.get("shared")
    if shared is None:
        return {}
    return {"shared": shared, "url_for": shared.url_for}


@blueprint.after_request
def _shared_pages_are_kept_nowhere(response: Any) -> Any:
    """A partner's page is for them only and may be revoked: no cache keeps it, no search
    engine lists it, and the token in its address is not sent on as a referrer."""
    if request.endpoint in SHARED:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _through_link(token: str, below: str) -> Shared:
    """Open ``token``'s link for the page ``below`` it (logged) while the release is embargoed.

    A revoked or unknown token is the public portal's 404; once the release is public, the
    answer is a redirect to the same page at its public address (nothing logged: it is public).
    """
    session = db_session()
    try:
        link = partners.resolve(session, token)
    except NotFound:
        _not_found()
    if publishing.is_public(link.release, now()):
        abort(_to_public(link.release, below))
    # Logged before it is answered (a name the release lacks too: the 404 is an attempt),
    # so that nothing is ever served unlogged.
    partners.record_access(session, link, below, now())
    g.shared = Shared(link, token)
    session.commit()
    return g.shared


def _to_public(release: PublishedRelease, below: str) -> Any:
    slug, version = release.campaign.slug, release.version
    if below == "/corrections":
        target = url_for("public_data.corrections", slug=slug)
    elif below.startswith("/files/"):
        target = url_for("public_data.file", slug=slug, version=version,
                         filename=below.removeprefix("/files/"))
    elif below != "/":
        target = url_for("public_data.authority", slug=slug, version=version,
                         authority=below.removeprefix("/"))
    else:
        target = url_for("public_data.version", slug=slug, version=version)
    return redirect(target)


@blueprint.get("/shared/<token>/")
def shared_release(token: str) -> Any:
    return _page(_through_link(token, "/").release, latest=False)


@blueprint.get("/shared/<token>/corrections")
def shared_corrections(token: str) -> Any:
    shared = _through_link(token, "/corrections")
    # The public versions before it, and the shared one: not another embargoed version.
    versions = [r for r in publishing.releases(db_session(), shared.release.campaign)
                if r.id == shared.release.id
                or (r.version < shared.version and publishing.is_public(r, now()))]
    return render_template("public/corrections.html", versions=versions,
                           campaign=shared.release.campaign)


@blueprint.get("/shared/<token>/<authority>")
def shared_authority(token: str, authority: str) -> Any:
    return _authority_page(_through_link(token, f"/{authority}").release, authority)


@blueprint.get("/shared/<token>/files/<path:filename>")
def shared_file(token: str, filename: str) -> Any:
    return _send_file(_through_link(token, f"/files/{filename}").release, filename)
