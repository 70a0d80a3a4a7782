"""Fixtures: a fresh app and database per test, on SQLite or on PostgreSQL.

With ``DATABASE_URL`` set (PostgreSQL), every test runs against that server: the schema
is migrated once per session and every table is emptied before each test. Without it,
each test gets its own SQLite file, copied from one migrated once per session.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from portal import create_app, pdf
from portal.db import database, database_url, make_engine
from portal.mail import OutboxMessage, read_outbox
from portal.migrations import upgrade
from portal.models import Base

from . import requirements
from .two_factor_codes import next_code

# The factories' fixtures (make_user, make_member, coop, staff, ...): tests/factories.py.
pytest_plugins = ["tests.factories"]

PASSWORD = "correct-horse-battery-staple-42"


def _worker_database(url: str | None) -> str | None:
    """On PostgreSQL under pytest-xdist, a database of this worker's own (made once), so
    workers never empty each other's tables; its URL replaces DATABASE_URL for the run."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    own_url = database_beside(url, worker)
    os.environ["DATABASE_URL"] = own_url
    return own_url


def database_beside(url: str, suffix: str, *, empty: bool = False) -> str:
    """The URL of PostgreSQL database ``<url's name>_<suffix>`` on the same server, made
    if missing (``empty``: dropped and made anew), so a test never touches another's."""
    base, _, rest = url.rpartition("/")
    name, _, query = rest.partition("?")
    own = f"{name}_{suffix}"
    admin = create_engine(_pg(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if empty:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)'))
        if (
            empty
            or not conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": own}
            ).first()
        ):
            conn.execute(text(f'CREATE DATABASE "{own}"'))
    admin.dispose()
    return f"{base}/{own}" + (f"?{query}" if query else "")


def _pg(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


POSTGRES_URL = _worker_database(os.environ.get("DATABASE_URL") or None)
CSRF_RE = re.compile(r'"X-CSRFToken": "([^"]+)"')


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a test marked ``pdf`` or ``font(...)`` when that part is missing (requirements)."""
    requirements.check(item)


def base_config(instance: Path, db_url: str) -> dict[str, Any]:
    """The test layer of the configuration."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "DATABASE_URL": db_url,
        "HTMX_LOCAL": True,
        "SERVER_NAME": None,
        "PUBLIC_BASE_URL": "http://localhost",
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 8 * 1024,
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "INSTANCE_PATH": str(instance),
    }


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to head once per session: a SQLite file, or the PostgreSQL URL."""
    if POSTGRES_URL:
        engine = make_engine(_pg(POSTGRES_URL))
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(engine)
        engine.dispose()
        return POSTGRES_URL
    path = tmp_path_factory.mktemp("template") / "portal.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return str(path)


def fresh_database_url(template: str, instance: Path) -> str:
    """A database for one test: an emptied PostgreSQL or a copy of the SQLite template."""
    if POSTGRES_URL:
        engine = create_engine(_pg(template))
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return template
    target = instance / "portal.sqlite3"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def app_factory(tmp_path: Path, migrated_template: str) -> Iterator[Callable[..., Flask]]:
    """Build apps on this test's fresh database, with extra config on top."""
    instance = tmp_path / "instance"
    instance.mkdir()
    url = fresh_database_url(migrated_template, instance)
    apps: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        app = create_app({**base_config(instance, url), **overrides})
        app.test_client_class = CSRFClient
        apps.append(app)
        return app

    yield build
    for app in apps:
        database(app).engine.dispose()


@pytest.fixture
def without_weasyprint(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process behaves as if WeasyPrint could not load Pango (whatever the machine has)."""
    support = pdf.PDFSupport(usable=False, problem="test: WeasyPrint cannot load Pango")
    monkeypatch.setattr(pdf, "_loaded", (None, support))


@pytest.fixture
def app(app_factory: Callable[..., Flask]) -> Flask:
    return app_factory()


@pytest.fixture
def client(app: Flask) -> CSRFClient:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A write session inside an app context, for calling services directly."""
    with app.test_request_context("/"):
        session = database(app).session(write=True)
        try:
            yield session
        finally:
            session.rollback()
            session.close()


class CSRFClient(FlaskClient):
    """A test client that sends the CSRF token, as the browser does, unless told not to.

    Requests go over https (the app's preferred scheme), where Flask-WTF also wants a
    same-origin Referer, which browsers send under our Referrer-Policy.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_REFERER"] = "https://localhost/"

    def csrf_token(self) -> str:
        page = self.get("/").get_data(as_text=True)
        match = CSRF_RE.search(page)
        assert match, "no CSRF token on the landing page"
        return match.group(1)

    def post(self, *args: Any, csrf: bool = True, **kwargs: Any) -> Any:  # type: ignore[override]
        if csrf:
            data = kwargs.setdefault("data", {})
            if isinstance(data, dict) and "csrf_token" not in data:
                data["csrf_token"] = self.csrf_token()
        return super().post(*args, **kwargs)

    def htmx_get(self, url: str, **kwargs: Any) -> Any:
        headers = {"HX-Request": "true", **kwargs.pop("headers", {})}
        return self.get(url, headers=headers, **kwargs)

    def login(self, email: str, password: str = PASSWORD, *, code: bool = True) -> Any:
        """Sign in; an account with two-factor sign-in also gets its code from the app,
        as its owner would type it (``code=False`` stops at the code step)."""
        response = self.post("/login", data={"email": email, "password": password})
        if code and response.headers.get("Location") == "/login/code":
            response = self.post("/login/code", data={"code": next_code(self.application, email)})
        return response


@pytest.fixture
def outbox(app: Flask) -> Callable[[], list[OutboxMessage]]:
    """The messages the app has written to its outbox, newest first."""
    return lambda: read_outbox(app)


def link_in(message: OutboxMessage, path_prefix: str) -> str:
    """The path of the first link in ``message`` that starts with ``path_prefix``."""
    match = re.search(rf"https?://[^/\s]+({re.escape(path_prefix)}[^\s]*)", message.text)
    assert match, f"no {path_prefix} link in: {message.text}"
    return match.group(1)


__all__ = ["PASSWORD", "database_url", "link_in"]
