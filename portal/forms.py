"""Forms: input shape and length checks; the rules themselves live in the services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from .errors import PortalError

NAME_MAX = 120
EMAIL_MAX = 254
PASSWORD_MAX = 256
TOO_LONG = "Use at most %(max)d characters."


def attach_error(form: FlaskForm, exc: PortalError, **renamed: str) -> None:
    """Show a service's refusal beside the field it concerns, or above the form.

    ``renamed`` maps a service's field name to this form's (``password="new"``).
    """
    name = renamed.get(exc.field or "", exc.field)
    field = form._fields.get(name) if name else None
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        form.form_errors.append(exc.message)


def choices(blank: str, values: list[str]) -> list[SelectChoice]:
    """Select options: a blank "any" choice, then each value labelled as itself."""
    return [SelectChoice("", blank), *(SelectChoice(v, v) for v in values)]


class EmptyForm(FlaskForm):
    """A button-only form, so a POST without fields is still CSRF-checked."""

    submit = SubmitField("Submit")


def email_field() -> EmailField:
    return EmailField(
        "E-mail",
        validators=[
            DataRequired("Enter your e-mail address."),
            Length(max=EMAIL_MAX, message=TOO_LONG),
        ],
    )


def password_field(label: str, required: str, description: str | None = None) -> PasswordField:
    return PasswordField(
        label,
        description=description,
        validators=[DataRequired(required), Length(max=PASSWORD_MAX, message=TOO_LONG)],
    )


NEW_PASSWORD_HELP = "At least 12 characters, not a common one."  # noqa: S105 (help text)


class SignupForm(FlaskForm):
    name = StringField(
        "Full name",
        validators=[DataRequired("Enter your name."), Length(max=NAME_MAX, message=TOO_LONG)],
    )
    email = email_field()
    password = password_field(
        "Password",
        "Choose a password.",
        "At least 12 characters. A few unrelated words make a strong one.",
    )
    submit = SubmitField("Create account")


class LoginForm(FlaskForm):
    email = email_field()
    password = password_field("Password", "Enter your password.")
    submit = SubmitField("Sign in")


class ForgotPasswordForm(FlaskForm):
    email = email_field()
    submit = SubmitField("Send reset link")


class ResetPasswordForm(FlaskForm):
    password = password_field("New password", "Choose a new password.", NEW_PASSWORD_HELP)
    submit = SubmitField("Set new password")


class ChangePasswordForm(FlaskForm):
    current = password_field("Current password", "Enter your current password.")
    new = password_field(
        "New password", "Choose a new password.", NEW_PASSWORD_HELP + " Other sessions will end."
    )
    submit = SubmitField("Change password")


class AuditFilterForm(FlaskForm):
    """The audit log's filter: a GET form, so the URL stays shareable."""

    class Meta:
        csrf = False

    action = SelectField(
        "Action", choices=choices("Any action", []), validators=[Optional()], validate_choice=False
    )
    actor = StringField(
        "Actor",
        validators=[Optional(), Length(max=EMAIL_MAX, message=TOO_LONG)],
        description="Name or e-mail",
    )
    object_type = SelectField(
        "Object", choices=choices("Any object", []), validators=[Optional()], validate_choice=False
    )
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])
