"""CSRF: every POST route refuses a missing or wrong token; htmx sends it in a header."""

from __future__ import annotations

import re

import pytest

from portal import create_app

from .conftest import base_config


def post_routes():
    """Every POST route of the app, with placeholder values for its arguments."""
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": "sqlite://"})
    routes = []
    for rule in app.url_map.iter_rules():
        if "POST" in (rule.methods or set()):
            path = re.sub(r"<[^>]+>", "1", rule.rule)
            routes.append(path)
    return sorted(routes)


POST_ROUTES = post_routes()


def test_there_are_post_routes_to_check():
    assert {"/login", "/signup", "/logout", "/me/security/password"} <= set(POST_ROUTES)


@pytest.mark.parametrize("path", POST_ROUTES)
def test_a_post_without_a_token_is_refused(app, make_user, path):
    make_user(email="csrf@example.org", role="admin")
    client = app.test_client()
    client.login("csrf@example.org")
    response = client.post(path, data={"anything": "x"}, csrf=False)
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", POST_ROUTES)
def test_a_post_with_a_wrong_token_is_refused(app, make_user, path):
    make_user(email="csrf@example.org", role="admin")
    client = app.test_client()
    client.login("csrf@example.org")
    response = client.post(path, data={"csrf_token": "forged.token.value"}, csrf=False)
    assert response.status_code == 400


def test_a_token_from_another_session_is_refused(app):
    other = app.test_client()
    token = other.csrf_token()
    client = app.test_client()
    client.get("/")
    response = client.post(
        "/login", data={"csrf_token": token, "email": "a@example.org", "password": "x"}, csrf=False
    )
    assert response.status_code == 400


def test_an_htmx_request_with_the_header_token_passes(app, make_user):
    make_user(email="hx@example.org")
    client = app.test_client()
    token = client.csrf_token()
    response = client.post(
        "/login",
        data={"email": "hx@example.org", "password": "wrong-password-x"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
        csrf=False,
    )
    assert response.status_code == 422  # past CSRF, refused only for the password


def test_the_token_does_not_expire_while_a_page_stays_open(app):
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None


def test_csrf_is_on_in_the_test_configuration(tmp_path):
    assert base_config(tmp_path, "sqlite://").get("WTF_CSRF_ENABLED", True) is True
