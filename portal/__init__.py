"""The member portal of a multi-stakeholder co-operative."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from . import cli, db, extensions, htmx, links, mail, request_log, security, tasks, templating
from . import config as config_layers
from .config import ROOT
from .errors_http import register_error_handlers
from .services.accounts import passwords
from .views import bare, register_blueprints


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then instance/config.py, then the environment, then tests."""
    instance_path = (
        (test_config or {}).get("INSTANCE_PATH")
        or os.environ.get("PORTAL_INSTANCE_PATH")
        or str(ROOT / "instance")
    )
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(config_layers.Defaults)
    app.config.from_pyfile("config.py", silent=True)
    config_layers.from_environment(app.config, os.environ)
    if test_config is not None:
        app.config.from_mapping(test_config)
    if app.debug:
        # A local run over plain HTTP must still be able to keep its session cookie.
        app.config["SESSION_COOKIE_SECURE"] = False
        app.config["REMEMBER_COOKIE_SECURE"] = False
    config_layers.ensure_secret_key(app.config, Path(app.instance_path))

    passwords.configure(
        time_cost=app.config.get("ARGON2_TIME_COST"),
        memory_cost=app.config.get("ARGON2_MEMORY_COST"),
    )
    request_log.init_app(app)  # first: its hooks must run before any other may answer
    db.init_app(app)
    mail.init_app(app)
    tasks.init_app(app)
    extensions.init_app(app)
    security.init_app(app)
    htmx.init_app(app)
    templating.init_app(app)
    links.init_app(app)
    register_error_handlers(app)
    register_blueprints(app)
    app.register_blueprint(bare.bp)  # the load bench's yardstick (views/bare.py)
    cli.init_app(app)
    return app
