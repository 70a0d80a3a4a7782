"""The one WTForms form: a button-only POST still carries and checks its CSRF token.

Every other form's answers are read by the services (``portal.services.inputs``).
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SubmitField


class EmptyForm(FlaskForm):
    """A button-only form, so a POST without fields is still CSRF-checked."""

    submit = SubmitField("Submit")
