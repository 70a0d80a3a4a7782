"""Secret ballots: no staff page, export, audit entry or log line shows a choice beside a name.

Ann, Ben and Pat each cast a different choice on a secret resolution (``world.py``).
"Beside" means on the same line, as a reader or a script would pair them:

* a page: one line of its text once every block element (``p``, ``li``, ``div``, ``tr``…)
  ends a line, so the cells of a table row stay on one line;
* a CSV: one row; a PDF: one line of its text;
* the audit trail: one event (its actor, action, object and summary);
* the log: one record (its message and arguments).

A line shows a voter's choice beside their name if it holds their name or e-mail and
the word of their choice: its label (``For``, ``Against``, ``Abstain``: whole words,
capitalised as the portal shows them) or its value after ``choice`` (``choice=against``).
Every page an admin can open (every GET route, with the world's ids) is read while the
vote is open and again after staff close it, when the count and the minutes' draft exist.
"""

from __future__ import annotations

import html
import logging
import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.models import AuditEvent, Choice

from ..factories import reading
from ..figures import record
from .routes import outcome, requests, text_of
from .world import SECRET_CHOICES, World, build_world

BLOCK = re.compile(r"</?(?:p|li|div|tr|br|h[1-6]|dt|dd|table|section|header|footer|ul|ol)\b[^>]*>")
TAG = re.compile(r"<[^>]+>")


def lines_of(text: str) -> list[str]:
    """A response's lines as a reader pairs them (see the module's docstring)."""
    if "<" in text and ">" in text:
        text = html.unescape(TAG.sub(" ", BLOCK.sub("\n", text)))
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def choice_pattern(choice: str) -> re.Pattern[str]:
    label = Choice(choice).label
    return re.compile(rf"\b{label}\b|(?i:\bchoice\W{{1,3}}{choice}\b)")


def beside(world: World, where: str, lines: list[str]) -> list[str]:
    """Each line that shows a secret voter's choice beside their name or e-mail."""
    found = []
    for key, choice in SECRET_CHOICES.items():
        person, pattern = world.people[key], choice_pattern(choice)
        for line in lines:
            if (person.name in line or person.email in line) and pattern.search(line):
                found.append(f"{where}: {key}'s {choice!r} in {line[:200]!r}")
    return found


def read_every_page(app, world: World) -> tuple[list[str], int]:
    """Every GET route as an admin, plain and htmx: the lines that pair a name and a
    secret choice, and how many responses were read."""
    client = world.clients["admin"]
    found, read = [], 0
    for rule, _variant, path in requests(app, world, "admin"):
        if "GET" not in (rule.methods or ()):
            continue
        for fetch in (client.get, client.htmx_get):
            response = fetch(path)
            text = text_of(response)
            outcome(response)
            found += beside(world, path, lines_of(text))
            read += 1
    return found, read


@pytest.mark.slow  # every page read twice: more than 30 s here
@pytest.mark.pdf  # the register's PDF and its queued export
def test_no_secret_choice_appears_beside_a_name(app, sign_in, caplog):
    caplog.set_level(logging.DEBUG)
    world = build_world(app, sign_in)  # the votes are cast through the ballot page
    found, read_open = read_every_page(app, world)
    closed = world.clients["staff"].post(f"/staff/meetings/{world.secret_meeting}/close")
    assert closed.status_code == 303, closed.get_data(as_text=True)[:300]
    more, read_closed = read_every_page(app, world)
    found += more
    with reading(app) as db:
        events = db.scalars(select(AuditEvent).options(joinedload(AuditEvent.actor))).all()
        trail = [
            f"{e.actor.name if e.actor else ''} {e.actor.email if e.actor else ''} "
            f"{e.action} {e.object_type} {e.object_id} {e.summary}"
            for e in events
        ]
    found += beside(world, "audit", trail)
    logged = [f"{r.name} {r.getMessage()} {r.__dict__}" for r in caplog.records]
    found += beside(world, "log", logged)
    assert found == [], "\n".join(found)
    assert read_open > 150 and read_closed > 150 and len(trail) > 100
    record(
        "secret-ballots",
        f"secret ballots: {read_open + read_closed} pages and exports read as staff (voting "
        f"open, then closed), {len(trail)} audit events, {len(logged)} log records: "
        "0 secret choices beside a name",
    )
    # The check can fail: the votes were cast, and each voter's line would be caught.
    assert beside(world, "probe", [f"{world.people['ann'].name} | Against"])
