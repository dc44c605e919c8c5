from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class ExplainForm(FlaskForm):
    """A finding, by its key, and what explains it (the service says whether it arises)."""

    key = HiddenField(validators=[DataRequired("say which finding")])
    note = TextAreaField("Explanation", validators=[Optional(), Length(max=5000)],
                         description="What makes it right, e.g. 'the force confirmed 31 in its "
                                     "letter of 2 May'.")


class UnexplainForm(FlaskForm):
    key = HiddenField(validators=[DataRequired("say which finding")])
