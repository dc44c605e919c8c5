"""Forms for narrowed follow-up requests (services.follow_ups)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from foitrack.domain.limits import MAX_NOTE
from foitrack.web.forms.date_input import DayMonthYearField


class FollowUpForm(FlaskForm):
    """Send a narrowed follow-up: its wording (prefilled from the request it follows) and the
    day it went."""

    # Which request of the chain it follows, by number: "0" the first, "1"... a follow-up.
    follows = HiddenField(default="0")
    question = TextAreaField(
        "The narrowed question", validators=[DataRequired(), Length(max=MAX_NOTE)],
        description="For example fewer years, or no breakdown, as the refusal advised (s.16).")
    sent_on = DayMonthYearField("Sent on", validators=[DataRequired()])
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])


class SourceForm(FlaskForm):
    """Only the CSRF token: the request is named in the URL."""
