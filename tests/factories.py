"""Factories: the one way tests make a co-op, people, members, shares and documents.

Each fixture returns a callable, e.g. ``make_member(classes=["artist"], shares={"supporter":
10})``. The data is made through the services, as the app makes it, so it obeys every rule
and leaves the audit trail and the mail a real one would.

Where the data goes depends on the test:

* a test that takes ``db`` (the service tests) gets it in that session, flushed but not
  committed: the test uses the rows directly, and they go with the test's transaction;
* any other test (views, browser, concurrency) gets it committed by a write session of the
  factory's own, so that every request sees it.

Members and applicants come back as refs (their ids, e-mail and name; ``ref.load(db)``
gives the row). Users, orders, certificates and documents come back as their rows; outside
a service test they are detached, so read only their columns. A factory taking a member
takes a ref or the row alike.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pyotp
import pytest
import time_machine
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

import portal.coop
from portal.db import database, write_session
from portal.mail import OutboxMessage
from portal.models import (
    Application,
    AuditEvent,
    Base,
    Certificate,
    Choice,
    CoopSettings,
    Document,
    LedgerEntry,
    LedgerKind,
    Meeting,
    MeetingKind,
    Member,
    OrderState,
    ProxyAppointment,
    ProxyKind,
    Resolution,
    ResolutionKind,
    Role,
    ShareOrder,
    ShareType,
    User,
    UserSession,
    Withdrawal,
)
from portal.presets import RESONATE
from portal.services import settings
from portal.services.accounts import two_factor as two_factor_service
from portal.services.accounts import users
from portal.services.documents import publishing
from portal.services.meetings import ballots, closing, lifecycle, minutes, proxies
from portal.services.membership import applications, leaving, review
from portal.services.membership.applications import ApplicationInput
from portal.services.register import members
from portal.services.register.classes import find_class
from portal.services.shares import ledger, orders, payments, share_types, withdrawals
from portal.services.shares.certificates import CertificateRenderer
from portal.services.shares.share_types import find_type

from .conftest import PASSWORD, CSRFClient

# -- what the factories type ----------------------------------------------------------------

ADDRESS = {
    "address_line1": "1 Main Street",
    "address_line2": "Flat 2",
    "town": "Cork",
    "postcode": "T12 AB34",
    "country": "Ireland",
}
ANSWERS = {
    "artist": {"artist_name": "The Quays", "release_url": "https://music.example/quays"},
    "worker": {"team": "Engineering", "hours": "120"},
    "listener": {},
}
REVIEWER = "reviewer@example.org"
QUESTION = "Which label released it?"
REJECTION = "We could not find the release."
HTMX = {"HX-Request": "true"}


def application_form(code: str = "artist", **changes: str) -> dict[str, str]:
    """The application form as a browser posts it, complete; ``changes`` override fields."""
    form = {f"answer-{key}": value for key, value in ANSWERS[code].items()}
    form.update(ADDRESS)
    form.update(accept_rules="y", action="submit")
    form.update(changes)
    return form


def fake_certificate(certificate: Certificate, _settings: CoopSettings) -> bytes:
    """A certificate's identity as bytes, for tests where the PDF itself is not under test
    (test_pdf.py renders real ones)."""
    return f"%PDF-1.7 certificate {certificate.number}".encode()


def on_day(day: date | None) -> AbstractContextManager[Any]:
    """Time stands at noon (UTC) on ``day`` while the block runs; it runs as usual for None."""
    if day is None:
        return nullcontext()
    return time_machine.travel(datetime.combine(day, time(12), UTC), tick=False)


# -- what they return -------------------------------------------------------------------------


@dataclass(frozen=True)
class Applicant:
    """Someone with an application: their account and the application's id."""

    user_id: int
    email: str
    name: str
    application_id: int

    def load(self, db: Session) -> Application:
        """The application, as ``db`` has it."""
        return db.get(Application, self.application_id)


@dataclass(frozen=True)
class MemberRef:
    """A member on the register, with the account they sign in with."""

    id: int
    number: int
    user_id: int
    email: str
    name: str

    def load(self, db: Session) -> Member:
        """The member, as ``db`` has it."""
        return db.get(Member, self.id)


