"""Correspondence pages: sending a campaign, chasing, the outbox, the triage inbox, files."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from foitrack.errors import Invalid, NotFound
from foitrack.models import (
    DeliveryStatus,
    InboundMessage,
    JobKind,
    MessageKind,
    Request,
    StoredFile,
)
from foitrack.services import inbound, jobs, mail, membership, reply_reading, right_of_reply
from foitrack.services import requests as request_service
from foitrack.services.mail_templates import (
    DEFAULTS,
    ChangedMeanwhile,
    save_template,
    template_for,
    template_version,
)
from foitrack.storage import safe_filename
from foitrack.web.context import (
    actor,
    clock_settings,
    db_session,
    keep_what_showing_read,
    today,
)
from foitrack.web.forms import form_status, show_problems
from foitrack.web.forms.figures import TemplatesUploadForm
from foitrack.web.forms.mail import AssignForm, ChaseForm, ConfirmForm, MailTemplateForm
from foitrack.web.views.lookups import campaign_or_404, file_store

blueprint = Blueprint("mail", __name__)



def _settings() -> mail.MailSettings:
    return mail.settings_from(current_app.config)



@blueprint.route("/campaigns/<slug>/send", methods=["GET", "POST"])
def send(slug: str) -> Any:
    """Confirm, then email the request to every authority not yet sent to: in the background,
    answered at once with the job's progress page."""
    session = db_session()
    campaign = campaign_or_404(slug)
    chosen = request_service.campaign_requests(session, campaign)
    plan = mail.plan_campaign_send(session, campaign, chosen)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            job = jobs.send_campaign(session, actor(), campaign, chosen, _settings(), today(),
                                     attach_template=request.form.get("attach") == "1")
        except Invalid as error:
            session.rollback()
            flash(f"Nothing was sent: {error}.", "error")
            return redirect(url_for("campaigns.detail", slug=slug))
        session.commit()  # the job goes to the queue once this commits
        return redirect(url_for("jobs.detail", job_id=job.id))
    preview = None
    if plan.to_send:
        preview = mail.compose(session, plan.to_send[0], MessageKind.request, today())
    # Failed before, or said by hand not to have gone: sent again with the rest.
    retries = mail.pending_messages(session, MessageKind.request, chosen)
    return render_template("mail/send.html", campaign=campaign, plan=plan, form=form,
                           settings=_settings(), preview=preview, retries=retries,
                           running=jobs.active_job(session, JobKind.send, campaign))


@dataclass(frozen=True)
class Chaser:
    """A chaser as the confirmation page shows it, as it will be sent: plain values, read
    before the preview is rolled back."""

    request_id: int
    authority_name: str
    to_address: str
    subject: str
    body: str
    retry: str | None = None  # written before and to be tried again: why it has not gone


def chase_summary(chased: list[str], skipped: list[str]) -> str:
    """What a chase did, for the flash after it: who was chased, who was not and why."""
    said = (f"Chasing {len(chased)} {'request' if len(chased) == 1 else 'requests'}: "
            f"{', '.join(chased)}." if chased else "Nothing was sent.")
    if skipped:
        said += f" Not chased: {'; '.join(skipped)}."
    return said


def _chasers_to_confirm(session: Any, campaign: Any) -> tuple[list[Chaser], list[str]]:
    """The chasers a chase of ``campaign`` would send now, each composed as it will go (those
    written before and still to send first), and why the other late requests would get none.
    Nothing is kept: the chasers are queued only to be read, then rolled back."""
    retries = [Chaser(m.request.id, m.request.authority.name, m.to_address, m.subject, m.body,
                      m.last_error or "not sent yet")
               for m in mail.pending_messages(session, MessageKind.chaser,
                                              request_service.campaign_requests(session, campaign))
               if m.request is not None]
    queued, skipped = mail.queue_chasers(session, actor(), _settings(), today(), clock_settings(),
                                         campaign.slug)
    chasers = [Chaser(m.request.id, m.request.authority.name, m.to_address, m.subject, m.body)
               for m in queued if m.request is not None]  # a chaser always has its request
    session.rollback()  # only a preview: nothing is queued until confirmed
    return retries + chasers, skipped


