from __future__ import annotations

from typing import Any, cast

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)

# types-WTForms describes WTForms 3.2; SelectChoice came in 3.3.
from wtforms.fields import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import DataRequired, Length, Optional, Regexp

from foitrack.domain.timeline import OUTCOMES, EventKind
from foitrack.services.letter_templates import MAX_SOURCE
from foitrack.web.forms.date_input import DayMonthYearField


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the page above it says what will be sent to whom."""


class AssignForm(FlaskForm):
    request_id = HiddenField()


class MailTemplateForm(FlaskForm):
    # The version of the wording this form was loaded at: a save over a newer one is refused.
    version = HiddenField(validators=[DataRequired(message="The form has lost its version: "
                                                           "reload the page and make your change "
                                                           "again."),
                                      Regexp(r"^\d{1,9}$", message="Reload the page: the form's "
                                                                   "version is not a number.")])
    subject = StringField("Subject", validators=[DataRequired(), Length(max=300)],
                          description="The reference token is added to every subject.")
    body = TextAreaField("Message", validators=[DataRequired(), Length(max=MAX_SOURCE)],
                         description="Values: {{ salutation }}, {{ authority.name }}, {{ subject }}, "
                                     "{{ reference }}, {{ sent_on }}, {{ due }}, {{ days_late }}, "
                                     "{{ responded_on }}, {{ outcome }}, {{ exemptions }}, "
                                     "{{ commissioner }}, {{ request_text }}.")


class ChaseForm(FlaskForm):
    """The requests ticked on a campaign's chase page: only they are chased."""

    requests = SelectMultipleField(
        "Requests to chase", coerce=int, validate_choice=False,
        validators=[DataRequired(message="tick at least one request to chase; nothing was sent")])


# What the chase list's buttons do for the ticked requests: email each a chaser, or record
# (by hand) that a chaser went or that a response came.
CHASE_ACTIONS = [SelectChoice("email", "Email a chaser"),
                 SelectChoice("chaser_sent", "Record: chaser sent"),
                 SelectChoice("response", "Record: response received")]


class ChaseListForm(FlaskForm):
    """The chase list's tick boxes, and what to do for the ticked requests."""

    action = SelectField("Do", choices=CHASE_ACTIONS)
    occurred_on = DayMonthYearField("On")
    outcome = SelectField("Outcome", validate_choice=False, choices=[
        SelectChoice("", "(for a response)"),
        *(SelectChoice(o.value, cast(Any, o).label) for o in OUTCOMES[EventKind.response])])
    note = StringField("Note", validators=[Optional(), Length(max=2000)])
    requests = SelectMultipleField(
        "Requests", coerce=int, validate_choice=False,
        validators=[DataRequired(message="tick at least one request; nothing was done")])
    # The list's address as it was shown (its filters and page), to go back to.
    back = HiddenField()

    def validate_occurred_on(self, field: DayMonthYearField) -> None:
        if field.data is None and not field.errors and self.action.data != "email":
            raise ValidationError("is required to record an event")