@dataclass(frozen=True)
class MeetingRef:
    """A meeting and its resolutions' ids, in number order."""

    id: int
    resolution_ids: tuple[int, ...]


# -- the factories ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Factories:
    """Every factory, writing to the service test's session or to sessions of their own."""

    app: Flask
    test_db: Session | None = None
    base_url: str = "http://localhost"
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def at(self, base_url: str) -> Factories:
        """The same factories in requests to ``base_url`` (certificates link to it)."""
        return replace(self, base_url=base_url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """The test's session (flushed after the block), else a new one (committed)."""
        if self.test_db is not None:
            yield self.test_db
            self.test_db.flush()
            return
        with (
            self.app.test_request_context("/", base_url=self.base_url),
            write_session(self.app) as db,
        ):
            yield db

    def coop(self) -> CoopSettings:
        """The Reverb co-op (the RESONATE preset): listener (admitted at once), artist and
        worker (staff review); membership and supporter shares. Returns its settings."""
        with self.session() as db:
            settings.apply_preset(db, RESONATE)
            return portal.coop.settings(db)

    def user(
        self,
        *,
        role: str = "member",
        email: str | None = None,
        name: str | None = None,
        password: str = PASSWORD,
        verified: bool = True,
        two_factor: bool | None = None,
    ) -> User:
        """An account, verified unless told otherwise: ``make_user(role="staff")``.

        Staff and admins have two-factor sign-in set up, as the staff pages require,
        unless ``two_factor=False``; a member has it with ``two_factor=True``. The client's
        ``login`` types the code (tests/two_factor_codes.py).
        """
        n = next(self.numbers)
        with self.session() as db:
            user = users.create_user(
                db,
                name=name or f"Test Person {n}",
                email=email or f"person{n}@example.org",
                password=password,
                role=Role(role),
                verified=verified,
            )
            if two_factor if two_factor is not None else user.is_staff:
                db.flush()
                two_factor_service.enrol_with_secret(db, user, pyotp.random_base32(32))
            return user

    def reviewer(self) -> User:
        """Rita Reviewer, the staff member the factories act as."""
        with self.session() as db:
            return self._reviewer(db)

    def applicant(
        self,
        *,
        code: str = "artist",
        state: str = "submitted",
        email: str | None = None,
        name: str | None = None,
        town: str = "Cork",
    ) -> Applicant:
        """An application to class ``code`` in ``state``: draft, submitted, needs_info (staff
        asked :data:`QUESTION`), rejected (for :data:`REJECTION`) or awaiting_share (approved,
        the membership share not yet paid). ``email`` may name an existing account."""
        if state not in {"draft", "submitted", "needs_info", "rejected", "awaiting_share"}:
            raise ValueError(f"no applicant factory for the state {state!r}")
        n = next(self.numbers)
        with self.session() as db:
            user = self._account(
                db, email or f"applicant{n}@example.org", name or f"Applicant Number{n}"
            )
            application = self._apply(db, user, code, town, submit=state != "draft")
            if state == "needs_info":
                review.ask_for_information(db, application, QUESTION, actor=self._reviewer(db))
            elif state == "rejected":
                review.reject_application(db, application, REJECTION, actor=self._reviewer(db))
            elif state == "awaiting_share" and application.can_approve:
                review.approve_application(db, application, actor=self._reviewer(db))
            return Applicant(user.id, user.email, user.name, application.id)

    def member(
        self,
        *,
        classes: Iterable[str] = ("artist",),
        primary: str | None = None,
        shares: Mapping[str, int] | None = None,
        admitted_on: date | None = None,
        email: str | None = None,
        name: str | None = None,
        town: str = "Cork",
    ) -> MemberRef:
        """A member admitted to ``classes`` in turn: staff approve (listeners are approved
        at once), then the membership share is paid, which admits them (rule 8.1).

        ``shares`` are bought and paid besides, one order each (a membership share already
        held counts): ``shares={"supporter": 25}``. ``admitted_on`` sets the co-op's clock
        for the admission (the shares are bought today); ``primary`` is the class they vote
        in; ``email`` may name an existing account.
        """
        n = next(self.numbers)
        with self.session() as db:
            user = self._account(db, email or f"member{n}@example.org", name or f"Member Number{n}")
            with on_day(admitted_on):
                for code in classes:
                    application = self._apply(db, user, code, town)
                    if application.can_approve:
                        review.approve_application(db, application, actor=self._reviewer(db))
                waiting = orders.waiting_admission_order(db, user)
                if waiting is not None:
                    self._pay(db, waiting)
            member = members.member_for_user(db, user)
            assert member is not None, "admitting made no member"
            if primary is not None:
                members.set_primary_class(db, member, find_class(db, primary), actor=user)
            for code, quantity in (shares or {}).items():
                held = ledger.holding(db, member, find_type(db, code))
                if quantity > held:
                    self._buy(db, member, code, quantity - held, fake_certificate)
            return MemberRef(member.id, member.number, user.id, user.email, member.name)

    def order(self, member: MemberRef, code: str, quantity: int) -> ShareOrder:
        """An order the member places, left waiting for payment."""
        with self.session() as db:
            return self._order(db, db.get(Member, member.id), code, quantity)

    def pay(
        self,
        order: ShareOrder,
        *,
        amount: int | None = None,
        reference: str | None = None,
        render: CertificateRenderer = fake_certificate,
    ) -> Certificate:
        """Staff record the payment of ``order`` (its amount unless told), issuing its shares."""
        with self.session() as db:
            stored = db.get(ShareOrder, order.id)
            return self._pay(db, stored, amount=amount, reference=reference, render=render)

    def buy(
        self,
        member: MemberRef,
        code: str,
        quantity: int,
        *,
        render: CertificateRenderer = fake_certificate,
    ) -> Certificate:
        """Order and pay for shares (the waiting order where it matches); the certificate."""
        with self.session() as db:
            return self._buy(db, db.get(Member, member.id), code, quantity, render)

    def settle_orders(
        self, member: MemberRef, *, render: CertificateRenderer = fake_certificate
    ) -> list[Certificate]:
        """Staff record the payment of every order the member has waiting, oldest first."""
        with self.session() as db:
            return [self._pay(db, order, render=render) for order in waiting_orders(db, member)]

    def withdrawal(
        self,
        member: MemberRef,
        quantity: int,
        *,
        code: str = "supporter",
        reason: str = "Saving for a tour van.",
        approved: bool = False,
    ) -> Withdrawal:
        """The member asks to withdraw shares; with ``approved``, staff record the board's yes."""
        with self.session() as db:
            stored = db.get(Member, member.id)
            withdrawal = withdrawals.request_withdrawal(
                db, stored, find_type(db, code), quantity, reason=reason, actor=stored.user
            )
            if approved:
                withdrawals.approve_withdrawal(
                    db,
                    withdrawal,
                    decision_reference="Board minute 2026/14",
                    actor=self._reviewer(db),
                )
            return withdrawal

    def share_terms(self, code: str, **values: Any) -> ShareType:
        """Change share type ``code`` as an admin would: ``share_terms("supporter",
        transferable=True)``."""
        with self.session() as db:
            return share_types.update_share_type(
                db, find_type(db, code), values, actor=self._reviewer(db)
            )

    def ledger_row(
        self,
        member: MemberRef,
        code: str,
        quantity: int,
        at: datetime,
        kind: LedgerKind = LedgerKind.ISSUE,
    ) -> LedgerEntry:
        """A row of the share ledger stamped ``at``, for registers that span past days.

        Rows are immutable and stamped with the time of the append, so time is set to ``at``
        for it: that is how rows get different days.
        """
        with self.session() as db, time_machine.travel(at, tick=False):
            return ledger.append(
                db,
                kind=kind,
                member=db.get(Member, member.id),
                share_type=find_type(db, code),
                quantity=quantity,
                currency="EUR",
                reference="test",
                actor=None,
            )

    def cease(self, member: MemberRef, note: str = "Resigned", *, on: date | None = None) -> None:
        """End a membership through the service, as a confirmed resignation would; ``on``
        sets the co-op's clock to that day."""
        with self.session() as db, on_day(on):
            leaving.cease_member(db, db.get(Member, member.id), actor=self._reviewer(db), note=note)

    def document(
        self,
        title: str,
        *,
        visibility: str = "public",
        category: str = "policies",
        versions: Iterable[tuple[date, str, str]] = ((date(2026, 1, 1), "v1", "First"),),
        slug: str | None = None,
        summary: str = "",
        approved_by: str = "",
        author: str = REVIEWER,
        rulebook: bool = False,
    ) -> Document:
        """A document with its Markdown ``versions`` (effective date, text, change note)
        published in turn by ``author`` (a staff account's e-mail; Rita Reviewer when there
        is none); marked the rulebook when ``rulebook``."""
        with self.session() as db:
            actor = users.find_user_by_email(db, author) or self._reviewer(db)
            document = publishing.create_document(
                db,
                title=title,
                slug=slug,
                category=category,
                visibility=visibility,
                summary=summary,
                approved_by=approved_by,
                actor=actor,
            )
            for effective_on, body, note in versions:
                publishing.publish_markdown(
                    db,
                    document,
                    body=body,
                    effective_on=effective_on,
                    change_note=note,
                    actor=actor,
                )
            if rulebook:
                publishing.mark_rulebook(db, document, actor=actor)
            return document

    def meeting(
        self,
        *,
        title: str = "Annual general meeting",
        resolutions: Iterable[Mapping[str, Any]] = ({"title": "Approve the minutes"},),
        state: str = "voting_open",
        days: int = 30,
        kind: str = "agm",
        member_class: str | None = None,
    ) -> MeetingRef:
        """A meeting ``days`` from now, record date today, with ``resolutions`` (each a
        mapping of ``title``, ``text``, ``kind``, ``member_class`` code, ``secret``, and the
        slug of a document it ``amends``), moved
        to ``state``: draft, noticed, voting_open or voting_closed. Make the members who
        are to be on the roll first: the roll is frozen when the notice goes out."""
        with self.session() as db:
            actor = self._reviewer(db)
            clock = portal.coop.clock(db)
            given = lifecycle.MeetingInput(
                kind=MeetingKind(kind),
                title=title,
                starts_at=clock.now() + timedelta(days=days),
                record_date=clock.today(),
                place="The Guildhall, Cork",
                member_class=find_class(db, member_class) if member_class else None,
            )
            meeting = lifecycle.create_meeting(db, given, actor=actor)
            if not meeting.agenda:
                lifecycle.add_agenda_item(db, meeting, title="Resolutions", actor=actor)
            for spec in resolutions:
                code = spec.get("member_class")
                lifecycle.add_resolution(
                    db,
                    meeting,
                    title=spec["title"],
                    text=spec.get("text", f"RESOLVED that {spec['title'].lower()}."),
                    kind=ResolutionKind(spec.get("kind", "ordinary")),
                    member_class=find_class(db, code) if code else None,
                    secret=spec.get("secret", False),
                    amends=db.scalar(select(Document).where(Document.slug == spec["amends"]))
                    if spec.get("amends")
                    else None,
                    actor=actor,
                )
            if state != "draft":
                lifecycle.send_notice(db, meeting, actor=actor, short_notice_reason="Test")
            if state in ("voting_open", "voting_closed"):
                lifecycle.open_voting(db, meeting, actor=actor)
            if state == "voting_closed":
                closing.close_voting(db, meeting, actor=actor)
            db.flush()
            return MeetingRef(meeting.id, tuple(r.id for r in meeting.resolutions))

    def vote(self, meeting: MeetingRef, member: MemberRef, *choices: str) -> None:
        """``member`` votes ``choices`` on the meeting's resolutions, in order."""
        with self.session() as db:
            voter = db.get(Member, member.id)
            for resolution_id, choice in zip(meeting.resolution_ids, choices, strict=False):
                ballots.cast_vote(
                    db, db.get(Resolution, resolution_id), voter, choice, actor=voter.user
                )

    def proxy(
        self,
        meeting: MeetingRef,
        grantor: MemberRef,
        holder: MemberRef | None,
        *choices: str | None,
        accept: bool = False,
    ) -> int:
        """``grantor`` appoints ``holder`` as their proxy: directed, voting ``choices`` on
        the meeting's resolutions in order (None: the holder decides), or discretionary
        without choices; accepted by the holder if ``accept``; ``holder`` None: the chair. The
        appointment's id."""
        with self.session() as db:
            member = grantor.load(db)
            appointment = proxies.appoint_proxy(
                db,
                db.get(Meeting, meeting.id),
                member,
                holder=holder.load(db) if holder else None,
                kind=ProxyKind.DIRECTED if choices else ProxyKind.DISCRETIONARY,
                directions={
                    resolution_id: Choice(choice) if choice else None
                    for resolution_id, choice in itertools.zip_longest(
                        meeting.resolution_ids, choices
                    )
                },
                actor=member.user,
            )
            if accept:
                held = holder.load(db)
                proxies.answer_proxy(db, appointment, held, accept=True, actor=held.user)
            db.flush()
            return appointment.id

    def cast_proxy(
        self, appointment_id: int, resolution_id: int, holder: MemberRef, choice: str | None
    ) -> None:
        """``holder`` casts the proxy's vote on the resolution: ``choice``, or as directed."""
        with self.session() as db:
            held = holder.load(db)
            proxies.cast_proxy(
                db,
                db.get(ProxyAppointment, appointment_id),
                db.get(Resolution, resolution_id),
                choice,
                holder=held,
                actor=held.user,
            )

    def close_meeting(self, meeting: MeetingRef) -> None:
        """Staff close voting on the meeting, counting every resolution."""
        with self.session() as db:
            closing.close_voting(db, db.get(Meeting, meeting.id), actor=self._reviewer(db))

    def publish_minutes(self, meeting: MeetingRef, chair: str = "Jo Chair") -> None:
        """Staff publish the closed meeting's minutes as pre-filled, chaired by ``chair``."""
        with self.session() as db:
            closed = db.get(Meeting, meeting.id)
            minutes.publish_minutes(
                db,
                closed,
                chair=chair,
                body=minutes.prefilled_body(db, closed),
                actor=self._reviewer(db),
            )

    # -- the steps, inside one session ---------------------------------------------------------

    def _reviewer(self, db: Session) -> User:
        found = users.find_user_by_email(db, REVIEWER)
        if found is not None:
            return found
        rita = users.create_user(
            db,
            name="Rita Reviewer",
            email=REVIEWER,
            password=PASSWORD,
            role=Role.STAFF,
            verified=True,
        )
        db.flush()
        two_factor_service.enrol_with_secret(db, rita, pyotp.random_base32(32))
        return rita

    def _account(self, db: Session, email: str, name: str) -> User:
        """The account with this e-mail, or a new verified one."""
        found = users.find_user_by_email(db, email)
        return found or users.create_user(
            db, name=name, email=email, password=PASSWORD, role=Role.MEMBER, verified=True
        )

    def _apply(
        self, db: Session, user: User, code: str, town: str, *, submit: bool = True
    ) -> Application:
        """Start the user's application to ``code`` and submit it (or keep it a draft)."""
        application = applications.start_application(db, user, find_class(db, code))
        given = ApplicationInput(
            answers=ANSWERS[code], address={**ADDRESS, "town": town}, accept_rules=True
        )
        if not submit:
            return applications.save_draft(db, application, given, actor=user)
        return applications.submit_application(db, application, given, actor=user)

    def _order(self, db: Session, member: Member, code: str, quantity: int) -> ShareOrder:
        return orders.place_order(db, member, find_type(db, code), quantity, actor=member.user)

    def _pay(
        self,
        db: Session,
        order: ShareOrder,
        *,
        amount: int | None = None,
        reference: str | None = None,
        render: CertificateRenderer = fake_certificate,
    ) -> Certificate:
        payment = payments.Payment(
            amount_minor=order.amount_minor if amount is None else amount,
            paid_on=portal.coop.today(db),
            method="bank_transfer",
            reference=reference or f"BANK-{order.id}",
        )
        return payments.settle_order(db, order, payment, actor=self._reviewer(db), render=render)

    def _buy(
        self, db: Session, member: Member, code: str, quantity: int, render: CertificateRenderer
    ) -> Certificate:
        share_type = find_type(db, code)
        waiting = db.scalar(
            select(ShareOrder).where(
                ShareOrder.member_id == member.id,
                ShareOrder.share_type_id == share_type.id,
                ShareOrder.quantity == quantity,
                ShareOrder.state == OrderState.PENDING_PAYMENT,
            )
        )
        order = waiting or self._order(db, member, code, quantity)
        return self._pay(db, order, render=render)


# -- the fixtures -----------------------------------------------------------------------------


@pytest.fixture
def factories(app: Flask, request: pytest.FixtureRequest) -> Factories:
    """Every factory at once, for helpers that take them all (the browser crawl's Site)."""
    test_db = request.getfixturevalue("db") if "db" in request.fixturenames else None
    return Factories(app, test_db)


@pytest.fixture
def coop(factories: Factories) -> CoopSettings:
    """The Reverb co-op (see :meth:`Factories.coop`); its settings, in the test's session
    when it has one (change them there and the services see it)."""
    return factories.coop()


@pytest.fixture
def make_user(factories: Factories) -> Callable[..., User]:
    """Create an account: ``make_user(role="staff", email=...)`` (see Factories.user)."""
    return factories.user


@pytest.fixture
def reviewer(factories: Factories) -> User:
    """Rita Reviewer, the staff member the factories act as (she approves and takes money)."""
    return factories.reviewer()


@pytest.fixture
def make_applicant(factories: Factories, coop: CoopSettings) -> Callable[..., Applicant]:
    """An applicant: ``make_applicant(code="worker", state="draft")`` (Factories.applicant)."""
    return factories.applicant


@pytest.fixture
def make_member(factories: Factories, coop: CoopSettings) -> Callable[..., MemberRef]:
    """A member: ``make_member(classes=["artist"], shares={"supporter": 10})``."""
    return factories.member


@pytest.fixture
def make_order(factories: Factories, coop: CoopSettings) -> Callable[..., ShareOrder]:
    """An order waiting for payment: ``make_order(member, "supporter", 10)``."""
    return factories.order


@pytest.fixture
def pay(factories: Factories, coop: CoopSettings) -> Callable[..., Certificate]:
    """Staff record an order's payment: ``pay(order, amount=750)``; the certificate."""
    return factories.pay


@pytest.fixture
def buy(factories: Factories, coop: CoopSettings) -> Callable[..., Certificate]:
    """A member orders and pays: ``buy(member, "supporter", 25)``; the certificate."""
    return factories.buy


@pytest.fixture
def share_terms(factories: Factories, coop: CoopSettings) -> Callable[..., ShareType]:
    """Change a share type's terms: ``share_terms("supporter", transferable=True)``."""
    return factories.share_terms


@pytest.fixture
def make_ledger_row(factories: Factories, coop: CoopSettings) -> Callable[..., LedgerEntry]:
    """A ledger row at an instant: ``make_ledger_row(ann, "supporter", 10, at(...))``."""
    return factories.ledger_row


@pytest.fixture
def cease(factories: Factories, coop: CoopSettings) -> Callable[..., None]:
    """End a membership: ``cease(member)``."""
    return factories.cease


@pytest.fixture
def make_document(factories: Factories, coop: CoopSettings) -> Callable[..., Document]:
    """A published document: ``make_document("Rules", category="rules", versions=[...])``."""
    return factories.document


@pytest.fixture
def make_meeting(factories: Factories, coop: CoopSettings) -> Callable[..., MeetingRef]:
    """A meeting with resolutions, in a state: ``make_meeting(state="noticed")``."""
    return factories.meeting


@pytest.fixture
def sign_in(app: Flask) -> Callable[..., CSRFClient]:
    """A new client signed in as ``email``: ``sign_in("staff@example.org")``."""

    def make(email: str, password: str = PASSWORD) -> CSRFClient:
        client: CSRFClient = app.test_client()  # type: ignore[assignment]
        response = client.login(email, password)
        assert response.status_code == 303, f"{email} could not sign in"
        return client

    return make


@pytest.fixture
def staff(make_user: Callable[..., User], sign_in: Callable[..., CSRFClient]) -> CSRFClient:
    """A client signed in as a staff member, Sam Staff (staff@example.org)."""
    make_user(email="staff@example.org", role="staff", name="Sam Staff")
    return sign_in("staff@example.org")


@pytest.fixture
def admin(make_user: Callable[..., User], sign_in: Callable[..., CSRFClient]) -> CSRFClient:
    """A client signed in as an admin, Ada Admin (admin@example.org)."""
    make_user(email="admin@example.org", role="admin", name="Ada Admin")
    return sign_in("admin@example.org")


# -- reading what the app stored --------------------------------------------------------------


def today_iso() -> str:
    """Today in the test co-op's time zone, as a date field is filled in: the day a payment
    recorded now can have moved (not before its order was placed, not after today)."""
    return portal.coop.Clock.named("Europe/Dublin").today().isoformat()


@contextmanager
def reading(app: Flask) -> Iterator[Session]:
    """A short read session, to check what the app stored."""
    session = database(app).session(write=False)
    try:
        yield session
    finally:
        session.close()


def count(app: Flask, model: type, *where: Any) -> int:
    """How many rows of ``model`` match ``where``."""
    with reading(app) as db:
        return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


def age_sessions(app: Flask, **spans: timedelta) -> None:
    """Move every session record's times (``created_at=timedelta(hours=13)``…) back."""
    with database(app).session(write=True) as db, db.begin():
        for record in db.scalars(select(UserSession)):
            for column, span in spans.items():
                setattr(record, column, getattr(record, column) - span)


def row_counts(app: Flask) -> dict[str, int]:
    """Rows per table; the per-IP limiter's own counts (``rate_limits``, kept by the limiter
    on a connection of its own, as Redis would keep them) are not the portal's data."""
    with reading(app) as session:
        return {
            t.name: session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
            if t.name != "rate_limits"
        }


def audit_actions(app: Flask) -> list[str]:
    """Every audit action recorded so far, oldest first."""
    with reading(app) as db:
        return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def audit_trail(db: Session, target: Any) -> list[str]:
    """The audit actions about ``target`` (a row), oldest first."""
    return list(
        db.scalars(
            select(AuditEvent.action)
            .where(
                AuditEvent.object_type == type(target).__name__.lower(),
                AuditEvent.object_id == str(target.id),
            )
            .order_by(AuditEvent.id)
        )
    )


def waiting_orders(db: Session, member: Any) -> list[ShareOrder]:
    """The member's orders (a ref or the row) waiting for payment, oldest first."""
    return list(
        db.scalars(
            select(ShareOrder)
            .where(
                ShareOrder.member_id == member.id,
                ShareOrder.state == OrderState.PENDING_PAYMENT,
            )
            .order_by(ShareOrder.id)
        )
    )


def application_of(app: Flask, application_id: int) -> Application:
    """The application as stored now (detached; its columns only)."""
    with reading(app) as db:
        return db.get(Application, application_id)


def mails_to(outbox: Callable[[], list[OutboxMessage]], email: str) -> list[OutboxMessage]:
    """The messages in the outbox for ``email``, newest first."""
    return [m for m in outbox() if m.to == email]


def is_partial(response: Any) -> bool:
    """An htmx partial: no page around it, and caches told it depends on HX-Request."""
    body = response.get_data(as_text=True)
    return "<html" not in body and "HX-Request" in response.headers.get("Vary", "")


def is_page(response: Any) -> bool:
    """A full page, with caches told it depends on HX-Request."""
    body = response.get_data(as_text=True)
    return "<html" in body and "HX-Request" in response.headers.get("Vary", "")


@contextmanager
def sql_statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block, as a list."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = database(app).engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
