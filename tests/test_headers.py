"""Security headers on every HTML response, error pages included."""

from __future__ import annotations

import pytest

from portal.config import HTMX_CDN_URL

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


@pytest.fixture
def app(app_factory):
    app = app_factory(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("a bug")

    return app


def assert_secure(response):
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, name
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_and_every_error_page_carry_the_headers(client, make_user, app_factory):
    make_user(email="m@example.org")
    responses = {
        200: client.get("/"),
        404: client.get("/no-such-page"),
        405: client.get("/logout"),
        400: client.post("/login", data={}, csrf=False),
        413: client.post("/login", data={"email": "x" * (3 * 1024 * 1024)}),
        422: client.post("/login", data={"email": "", "password": ""}),
        500: client.get("/boom"),
    }
    client.login("m@example.org")
    responses[403] = client.get("/staff")
    limited = app_factory(LOGIN_RATE_LIMIT="1 per minute").test_client()
    limited.post("/login", data={"email": "a@example.org", "password": "x"})
    responses[429] = limited.post("/login", data={"email": "a@example.org", "password": "x"})
    for status, response in responses.items():
        assert response.status_code == status
        assert response.mimetype == "text/html"
        assert_secure(response)
        assert str(status) in response.get_data(as_text=True) or status in (200, 422)


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" in client.get("/", base_url="https://localhost").headers
    assert "Strict-Transport-Security" not in client.get("/", base_url="http://localhost").headers


def test_session_cookie_is_httponly_samesite_and_secure(client, make_user):
    make_user(email="c@example.org")
    client.login("c@example.org")
    cookie = client.get_cookie("portal_session")
    assert cookie.http_only
    assert cookie.secure
    assert cookie.same_site == "Lax"


def test_production_pages_load_htmx_from_the_cdn_with_sri(app_factory):
    app = app_factory(HTMX_LOCAL=False)
    response = app.test_client().get("/")
    html = response.get_data(as_text=True)
    assert f'src="{HTMX_CDN_URL}"' in html
    assert 'integrity="sha384-' in html
    assert HTMX_CDN_URL in response.headers["Content-Security-Policy"]


def test_a_500_page_matches_the_layout_without_leaking_the_error(client):
    response = client.get("/boom")
    text = response.get_data(as_text=True)
    assert "Something went wrong" in text
    assert "a bug" not in text and "Traceback" not in text


@pytest.mark.parametrize("path", ["/staff/members.csv", "/staff/register.csv", "/me/export"])
def test_exports_of_personal_data_are_never_stored_by_a_cache(path, make_member, admin):
    make_member(email="ann@example.org", shares={"supporter": 5})
    response = admin.get(path)
    response.get_data()
    assert response.status_code == 200, path
    assert "no-store" in response.headers["Cache-Control"]
