from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from foitrack.errors import Conflict, Invalid, NotFound
from foitrack.exporters.authorities import authority_row, write_csv
from foitrack.services import audit
from foitrack.services import authorities as service
from foitrack.services.authority_import import IMPORT_COLUMNS, import_authorities
from foitrack.web.context import db_session
from foitrack.web.forms import form_status, show_problems
from foitrack.web.forms.authorities import AuthorityForm, ImportForm

blueprint = Blueprint("authorities", __name__, url_prefix="/authorities")


def _filters() -> dict[str, str]:
    return {
        key: request.args.get(key, "").strip()
        for key in ("set", "region", "q")
        if request.args.get(key, "").strip()
    }


def _find(filters: dict[str, str]) -> tuple[list[Any], str | None]:
    try:
        found = service.find_authorities(
            db_session(),
            set_slug=filters.get("set"),
            region=filters.get("region"),
            search=filters.get("q"),
        )
    except NotFound as error:
        return [], str(error)
    return found, None


@blueprint.get("/")
def index() -> Any:
    filters = _filters()
    found, problem = _find(filters)
    session = db_session()
    return render_template(
        "authorities/index.html",
        authorities=found,
        problem=problem,
        filters=filters,
        sets=service.list_sets(session),
        regions=service.list_regions(session),
    ), (400 if problem else 200)


@blueprint.get("/export.csv")
def export() -> Any:
    filters = _filters()
    found, problem = _find(filters)
    if problem:
        abort(404)
    out = io.StringIO()
    out.write("\ufeff")  # so Excel opens the UTF-8 file with the right characters
    write_csv((authority_row(authority) for authority in found), out)
    name = "authorities" + (f"-{filters['set']}" if "set" in filters else "") + ".csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@blueprint.get("/sets")
def sets() -> Any:
    return render_template("authorities/sets.html", sets=service.list_sets(db_session()))


def _authority_or_404(slug: str) -> Any:
    return service.get_authority(db_session(), slug)  # NotFound: a 404 (foitrack.web.app)


@blueprint.get("/<slug>")
def detail(slug: str) -> Any:
    authority = _authority_or_404(slug)
    history = audit.history(db_session(), "authority", authority.id)
    return render_template("authorities/detail.html", authority=authority, history=history)


@blueprint.route("/<slug>/edit", methods=["GET", "POST"])
def edit(slug: str) -> Any:
    authority = _authority_or_404(slug)
    form = AuthorityForm()
    if not form.is_submitted():
        form.process(obj=authority)
        form.former_names.data = "\n".join(authority.former_names or [])
        form.version.data = service.version_of(authority)
    if form.validate_on_submit():
        session = db_session()
        changes = {
            field.name: field.data for field in form if field.name not in ("csrf_token", "version")
        }
        changes["former_names"] = (form.former_names.data or "").splitlines()
        try:
            changed = service.update_authority(
                session, audit.Actor.for_user(current_user), authority, changes,
                expected_version=form.version.data or "",
            )
        except Invalid as error:
            session.rollback()
            show_problems(form, error)
        except Conflict as error:
            session.rollback()
            form.form_errors.append(str(error))
        else:
            session.commit()
            if changed:
                flash(f"Saved {authority.name}: {', '.join(changed)} changed.", "success")
            else:
                flash("Nothing was changed.", "info")
            return redirect(url_for("authorities.detail", slug=authority.slug))
    return render_template("authorities/edit.html", form=form, authority=authority), form_status(form)


@blueprint.route("/import", methods=["GET", "POST"])
def import_csv() -> Any:
    form = ImportForm()
    problems: list[str] = []
    if form.validate_on_submit():
        session = db_session()
        try:
            report = import_authorities(
                session, audit.Actor.for_user(current_user), form.file.data.stream
            )
        except Invalid as error:
            session.rollback()
            problems = [str(problem) for problem in error.problems]
        else:
            session.commit()
            flash(f"Imported {form.file.data.filename}: {report.summary()}.", "success")
            return redirect(url_for("authorities.index"))
    return render_template(
        "authorities/import.html", form=form, problems=problems, columns=IMPORT_COLUMNS
    ), form_status(form, problems)
