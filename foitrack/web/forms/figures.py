from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, MultipleFileField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class DesignForm(FlaskForm):
    design = TextAreaField(
        "Data design (TOML)", validators=[DataRequired()],
        description="Measures, periods, dimensions with their categories, and groups, in the "
                    "campaign file format (see the README). Items that have figures cannot be "
                    "removed.",
    )
    # The design's version and text as the page showed them: a save over a colleague's newer
    # design is refused (409) and shows what they changed, instead of undoing it unseen.
    version = HiddenField()
    base = HiddenField()


class FigureGridForm(FlaskForm):
    """The cells are read from the request by name; these apply to every figure saved."""

    source = StringField("Source of the figures you enter or change", validators=[Optional(),
                         Length(max=5000)],
                         description="Where in the reply they are, e.g. 'reply of 20 May, table "
                                     "1'. Figures you leave as they are keep their own.")
    caveat = TextAreaField("Caveat on the figures you enter or change", validators=[Optional(),
                           Length(max=5000)],
                           description="The authority's own caveat, e.g. 'based on a keyword "
                                       "search'.")


class FiguresImportForm(FlaskForm):
    file = FileField("File", validators=[FileRequired("choose a file")])


class TemplatesUploadForm(FlaskForm):
    file = MultipleFileField("Filled templates (.xlsx)")


class ConfirmUploadForm(FlaskForm):
    """The previewed uploads, by content hash, so exactly those are imported."""

    files = HiddenField()
