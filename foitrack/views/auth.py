from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from foitrack.db import utcnow
from foitrack.services import signin, users
from foitrack.services.audit import Actor
from foitrack.services.errors import Invalid, TooManyAttempts
from foitrack.views.forms import form_status, show_problems
from foitrack.views.forms.auth import PasswordForm, SignInForm
from foitrack.web import client_address, db_session

blueprint = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so a crafted link cannot bounce a user to another site."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target:
            return target
    return url_for("main.index")


@blueprint.route("/sign-in", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = SignInForm()
    if form.validate_on_submit():
        session = db_session()
        now = utcnow()
        try:
            user = signin.sign_in(session, form.email.data or "", form.password.data or "",
                                  client_address(), signin.Limits.from_config(current_app.config), now)
        except TooManyAttempts as error:
            # The same words whether or not the address has an account.
            minutes = max(1, -(-int((error.retry_at - now).total_seconds()) // 60))
            form.form_errors.append(
                "Too many failed sign-ins from this address or for this account. Try again after "
                f"{error.retry_at:%H:%M} UTC (in {minutes} minute{'s' if minutes != 1 else ''})."
            )
            response = current_app.make_response((render_template("auth/login.html", form=form), 429))
            response.headers["Retry-After"] = str(int((error.retry_at - now).total_seconds()) + 1)
            return response
        session.commit()  # the sign-in, or the failed attempt, is in the audit trail
        if user is not None:
            login_user(user, remember=bool(form.remember.data))
            flash(f"Signed in as {user.email}.", "success")
            return redirect(_safe_next(request.args.get("next")))
        form.form_errors.append("The email address or password is not right.")
    status = 200 if not form.is_submitted() else 400 if form.errors or form.form_errors else 200
    return render_template("auth/login.html", form=form), status


@blueprint.post("/sign-out")
def logout() -> Any:
    logout_user()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.login"))


@blueprint.route("/password", methods=["GET", "POST"])
def password() -> Any:
    form = PasswordForm()
    if form.validate_on_submit():
        session = db_session()
        user = session.merge(current_user._get_current_object())  # type: ignore[attr-defined]
        try:
            users.change_password(
                session, Actor.for_user(user), user, form.current_password.data or "",
                form.password.data or "",
            )
        except Invalid as error:
            session.rollback()
            show_problems(form, error)
        else:
            session.commit()
            # The new session token signed out every browser; keep this one signed in.
            login_user(user)
            flash("Your password has been changed.", "success")
            return redirect(url_for("main.index"))
    return render_template("auth/password.html", form=form), form_status(form)
