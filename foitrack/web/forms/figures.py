from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, MultipleFileField, StringField, TextAreaField
from wtforms.validators import Length, Optional


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
