"""A request's removed figures, and an admin putting one back."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm

from foitrack.errors import Conflict
from foitrack.services import removed_figures as service
from foitrack.web.context import actor, db_session
from foitrack.web.views.lookups import request_or_404

blueprint = Blueprint("removed_figures", __name__,
                      url_prefix="/campaigns/<slug>/requests/<authority>/figures/removed")


class RestoreForm(FlaskForm):
    """Only the CSRF token: the figure is named in the URL."""


@blueprint.get("/")
def index(slug: str, authority: str) -> Any:
    found = request_or_404(slug, authority)
    return render_template("figures/removed.html", req=found, campaign=found.campaign,
                           removed=service.removed_figures(db_session(), found),
                           form=RestoreForm(formdata=None))


@blueprint.post("/<int:figure_id>/restore")
def restore(slug: str, authority: str, figure_id: int) -> Any:
    session = db_session()
    found = request_or_404(slug, authority)
    if not RestoreForm().validate_on_submit():
        abort(400)
    try:
        figure = service.restore_figure(session, actor(), found, figure_id)
    except Conflict as error:
        session.rollback()
        flash(f"Not restored: {error}.", "error")
        return redirect(url_for("removed_figures.index", slug=slug, authority=authority))
    session.commit()
    flash(f"Restored {figure.figure_value.text}, unchecked: a second researcher should check it "
          "against the reply.", "success")
    return redirect(url_for("figures.figure", slug=slug, authority=authority, figure_id=figure.id))
