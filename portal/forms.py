"""Forms: input shape and length checks; the rules themselves live in the services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

EMAIL_MAX = 254
TOO_LONG = "Use at most %(max)d characters."


def choices(blank: str, values: list[str]) -> list[SelectChoice]:
    """Select options: a blank "any" choice, then each value labelled as itself."""
    return [SelectChoice("", blank), *(SelectChoice(v, v) for v in values)]


class EmptyForm(FlaskForm):
    """A button-only form, so a POST without fields is still CSRF-checked."""

    submit = SubmitField("Submit")


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
