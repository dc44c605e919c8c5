from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp

from foitrack.services.letter_templates import MAX_SOURCE


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
