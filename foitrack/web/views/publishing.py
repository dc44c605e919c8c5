"""The publish page: a campaign's published versions, what to look at first, the candidate
corrections since the latest version, and the form that publishes the next one (as
`foitrack publish` does, with its files written into the instance's releases folder)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from wtforms.fields import SelectChoice  # type: ignore[attr-defined]

from foitrack.errors import Conflict, Invalid
from foitrack.models import PublishedRelease
from foitrack.services import authorities as authority_service
from foitrack.services import publishing
from foitrack.services.publish_checklist import checklist
from foitrack.web.context import actor, clock_settings, db_session, today
from foitrack.web.forms import form_status, show_problems
from foitrack.web.forms.publishing import PublishForm
from foitrack.web.views.lookups import campaign_or_404, file_store

blueprint = Blueprint("publishing", __name__, url_prefix="/campaigns")

UK = ZoneInfo("Europe/London")


def _now() -> dt.datetime:
    """The current time in UTC, or the app's fixed NOW (as the public portal reads it)."""
    fixed: dt.datetime | None = current_app.config.get("NOW")
    return fixed if fixed is not None else dt.datetime.now(dt.UTC)


def _releases_root() -> Path:
    return Path(current_app.instance_path) / "releases"


def uk_time(when: dt.datetime | None) -> str:
    """A UTC time as the researcher and newsrooms read it: '20 Sep 2019 00:01 BST'."""
    if when is None:
        return ""
    if when.tzinfo is None:  # SQLite gives it back naive: it is UTC
        when = when.replace(tzinfo=dt.UTC)
    local = when.astimezone(UK)
    return f"{local.day} {local:%b %Y %H:%M} {local.tzname()}"


def _files(release: PublishedRelease) -> list[tuple[str, str]]:
    """The release's files with their SHA-256, as its SHA256SUMS lists them (written with
    them), then SHA256SUMS itself; empty when its files are not in this instance's folder."""
    folder = publishing.release_folder(_releases_root(), release)
    sums = folder / "SHA256SUMS"
    if not sums.is_file():
        return []
    data = sums.read_bytes()
    listed = [tuple(reversed(line.split("  ", 1))) for line in data.decode("utf-8").splitlines()
              if "  " in line]
    return [(name, digest) for name, digest in listed] + [
        ("SHA256SUMS", hashlib.sha256(data).hexdigest())]


def _shown(release: PublishedRelease, now: dt.datetime) -> dict[str, Any]:
    """A published version as the page lists it."""
    public = publishing.is_public(release, now)
    return {"release": release, "public": public, "files": _files(release),
            "created": uk_time(release.created_at), "embargo": uk_time(release.embargo_until),
            "url": url_for("public_data.version", slug=release.campaign.slug,
                           version=release.version) if public else None}


@blueprint.route("/<slug>/publish", methods=["GET", "POST"])
def publish(slug: str) -> Any:
    session = db_session()
    campaign = campaign_or_404(slug)
    documents = publishing.reply_documents(session, campaign)
    form = PublishForm()
    form.authority_set.choices = [SelectChoice("", "Choose a set")] + [
        SelectChoice(found.slug, f"{found.title} ({members})")
        for found, members in authority_service.list_sets(session)]
    form.documents.choices = [
        SelectChoice(document.file_id, f"{document.authority_name}: {document.filename}")
        for document in documents]
    if form.validate_on_submit():
        ticked = set(form.documents.data or [])
        figure_ids = sorted(i for document in documents if document.file_id in ticked
                            for i in document.figure_ids)
        try:
            release = publishing.publish(
                session, actor(), campaign, title=form.title.data or "", today=today(),
                settings=clock_settings(), authorities=form.chosen_authorities(),
                checked_only=bool(form.checked_only.data),
                embargo_until=publishing.parse_embargo(form.embargo_text()),
                note=form.note.data, documents=figure_ids,
                organisation=(form.organisation.data or "").strip(),
                base_url=current_app.config.get("BASE_URL"), now=_now())
            # Before the commit: if a file cannot be written, nothing is published.
            publishing.write_files(release, publishing.release_folder(_releases_root(), release),
                                   file_store())
            version = release.version
        except Invalid as error:
            session.rollback()
            show_problems(form, error)
        except Conflict as error:
            session.rollback()
            form.form_errors.append(str(error))
        else:
            session.commit()
            flash(f"Published version {version} of {campaign.title}.", "success")
            return redirect(url_for("publishing.publish", slug=slug, _anchor=f"version-{version}"))
    releases = publishing.releases(session, campaign)
    return render_template(
        "publishing/publish.html", campaign=campaign, form=form,
        checklist=checklist(session, campaign, today=today(), settings=clock_settings()),
        versions=[_shown(release, _now()) for release in reversed(releases)],
        next_version=(releases[-1].version if releases else 0) + 1,
        corrections=publishing.candidate_corrections(session, campaign, today=today(),
                                                     settings=clock_settings()),
        documents=documents), form_status(form)
