"""Background jobs: a send's or a chase's progress page, the list, cancelling."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from foitrack.errors import Invalid
from foitrack.models import DeliveryStatus, JobState
from foitrack.services import jobs, mail, membership
from foitrack.web.context import actor, db_session, today
from foitrack.web.forms.mail import ConfirmForm

blueprint = Blueprint("jobs", __name__)

# The progress page brings itself up to date this often while the job runs (job-progress.js;
# without script, a meta refresh, which ?refresh=off stops).
REFRESH_SECONDS = 2


@blueprint.get("/jobs")
def index() -> Any:
    session = db_session()
    shown = jobs.jobs(session, include_finished=True,
                      visible=membership.visible_job_clause(current_user, today()))
    return render_template("jobs/index.html", rows=[(job, jobs.progress(session, job))
                                                    for job in shown])


@blueprint.get("/jobs/<int(min=1, max=2147483647):job_id>")
def detail(job_id: int) -> Any:
    session = db_session()
    job = jobs.get_job(session, job_id)
    paused = request.args.get("refresh") == "off" and not job.state.finished
    return render_template("jobs/detail.html", job=job, progress=jobs.progress(session, job),
                           messages=jobs.messages_of(session, job), statuses=DeliveryStatus,
                           refresh=REFRESH_SECONDS if not job.state.finished and not paused
                           else None, paused=paused,
                           form=ConfirmForm(), settings=mail.settings_from(current_app.config))


@blueprint.post("/jobs/<int(min=1, max=2147483647):job_id>/cancel")
def cancel(job_id: int) -> Any:
    session = db_session()
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash("The form had expired: nothing was cancelled. Try again.", "error")
        return redirect(url_for("jobs.detail", job_id=job_id))
    try:
        job = jobs.cancel(session, actor(), jobs.get_job(session, job_id))
    except Invalid as error:
        session.rollback()
        flash(str(error), "error")
    else:
        session.commit()
        flash("Cancelled: nothing more will be sent." if job.state is JobState.cancelled else
              "Stopping: the message going now finishes, no other will be sent.", "success")
    return redirect(url_for("jobs.detail", job_id=job_id))


@blueprint.post("/mail/messages/<int(min=1, max=2147483647):message_id>/resolve")
def resolve(message_id: int) -> Any:
    """A person's answer about a message left "sending" by an interruption: it went (recorded
    on the timeline) or it did not (it will be sent again)."""
    session = db_session()
    form = ConfirmForm()
    went = request.form.get("went")
    back = request.form.get("next") or ""
    back = back if back.startswith("/") and not back.startswith("//") else url_for("mail.outbox")
    if not form.validate_on_submit() or went not in ("yes", "no"):
        flash("Say whether the message went.", "error")
        return redirect(back)
    message = mail.message_to_check(session, message_id,
                                    membership.visible_message_clause(current_user, today()))
    if message is None:
        flash("That message is not waiting for a check.", "error")
        return redirect(back)
    mail.retry_unknown(session, actor(), message.id, went == "yes", today())
    session.commit()
    flash("Recorded as sent." if went == "yes" else
          "Recorded as not sent: it will go with the next send.", "success")
    return redirect(back)
