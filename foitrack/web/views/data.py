"""Data in and out on the web: response templates, dataset downloads, tracker imports."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from foitrack.errors import Invalid
from foitrack.services import requests as request_service
from foitrack.services import templates, tracker_import
from foitrack.services.datasets import CSV_TABLES, EXPORT_FORMATS
from foitrack.storage import safe_filename
from foitrack.web.context import actor, db_session, today
from foitrack.web.downloads import dataset_download
from foitrack.web.forms import form_status
from foitrack.web.forms.figures import ConfirmUploadForm, FiguresImportForm, TemplatesUploadForm
from foitrack.web.views.checks import warnings_for
from foitrack.web.views.lookups import campaign_or_404, file_store, request_or_404

blueprint = Blueprint("data", __name__, url_prefix="/campaigns/<slug>")


@blueprint.get("/requests/<authority>/template.xlsx")
def template(slug: str, authority: str) -> Any:
    campaign = campaign_or_404(slug)
    found = request_or_404(slug, authority)
    if not campaign.measures:
        abort(404)
    return Response(templates.template_bytes(campaign, found), mimetype=templates.XLSX_TYPE,
                    headers={"Content-Disposition":
                             f'attachment; filename="{templates.template_filename(campaign, found)}"'})


@blueprint.get("/templates.zip")
def all_templates(slug: str) -> Any:
    campaign = campaign_or_404(slug)
    if not campaign.measures:
        abort(404)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for found in request_service.campaign_requests(db_session(), campaign):
            archive.writestr(templates.template_filename(campaign, found),
                             templates.template_bytes(campaign, found))
    return Response(out.getvalue(), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{slug}-templates.zip"'})


@blueprint.route("/templates/import", methods=["GET", "POST"])
def import_templates(slug: str) -> Any:
    """Upload filled templates: kept in the store, previewed, imported on confirmation."""
    session = db_session()
    campaign = campaign_or_404(slug)
    form = TemplatesUploadForm()
    problems: list[str] = []
    if form.validate_on_submit() and not request.files.getlist(form.file.name):
        problems = ["Choose at least one filled template."]
    elif form.validate_on_submit():
        files = [(safe_filename(f.filename or "", "upload.xlsx"), f.read())
                 for f in request.files.getlist(form.file.name)]
        try:
            plan = templates.preview(session, campaign, files)
        except Invalid as error:
            problems = [str(p) for p in error.problems]
        else:
            # Keep the uploads so the confirmation imports exactly what was previewed.
            store = file_store()
            confirm = ConfirmUploadForm(formdata=None)
            confirm.files.data = json.dumps([[store.put(data), name] for name, data in files])
            return render_template("data/preview.html", campaign=campaign, plan=plan,
                                   confirm=confirm, warnings=warnings_for(
                                       campaign, [item.request.id for item in plan.files],
                                       {item.request.id: item.entries for item in plan.files}))
    return render_template("data/import_templates.html", campaign=campaign, form=form,
                           problems=problems), form_status(form, problems)


@blueprint.post("/templates/confirm")
def confirm_templates(slug: str) -> Any:
    session = db_session()
    campaign = campaign_or_404(slug)
    form = ConfirmUploadForm()
    if not form.validate_on_submit():
        abort(400)
    store = file_store()
    files = []
    try:
        listed = json.loads(form.files.data or "[]")
        for digest, name in listed:
            files.append((safe_filename(str(name), "upload.xlsx"), store.read(str(digest))))
    except (ValueError, TypeError, OSError):
        abort(400)
    try:
        plan = templates.preview(session, campaign, files)
        report = templates.apply(session, actor(), plan, store,
                                 current_user._get_current_object())
    except Invalid as error:
        session.rollback()
        flash("Nothing was imported: " + "; ".join(str(p) for p in error.problems), "error")
        return redirect(url_for("data.import_templates", slug=slug))
    session.commit()
    flash(f"Imported {len(plan.files)} templates: {report.summary()}.", "success")
    return redirect(url_for("figures.aggregate_page", slug=slug))


@blueprint.route("/tracker/import", methods=["GET", "POST"])
def import_tracker(slug: str) -> Any:
    session = db_session()
    campaign = campaign_or_404(slug)
    form = FiguresImportForm()
    problems: list[str] = []
    if form.validate_on_submit():
        name = safe_filename(form.file.data.filename or "", "tracker.csv")
        data = form.file.data.read()
        try:
            planned = tracker_import.plan(session, campaign, name, data, today())
        except Invalid as error:
            problems = [str(p) for p in error.problems]
        else:
            if request.form.get("confirmed") == "1":
                try:
                    count = tracker_import.apply(session, actor(), campaign, planned, today())
                except Invalid as error:
                    session.rollback()
                    problems = [str(p) for p in error.problems]
                else:
                    session.commit()
                    flash(f"Recorded {count} requests from {name}.", "success")
                    return redirect(url_for("campaigns.detail", slug=slug))
            else:
                return render_template("data/tracker_preview.html", campaign=campaign,
                                       plan=planned, form=form)
    return render_template("data/import_tracker.html", campaign=campaign, form=form,
                           problems=problems), form_status(form, problems)


@blueprint.get("/export.<fmt>")
def export(slug: str, fmt: str) -> Any:
    """The dataset, built from one snapshot into a temporary file, then sent."""
    if fmt not in EXPORT_FORMATS:
        abort(404)
    table = request.args.get("table", "figures")
    if fmt == "csv" and table not in CSV_TABLES:
        abort(404)
    return dataset_download(campaign_or_404(slug), fmt, table, request.args.get("checked") == "1")


@blueprint.post("/exports")
def export_job(slug: str) -> Any:
    """Build the dataset in the background (for a campaign too large to build within a page
    load): answered at once with the job's page, which links the file once it is ready."""
    from foitrack.services import jobs
    from foitrack.web.forms.mail import ConfirmForm

    session = db_session()
    campaign = campaign_or_404(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        job = jobs.export(session, actor(), campaign, request.form.get("format", ""),
                          request.form.get("table") or "figures",
                          request.form.get("checked") == "1")
    except Invalid as error:
        session.rollback()
        flash(f"Not started: {error}.", "error")
        return redirect(url_for("campaigns.detail", slug=slug))
    session.commit()
    return redirect(url_for("jobs.detail", job_id=job.id))
