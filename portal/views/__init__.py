"""Blueprints, one per area, named by their URLs: load, authorise, validate, call one
service, commit, respond. Staff areas are the ``staff`` package, under ``/staff``."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

from ..services.inputs import MAX_INTEGER
from . import (
    auth,
    board,
    documents,
    election_ballots,
    election_results,
    elections,
    me,
    meetings,
    membership,
    proposals,
    public,
    requisitions,
    shares,
    staff,
    two_factor,
    withdrawals,
)


class DatabaseInteger(IntegerConverter):
    """``<int:…>`` in a URL: only numbers an id column holds (larger ones are 404)."""

    def __init__(self, map: object, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max", MAX_INTEGER)
        super().__init__(map, *args, **kwargs)  # type: ignore[arg-type]


def register_blueprints(app: Flask) -> None:
    """Attach every area's blueprint."""
    app.url_map.converters["int"] = DatabaseInteger
    for module in (
        public,
        auth,
        me,
        two_factor,
        membership,
        documents,
        shares,
        withdrawals,
        meetings,
        proposals,
        elections,
        election_results,
        election_ballots,
        board,
        requisitions,
        staff,
    ):
        app.register_blueprint(module.bp)
