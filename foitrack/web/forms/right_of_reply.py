"""The right-of-reply form: the forces ticked and the day they are to answer by."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField

from foitrack.web.forms.date_input import DayMonthYearField


class RightOfReplyForm(FlaskForm):
    # No "required" here: the service refuses an empty choice and a day not in the future,
    # naming the field, for the page and the command alike.
    authorities = SelectMultipleField("Forces", coerce=int, validate_choice=False)
    answer_by = DayMonthYearField(
        "Answer by", description="The day by which each force is to tell you if any figure "
                                 "is wrong. For example, 15 7 2027")
