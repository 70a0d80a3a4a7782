"""Template globals and filters: the co-op, htmx's script, times in the co-op's zone, charts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Flask, current_app, url_for

from . import coop, models
from .charts import line_chart, stacked_bars
from .config import HTMX_CDN_URL, HTMX_SRI
from .models.states import Labelled
from .money import format_money

# htmx config for the <meta name="htmx-config">: no eval, no inline styles or scripts
# (the CSP forbids them), no page HTML in localStorage, 422 form answers swapped, and
# other errors swapped too (the server retargets them to the message region).
HTMX_CONFIG = {
    "includeIndicatorStyles": False,
    "allowEval": False,
    "allowScriptTags": False,
    "historyCacheSize": 0,
    "refreshOnHistoryMiss": True,
    "historyRestoreAsHxRequest": False,
    "selfRequestsOnly": True,
    "responseHandling": [
        {"code": "204", "swap": False},
        {"code": "[23]..", "swap": True},
        {"code": "422", "swap": True},
        {"code": "[45]..", "swap": True, "error": True},
    ],
}


def local_time(value: datetime | None, fmt: str = "%-d %b %Y, %H:%M") -> str:
    """A UTC time shown in the co-op's time zone."""
    if value is None:
        return ""
    return coop.local(value).strftime(fmt)


def last_day(value: datetime | None, fmt: str = "%-d %B %Y") -> str:
    """The last day of a window that ends at ``value``, the first instant of the next day
    in the co-op's zone (``Clock.end_of_day``): shown and entered as the day it runs through."""
    if value is None:
        return ""
    return coop.clock().last_day_before(value).strftime(fmt)


def days_since(instant: datetime | None) -> int:
    """Whole days from ``instant`` to today, in the co-op's dates (0 on the same day)."""
    if instant is None:
        return 0
    clock = coop.clock()
    return (clock.today() - clock.day_of(instant)).days


def money(minor: int | None, currency: str | None = None) -> str:
    """Integer minor units as an amount, in the co-op's currency unless told:
    ``1050`` → ``€10.50``, ``1000`` → ``€10``."""
    if minor is None:
        return ""
    return format_money(minor, currency or coop.settings().currency)


def full_stop(text: str) -> str:
    """End a sentence with ``text``: one full stop, even after "Inc." or "Ltd."."""
    return text if text.endswith(".") else f"{text}."


def htmx_script() -> dict[str, Any]:
    """Where to load htmx from: the vendored copy, or the pinned CDN file with its SRI hash."""
    if current_app.config["HTMX_LOCAL"]:
        return {"src": url_for("static", filename="vendor/htmx.min.js"), "integrity": None}
    return {"src": HTMX_CDN_URL, "integrity": HTMX_SRI}


def init_app(app: Flask) -> None:
    """Register the filters and globals."""
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["last_day"] = last_day
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["full_stop"] = full_stop
    app.jinja_env.globals["htmx_script"] = htmx_script
    app.jinja_env.globals["days_since"] = days_since
    app.jinja_env.globals["line_chart"] = line_chart
    app.jinja_env.globals["stacked_bars"] = stacked_bars
    app.jinja_env.globals["htmx_config"] = json.dumps(HTMX_CONFIG, separators=(",", ":"))
    # The models' enums, so templates compare with them (``state == OrderState.PAID``),
    # never with a string.
    app.jinja_env.globals.update(
        {
            name: value
            for name, value in vars(models).items()
            if isinstance(value, type) and issubclass(value, Labelled)
        }
    )
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _coop() -> dict[str, Any]:
        return {"coop": coop.settings()}
