"""Bad input gets a clear message and a 4xx, never a 500, and writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.db import database
from portal.models import User

from .conftest import PASSWORD


def user_count(app):
    with database(app).session(write=False) as session:
        return session.scalar(select(func.count()).select_from(User))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "N" * 121, "Use at most 120 characters."),
        ("email", "e" * 250 + "@example.org", "Use at most 254 characters."),
        ("email", "not-an-email", "Enter a valid e-mail address"),
        ("email", "", "Enter your e-mail address."),
        ("name", "", "Enter your name."),
        ("name", "   ", "Enter your name."),
    ],
)
def test_sign_up_field_errors_are_shown_beside_the_field(app, client, field, value, message):
    data = {"name": "Valid Name", "email": "valid@example.org", "password": PASSWORD}
    data[field] = value
    response = client.post("/signup", data=data)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert message in text
    assert f'id="{field}-error"' in text
    assert 'aria-invalid="true"' in text
    assert user_count(app) == 0


def test_non_utf8_bytes_in_a_form_body_are_answered_cleanly(app, client):
    token = client.csrf_token()
    body = (
        b"csrf_token="
        + token.encode()
        + b"&name=\xff\xfe\xfd&email=a%40example.org&password="
        + PASSWORD.encode()
    )
    response = client.post(
        "/signup", data=body, csrf=False, content_type="application/x-www-form-urlencoded"
    )
    assert 200 <= response.status_code < 500


def test_non_utf8_bytes_in_the_url_are_answered_cleanly(client):
    assert client.get(b"/\xff\xfe".decode("latin-1")).status_code == 404
    assert client.get("/login?next=%ff%fe").status_code == 200


def test_nul_characters_are_refused(client):
    response = client.post(
        "/signup", data={"name": "a\x00b", "email": "a@example.org", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert "not allowed" in response.get_data(as_text=True)


def test_a_huge_body_is_refused_with_413(client):
    response = client.post("/signup", data={"name": "x" * (5 * 1024 * 1024)})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_unknown_routes_and_methods(client):
    missing = client.get("/definitely/not/here")
    assert missing.status_code == 404
    assert "Page not found" in missing.get_data(as_text=True)
    wrong = client.put("/login")
    assert wrong.status_code == 405
    assert "GET" in wrong.headers["Allow"]


def test_wrong_types_in_a_query_string_are_handled(client, make_user):
    make_user(email="s@example.org", role="staff")
    client.login("s@example.org")
    assert client.get("/staff/audit?page=abc").status_code == 200
    assert client.get("/staff/audit?page=-5").status_code == 200
    assert client.get("/staff/audit?page=99999999999999999999").status_code == 200
    bad_date = client.get("/staff/audit?since=not-a-date")
    assert bad_date.status_code == 422
    assert "From: choose a day, or write it as YYYY-MM-DD" in bad_date.get_data(as_text=True)


def test_a_json_body_to_a_form_route_is_refused(client):
    response = client.post("/login", json={"email": "a@example.org"}, csrf=False)
    assert response.status_code == 400


def test_a_very_long_token_in_a_link_is_harmless(client):
    assert client.get("/reset-password/" + "a" * 5000).status_code == 400
    assert client.post("/verify-email/" + "a" * 5000).status_code == 400
