from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from foitrack.errors import Conflict, Invalid
from foitrack.services import audit, users
from foitrack.web.context import db_session
from foitrack.web.forms import form_status, show_problems
from foitrack.web.forms.users import EditUserForm, NewUserForm, ResetPasswordForm

blueprint = Blueprint("users", __name__, url_prefix="/users")


def _actor() -> audit.Actor:
    return audit.Actor.for_user(current_user)


def _user_or_404(user_id: int) -> Any:
    return users.get_user(db_session(), user_id)  # NotFound: a 404 (foitrack.web.app)


@blueprint.get("/")
def index() -> Any:
    return render_template("users/index.html", users=users.list_users(db_session()))


@blueprint.route("/new", methods=["GET", "POST"])
def new() -> Any:
    form = NewUserForm()
    if form.validate_on_submit():
        session = db_session()
        try:
            user = users.create_user(
                session, _actor(), email=form.email.data or "", name=form.name.data or "",
                role=form.role.data or "", password=form.password.data or "",
            )
        except Invalid as error:
            session.rollback()
            show_problems(form, error)
        except Conflict as error:
            session.rollback()
            form.email.errors = [*form.email.errors, str(error)]
        else:
            session.commit()
            flash(f"Account created for {user.email} ({user.role.value}).", "success")
            return redirect(url_for("users.index"))
    return render_template("users/new.html", form=form), form_status(form)


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
    return render_template("users/edit.html", form=form, user=user, history=history), form_status(form)


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
