from __future__ import annotations

import io
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup

from foitrack.domain import edit_merge
from foitrack.domain.timeline import Lateness, likely_next
from foitrack.errors import Invalid, NotFound
from foitrack.exporters.chase import write_csv
from foitrack.services import audit, data_version, inbound, mail
from foitrack.services import campaigns as campaign_service
from foitrack.services import requests as service
from foitrack.web import campaign_rows, page_cache
from foitrack.web.context import actor, clock_settings, db_session, today, visible_campaigns
from foitrack.web.forms import show_problems
from foitrack.web.forms.campaigns import EventForm, ReferenceForm, RemoveEventForm
from foitrack.web.views.lookups import request_or_404
from foitrack.web.views.paging import BadPage, paginate
from foitrack.web.views.request_list import list_args, next_page, place_of

blueprint = Blueprint("requests", __name__)



def _shown() -> str:
    """The campaign page's filter the researcher came from, followed by previous and next."""
    return request.args.get("status", "")


def _new_event_form() -> EventForm:
    """An empty event form dated today; _render picks the kind most likely recorded next."""
    form = EventForm(formdata=None)
    form.occurred_on.data = today()
    return form


def _render(found: Any, event_form: EventForm, reference_form: ReferenceForm, status: int = 200) -> Any:
    session = db_session()
    state = service.state_of(found, today(), clock_settings())
    version = found.version or found.campaign.current_version
    events = sorted(found.events, key=lambda e: e.as_timeline().sort_key())
    sent_mail = mail.sent_to(session, found.id)
    received = inbound.filed_messages(session, found.id)
    if reference_form.base.data is None:
        reference_form.base.data = found.reference or ""
    if event_form.kind.data is None:
        # Not the first kind listed ("Request sent", wrong once it was sent): the likely next.
        event_form.kind.data = likely_next(found.timeline(), state.status).value
    return render_template(
        "requests/detail.html", req=found, campaign=found.campaign, state=state, events=events,
        event_form=event_form, reference_form=reference_form,
        text=campaign_service.shown_text(version.request_text, found.authority), version=version,
        history=audit.history(session, "request", found.id), sent_mail=sent_mail,
        received=received, place=place_of(found, _shown()),
    ), status


@blueprint.get("/campaigns/<slug>/requests/<authority>")
def detail(slug: str, authority: str) -> Any:
    found = request_or_404(slug, authority)
    return _render(found, _new_event_form(), ReferenceForm(formdata=None, obj=found))


@blueprint.post("/campaigns/<slug>/requests/<authority>/events")
def add_event(slug: str, authority: str) -> Any:
    """Records an event; "Save and go to the next force" (``then=next``) then opens the next
    request of the list instead of this one again."""
    session = db_session()
    found = request_or_404(slug, authority)
    form = EventForm()
    if form.validate_on_submit():
        occurred_on = form.occurred_on.data
        assert occurred_on is not None  # DataRequired: the form refused a missing date
        try:
            event = service.add_event(
                session, actor(), found, form.kind.data or "", occurred_on,
                today=today(), at=form.occurred_at.data, note=form.note.data,
                outcome=form.outcome.data or None, exemptions=form.exemptions.data or (),
                due_on=form.due_on.data, received_on=form.received_on.data,
            )
        except Invalid as error:
            session.rollback()
            show_problems(form, error)
        else:
            session.commit()
            recorded = f"Recorded: {event.kind.label.lower()} on {event.occurred_on.isoformat()}"
            if request.form.get("then") == "next":
                # Named, as the page it is shown on is the next force's.
                flash(f"{recorded}, for {found.authority.name}.", "success")
                return redirect(next_page("requests.detail", found, _shown()))
            flash(f"{recorded}.", "success")
            return redirect(url_for("requests.detail", slug=slug, authority=authority,
                                    **list_args(_shown())))
    return _render(found, form, ReferenceForm(formdata=None, obj=found), 400)


@blueprint.route("/campaigns/<slug>/requests/<authority>/events/<int:event_id>/remove",
                 methods=["GET", "POST"])
def remove_event(slug: str, authority: str, event_id: int) -> Any:
    """Asks first (GET), then removes (POST): a removal changes the request's status and dates."""
    session = db_session()
    found = request_or_404(slug, authority)
    form = RemoveEventForm()
    if not form.is_submitted():
        event = next((e for e in found.events if e.id == event_id and e.removed_at is None), None)
        if event is None:
            abort(404)
        return render_template("requests/remove_event.html", req=found, campaign=found.campaign,
                               event=event, form=form)
    if form.validate_on_submit():
        try:
            event = service.remove_event(session, actor(), found, event_id)
        except Invalid as error:
            session.rollback()
            flash(f"Not removed: {'; '.join(p.message for p in error.problems)}", "error")
        else:
            session.commit()
            flash(f"Removed: {event.kind.label.lower()} on {event.occurred_on.isoformat()}. "
                  "It stays on the record, struck through.", "success")
    return redirect(url_for("requests.detail", slug=slug, authority=authority))


