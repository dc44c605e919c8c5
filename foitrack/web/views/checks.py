"""A campaign's consistency checks: the findings to look at before publishing, and a
researcher marking one explained (or open again)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for

from foitrack.errors import Invalid
from foitrack.services import checks, data_version, page_data, reply_reading
from foitrack.services.figures import Entry
from foitrack.web import page_cache
from foitrack.web.context import actor, clock_settings, db_session, today
from foitrack.web.forms.checks import ExplainForm, UnexplainForm
from foitrack.web.views.lookups import campaign_or_404, file_store

blueprint = Blueprint("checks", __name__, url_prefix="/campaigns/<slug>/checks")


def warnings_for(campaign: Any, request_ids: Iterable[int],
                 entries: Mapping[int, Sequence[Entry]] | None = None) -> list[str]:
    """What the figures just saved (or, with ``entries``, about to be) trip, for a warning:
    the authority, the cell and the check of each open finding of those requests."""
    return checks.warning_lines(checks.warnings_for(db_session(), campaign, request_ids,
                                                    entries=entries, today=today(),
                                                    settings=clock_settings()))


def flash_warnings(campaign: Any, request_ids: Iterable[int]) -> None:
    """A warning, never a refusal: what was saved stays saved."""
    lines = warnings_for(campaign, request_ids)
    if lines:
        flash("Saved, but look at these before publishing (see Consistency checks): "
              + "; ".join(lines) + ".", "warning")


def _page(campaign: Any, problems: dict[str, list[str]] | None = None,
          notes: dict[str, str] | None = None, status: int = 200) -> Any:
    session = db_session()
    version = data_version.of_campaigns(session, [campaign.id])  # before the data: no older
    found = page_data.findings_built(session, page_cache.of(current_app.extensions), campaign,
                                     today(), clock_settings())
    # Replies citing a section in near-identical words: kept likewise (each reply is read).
    shared = page_cache.of(current_app.extensions).get(
        version, ("shared-paragraphs", campaign.id),
        lambda: reply_reading.shared_paragraphs(session, campaign, file_store()))
    return render_template(
        "checks/index.html", campaign=campaign, open=[f for f in found if f.is_open], shared=shared,
        explained=[f for f in found if not f.is_open], checks=checks.CHECKS,
        problems=problems or {}, notes=notes or {}), status


@blueprint.get("/")
def index(slug: str) -> Any:
    return _page(campaign_or_404(slug))


@blueprint.post("/explain")
def explain(slug: str) -> Any:
    session = db_session()
    campaign = campaign_or_404(slug)
    form = ExplainForm()
    if not form.validate_on_submit():
        flash("Nothing was explained: " + "; ".join(
            message for messages in form.errors.values() for message in messages) + ".", "error")
        return redirect(url_for("checks.index", slug=slug))
    key = form.key.data or ""
    try:
        checks.explain(session, actor(), campaign, key, form.note.data or "", today=today())
    except Invalid as error:
        session.rollback()
        return _page(campaign, {key: [str(p) for p in error.problems]},
                     {key: form.note.data or ""}, 400)
    session.commit()
    flash("Marked the finding explained: it stays listed, but is no longer open.", "success")
    return redirect(url_for("checks.index", slug=slug) + "#explained")


@blueprint.post("/unexplain")
def unexplain(slug: str) -> Any:
    session = db_session()
    campaign = campaign_or_404(slug)
    form = UnexplainForm()
    if not form.validate_on_submit():
        flash("Nothing was changed: say which finding.", "error")
        return redirect(url_for("checks.index", slug=slug))
    try:
        checks.unexplain(session, actor(), campaign, form.key.data or "")
    except Invalid as error:
        session.rollback()
        flash(f"Nothing was changed: {error}.", "error")
        return redirect(url_for("checks.index", slug=slug))
    session.commit()
    flash("The finding is open again.", "success")
    return redirect(url_for("checks.index", slug=slug))
