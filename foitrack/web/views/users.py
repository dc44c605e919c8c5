from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from foitrack.db import utcnow
from foitrack.errors import Conflict, Invalid
from foitrack.models import Invitation, User
from foitrack.services import audit, invitations, mail, users
from foitrack.web.context import db_session, external_url
from foitrack.web.forms import form_status, show_problems
from foitrack.web.forms.users import EditUserForm, NewUserForm, ResetPasswordForm

blueprint = Blueprint("users", __name__, url_prefix="/users")


def _actor() -> audit.Actor:
    return audit.Actor.for_user(current_user)


def _user_or_404(user_id: int) -> Any:
    return users.get_user(db_session(), user_id)  # NotFound: a 404 (foitrack.web.app)


def _invitation_days() -> int:
    return int(current_app.config.get("INVITATION_DAYS") or invitations.DEFAULT_DAYS)


def _email_invitation(user: User, invitation: Invitation, token: str, done: str) -> None:
    """Send the (committed) invitation and say how it went, after ``done``."""
    delivery = invitations.send(user, external_url("auth.invite", token=token), invitation,
                                mail.settings_from(current_app.config))
    if delivery.error is not None:
        session = db_session()
        invitations.record_not_sent(session, _actor(), user, delivery.error)
        session.commit()
        flash(f"{done} The invitation could not be emailed ({delivery.error}); send it again "
              "from their page once the mail server answers.", "error")
    elif delivery.outbox_file is not None:
        flash(f"{done} No mail server is set, so the invitation to {user.email} was written to "
              f"the outbox folder ({delivery.outbox_file}), not emailed.", "warning")
    else:
        flash(f"{done} An invitation to choose a password was emailed to {user.email}; its "
              f"link works once, for {_invitation_days()} days.", "success")


@blueprint.get("/")
def index() -> Any:
    return render_template("users/index.html", users=users.list_users(db_session()))


@blueprint.route("/new", methods=["GET", "POST"])
def new() -> Any:
    form = NewUserForm()
    if form.validate_on_submit():
        session = db_session()
        # No password typed (the usual case): the user chooses their own through an invitation.
        password = form.password.data or None
        try:
            user = users.create_user(
                session, _actor(), email=form.email.data or "", name=form.name.data or "",
                role=form.role.data or "", password=password,
            )
            invited = (invitations.invite(session, _actor(), user, now=utcnow(),
                                          days=_invitation_days()) if password is None else None)
        except Invalid as error:
            session.rollback()
            show_problems(form, error)
        except Conflict as error:
            session.rollback()
            form.email.errors = [*form.email.errors, str(error)]
        else:
            session.commit()  # before the email: its link must already work when it arrives
            done = f"Account created for {user.email} ({user.role.value})."
            if invited is None:
                flash(done, "success")
            else:
                _email_invitation(user, *invited, done=done)
            return redirect(url_for("users.index"))
    return (render_template("users/new.html", form=form, days=_invitation_days()),
            form_status(form))


@blueprint.route("/<int:user_id>/edit", methods=["GET", "POST"])
def edit(user_id: int) -> Any:
    user = _user_or_404(user_id)
    form = EditUserForm(obj=user)
    if form.validate_on_submit():
        session = db_session()
        try:
            users.update_user(
                session, _actor(), user, name=form.name.data, role=form.role.data,
                active=bool(form.active.data),
            )
        except Invalid as error:
            session.rollback()
            show_problems(form, error)
        except Conflict as error:
            session.rollback()
            form.form_errors.append(str(error))
        else:
            session.commit()
            flash(f"Saved {user.email}.", "success")
            return redirect(url_for("users.index"))
    history = audit.history(db_session(), "user", user.id)
    page = render_template("users/edit.html", form=form, user=user, history=history,
                           invitation=invitations.latest(db_session(), user), now=utcnow())
    return page, form_status(form)


@blueprint.post("/<int:user_id>/invite")
def invite(user_id: int) -> Any:
    """Email a user who has no password yet a new invitation; their earlier links stop working."""
    user = _user_or_404(user_id)  # the CSRF token was checked before the view (web/app.py)
    session = db_session()
    try:
        invitation, token = invitations.invite(session, _actor(), user, now=utcnow(),
                                               days=_invitation_days())
    except Conflict as error:  # deactivated, or a password chosen already
        session.rollback()
        flash(f"No invitation sent: {error}.", "error")
    else:
        session.commit()  # before the email: its link must already work when it arrives
        _email_invitation(user, invitation, token, done="New invitation made.")
    return redirect(url_for("users.edit", user_id=user.id))


@blueprint.route("/<int:user_id>/password", methods=["GET", "POST"])
def reset_password(user_id: int) -> Any:
    user = _user_or_404(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        session = db_session()
        try:
            users.change_password(session, _actor(), user, None, form.password.data or "")
        except Invalid as error:
            session.rollback()
            show_problems(form, error)
        else:
            session.commit()
            flash(f"Password set for {user.email}. Tell them in person, not by email.", "success")
            return redirect(url_for("users.index"))
    return render_template("users/password.html", form=form, user=user), form_status(form)
