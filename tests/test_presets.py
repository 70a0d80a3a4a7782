"""Presets are whole co-ops: a co-op started from one holds no word of another.

Each preset is seeded into an empty database; a newcomer applies, is approved, pays and
receives a certificate; then every page a crawl reaches (as a visitor, the new member,
staff and an admin) and every PDF it links to is searched for the other presets' names,
legal names, e-mail domains, currencies and payment-reference prefixes.
"""

from __future__ import annotations

import io
import re
from collections import Counter, deque
from collections.abc import Iterator
from datetime import timedelta
from email import policy
from email.parser import BytesParser
from urllib.parse import urlsplit

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from portal import coop as portal_coop
from portal import demo, mail
from portal.db import database, write_session
from portal.models import (
    Application,
    Certificate,
    ClassMembership,
    Meeting,
    MeetingKind,
    Member,
    MemberClass,
    MemberStatus,
    PaymentForm,
    ResolutionKind,
    ShareOrder,
    User,
)
from portal.money import SYMBOLS
from portal.pdf import render_certificate
from portal.presets import PRESETS, Preset
from portal.services.accounts import users
from portal.services.elections import nominations
from portal.services.meetings import closing, lifecycle, minutes, proposals, requisitions
from portal.services.membership import review
from portal.services.shares import payments

from .conftest import CSRFClient
from .factories import fake_certificate
from .ranked_elections import open_election

FAKE_PDF = b"%PDF-1.7 certificate "  # what fake_certificate writes
NEWCOMER = {"email": "newcomer@example.org", "password": "lantern-quarry-mosaic-77"}
# Pages a crawl never opens: signing out ends the crawl's session.
NOT_FOLLOWED = re.compile(r"^/(logout|static/)")
# Routes no link leads to: a token from a message, static files.
# Reached only by a link with a token mailed to the account's owner.
NOT_CRAWLED = {
    "static",
    "auth.verify_email",
    "auth.reset_password",
    "auth.unlock",
    "auth.cancel_email_change",
    # Partials polled by htmx on a meeting's page while it sits (no link leads to them;
    # without htmx they lead back to that page, which shows the same).
    "meetings.live",
    "meetings.live_ballots",
    # A candidate's photo: an image shown by <img> on the nominations page, never linked.
    "elections.photo",
    # A register PDF made in the background and its file: linked from the register page
    # only once staff ask for one (a POST), which a crawl never sends.
    "staff.register.export",
    "staff.register.export_file",
    # A member's whole list of orders, certificates or withdrawals: /shares links it only
    # past the newest ten, more than a demo member has (tests/test_member_fast.py reads it).
    "shares.history",
}
MOST_PER_ROUTE = 2  # URLs opened per route and role: every kind of page, in seconds
HREF = re.compile(r'href="(/[^"#]*)')


def _currency_marks(currency: str) -> list[str]:
    """Patterns that show an amount in ``currency``: its code and its symbol."""
    symbol = SYMBOLS[currency]
    # "$" alone is the US dollar; "CA$" is the Canadian one, so "$" after letters is not.
    mark = r"(?<![A-Z])\$" if symbol == "$" else re.escape(symbol)
    return [rf"\b{currency}\b", mark]


def _own_words(preset: Preset) -> list[str]:
    """The names a co-op gives its classes and share types, in lower case too."""
    names = [c.name for c in preset.classes] + [t.name for t in preset.share_types]
    return names + [name.lower() for name in names]


def betrayals(preset: Preset) -> dict[str, re.Pattern[str]]:
    """What would show another preset's co-op in ``preset``'s: a pattern for each word.

    Another co-op's class and share-type names count too, unless this co-op uses the same
    words ("Membership share", or "Artist" in "Contributing artist").
    """
    found: dict[str, re.Pattern[str]] = {}
    own = preset.settings
    for other in PRESETS.values():
        if other is preset:
            continue
        theirs = other.settings
        words = [
            theirs["name"],
            theirs["name"].split()[0],  # "Reverb", "Lumen": the name people say
            theirs["legal_name"],
            other.demo.domain,
        ]
        patterns = [re.escape(word) for word in words]
        patterns.append(rf"\b{theirs['reference_prefix']}-")
        if theirs["currency"] != own["currency"]:
            patterns += _currency_marks(theirs["currency"])
        for pattern in patterns:
            found[f"{other.name}: {pattern}"] = re.compile(pattern)
        # Share types in any case ("Supporter Share Terms"); classes as names.
        names = [(t.name, re.I) for t in other.share_types] + [(c.name, 0) for c in other.classes]
        for name, flags in names:
            pattern = re.compile(rf"\b{re.escape(name)}\b", flags)
            if not any(pattern.search(mine) for mine in _own_words(preset)):
                found[f"{other.name}: {name}"] = pattern
    return found


