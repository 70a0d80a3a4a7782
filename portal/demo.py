"""The demo co-op: Reverb Music Co-operative Society Ltd, a fictional Irish co-op."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from .models import Role
from .services import accounts


@dataclass(frozen=True)
class DemoPerson:
    name: str
    email: str
    role: Role
    password: str
    note: str


# Demo passwords are public by design: they are printed by `make run` and in the README.
PEOPLE = (
    DemoPerson(
        "Aoife Byrne",
        "admin@reverb.example",
        Role.ADMIN,
        "amber-lighthouse-fiddle-41",
        "admin: settings, staff accounts",
    ),
    DemoPerson(
        "Ciarán Doyle",
        "staff@reverb.example",
        Role.STAFF,
        "copper-kettle-harbour-27",
        "staff: applications, payments, meetings",
    ),
    DemoPerson(
        "Niamh Kelly",
        "listener@reverb.example",
        Role.MEMBER,
        "velvet-tram-orchard-58",
        "member: a listener",
    ),
    DemoPerson(
        "Tadhg O'Sullivan",
        "artist@reverb.example",
        Role.MEMBER,
        "granite-banjo-meadow-63",
        "member: an artist",
    ),
    DemoPerson(
        "Siobhán Murphy",
        "worker@reverb.example",
        Role.MEMBER,
        "saffron-ferry-compass-19",
        "member: a worker",
    ),
)


def seed(db: Session) -> bool:
    """Create the demo accounts in an empty database; False if it already holds data."""
    if accounts.count_users(db):
        return False
    for person in PEOPLE:
        accounts.create_user(
            db,
            name=person.name,
            email=person.email,
            password=person.password,
            role=person.role,
            verified=True,
        )
    return True


def logins_text(config: Mapping[str, Any]) -> str:
    """The demo sign-ins, for the terminal."""
    lines = [f"Demo sign-ins for {config['COOP_LEGAL_NAME']}:"]
    width = max(len(p.email) for p in PEOPLE)
    for person in PEOPLE:
        lines.append(f"  {person.email:<{width}}  {person.password:<28} {person.note}")
    return "\n".join(lines)
