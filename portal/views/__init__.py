"""Blueprints, one per area: load, authorise, validate, call one service, commit, respond."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Attach every area's blueprint."""
    from . import (
        admin,
        auth,
        documents,
        me,
        membership,
        payments,
        public,
        register,
        review,
        share_register,
        shares,
        staff,
        transfers,
        withdrawals,
    )

    for module in (
        public,
        auth,
        me,
        membership,
        documents,
        shares,
        staff,
        review,
        register,
        share_register,
        payments,
        withdrawals,
        transfers,
        admin,
    ):
        app.register_blueprint(module.bp)