def text_of(response) -> str:
    """What a person reads in a response: a page's HTML, a CSV, or a PDF's text."""
    if response.mimetype != "application/pdf":
        return response.get_data(as_text=True)
    if response.data.startswith(FAKE_PDF):  # a seeded certificate: see seed()
        return response.get_data(as_text=True)
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)


def pages_without_arguments(app: Flask) -> list[str]:
    """Every GET route that needs no argument: a crawl starts from all of them."""
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ())
        and not rule.arguments
        and not NOT_FOLLOWED.match(rule.rule)
    )


def crawl(
    app: Flask, client: CSRFClient, start: list[str], pdfs: dict[str, str]
) -> Iterator[tuple[str, str, str]]:
    """Each page reached from ``start`` by following links on the site: (route, path, text).

    A route is opened for at most ``MOST_PER_ROUTE`` of its URLs (the tenth member's page
    says nothing the second's does not), and a PDF once for all roles (``pdfs``: its
    text by path), which keeps the crawl to seconds.
    """
    adapter = app.url_map.bind("localhost")
    opened: Counter[str] = Counter()
    queue, seen = deque(start), set(start)
    while queue:
        path = queue.popleft()
        try:
            route = adapter.match(urlsplit(path).path, method="GET")[0]
        except HTTPException:
            route = path
        if opened[route] >= MOST_PER_ROUTE:
            continue
        opened[route] += 1
        if path in pdfs:
            yield route, path, pdfs[path]
            continue
        response = client.get(path)
        text = text_of(response)
        if response.mimetype == "application/pdf":
            pdfs[path] = text
            opened[route] = MOST_PER_ROUTE  # one PDF of a kind is enough
        yield route, path, text
        if response.mimetype != "text/html":
            continue
        for link in HREF.findall(text):
            link = link.replace("&amp;", "&")
            if link not in seen and not NOT_FOLLOWED.match(link):
                seen.add(link)
                queue.append(link)


def seed(app: Flask, name: str) -> None:
    """The preset's demo co-op, its shares paid: the seeded members' certificates are
    stand-ins (rendering forty real ones takes seconds); the newcomer's is real."""
    with app.test_request_context("/"), write_session(app) as db:
        assert demo.seed(db, app.config, preset=name, render=fake_certificate)


def join_and_pay(app: Flask, preset: Preset) -> tuple[CSRFClient, Certificate]:
    """A newcomer applies through the site, staff approve, the payment is recorded."""
    with app.test_request_context("/"), write_session(app) as db:
        users.create_user(db, name="Nova Newcomer", verified=True, **NEWCOMER)
    client: CSRFClient = app.test_client()  # type: ignore[assignment]
    assert client.login(**NEWCOMER).status_code == 303
    applicant = next(p for p in preset.demo.people if p.applies_to)
    form = {f"answer-{key}": value for key, value in applicant.answers.items()}
    form.update(
        address_line1="1 First Street",
        town=applicant.town,
        country=preset.demo.country,
        accept_rules="y",
        action="submit",
    )
    response = client.post(f"/join/{applicant.applies_to}", data=form)
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.test_request_context("/"), write_session(app) as db:
        staff = db.scalar(select(User).where(User.email == preset.demo.acting_staff.email))
        application = db.scalar(
            select(Application)
            .join(User, Application.user_id == User.id)
            .where(User.email == NEWCOMER["email"])
        )
        review.approve_application(db, application, actor=staff)
        order = db.scalar(select(ShareOrder).where(ShareOrder.application_id == application.id))
        order_id, reference = order.id, order.payment_reference
    assert reference.startswith(f"{preset.settings['reference_prefix']}-")
    # How to pay: the co-op's account in its country's form, and no other form's numbers.
    page = client.get(f"/shares/orders/{order_id}").get_data(as_text=True)
    form: PaymentForm = preset.settings["payment_form"]
    for field, label in form.bank_fields:
        assert label in page and preset.settings[field] in page, (label, page)
    for other in PaymentForm:
        for _field, label in set(other.bank_fields) - set(form.bank_fields):
            assert label not in page, label
    with app.test_request_context("/"), write_session(app) as db:
        staff = db.scalar(select(User).where(User.email == preset.demo.acting_staff.email))
        order = db.get(ShareOrder, order_id)
        payment = payments.Payment(
            amount_minor=order.amount_minor,
            paid_on=order.created_at.date(),
            method="bank_transfer",
            reference=f"{preset.demo.bank} {order.payment_reference}",
        )
        certificate = payments.settle_order(
            db, order, payment, actor=staff, render=render_certificate
        )
    return client, certificate


