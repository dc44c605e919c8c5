from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from foitrack.services.users import MAX_PASSWORD_LENGTH, PASSWORD_RULE

# The hint of every field that sets a password: the rules check_password applies, in the words
# services/users.py keeps beside them.
PASSWORD_HINT = PASSWORD_RULE


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


class InvitationForm(FlaskForm):
    """Choosing a password through an invitation's link (the link is the proof of who it is)."""

    password = PasswordField("Password", validators=[DataRequired()], description=PASSWORD_HINT)
    confirm = PasswordField(
        "Password again",
        validators=[DataRequired(), EqualTo("password", message="must match the password")],
    )
