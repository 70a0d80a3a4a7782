"""No GET route writes to the database: crawled as every role, nothing changes."""

from __future__ import annotations

import re

import pytest

from portal.db import ReadOnlySessionError, database
from portal.models import User

from .factories import row_counts


def get_routes(app):
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" in (rule.methods or set()) and rule.endpoint != "static":
            path = re.sub(r"<[^>]+>", "1", rule.rule)
            paths.append(path)
    return sorted(paths)


@pytest.mark.parametrize(
    "role",
    # Staff and admins also fetch /staff/register.pdf, which needs WeasyPrint.
    [None, "member", *(pytest.param(role, marks=pytest.mark.pdf) for role in ("staff", "admin"))],
)
def test_every_get_route_leaves_the_database_unchanged(app, make_user, role):
    client = app.test_client()
    if role:
        make_user(email=f"{role}@example.org", role=role)
        client.login(f"{role}@example.org")
    before = row_counts(app)
    for path in get_routes(app):
        for fetch in (client.get, client.htmx_get):
            response = fetch(path)
            response.get_data()  # consume streamed bodies before the next request
            assert response.status_code < 500, path
    assert row_counts(app) == before


def test_a_read_session_refuses_to_flush_a_change(app):
    with database(app).session(write=False) as session:
        session.add(User(name="x", email="x@example.org", password_hash="x"))
        with pytest.raises(ReadOnlySessionError):
            session.flush()