def ranked_election(db: Session, meeting: Meeting) -> None:
    """An election on ``meeting`` whose ranked voting is open: a member of a class with
    board seats stands (the ballot page is linked from the meeting's page)."""
    stands = db.execute(
        select(Member.id, MemberClass.code)
        .join(ClassMembership, ClassMembership.member_id == Member.id)
        .join(MemberClass, MemberClass.id == ClassMembership.class_id)
        .where(Member.status == MemberStatus.ACTIVE, MemberClass.board_seats > 0)
        .limit(1)
    ).first()
    if stands is not None:
        open_election(db, meeting.id, stands.code, [stands.id])


def hold_meetings(app: Flask, preset: Preset) -> None:
    """Two AGMs in the co-op's own words: one with voting open, one closed with its results
    and minutes."""
    with app.test_request_context("/"), write_session(app) as db:
        staff = db.scalar(select(User).where(User.email == preset.demo.acting_staff.email))
        clock = portal_coop.clock(db)
        for title, close in (("Annual general meeting 2026", False), ("Special meeting", True)):
            given = lifecycle.MeetingInput(
                kind=MeetingKind.AGM,
                title=title,
                starts_at=clock.now() + timedelta(days=30),
                record_date=clock.today(),
                place=f"{preset.demo.extra_members[0].town} community hall",
            )
            meeting = lifecycle.create_meeting(db, given, actor=staff)
            lifecycle.add_resolution(
                db,
                meeting,
                title="Approve the annual report",
                text="RESOLVED that the annual report be approved.",
                kind=ResolutionKind.ORDINARY,
                actor=staff,
            )
            lifecycle.send_notice(db, meeting, actor=staff, short_notice_reason="A test")
            lifecycle.open_voting(db, meeting, actor=staff)
            if not close:  # a board election whose ranked ballot is open
                ranked_election(db, meeting)
            if close:
                closing.close_voting(db, meeting, actor=staff)
                body = minutes.prefilled_body(db, meeting)
                minutes.publish_minutes(db, meeting, chair=staff.name, body=body, actor=staff)
        # Members' own motions: a call for resolutions with a proposal, and a requisition.
        given = lifecycle.MeetingInput(
            kind=MeetingKind.EGM,
            title="Extraordinary general meeting",
            starts_at=clock.now() + timedelta(days=25),  # listed after the AGMs
            record_date=clock.today() + timedelta(days=20),
            place="Online",
        )
        called = lifecycle.create_meeting(db, given, actor=staff)
        today = clock.today()
        call = proposals.CallInput(today, today + timedelta(days=2))
        proposals.set_call(db, called, call, actor=staff)
        member = db.scalar(select(Member).where(Member.status == MemberStatus.ACTIVE).limit(1))
        motion = proposals.ProposalInput("Publish the accounts monthly", "RESOLVED …", "Openness.")
        proposals.submit_proposal(db, called, member, motion, actor=staff)
        # A board election on it, taking nominations: a member of a class with seats stands.
        stands = db.execute(
            select(Member, MemberClass)
            .join(ClassMembership, ClassMembership.member_id == Member.id)
            .join(MemberClass, MemberClass.id == ClassMembership.class_id)
            .where(Member.status == MemberStatus.ACTIVE, MemberClass.board_seats > 0)
            .limit(1)
        ).first()
        if stands is not None:
            candidate, seats = stands
            window = nominations.ElectionInput(1, today, today + timedelta(days=2))
            election = nominations.create_election(db, called, seats, window, actor=staff)
            nominations.open_nominations(db, election, actor=staff)
            nominations.nominate(
                db, election, candidate, candidate, statement="I will stand.", actor=staff
            )
        demand = requisitions.RequisitionInput(MeetingKind.EGM, None, "Discuss the fee.", "")
        requisitions.start_requisition(db, member, demand, actor=staff)


