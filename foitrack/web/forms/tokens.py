from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class TokenForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=100)],
                       description="What the token is for, e.g. 'newsroom scripts'.")


class RevokeForm(FlaskForm):
    """Only the CSRF token: the token to revoke is in the URL."""
