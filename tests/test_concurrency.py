"""Concurrent approvals against a real server: member numbers stay gapless and unique."""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from portal.db import database
from portal.models import Member, Role
from portal.presets import RESONATE
from portal.services import accounts, applications, settings
from portal.services.applications import ApplicationInput

from .conftest import CSRF_RE, PASSWORD

APPLICANTS = 20


class Browserless:
    """A minimal HTTP client keeping one session cookie, for talking to a live server."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookie = ""

    def request(
        self,
        method: str,
        path: str,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, method=method)  # noqa: S310
        if self.cookie:
            request.add_header("Cookie", self.cookie)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        opener = urllib.request.build_opener(NoRedirect)
        try:
            response = opener.open(request, timeout=60)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            morsel = SimpleCookie(header)
            for key, value in morsel.items():
                self.cookie = f"{key}={value.value}"
        return response.status, response.read().decode()

    def csrf_token(self) -> str:
        _, page = self.request("GET", "/")
        return CSRF_RE.search(page).group(1)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def live_app(app_factory) -> Iterator[tuple[object, str]]:
    app = app_factory(SESSION_COOKIE_SECURE=False, PREFERRED_URL_SCHEME="http")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def test_twenty_concurrent_approvals_get_gapless_unique_numbers(live_app):
    app, base = live_app
    with app.test_request_context("/"):
        db = database(app).session(write=True)
        settings.apply_preset(db, RESONATE, app.config)
        coop = settings.current_settings(db, app.config)
        accounts.create_user(
            db,
            name="Staff",
            email="staff@example.org",
            password=PASSWORD,
            role=Role.STAFF,
            verified=True,
        )
        artist = settings.find_class(db, "artist")
        ids = []
        for n in range(APPLICANTS):
            user = accounts.create_user(
                db, name=f"Artist {n}", email=f"a{n}@example.org", password=PASSWORD, verified=True
            )
            application = applications.start_application(db, user, artist)
            applications.submit_application(
                db,
                application,
                ApplicationInput(
                    answers={"artist_name": f"Band {n}", "release_url": "https://music.example/x"},
                    address={"address_line1": "1 Quay", "town": "Cork", "country": "Ireland"},
                    accept_rules=True,
                ),
                actor=user,
                settings=coop,
            )
            ids.append(application.id)
        db.commit()
        db.close()

    staff = Browserless(base)
    token = staff.csrf_token()
    status, _ = staff.request(
        "POST", "/login", {"email": "staff@example.org", "password": PASSWORD, "csrf_token": token}
    )
    assert status == 303
    token = staff.csrf_token()  # the session was renewed at sign-in

    barrier = threading.Barrier(APPLICANTS)
    results: dict[int, int] = {}

    def approve(application_id: int) -> None:
        client = Browserless(base)
        client.cookie = staff.cookie
        barrier.wait()
        status, _ = client.request(
            "POST", f"/staff/applications/{application_id}/approve", {"csrf_token": token}
        )
        results[application_id] = status

    threads = [threading.Thread(target=approve, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(results.values()) == [303] * APPLICANTS, results
    with database(app).session(write=False) as session:
        numbers = sorted(session.scalars(select(Member.number)))
    assert numbers == list(range(1, APPLICANTS + 1))
    # Replaying an approval changes nothing: it is refused as already decided.
    status, _ = staff.request(
        "POST", f"/staff/applications/{ids[0]}/approve", {"csrf_token": token}
    )
    assert status == 409
    with database(app).session(write=False) as session:
        assert len(session.scalars(select(Member.number)).all()) == APPLICANTS
