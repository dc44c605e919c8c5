"""The user's API tokens: make one (shown once), see them, revoke them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from foitrack.errors import Invalid
from foitrack.services import api_tokens
from foitrack.web.context import actor, db_session
from foitrack.web.forms import form_status, show_problems
from foitrack.web.forms.tokens import RevokeForm, TokenForm

blueprint = Blueprint("tokens", __name__, url_prefix="/account/tokens")


def _user() -> Any:
    return current_user._get_current_object()


@blueprint.route("/", methods=["GET", "POST"])
def index() -> Any:
    session = db_session()
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        try:
            _, new_token = api_tokens.create_token(session, actor(), _user(), form.name.data or "")
        except Invalid as error:
            session.rollback()
            show_problems(form, error)
        else:
            session.commit()
            flash("Token made. Copy it now: it will not be shown again.", "success")
            form = TokenForm(formdata=None)
    # The new token is shown in this response only, never stored or redirected with.
    return render_template("tokens/index.html", form=form, new_token=new_token,
                           tokens=api_tokens.tokens_of(session, _user()),
                           revoke=RevokeForm(formdata=None)), form_status(form)


@blueprint.route("/<int:token_id>/revoke", methods=["GET", "POST"])
def revoke(token_id: int) -> Any:
    """Asks first (GET), then revokes (POST): scripts using the token stop working at once."""
    session = db_session()
    form = RevokeForm()
    token = next((t for t in api_tokens.tokens_of(session, _user()) if t.id == token_id), None)
    if token is None:
        abort(404)
    if not form.is_submitted():
        return render_template("tokens/revoke.html", token=token, form=form)
    if form.validate_on_submit():
        api_tokens.revoke_token(session, actor(), _user(), token_id)
        session.commit()
        flash(f"Revoked the token {token.name!r}: scripts using it are refused from now on.", "success")
    return redirect(url_for("tokens.index"))
