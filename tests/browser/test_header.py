"""The header on a phone: who is signed in, their role said once, on one clean line."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from portal.models import Role
from portal.services.accounts import users

from ..conftest import PASSWORD
from ..factories import Factories
from .conftest import LiveServer, sign_in
from .test_phone_width import PHONE


@pytest.mark.parametrize(
    ("role", "title", "name", "said"),
    [
        (Role.STAFF, None, "Ciarán Doyle", ["Staff"]),  # the Staff link says it
        (Role.STAFF, "Secretary", "Máire Ní Dhónaill", ["Staff", "Secretary"]),
        (Role.ADMIN, None, "Aoife Byrne", ["Staff", "Admin"]),
    ],
)
def test_the_header_says_a_staff_members_role_once_on_one_line(
    new_page: Callable[..., Any],
    live_server: LiveServer,
    factories: Factories,
    role: Role,
    title: str | None,
    name: str,
    said: list[str],
) -> None:
    with factories.session() as db:
        users.create_user(
            db,
            name=name,
            email="office@example.org",
            password=PASSWORD,
            role=role,
            title=title,
            verified=True,
        )
    page = new_page(viewport=PHONE)
    sign_in(page, live_server, "office@example.org")
    page.goto(live_server.link("/staff"))

    nav = page.get_by_role("navigation", name="Main")
    assert re.findall(r"\b(?:Staff|Admin|Secretary)\b", nav.inner_text()) == said

    # The links on their row; the name, the title and "Sign out" on one line below them.
    links = nav.get_by_role("list").bounding_box()
    person = nav.locator(".nav-person")
    line = [person, nav.get_by_role("button", name="Sign out")]
    line += [nav.get_by_text(said[-1], exact=True)] if len(said) > 1 else []
    boxes = [part.bounding_box() for part in line]
    middles = [box["y"] + box["height"] / 2 for box in boxes]
    assert max(middles) - min(middles) < 2, f"not on one line: {boxes}"
    assert all(box["y"] >= links["y"] + links["height"] for box in boxes)
    assert person.evaluate("e => e.scrollWidth <= e.clientWidth"), "the name is cut short"
    assert all(box["x"] + box["width"] <= PHONE["width"] for box in boxes)
