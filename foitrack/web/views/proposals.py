"""The review page for the figures proposed from a request's reply files (issue 19): accept a
chosen set (values edited or not) through the grid's save, or reject it; and the crop of the PDF
page each proposal was read from."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from foitrack.domain.extraction import crops
from foitrack.errors import Invalid
from foitrack.models import FigureProposal, Request
from foitrack.services import proposals as service
from foitrack.services.follow_ups import first_of
from foitrack.services.locks import hold_request
from foitrack.web.context import actor, db_session
from foitrack.web.forms.proposals import ProposalReviewForm
from foitrack.web.views.checks import flash_warnings
from foitrack.web.views.lookups import file_store, request_or_404

blueprint = Blueprint("proposals", __name__, url_prefix="/campaigns/<slug>")



@blueprint.app_template_global()
def figures_proposed(req: Request) -> int:
    """How many proposals wait for review on the request page: a follow-up's page counts its
    first request's, where its replies' figures are proposed (and its link leads)."""
    return service.pending_count(db_session(), first_of(req))


@blueprint.route("/requests/<authority>/proposals", methods=["GET", "POST"])
def review(slug: str, authority: str) -> Any:
    session = db_session()
    found = request_or_404(slug, authority)
    form = ProposalReviewForm()
    errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        chosen = [int(key.removeprefix("accept-")) for key in request.form
                  if key.startswith("accept-") and key.removeprefix("accept-").isdigit()]
        try:
            if form.reject_selected.data:
                count = service.reject(session, actor(), found, chosen)
                message = f"Rejected {count} proposed figure{'s' if count != 1 else ''}."
            else:
                hold_request(session, found)
                edits = {i: request.form[f"value-{i}"] for i in chosen
                         if f"value-{i}" in request.form}
                rows = {row.id: row for row in service.pending(session, found)}
                edits = {i: v for i, v in edits.items() if i in rows and v.strip() != rows[i].value}
                report = service.accept(session, actor(), found, chosen, edits,
                                        confirm_conflicts=bool(form.confirm_checked.data))
                message = f"Accepted: {report.summary()}."
        except Invalid as error:
            session.rollback()
            for problem in error.problems:
                errors.setdefault(problem.field or "", []).append(problem.message)
            form.form_errors.append("Nothing was changed: " + "; ".join(
                str(problem) for problem in error.problems))
        else:
            session.commit()
            flash(message, "success")
            if not form.reject_selected.data:
                flash_warnings(found.campaign, [found.id])
            return redirect(url_for("proposals.review", slug=slug, authority=authority))
    reviewed = service.review(session, found)
    files = [(name, list(items)) for name, items in
             groupby(reviewed, key=lambda r: (r.row.stored_file_id, r.row.filename))]
    status = 400 if form.form_errors or form.errors else 200
    return render_template("proposals/review.html", req=found, campaign=found.campaign,
                           form=form, files=files, errors=errors,
                           posted=request.form if request.method == "POST" else {}), status


def _proposal_or_404(found: Request, proposal_id: int) -> FigureProposal:
    row = db_session().get(FigureProposal, proposal_id)
    if row is None or row.request_id != found.id:
        abort(404)
    return row


@blueprint.route("/requests/<authority>/proposals/<int:proposal_id>/crop.png")
def crop(slug: str, authority: str, proposal_id: int) -> Any:
    """The part of the PDF page around the proposal's cell, as a PNG: beside it on the review
    page, and beside the figure accepting it saved on the figure's pages."""
    row = _proposal_or_404(request_or_404(slug, authority), proposal_id)
    if row.page is None or not row.bbox:
        abort(404)
    png = crops.crop_png(file_store().read(row.sha256), row.page, row.bbox)
    if png is None:
        abort(404)
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
