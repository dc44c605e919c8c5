from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField

# types-WTForms describes WTForms 3.2; SelectChoice came in 3.3.
from wtforms.fields import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import DataRequired, EqualTo, Length

from foitrack.models import Role
from foitrack.web.forms.auth import PASSWORD_HINT

ROLE_CHOICES = [
    SelectChoice(Role.viewer.value, "Viewer: reads everything"),
    SelectChoice(Role.researcher.value, "Researcher: also records requests and figures"),
    SelectChoice(Role.admin.value, "Admin: also manages users and authorities"),
]


class NewUserForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.researcher.value)
    # Both empty (the usual case): the user is emailed an invitation to choose their own.
    password = PasswordField("Password", description=PASSWORD_HINT)
    confirm = PasswordField(
        "Password again", validators=[EqualTo("password", message="must match the password")],
    )


class EditUserForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    active = BooleanField("Can sign in")


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired()], description=PASSWORD_HINT)
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("password", message="must match the password")],
    )
