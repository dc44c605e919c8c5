"""WTForms classes (shape checks only), and putting service errors onto a form."""

from __future__ import annotations

from flask_wtf import FlaskForm

from foitrack.errors import Invalid


def show_problems(form: FlaskForm, error: Invalid) -> None:
    """Attach each problem to its field, or to the form as a whole."""
    for problem in error.problems:
        field = getattr(form, problem.field, None) if problem.field else None
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, problem.message]
        else:
            form.form_errors.append(str(problem))


def form_status(form: FlaskForm, extra: list[str] | None = None) -> int:
    """400 when a submitted form is shown again with errors, so scripts and tests can tell."""
    return 400 if form.is_submitted() and (form.errors or form.form_errors or extra) else 200