@blueprint.route("/campaigns/<slug>/chase", methods=["GET", "POST"])
def chase(slug: str) -> Any:
    """Confirm, reading each chaser and unticking any request not to chase now; then the
    ticked ones are emailed in the background, answered with the job's progress page."""
    session = db_session()
    campaign = campaign_or_404(slug)
    form = ChaseForm()
    if form.validate_on_submit():
        try:
            job, skipped = jobs.chase(session, actor(), _settings(), today(), clock_settings(),
                                      campaign, request_ids=set(form.requests.data or ()))
        except Invalid as error:
            session.rollback()
            show_problems(form, error)
        else:
            if job is None:
                session.rollback()
                flash(f"No ticked request needs chasing now: nothing was sent."
                      f"{' Not chased: ' + '; '.join(skipped) + '.' if skipped else ''}", "info")
                return redirect(url_for("campaigns.detail", slug=slug))
            chased = [m.request.authority.name for m in jobs.messages_of(session, job)
                      if m.request is not None]
            session.commit()  # the job goes to the queue once this commits
            flash(chase_summary(chased, skipped), "success")
            return redirect(url_for("jobs.detail", job_id=job.id))
    chasers, skipped = _chasers_to_confirm(session, campaign)
    # All ticked at first; shown again after a refused post, as they were sent.
    ticked = set(form.requests.data or ()) if form.is_submitted() else \
        {chaser.request_id for chaser in chasers}
    return render_template("mail/chase.html", campaign=campaign, chasers=chasers, skipped=skipped,
                           ticked=ticked, form=form, settings=_settings(),
                           running=jobs.active_job(session, JobKind.chase, campaign)), \
        form_status(form)


@blueprint.route("/campaigns/<slug>/mail-templates", methods=["GET", "POST"])
def templates(slug: str) -> Any:
    session = db_session()
    campaign = campaign_or_404(slug)
    kind = MessageKind(request.args.get("kind", "chaser")) \
        if request.args.get("kind", "chaser") in {k.value for k in DEFAULTS} else abort(404)
    form = MailTemplateForm()
    theirs: ChangedMeanwhile | None = None
    if not form.is_submitted():
        form.subject.data, form.body.data = template_for(session, campaign, kind)
        form.version.data = str(template_version(session, campaign, kind))
    if form.validate_on_submit():
        chosen = request_service.campaign_requests(session, campaign)
        sample = mail._context(chosen[0], today(), clock_settings()) if chosen else {}
        if kind is MessageKind.right_of_reply:  # its own values too (services.right_of_reply)
            sample = {**sample, **right_of_reply.SAMPLE}
        try:
            save_template(session, actor(), campaign, kind, form.subject.data or "",
                          form.body.data or "", sample, int(form.version.data or 0))
            session.flush()
        except Invalid as error:
            session.rollback()
            show_problems(form, error)
        except ChangedMeanwhile as error:
            session.rollback()
            theirs = error
        except IntegrityError:
            # Two first saves at once: the other one's row came first.
            session.rollback()
            subject, body = template_for(session, campaign, kind)
            theirs = ChangedMeanwhile(subject, body, template_version(session, campaign, kind), None)
        else:
            session.commit()
            flash(f"Saved the {kind.value.replace('_', ' ')} wording.", "success")
            return redirect(url_for("mail.templates", slug=slug, kind=kind.value))
        if theirs is not None:
            # What this user typed stays in the form; the other person's wording is shown
            # beside it, and saving again (at their version) keeps this user's.
            form.version.data = str(theirs.version)
            form.form_errors.append(f"{theirs}. Their wording is shown below the form; yours is "
                                    "still in it. Save again to replace theirs with yours.")
    return render_template("mail/templates.html", campaign=campaign, form=form, kind=kind,
                           kinds=list(DEFAULTS), theirs=theirs), \
        409 if theirs is not None else form_status(form)


@blueprint.get("/mail/outbox")
def outbox() -> Any:
    session = db_session()
    visible = membership.visible_message_clause(current_user, today())
    messages = mail.outbox(session, visible)
    # Left "sending" by an interrupted send (not one going now): a person says if it went.
    to_check = {m.id for m in messages if m.status is DeliveryStatus.sending
                and mail.message_to_check(session, m.id, visible) is not None}
    return render_template("mail/outbox.html", messages=messages, statuses=DeliveryStatus,
                           to_check=to_check)


