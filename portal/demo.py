"""The demo co-op: Reverb Music Co-operative Society Ltd, a fictional Irish co-op.

Seeding goes through the same services as the app (apply, approve, resign…), so the demo
data obeys every rule and leaves the same audit trail as real use would.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from . import coop
from .models import MemberStatus, Role, User
from .presets import PRESETS
from .services import settings
from .services.accounts import users
from .services.documents import publishing
from .services.membership import applications, leaving, review
from .services.membership.applications import ApplicationInput
from .services.register import classes, members
from .services.shares import orders, payments, share_types, withdrawals
from .services.shares.certificates import CertificateRenderer


@dataclass(frozen=True)
class DemoPerson:
    name: str
    email: str
    role: Role
    password: str
    note: str
    classes: tuple[str, ...] = ()  # classes joined, in order; the last is primary
    town: str = "Dublin"
    answers: dict[str, str] = field(default_factory=dict)
    title: str | None = None  # a staff member's office, named in the header


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
        "staff: applications, register, meetings",
    ),
    DemoPerson(
        "Máire Ní Dhónaill",
        "secretary@reverb.example",
        Role.STAFF,
        "heather-signal-lantern-85",
        "staff: the co-op's secretary",
        title="Secretary",
    ),
    DemoPerson(
        "Pádraig Walsh",
        "chair@reverb.example",
        Role.MEMBER,
        "marble-cedar-rowing-32",
        "member: listener, chair of the board",
        classes=("listener",),
        town="Galway",
    ),
    DemoPerson(
        "Niamh Kelly",
        "listener@reverb.example",
        Role.MEMBER,
        "velvet-tram-orchard-58",
        "member: a listener",
        classes=("listener",),
        town="Cork",
    ),
    DemoPerson(
        "Tadhg O'Sullivan",
        "artist@reverb.example",
        Role.MEMBER,
        "granite-banjo-meadow-63",
        "member: an artist",
        classes=("artist",),
        town="Limerick",
    ),
    DemoPerson(
        "Siobhán Murphy",
        "worker@reverb.example",
        Role.MEMBER,
        "saffron-ferry-compass-19",
        "member: artist and worker, votes as worker",
        classes=("artist", "worker"),
    ),
    DemoPerson(
        "Eoin Gallagher",
        "applicant@reverb.example",
        Role.MEMBER,
        "willow-anchor-quartet-74",
        "applicant: an artist awaiting review",
    ),
)

# More members and applicants, signed in by no one: they fill the register.
EXTRA_MEMBERS = (
    ("Aisling Brennan", "listener", "Sligo"),
    ("Darragh Quinn", "listener", "Kilkenny"),
    ("Orla Fitzgerald", "artist", "Waterford"),
    ("Cathal Ryan", "worker", "Dublin"),
    ("Gráinne Moore", "listener", "Athlone"),  # lapsed: an unpaid fee
    ("Ronan Keane", "listener", "Tralee"),  # ceased: resigned
    ("Lorcan Byrne", "artist", "Bray"),  # membership share not paid yet
    ("Clíodhna Walsh", "worker", "Ennis"),  # membership share not paid yet
)
UNPAID = {"member7@reverb.example", "member8@reverb.example"}
EXTRA_APPLICANTS = (
    ("Sinéad Daly", "worker", {"team": "Support", "hours": "35"}),
    (
        "Fiachra Nolan",
        "artist",
        {"artist_name": "Tidewater Choir", "release_url": "https://music.example/tidewater"},
    ),
)

ANSWERS = {
    "artist": {"artist_name": "Harbour Lights", "release_url": "https://music.example/harbour"},
    "worker": {"team": "Engineering", "hours": "120"},
    "listener": {},
}
EXTRA_PASSWORD = "demo-extra-member-password-90"  # noqa: S105 (public demo data)


def _apply(db: Session, user: User, code: str, answers: dict[str, str], town: str) -> Any:
    member_class = classes.find_class(db, code)
    assert member_class is not None, code
    application = applications.start_application(db, user, member_class)
    given = ApplicationInput(
        answers=answers or ANSWERS.get(code, {}),
        address={
            "address_line1": f"{len(user.name) + 3} Main Street",
            "town": town,
            "country": "Ireland",
        },
        accept_rules=True,
    )
    return applications.submit_application(db, application, given, actor=user)


def _join(db: Session, user: User, codes: tuple[str, ...], staff: User, town: str) -> None:
    """Apply to each class; staff approve (the membership share is paid later, or not)."""
    for code in codes:
        application = _apply(db, user, code, {}, town)
        if application.can_approve:
            review.approve_application(db, application, actor=staff)


def _vote_in_last_class(db: Session, person: DemoPerson) -> None:
    """A member of several classes votes in the last they joined (their primary class)."""
    member = members.member_for_user(db, users.find_user_by_email(db, person.email))
    if member is not None and len(person.classes) > 1:
        member_class = classes.find_class(db, person.classes[-1])
        members.set_primary_class(db, member, member_class, actor=member.user)


def _pay(db: Session, order: Any, staff: User, render: CertificateRenderer) -> None:
    payment = payments.Payment(
        amount_minor=order.amount_minor,
        paid_on=coop.today(db),
        method="bank_transfer",
        reference=f"AIB {order.payment_reference}",
    )
    payments.settle_order(db, order, payment, actor=staff, render=render)


def _buy(db: Session, email: str, quantity: int, staff: User, render: CertificateRenderer) -> Any:
    """A member orders supporter shares; returns the order (render=None leaves it unpaid)."""
    member = members.member_for_user(db, users.find_user_by_email(db, email))
    supporter = share_types.find_type(db, "supporter")
    order = orders.place_order(db, member, supporter, quantity, actor=member.user)
    if render is not None:
        _pay(db, order, staff, render)
    return member


def _seed_shares(db: Session, staff: User, render: CertificateRenderer) -> None:
    """Membership shares paid (but two), supporter shares, withdrawals: a lived-in register.

    The demo listener holds 1 membership and 25 supporter shares on two certificates,
    has asked to withdraw 5 and has an order for 10 more awaiting payment. The chair
    bought 50 and withdrew 20, so one certificate is superseded.
    """
    for order in orders.pending_orders(db):
        payer = order.member.user if order.member else order.application.user
        if payer is None or payer.email not in UNPAID:
            _pay(db, order, staff, render)  # a membership share paid admits its applicant
    supporter = share_types.find_type(db, "supporter")

    listener = _buy(db, "listener@reverb.example", 25, staff, render)
    withdrawals.request_withdrawal(
        db,
        listener,
        supporter,
        5,
        reason="Paying for a new guitar.",
        actor=listener.user,
    )
    _buy(db, "listener@reverb.example", 10, staff, None)

    chair = _buy(db, "chair@reverb.example", 50, staff, render)
    withdrawal = withdrawals.request_withdrawal(
        db, chair, supporter, 20, reason="", actor=chair.user
    )
    withdrawals.approve_withdrawal(
        db, withdrawal, decision_reference="Board minute 2026/09", actor=staff
    )
    withdrawals.record_repayment(
        db,
        withdrawal,
        payments.Payment(
            amount_minor=withdrawal.amount_minor,
            paid_on=coop.today(db),
            method="bank_transfer",
            reference="AIB OUT-0917",
        ),
        actor=staff,
        render=render,
    )
    for email, quantity in (("artist@reverb.example", 100), ("member1@reverb.example", 15)):
        _buy(db, email, quantity, staff, render)


DOCUMENTS = Path(__file__).parent / "seed_documents"
SUMMARIES = {
    "rules": "The society's rules: membership classes, shares, general meetings, the board.",
    "standing-orders": "How general meetings are run: speaking, motions, voting and proxies.",
    "membership-policy": "Who may join each class, what each contributes, lapsing and leaving.",
    "supporter-share-terms": "The terms of supporter shares: price, cap, withdrawal, risks.",
    "privacy-policy": "What the portal holds about you, why, and for how long.",
    "board-terms-of-reference": "What the board decides, what it delegates, how it meets.",
    "agm-2025-minutes": "Minutes of the AGM held in September 2025, with the votes by class.",
    "annual-report-2025": "The co-op's year: members, capital, streams, accounts.",
    "board-risk-register": "The board's review of the co-op's main risks.",
}


def _seed_documents(db: Session, staff: User) -> None:
    """The library from portal/seed_documents/index.md: one row per version."""
    cells = (
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in (DOCUMENTS / "index.md").read_text().splitlines()
        if line.startswith("| ")
    )
    rows = [row for row in cells if row[0].endswith(".md")]
    made: dict[str, Any] = {}
    for file_name, slug, _number, title, category, visibility, effective, note in rows:
        if slug not in made:
            made[slug] = publishing.create_document(
                db,
                title=title,
                slug=slug,
                category=category.lower(),
                visibility=visibility,
                summary=SUMMARIES.get(slug, ""),
                approved_by="Special resolution, AGM 2025" if slug == "rules" else "The board",
                actor=staff,
            )
        publishing.publish_markdown(
            db,
            made[slug],
            body=(DOCUMENTS / file_name).read_text(),
            effective_on=date.fromisoformat(effective),
            change_note=note,
            actor=staff,
        )
    publishing.mark_rulebook(db, made["rules"], actor=staff)


def seed(
    db: Session,
    config: Mapping[str, Any],
    preset: str = "resonate",
    *,
    render: CertificateRenderer | None = None,
) -> bool:
    """Create the demo co-op in an empty database; False if it already holds data.

    With ``render`` (the certificate renderer), shares are bought and paid too.
    """
    if users.count_users(db):
        return False
    settings.apply_preset(db, PRESETS[preset])
    people = {}
    for person in PEOPLE:
        people[person.email] = users.create_user(
            db,
            name=person.name,
            email=person.email,
            password=person.password,
            role=person.role,
            title=person.title,
            verified=True,
        )
    staff = people["staff@reverb.example"]
    if preset != "resonate":
        return True  # another co-op's classes: accounts only
    _seed_documents(db, staff)  # first, so that applicants accept the rulebook
    for person in PEOPLE:
        if person.classes:
            _join(db, people[person.email], person.classes, staff, person.town)
    _apply(
        db,
        people["applicant@reverb.example"],
        "artist",
        {
            "artist_name": "The Gallagher Tapes",
            "release_url": "https://music.example/gallagher-tapes",
        },
        "Derry",
    )

    for n, (name, code, town) in enumerate(EXTRA_MEMBERS):
        user = users.create_user(
            db,
            name=name,
            email=f"member{n + 1}@reverb.example",
            password=EXTRA_PASSWORD,
            verified=True,
        )
        _join(db, user, (code,), staff, town)
    if render is not None:  # without PDFs no share is paid, so no one is a member yet
        _seed_shares(db, staff, render)
        for person in PEOPLE:
            _vote_in_last_class(db, person)
        lapsed = members.member_for_user(db, users.find_user_by_email(db, "member5@reverb.example"))
        leaving.set_status(db, lapsed, MemberStatus.LAPSED, "Annual fee unpaid", actor=staff)
        ceased = members.member_for_user(db, users.find_user_by_email(db, "member6@reverb.example"))
        resignation = leaving.request_resignation(db, ceased, "Moving abroad", actor=ceased.user)
        leaving.confirm_resignation(db, resignation, actor=staff)

    for n, (name, code, answers) in enumerate(EXTRA_APPLICANTS):
        user = users.create_user(
            db,
            name=name,
            email=f"applicant{n + 1}@reverb.example",
            password=EXTRA_PASSWORD,
            verified=True,
        )
        application = _apply(db, user, code, answers, "Dundalk")
        if n == 0:
            review.ask_for_information(
                db, application, "Which weeks did you volunteer on the support rota?", actor=staff
            )
    return True


def logins_text(config: Mapping[str, Any]) -> str:
    """The demo sign-ins, for the terminal."""
    lines = [f"Demo sign-ins for {config['COOP_LEGAL_NAME']}:"]
    width = max(len(p.email) for p in PEOPLE)
    for person in PEOPLE:
        lines.append(f"  {person.email:<{width}}  {person.password:<28} {person.note}")
    return "\n".join(lines)
