from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from foitrack.services.users import MAX_PASSWORD_LENGTH

# Said before the rules in services/users.py.check_password refuse a password.
PASSWORD_HINT = (
    "At least 10 characters and hard to guess: three or four uncommon words work well. "
    "Not your email address or name."
)


class SignInForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    remember = BooleanField("Keep me signed in on this computer")


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    password = PasswordField("New password", validators=[DataRequired()], description=PASSWORD_HINT)
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("password", message="must match the new password")],
    )