@pytest.mark.pdf
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_a_co_op_started_from_a_preset_shows_no_word_of_another(app, sign_in, name):
    preset = PRESETS[name]
    seed(app, name)
    member, certificate = join_and_pay(app, preset)
    hold_meetings(app, preset)
    own = preset.settings
    certificate_path = f"/certificates/{certificate.number}.pdf"
    certificate_text = text_of(member.get(certificate_path))
    for expected in (own["legal_name"], own["first_signatory_name"], "Nova Newcomer"):
        assert expected in certificate_text
    assert not re.search(r"\w\.\.(\s|$)", certificate_text)  # "Inc.." ends no sentence

    people = {p.role.value: p for p in reversed(preset.demo.people)}
    start = [*pages_without_arguments(app), "/documents/rules/changes"]  # one version or more
    clients = {
        "visitor": (app.test_client(), start),
        "member": (member, [*start, certificate_path, f"/verify/{certificate.code}"]),
        "staff": (
            sign_in(people["staff"].email, people["staff"].password),
            # linked from a member's page only when the list is long
            [*start, f"/staff/members/{certificate.member_id}/certificates"],
        ),
        "admin": (sign_in(people["admin"].email, people["admin"].password), start),
    }
    words = betrayals(preset)
    assert not [word for word, p in words.items() if p.search(certificate_text)]
    leaks, routes, pdfs = [], set(), {}
    for role, (client, pages) in clients.items():
        for route, path, text in crawl(app, client, pages, pdfs):
            routes.add(route)
            leaks += [f"{role} {path}: {word}" for word, p in words.items() if p.search(text)]
    sent = sorted(mail.outbox_path(app).glob("*.eml"))
    for message in sent:  # every message the co-op sent: headers, text and HTML
        parsed = BytesParser(policy=policy.default).parsebytes(message.read_bytes())
        text = "\n".join(
            [str(parsed["From"]), str(parsed["Subject"])]
            + [parsed.get_body((kind,)).get_content() for kind in ("plain", "html")]
        )
        leaks += [
            f"mail {parsed['Subject']}: {word}" for word, p in words.items() if p.search(text)
        ]
    assert len(sent) > len(preset.demo.people)  # the demo's mail and the newcomer's
    assert not leaks, "\n".join(leaks)
    every = {r.endpoint for r in app.url_map.iter_rules() if "GET" in (r.methods or ())}
    assert every - routes == NOT_CRAWLED  # every page of the site was read, as someone


def test_each_preset_is_a_whole_co_op():
    """Settings, classes, share types, signatories, bank details and demo people."""
    for preset in PRESETS.values():
        own = preset.settings
        for key in ("name", "legal_name", "registration", "address", "contact_email"):
            assert own[key], (preset.name, key)
        for key in ("currency", "timezone", "reference_prefix", "payment_form"):
            assert own[key], (preset.name, key)
        assert own["first_signatory_name"] and own["second_signatory_name"], preset.name
        form: PaymentForm = own["payment_form"]
        assert all(own.get(field) for field, _label in form.bank_fields), preset.name
        weights = [c.voting_weight for c in preset.classes]
        assert sum(weights) == 100 and all(10 <= w <= 50 for w in weights), preset.name
        in_a_class = {code for p in preset.demo.people for code in p.classes}
        assert in_a_class == {c.code for c in preset.classes}, preset.name  # every class
        roles = {p.role.value for p in preset.demo.people}
        assert roles == {"admin", "staff", "member"}, preset.name
        assert any(p.applies_to for p in preset.demo.people), preset.name
        assert {p.email.split("@")[1] for p in preset.demo.people} == {preset.demo.domain}
    prefixes = [p.settings["reference_prefix"] for p in PRESETS.values()]
    assert len(set(prefixes)) == len(prefixes)


def test_seeded_certificates_are_in_the_co_ops_currency(app):
    """No preset's seed leaves an amount in another currency in its register."""
    for name in ("stocksy",):
        with app.test_request_context("/"), write_session(app) as db:
            demo.seed(db, app.config, preset=name, render=None)
        with database(app).session(write=False) as db:
            currencies = set(db.scalars(select(ShareOrder.currency)))
        assert currencies == {PRESETS[name].settings["currency"]}