@blueprint.route("/campaigns/<slug>/requests/<authority>/events/<int:event_id>/restore",
                 methods=["GET", "POST"])
def restore_event(slug: str, authority: str, event_id: int) -> Any:
    """An admin's undo of a removal: asks first (GET), then restores (POST)."""
    session = db_session()
    found = request_or_404(slug, authority)
    form = RemoveEventForm()
    event = next((e for e in found.events if e.id == event_id and e.removed_at is not None), None)
    if event is None:
        abort(404)
    if not form.is_submitted():
        return render_template("requests/remove_event.html", req=found, campaign=found.campaign,
                               event=event, form=form, restoring=True)
    if form.validate_on_submit():
        try:
            service.restore_event(session, actor(), found, event_id, today())
        except Invalid as error:
            session.rollback()
            flash(f"Not restored: {'; '.join(p.message for p in error.problems)}", "error")
        else:
            session.commit()
            flash(f"Restored: {event.kind.label.lower()} on {event.occurred_on.isoformat()}.",
                  "success")
    return redirect(url_for("requests.detail", slug=slug, authority=authority))


@blueprint.post("/campaigns/<slug>/requests/<authority>/reference")
def reference(slug: str, authority: str) -> Any:
    session = db_session()
    found = request_or_404(slug, authority)
    form = ReferenceForm()
    if form.validate_on_submit():
        current = found.reference or ""
        merged = edit_merge.merge({"reference": form.base.data if "base" in request.form else None},
                                  {"reference": form.reference.data or ""}, {"reference": current})
        if merged.conflicts:
            form.reference.errors = [f"Someone else saved {current or 'an empty reference'!r} while "
                                     f"you were editing. Save again to keep yours."]
            form.base.data = current
            return _render(found, _new_event_form(), form, 409)
        try:
            service.set_reference(session, actor(), found, merged.values["reference"] or None)
        except Invalid as error:
            session.rollback()
            show_problems(form, error)
        else:
            session.commit()
            flash("Saved the reference.", "success")
            return redirect(url_for("requests.detail", slug=slug, authority=authority,
                                    **list_args(_shown())))
    return _render(found, _new_event_form(), form, 400)


def _chase_rows() -> tuple[list[service.ChaseRow], str | None, list[Any], tuple[Any, ...]]:
    """Every late request of the campaigns asked for, as the page's choices say, with the
    problem with those choices, the campaigns this user may choose from, and the key the rows
    are kept under."""
    session = db_session()
    campaigns = campaign_service.list_campaigns(session, visible_campaigns())
    try:
        targets = service.chase_campaigns(campaigns, request.args.get("campaign") or None)
    except NotFound as error:
        return [], str(error), campaigns, ()
    names = {c.id: (c.slug, c.title) for c in targets}
    # Before the rows, so they are no older; a write to a campaign not listed leaves them.
    version = data_version.of_campaigns(session, names)

    def build() -> list[service.ChaseRow]:
        # Each campaign's rows are kept on their own: a write to one rebuilds its rows alone.
        found = campaign_rows.rows_of(session, list(names))
        return service.late_rows([row for rows in found.values() for row in rows], names, today(),
                                 include_due_soon=True)

    # One entry for every choice of campaigns, due soon or not: the page only filters it.
    key = ("chase", tuple(sorted(names)), today(), clock_settings())
    rows = page_cache.of(current_app.extensions).get(version, key, build)
    due_soon = request.args.get("due_soon") == "1"
    if not due_soon:
        rows = [row for row in rows if row.lateness is not Lateness.due_soon]
    return rows, None, campaigns, (version, (*key, due_soon))


@blueprint.get("/chase")
def chase() -> Any:
    """The late requests, most late first, a page at a time (the CSV has them all)."""
    rows, problem, campaigns, kept = _chase_rows()
    try:
        page = paginate(rows, request.args.get("page"))
    except BadPage as error:
        problem, page = str(error), paginate([], None)

    def chase_table() -> Markup:
        def draw() -> Markup:
            return Markup(render_template("requests/_chase_table.html", page=page))
        if not kept or problem:
            return draw()
        # The rows as HTML, kept like the rows themselves.
        version, key = kept
        return page_cache.of(current_app.extensions).get(version, (*key, "table", page.number), draw)

    return render_template("requests/chase.html", page=page, problem=problem, campaigns=campaigns,
                           chase_table=chase_table,
                           chosen=request.args.get("campaign", ""), today=today(),
                           due_soon=request.args.get("due_soon") == "1"), (400 if problem else 200)


@blueprint.get("/chase.csv")
def chase_csv() -> Any:
    rows, problem, _, _ = _chase_rows()
    if problem:
        abort(404)
    out = io.StringIO()
    out.write("\ufeff")
    write_csv(rows, out)
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="chase-list-{today().isoformat()}.csv"'
    })
