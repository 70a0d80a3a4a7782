"""One co-op in which every role has something of its own and something of another's.

The demo co-op (the Resonate preset, its elections, proposals, requisitions, meetings and
minutes) gives every route an object to find; on top of it come the people the access
matrix signs in as, each with private data carrying a canary — a string unique to them
that no response to anyone else may contain:

* Ann and Ben, members with an order waiting, a certificate, a withdrawal asked for, an
  address (the town is the canary), a secret ballot cast (its receipt collected) and a
  proxy for the next meeting (Ann's held by Pat, directed; Ben's by the chair);
* Pat, the member holding Ann's proxy; Olga, admitted after the roll was frozen (not on
  it); Abe, an applicant; Sam Staff and Ada Admin.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import select

from portal import demo, mail
from portal.db import write_session
from portal.models import (
    Application,
    Candidate,
    Director,
    Election,
    Meeting,
    MeetingState,
    MemberClass,
    RegisterExport,
    Requisition,
    User,
    UserSession,
)
from portal.models.membership import ApplicationQuestion
from portal.models.motions import MemberProposal

from ..conftest import CSRFClient
from ..factories import Factories, fake_certificate, reading

ROLES = (
    "visitor",
    "applicant",
    "member",
    "other_member",
    "off_roll",
    "proxy_holder",
    "staff",
    "admin",
)
# Who plays each role, by the key of their objects in ``World.owned``.
PERSON = {
    "applicant": "abe",
    "member": "ann",
    "other_member": "ben",
    "off_roll": "olga",
    "proxy_holder": "pat",
}
RECEIPT = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\b")
# Each secret voter's choice differs, so a choice shown beside a name would name its voter.
SECRET_CHOICES = {"ann": "against", "ben": "abstain", "pat": "for"}


@dataclass
class Person:
    """Someone the matrix signs in as: their account, and their private strings."""

    key: str
    email: str
    name: str
    number: int | None = None
    canaries: list[str] = field(default_factory=list)


@dataclass
class World:
    """The co-op: its people, the ids of what each owns, and the shared objects' ids."""

    people: dict[str, Person]
    owned: dict[str, dict[str, int]]  # person → route argument → id of their own object
    shared: dict[str, Any]  # route argument → an object no one owns (a meeting, a slug...)
    secret_meeting: int
    secret_resolution: int
    proxy_meeting: int
    proxy_resolution: int
    receipts: dict[str, str] = field(default_factory=dict)  # person → secret ballot receipt
    clients: dict[str, CSRFClient] = field(default_factory=dict)


