"""The right-of-reply page: choose the forces and the day to answer by, read a force's message
as it will go, send; then where each force stands (services.right_of_reply)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from foitrack.errors import Invalid
from foitrack.models import JobKind, Request
from foitrack.services import jobs, mail
from foitrack.services import right_of_reply as service
from foitrack.services.requests import campaign_requests
from foitrack.web.context import actor, clock_settings, db_session, today
from foitrack.web.forms import form_status, show_problems
from foitrack.web.forms.right_of_reply import RightOfReplyForm
from foitrack.web.views.lookups import campaign_or_404

blueprint = Blueprint("right_of_reply", __name__)

# The day offered at first: two weeks, time for a press office to check a few numbers.
SUGGESTED_WAIT = dt.timedelta(days=14)


@blueprint.route("/campaigns/<slug>/right-of-reply", methods=["GET", "POST"])
def page(slug: str) -> Any:
    """Show each force's figures and one force's whole message as it will go (the first, or
    the one whose Preview was pressed: a message's lines take a fact sheet to write); send the
    ticked forces' in the background; the status of each force below."""
    session = db_session()
    campaign = campaign_or_404(slug)
    form = RightOfReplyForm()
    action = request.form.get("action", "") if form.is_submitted() else ""
    if action == "send" and form.validate_on_submit():
        try:
            job, skipped = service.send(session, actor(), campaign,
                                        set(form.authorities.data or ()), form.answer_by.data,
                                        today())
        except Invalid as error:
            session.rollback()
            show_problems(form, error)
        else:
            said = f" Not sent: {'; '.join(skipped)}." if skipped else ""
            if job is None:
                session.rollback()
                flash(f"Nothing was sent.{said}", "info")
                return redirect(url_for("right_of_reply.page", slug=slug))
            names = [r.authority.name for r in campaign_requests(session, campaign)
                     if r.id in set(jobs.params_of(job)["request_ids"])]
            session.commit()  # the job goes to the queue once this commits
            flash(f"Sending the right of reply to {len(names)} "
                  f"{'force' if len(names) == 1 else 'forces'}: {', '.join(names)}.{said}",
                  "success")
            return redirect(url_for("jobs.detail", job_id=job.id))
    elif form.is_submitted() and action != "send":
        form.validate()  # a preview: the day's and the token's checks, nothing kept
    if not form.is_submitted():
        form.answer_by.data = today() + SUGGESTED_WAIT
    requests = campaign_requests(session, campaign)
    held = service.figures_held(session, [r.id for r in requests])
    forces = [r for r in requests if r.id in held]
    ticked = set(form.authorities.data or ()) if form.is_submitted() else {r.id for r in forces}
    shown = _to_preview(forces, action)
    preview = None
    if shown is not None and form.answer_by.data is not None and not form.answer_by.errors:
        try:
            service.check_answer_by(form.answer_by.data, today())
            (preview,) = service.drafts(session, campaign, [shown], form.answer_by.data, today(),
                                        clock_settings())
        except Invalid as error:
            show_problems(form, error)
    rows = service.statuses(session, campaign, today())
    return render_template(
        "right_of_reply/page.html", campaign=campaign, form=form,
        settings=mail.settings_from(current_app.config), forces=forces, held=held,
        preview=preview, ticked=ticked, statuses=rows, checklist=service.tally(rows),
        running=jobs.active_job(session, JobKind.right_of_reply, campaign)), form_status(form)


def _to_preview(forces: list[Request], action: str) -> Request | None:
    """The force whose message is shown whole: the one whose Preview was pressed, else the
    first."""
    chosen = action.removeprefix("preview-")
    return next((r for r in forces if str(r.id) == chosen), forces[0] if forces else None)
