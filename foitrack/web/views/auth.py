from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask import session as cookie_session
from flask_login import current_user, login_user, logout_user

from foitrack.db import utcnow
from foitrack.errors import Conflict, Invalid, NotFound, TooManyAttempts
from foitrack.services import invitations, signin, users
from foitrack.services.audit import Actor
from foitrack.web.context import client_address, db_session
from foitrack.web.forms import form_status, show_problems
from foitrack.web.forms.auth import InvitationForm, PasswordForm, SignInForm

blueprint = Blueprint("auth", __name__, url_prefix="/auth")


def _is_local_path(target: str) -> bool:
    """Whether ``target`` is a path on this site that no browser, proxy or later decoding can
    read as another site: one leading "/", never "//" or "/\\" (browsers read a backslash as a
    slash), no control characters or spaces (browsers drop tabs and newlines, so "/\t/evil"
    becomes "//evil"), no "." or ".." segments, and the same after percent-decoding (a
    "/%2F%2Fevil" that something decodes on the way is "///evil")."""
    if not target or len(target) > 2000:
        return False
    seen = target
    for _ in range(3):  # percent-encoding of percent-encoding, and so on
        if any(unicodedata.category(char)[0] in "CZ" for char in seen) or "\\" in seen:
            return False
        parts = urlsplit(seen)
        if parts.scheme or parts.netloc or not seen.startswith("/") or seen.startswith("//"):
            return False
        if any(segment in {".", ".."} for segment in parts.path.split("/")):
            return False
        decoded = unquote(seen)
        if decoded == seen:
            return True
        seen = decoded
    return False


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so a crafted link cannot bounce a user to another site."""
    if target and _is_local_path(target):
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
            attempt = signin.start_attempt(session, form.email.data or "", client_address(),
                                           signin.Limits.from_config(current_app.config), now)
        except TooManyAttempts as error:
            session.rollback()  # frees the account for the next attempt's count
            # The same words whether or not the address has an account.
            minutes = max(1, -(-int((error.retry_at - now).total_seconds()) // 60))
            form.form_errors.append(
                "Too many failed sign-ins from this address or for this account. Try again after "
                f"{error.retry_at:%H:%M} UTC (in {minutes} minute{'s' if minutes != 1 else ''})."
            )
            response = current_app.make_response((render_template("auth/login.html", form=form), 429))
            response.headers["Retry-After"] = str(int((error.retry_at - now).total_seconds()) + 1)
            return response
        # The attempt counts for any arriving meanwhile before its password is checked.
        session.commit()
        user = signin.finish_attempt(session, attempt, form.password.data or "")
        session.commit()  # the sign-in, or the failed attempt, is in the audit trail
        if user is not None:
            _clear_cookie_session()
            login_user(user, remember=bool(form.remember.data))
            flash(f"Signed in as {user.email}.", "success")
            return redirect(_safe_next(request.args.get("next")))
        form.form_errors.append("The email address or password is not right.")
    status = 200 if not form.is_submitted() else 400 if form.errors or form.form_errors else 200
    return render_template("auth/login.html", form=form), status


def _clear_cookie_session() -> None:
    """Start the browser's session afresh at sign-in and sign-out, above all with a new CSRF
    secret: a token seen before sign-in (in a shared browser, a page's source) is refused
    after it."""
    cookie_session.clear()
    g.pop("csrf_token", None)  # Flask-WTF's copy for this request


@blueprint.post("/sign-out")
def logout() -> Any:
    if current_user.is_authenticated:
        session = db_session()
        user = session.merge(current_user._get_current_object())
        # Ends the session on the server: a copy of this browser's session or remember-me
        # cookie no longer signs anyone in (and the user's other browsers sign in again).
        users.end_sessions(user)
        session.commit()
    logout_user()
    _clear_cookie_session()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.login"))


@blueprint.route("/password", methods=["GET", "POST"])
def password() -> Any:
    form = PasswordForm()
    if form.validate_on_submit():
        session = db_session()
        user = session.merge(current_user._get_current_object())
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


@blueprint.route("/invite", methods=["GET", "POST"])
def invite() -> Any:
    """Where an invitation's link leads: the invited user chooses their password, and is signed
    in. Opening the link changes nothing (mail scanners open links); only the form spends it."""
    token = request.args.get("token", "")
    session = db_session()
    now = utcnow()
    form = InvitationForm()
    try:
        invitation = invitations.find_open(session, token, now)
        if form.validate_on_submit():
            try:
                user = invitations.accept(session, token, form.password.data or "", now)
            except Invalid as error:
                session.rollback()  # the link is not spent: they may try another password
                show_problems(form, error)
                invitation = invitations.find_open(session, token, now)
            else:
                session.commit()
                _clear_cookie_session()  # whoever was signed in on this browser is not any more
                login_user(user)
                flash(f"Your password is set, and you are signed in as {user.email}.", "success")
                return redirect(url_for("main.index"))
    except (NotFound, Conflict) as error:
        session.rollback()
        status = 404 if isinstance(error, NotFound) else 410
        if not token:
            status = 400  # the address without its token: not a link anyone was sent
        response = current_app.make_response((render_template(
            "auth/invite_closed.html", message=str(error)), status))
    else:
        response = current_app.make_response((render_template(
            "auth/invite.html", form=form, email=invitation.user.email), form_status(form)))
    # The token is in the address: no Referer carries it to another request (our own static
    # files' logs included), and no cache keeps the page.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