def build_world(app: Flask, sign_in: Callable[[str], CSRFClient]) -> World:
    """Seed the demo co-op, add the matrix's people and their objects, sign each in."""
    with app.test_request_context("/"), write_session(app) as db:
        assert demo.seed(db, app.config, preset="resonate", render=fake_certificate)
    make = Factories(app)
    people: dict[str, Person] = {}
    owned: dict[str, dict[str, int]] = {}

    def member(key: str, name: str) -> Any:
        town = f"Canarytown-{key}-7Q"
        ref = make.member(email=f"{key}.matrix@example.org", name=name, town=town)
        people[key] = Person(key, ref.email, ref.name, ref.number, [town, ref.email])
        owned[key] = {"member_id": ref.id}
        return ref

    ann = member("ann", "Ann Matrixwright")
    ben = member("ben", "Ben Matrixholm")
    pat = member("pat", "Pat Proxyfield")
    codes: dict[str, str] = {}
    for key, ref in (("ann", ann), ("ben", ben)):
        certificate = make.buy(ref, "supporter", 10)
        owned[key]["number"] = certificate.number
        codes[key] = certificate.code
        owned[key]["withdrawal_id"] = make.withdrawal(ref, 5).id
        owned[key]["order_id"] = make.order(ref, "supporter", 5).id
    secret = make.meeting(
        title="Matrix secret ballot",
        resolutions=[{"title": "Elect the auditor by secret ballot", "secret": True}],
    )
    proxied = make.meeting(
        title="Matrix proxy meeting", resolutions=[{"title": "Adopt the plan"}], state="noticed"
    )
    owned["ann"]["appointment_id"] = make.proxy(proxied, ann, pat, "against", accept=True)
    owned["ben"]["appointment_id"] = make.proxy(proxied, ben, None, "for")
    owned["pat"]["appointment_id"] = owned["ann"]["appointment_id"]  # the one Pat holds
    olga = member("olga", "Olga Lateroll")  # admitted after both rolls were frozen
    abe = make.applicant(email="abe.matrix@example.org", name="Abe Applicantson", town="Abetown")
    people["abe"] = Person("abe", abe.email, abe.name, None, ["Abetown", abe.email])
    owned["abe"] = {"application_id": abe.application_id}
    make.user(email="sam.matrix@example.org", name="Sam Staffer", role="staff")
    make.user(email="ada.matrix@example.org", name="Ada Adminton", role="admin")
    for key in ("ann", "ben", "pat", "olga"):
        owned[key]["application_id"] = _application_of(app, people[key].email)

    world = World(
        people=people,
        owned=owned,
        shared={
            **_shared_ids(app),
            "verify_code": codes["ann"],  # public by design: the QR code on a certificate
            "outbox_name": sorted(mail.outbox_path(app).glob("*.eml"))[0].name,
        },
        secret_meeting=secret.id,
        secret_resolution=secret.resolution_ids[0],
        proxy_meeting=proxied.id,
        proxy_resolution=proxied.resolution_ids[0],
    )
    emails = {
        "applicant": abe.email,
        "member": ann.email,
        "other_member": ben.email,
        "off_roll": olga.email,
        "proxy_holder": pat.email,
        "staff": "sam.matrix@example.org",
        "admin": "ada.matrix@example.org",
    }
    world.clients = {"visitor": app.test_client(), **{r: sign_in(e) for r, e in emails.items()}}
    queued = world.clients["staff"].post("/staff/register/exports", data={})
    assert queued.status_code == 303, "the register's export was not queued"
    world.shared["export_id"] = int(queued.headers["Location"].rsplit("/", 1)[-1])
    with reading(app) as db:
        for role, key in PERSON.items():
            user_id = db.scalar(
                select(UserSession.user_id)
                .join(UserSession.user)
                .where(UserSession.user.has(email=emails[role]))
                .limit(1)
            )
            owned[key]["session_id"] = db.scalar(
                select(UserSession.id).where(UserSession.user_id == user_id).limit(1)
            )
    for key in ("ann", "ben", "pat"):
        world.receipts[key] = cast_secret_vote(world, key)
    return world


def cast_secret_vote(world: World, key: str) -> str:
    """The person votes their :data:`SECRET_CHOICES` through the page (htmx); the receipt."""
    role = {v: k for k, v in PERSON.items()}[key]
    response = world.clients[role].post(
        f"/meetings/{world.secret_meeting}/resolutions/{world.secret_resolution}/vote",
        data={"choice": SECRET_CHOICES[key]},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    found = RECEIPT.search(response.get_data(as_text=True))
    assert found, "the ballot partial shows no receipt"
    world.people[key].canaries.append(found.group(0))
    return found.group(0)


def _application_of(app: Flask, email: str) -> int:
    with reading(app) as db:
        return db.scalar(
            select(Application.id)
            .join(User, Application.user_id == User.id)
            .where(User.email == email)
        )


def _shared_ids(app: Flask) -> dict[str, Any]:
    """Objects of the demo co-op that belong to no one in the matrix: the first of each."""
    with reading(app) as db:

        def first(column: Any, *where: Any) -> Any:
            return db.scalar(select(column).where(*where).order_by(column).limit(1))

        election = db.scalar(select(Election).order_by(Election.id).limit(1))
        proposal = db.scalar(select(MemberProposal).order_by(MemberProposal.id).limit(1))
        minuted = first(Meeting.id, Meeting.state == MeetingState.MINUTES_PUBLISHED)
        return {
            "election_meeting": election.meeting_id if election else None,
            "election_id": election.id if election else None,
            "candidate_id": first(Candidate.id, Candidate.election_id == election.id)
            if election
            else None,
            "minuted_meeting": minuted,
            "proposal_meeting": proposal.meeting_id if proposal else None,
            "proposal_id": proposal.id if proposal else None,
            "requisition_id": first(Requisition.id),
            "director_id": first(Director.id),
            "export_id": first(RegisterExport.id),
            "question_id": first(
                ApplicationQuestion.id,
                ApplicationQuestion.class_id
                == select(MemberClass.id).where(MemberClass.code == "artist").scalar_subquery(),
            ),
        }
