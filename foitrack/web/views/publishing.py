"""The publish page: a campaign's published versions, what to look at first, the candidate
corrections since the latest version, and the form that publishes the next one (as
`foitrack publish` does, with its files written into the instance's releases folder).

Each version lists its partners' private links (as `foitrack partners`): made, used, revoked,
and, while the version is embargoed, a form to give one more partner a link. A new link is
shown in the answer to that form only: only its hash is kept, and no redirect or flashed
message carries it (a flash would sit in the session cookie)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from wtforms.fields import SelectChoice  # type: ignore[attr-defined]

from foitrack.errors import Conflict, Invalid, NotFound
from foitrack.models import Campaign, PublishedRelease
from foitrack.services import authorities as authority_service
from foitrack.services import partners, publishing
from foitrack.services.publish_checklist import checklist
from foitrack.web.context import actor, clock_settings, db_session, external_url, now, today
from foitrack.web.forms import form_status, show_problems
from foitrack.web.forms.publishing import PartnerForm, PublishForm
from foitrack.web.views.lookups import campaign_or_404, file_store

blueprint = Blueprint("publishing", __name__, url_prefix="/campaigns")

UK = ZoneInfo("Europe/London")
# The newest accesses shown under each link; the count beside it says how many there are.
LOG_LIMIT = 20


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


def _partner_prefix(version: int) -> str:
    return f"partner-v{version}"


def _links(release: PublishedRelease, public: bool) -> list[dict[str, Any]]:
    """The partners' links to ``release``, each with its state, use and newest accesses."""
    session = db_session()
    used = partners.usage(session, release)
    recent = partners.recent_accesses(session, release, LOG_LIMIT)
    shown = []
    for link in partners.links(session, release):
        times, last = used.get(link.id, (0, None))
        log = [(uk_time(access.at), access.path) for access in recent.get(link.id, [])]
        state = "revoked" if link.revoked_at is not None else "closed" if public else "live"
        shown.append({"link": link, "state": state, "created": uk_time(link.created_at),
                      "revoked": uk_time(link.revoked_at), "times": times,
                      "last": uk_time(last), "log": log, "earlier": times - len(log)})
    return shown


def _shown(release: PublishedRelease, moment: dt.datetime,
           partner_form: PartnerForm | None = None) -> dict[str, Any]:
    """A published version as the page lists it; ``partner_form`` is its partner form sent
    back with errors, if it was."""
    public = publishing.is_public(release, moment)
    if not public and partner_form is None:
        partner_form = PartnerForm(formdata=None, prefix=_partner_prefix(release.version))
    return {"release": release, "public": public, "files": _files(release),
            "created": uk_time(release.created_at), "embargo": uk_time(release.embargo_until),
            "url": url_for("public_data.version", slug=release.campaign.slug,
                           version=release.version) if public else None,
            "links": _links(release, public),
            "partner_form": None if public else partner_form}


def _publish_form(documents: list[Any], *, sent: bool) -> PublishForm:
    """The publish form with its choices: the request's (``sent``), or empty."""
    form = PublishForm() if sent else PublishForm(formdata=None)
    form.authority_set.choices = [SelectChoice("", "Choose a set")] + [
        SelectChoice(found.slug, f"{found.title} ({members})")
        for found, members in authority_service.list_sets(db_session())]
    form.documents.choices = [
        SelectChoice(document.file_id, f"{document.authority_name}: {document.filename}")
        for document in documents]
    return form


def _page(campaign: Campaign, form: PublishForm, documents: list[Any], *,
          partner_form: tuple[int, PartnerForm] | None = None) -> str:
    """The page, with ``form`` (and a version's partner form) as sent back or empty."""
    session = db_session()
    releases = publishing.releases(session, campaign)
    moment = now()
    sent_back = partner_form[1] if partner_form is not None else None
    return render_template(
        "publishing/publish.html", campaign=campaign, form=form,
        # The one form whose errors the summary lists: never two summaries on one page.
        summary_form=sent_back if sent_back is not None else form,
        checklist=checklist(session, campaign, today=today(), settings=clock_settings()),
        versions=[_shown(release, moment, sent_back if partner_form is not None
                         and partner_form[0] == release.version else None)
                  for release in reversed(releases)],
        next_version=(releases[-1].version if releases else 0) + 1,
        corrections=publishing.candidate_corrections(session, campaign, today=today(),
                                                     settings=clock_settings()),
        documents=documents)


@blueprint.route("/<slug>/publish", methods=["GET", "POST"])
def publish(slug: str) -> Any:
    session = db_session()
    campaign = campaign_or_404(slug)
    documents = publishing.reply_documents(session, campaign)
    form = _publish_form(documents, sent=True)
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
                base_url=current_app.config.get("BASE_URL"), now=now())
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
    return _page(campaign, form, documents), form_status(form)


@blueprint.post("/<slug>/publish/v<int:version>/partners")
def add_partner(slug: str, version: int) -> Any:
    """Give one partner a private link to an embargoed version, and show it this once."""
    session = db_session()
    campaign = campaign_or_404(slug)
    form = PartnerForm(prefix=_partner_prefix(version))
    try:
        release = publishing.get_release(session, campaign, version)
    except NotFound:
        # A page left open on a version that is not there: said, as bad input, not a 404.
        form.form_errors.append(f"{campaign.title} has no version {version} to share")
    else:
        made = _add_partner(campaign, release, form)
        if made is not None:
            return made
    documents = publishing.reply_documents(session, campaign)
    return _page(campaign, _publish_form(documents, sent=False), documents,
                 partner_form=(version, form)), form_status(form)


def _add_partner(campaign: Campaign, release: PublishedRelease, form: PartnerForm) -> Any:
    """The page showing the new link, or None with the form's errors set."""
    session = db_session()
    if form.validate_on_submit():
        try:
            link, token = partners.add(session, actor(), release, name=form.name.data or "",
                                       email=form.email.data, now=now())
        except Invalid as error:
            session.rollback()
            show_problems(form, error)
        except Conflict as error:
            session.rollback()
            form.form_errors.append(str(error))
        else:
            session.commit()
            # Shown here and nowhere else: the page answering this form is not stored.
            return render_template(
                "publishing/partner_link.html", campaign=campaign, release=release, link=link,
                url=external_url("public_data.shared_release", token=token),
                embargo=uk_time(release.embargo_until))
    return None


@blueprint.post("/<slug>/publish/partners/<int:link_id>/revoke")
def revoke_partner(slug: str, link_id: int) -> Any:
    """Close a partner's link at once (its button names whose link it closes)."""
    session = db_session()
    campaign = campaign_or_404(slug)
    try:
        link = partners.get_link(session, link_id)
        if link.release.campaign_id != campaign.id:  # another campaign's: as unknown here
            raise NotFound(f"no partner link {link_id}")
    except NotFound as error:
        # A page left open on a link that is not there: said, as for one revoked already.
        flash(f"Not revoked: {error} to {campaign.title}.", "error")
        return redirect(url_for("publishing.publish", slug=slug))
    name, version = link.name, link.release.version
    try:
        partners.revoke(session, actor(), link_id, now())
    except Conflict as error:
        session.rollback()
        flash(f"Not revoked: {error}.", "error")
    else:
        session.commit()
        flash(f"Revoked the link for {name} to version {version}: it opens nothing from now on.",
              "success")
    return redirect(url_for("publishing.publish", slug=slug, _anchor=f"partners-v{version}"))
