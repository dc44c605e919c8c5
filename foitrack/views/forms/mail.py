from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the page above it says what will be sent to whom."""


class AssignForm(FlaskForm):
    request_id = HiddenField()


class MailTemplateForm(FlaskForm):
    subject = StringField("Subject", validators=[DataRequired(), Length(max=300)],
                          description="The reference token is added to every subject.")
    body = TextAreaField("Message", validators=[DataRequired(), Length(max=20000)],
                         description="Values: {{ salutation }}, {{ authority.name }}, {{ subject }}, "
                                     "{{ reference }}, {{ sent_on }}, {{ due }}, {{ days_late }}, "
                                     "{{ responded_on }}, {{ outcome }}, {{ exemptions }}, "
                                     "{{ commissioner }}, {{ request_text }}.")