@blueprint.route("/mail/inbox", methods=["GET", "POST"])
def inbox() -> Any:
    """The triage inbox, and uploading .eml or .mbox files."""
    session = db_session()
    form = TemplatesUploadForm()
    problems: list[str] = []
    if form.validate_on_submit():
        uploads = request.files.getlist(form.file.name)
        try:
            total = inbound.ImportReport()
            for upload in uploads:
                # As the uploader: a reply to a request hidden from them is not filed there,
                # and the summary cannot tell it from a reply to no request.
                report = inbound.import_file(
                    session, actor(), file_store(), upload.filename or "x.eml", upload.read(),
                    today(), uploader=current_user, refuse_unreadable=True,
                    max_messages=inbound.WEB_UPLOAD_MAX_MESSAGES - total.messages,
                    reply_key=inbound.reply_key_from(current_app.config))
                total.add(report)
        except Invalid as error:
            session.rollback()
            problems = [str(p) for p in error.problems]
        else:
            session.commit()
            flash(f"Imported: {total.summary()}.", "success")
            return redirect(url_for("mail.inbox"))
    waiting = membership.visible_triage(session, current_user, today(), inbound.triage(session))
    # What each reply says, read when it was imported; one imported before replies were read
    # then is read now and kept by this commit (nothing else is pending: a failed upload was
    # rolled back above).
    proposals = reply_reading.proposals_for(waiting, file_store())
    keep_what_showing_read()
    requests = request_service.requests_where(
        session, membership.visible_request_clause(current_user, today()))
    return render_template("mail/inbox.html", waiting=waiting, form=form, problems=problems,
                           requests=requests, assign=AssignForm(formdata=None),
                           proposals=proposals), form_status(form, problems)


@blueprint.post("/mail/inbox/<int:message_id>/assign")
def assign(message_id: int) -> Any:
    session = db_session()
    form = AssignForm()
    if not form.validate_on_submit():
        abort(400)
    waiting = session.get(InboundMessage, message_id)
    if waiting is not None and not membership.visible_triage(session, current_user, today(),
                                                             [waiting]):
        abort(404)  # a reply they are not let see, as if it were not there
    found = session.get(Request, int(form.request_id.data or 0)) \
        if (form.request_id.data or "").isdigit() else None
    if found is None or not membership.can_see(session, current_user, found.campaign, today()):
        flash("Choose the request the message belongs to.", "error")
        return redirect(url_for("mail.inbox"))
    try:
        inbound.assign(session, actor(), message_id, found, today(), file_store())
    except (NotFound, Invalid) as error:
        session.rollback()
        flash(f"Not filed: {error}", "error")
    else:
        session.commit()
        flash(f"Filed against {found.authority.name} ({found.campaign.title}).", "success")
    return redirect(url_for("mail.inbox"))


def _stored(public_id: str) -> StoredFile:
    if not membership.is_public_id(public_id):
        abort(404)
    stored = mail.stored_file(db_session(), public_id)
    if stored is None:
        abort(404)
    return stored


# Files are named in URLs by their random public id, never by their row number: an old
# /files/<number> link finds nothing. (The route's argument keeps the name file_id, which the
# visibility check in foitrack.web looks for.)
@blueprint.get("/files/<file_id>")
def download(file_id: str) -> Any:
    """A kept file (an attachment, a message, an imported template), as a download."""
    stored = _stored(file_id)
    try:
        data = file_store().read(stored.sha256)
    except (OSError, ValueError):
        abort(404)
    # send_file writes a Content-Disposition any browser reads, non-Latin names included.
    return send_file(io.BytesIO(data), mimetype=stored.content_type or "application/octet-stream",
                     as_attachment=True, download_name=safe_filename(stored.filename, "download"))


# Types a browser shows safely inside the figure-entry page. HTML and SVG never are: they could
# run script under this site's origin.
VIEWABLE = {"application/pdf", "image/png", "image/jpeg", "image/gif", "text/plain"}


@blueprint.get("/files/<file_id>/view")
def view_file(file_id: str) -> Any:
    """A kept PDF, image or text shown in the page beside the figure grid; others download."""
    stored = _stored(file_id)
    if stored.content_type not in VIEWABLE:
        return redirect(url_for("mail.download", file_id=file_id))
    try:
        data = file_store().read(stored.sha256)
    except (OSError, ValueError):
        abort(404)
    mimetype = "text/plain; charset=utf-8" if stored.content_type == "text/plain" else stored.content_type
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=False,
                         download_name=safe_filename(stored.filename, "file"))
    # Framed by this site's own pages only; the file itself may run nothing.
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    # (Not default-src 'none': Chromium's PDF viewer counts as an object and would be refused.)
    response.headers["Content-Security-Policy"] = "script-src 'none'; frame-ancestors 'self'"
    return response
