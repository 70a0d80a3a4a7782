"""Absolute links come from the public address, never from the request's headers.

An attacker who sends a password reset with ``Host: evil.example`` (or, behind a proxy,
``X-Forwarded-Host``) must not get the victim a genuine mail whose link carries a valid
token to evil.example (issue 12, item 1).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.config import ROOT

from .conftest import CSRF_RE

EVIL = "evil.example"


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>]+", text)


def test_a_reset_link_points_at_the_public_address_whatever_the_request_names(
    app_factory, make_user, outbox
):
    """Even were the host accepted (a proxy passing Host through, a lax TRUSTED_HOSTS), the
    mailed link is made from PUBLIC_BASE_URL."""
    app = app_factory(BEHIND_PROXY=1, TRUSTED_HOSTS=["localhost", EVIL])
    make_user(email="victim@example.org")
    client = app.test_client()
    hostile = {"Host": EVIL, "X-Forwarded-Host": EVIL, "Referer": f"https://{EVIL}/"}
    token = CSRF_RE.search(client.get("/", headers=hostile).get_data(as_text=True)).group(1)
    response = client.post(
        "/reset-password",
        data={"email": "victim@example.org", "csrf_token": token},
        headers=hostile,
    )
    assert response.status_code == 303
    (mail,) = [m for m in outbox() if m.to == "victim@example.org"]
    links = links_in(mail.text)
    assert links and all(link.startswith("http://localhost/") for link in links)
    assert EVIL not in mail.text


@pytest.mark.parametrize(
    ("proxies", "headers"),
    [(0, {"Host": EVIL}), (1, {"X-Forwarded-Host": EVIL})],
    ids=["host", "x-forwarded-host"],
)
def test_a_request_naming_another_host_is_refused_and_mails_nothing(
    app_factory, make_user, outbox, proxies, headers
):
    app = app_factory(BEHIND_PROXY=proxies)
    make_user(email="victim@example.org")
    response = app.test_client().post(
        "/reset-password", data={"email": "victim@example.org"}, headers=headers
    )
    assert response.status_code == 400
    assert "not served at that address" in response.get_data(as_text=True)
    assert [m for m in outbox() if m.to == "victim@example.org"] == []


def test_the_public_host_is_served(app_factory):
    app = app_factory(PUBLIC_BASE_URL="https://members.example.coop")
    response = app.test_client().get("/healthz", base_url="https://members.example.coop")
    assert response.status_code == 200


def test_no_template_builds_an_absolute_link_from_the_request():
    """Every absolute link in a template goes through public_url."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "templates").rglob("*")
        if path.is_file() and "_external" in path.read_text()
    ]
    assert offenders == []
    code = [
        str(path.relative_to(ROOT))
        for path in Path(ROOT / "portal").rglob("*.py")
        if re.search(r"\b_external=True", path.read_text())
    ]
    assert code == []
