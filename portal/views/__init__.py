"""Blueprints, one per area: load, authorise, validate, call one service, commit, respond."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Attach every area's blueprint."""
    from . import auth, me, public, staff

    for module in (public, auth, me, staff):
        app.register_blueprint(module.bp)
