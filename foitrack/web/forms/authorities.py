from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class AuthorityForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    short_name = StringField(
        "Short name", validators=[DataRequired(), Length(max=100)],
        description="Used on maps and in release lines, e.g. West Mercia.",
    )
    former_names = TextAreaField(
        "Former names", validators=[Optional()],
        description="One per line. Replies and spreadsheets using these names still match.",
    )
    code = StringField(
        "Code", validators=[Optional(), Length(max=20)],
        description="The ONS code where there is one, e.g. E23000016.",
    )
    kind = StringField(
        "Kind", validators=[DataRequired(), Length(max=50)],
        description="e.g. territorial-police, council, nhs-trust.",
    )
    country = StringField("Country", validators=[Optional(), Length(max=50)])
    region = StringField("Region", validators=[Optional(), Length(max=100)])
    foi_email = EmailField("FOI email address", validators=[Optional(), Length(max=254)])
    website = StringField("Website", validators=[Optional(), Length(max=500)])
    note = TextAreaField("Note", validators=[Optional(), Length(max=5000)])
    active = BooleanField("Active (still exists and answers requests)")
    # The authority's version when the form was opened, to refuse a stale save.
    version = HiddenField()


class ImportForm(FlaskForm):
    file = FileField("CSV file", validators=[FileRequired("choose a CSV file")])
