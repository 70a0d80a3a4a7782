"""Fixtures for the membership view tests: the Reverb co-op, applicants, members, sign-ins.

The data is made through the services, as the app makes it, so it obeys every rule and
leaves the same audit trail. Each test module binds the fixtures it uses to a module-level
name (``coop = shared.coop``), which is how pytest finds them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.db import database, write_session
from portal.models import Application, ApplicationState, AuditEvent, Member, Role, User
from portal.presets import RESONATE
from portal.services import accounts, applications, members, settings
from portal.services.applications import ApplicationInput

from .conftest import PASSWORD, CSRFClient

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


def application_form(code: str = "artist", **changes: str) -> dict[str, str]:
    """The application form as a browser posts it, complete; ``changes`` override fields."""
    form = {f"answer-{key}": value for key, value in ANSWERS[code].items()}
    form.update(ADDRESS)
    form.update(accept_rules="y", action="submit")
    form.update(changes)
    return form


@pytest.fixture
def coop(app: Flask) -> None:
    """The Reverb co-op: listener (admitted at once), artist and worker (staff review)."""
    with app.test_request_context("/"), write_session(app) as db:
        settings.apply_preset(db, RESONATE, app.config)


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


def audit_actions(app: Flask) -> list[str]:
    """Every audit action recorded so far, oldest first."""
    with reading(app) as db:
        return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def application_of(app: Flask, application_id: int) -> Application:
    """The application as stored now (detached; its columns only)."""
    with reading(app) as db:
        return db.get(Application, application_id)


@pytest.fixture
def sign_in(app: Flask) -> Callable[[str], CSRFClient]:
    """A new client signed in as ``email``: ``sign_in("staff@example.org")``."""

    def make(email: str, password: str = PASSWORD) -> CSRFClient:
        client: CSRFClient = app.test_client()  # type: ignore[assignment]
        response = client.login(email, password)
        assert response.status_code == 303, f"{email} could not sign in"
        return client

    return make


@pytest.fixture
def staff(make_user: Callable[..., User], sign_in: Callable[[str], CSRFClient]) -> CSRFClient:
    """A client signed in as a staff member, Sam Staff."""
    make_user(email="staff@example.org", role="staff", name="Sam Staff")
    return sign_in("staff@example.org")


@pytest.fixture
def admin(make_user: Callable[..., User], sign_in: Callable[[str], CSRFClient]) -> CSRFClient:
    """A client signed in as an admin, Ada Admin."""
    make_user(email="admin@example.org", role="admin", name="Ada Admin")
    return sign_in("admin@example.org")


def mails_to(outbox: Callable[[], list[Any]], email: str) -> list[Any]:
    """The messages in the outbox for ``email``, newest first."""
    return [m for m in outbox() if m.to == email]


@dataclass(frozen=True)
class Applicant:
    """Someone with an application: their account and the application's id."""

    user_id: int
    email: str
    name: str
    application_id: int


@dataclass(frozen=True)
class MemberRef:
    """A member on the register, with the account they sign in with."""

    id: int
    number: int
    user_id: int
    email: str
    name: str


def _new_user(db: Session, email: str, name: str, role: Role = Role.MEMBER) -> User:
    return accounts.create_user(
        db, name=name, email=email, password=PASSWORD, role=role, verified=True
    )


def _reviewer(db: Session) -> User:
    """The staff member who approves the fixtures' applications."""
    user = accounts.find_user_by_email(db, "reviewer@example.org")
    return user or _new_user(db, "reviewer@example.org", "Rita Reviewer", Role.STAFF)


def _apply(db: Session, user: User, code: str, town: str, *, submit: bool = True) -> Application:
    """Start the user's application to class ``code`` and submit it (or keep it a draft)."""
    application = applications.start_application(db, user, settings.find_class(db, code))
    given = ApplicationInput(
        answers=ANSWERS[code], address={**ADDRESS, "town": town}, accept_rules=True
    )
    if not submit:
        return applications.save_draft(db, application, given, actor=user)
    coop_settings = settings.current_settings(db, current_app.config)
    return applications.submit_application(
        db, application, given, actor=user, settings=coop_settings
    )


@pytest.fixture
def make_applicant(app: Flask, coop: None) -> Callable[..., Applicant]:
    """An applicant with an application: ``make_applicant(code="worker", state="draft")``.

    ``state`` is draft, submitted, needs_info or rejected; ``email`` reuses an account.
    """
    numbers = iter(range(1, 10_000))

    def make(
        *,
        code: str = "artist",
        state: str = "submitted",
        email: str | None = None,
        name: str | None = None,
        town: str = "Cork",
    ) -> Applicant:
        n = next(numbers)
        with app.test_request_context("/"), write_session(app) as db:
            user = accounts.find_user_by_email(db, email) if email else None
            if user is None:
                user = _new_user(
                    db, email or f"applicant{n}@example.org", name or f"Applicant Number{n}"
                )
            application = _apply(db, user, code, town, submit=state != "draft")
            if state == "needs_info":
                applications.ask_for_information(
                    db, application, "Which label released it?", actor=_reviewer(db)
                )
            elif state == "rejected":
                applications.reject_application(
                    db, application, "We could not find the release.", actor=_reviewer(db)
                )
            return Applicant(user.id, user.email, user.name, application.id)

    return make


@pytest.fixture
def make_member(app: Flask, coop: None) -> Callable[..., MemberRef]:
    """A member admitted to ``classes`` in order: ``make_member(classes=("artist",))``."""
    numbers = iter(range(1, 10_000))

    def make(
        *,
        classes: tuple[str, ...] = ("artist",),
        email: str | None = None,
        name: str | None = None,
        town: str = "Cork",
    ) -> MemberRef:
        n = next(numbers)
        with app.test_request_context("/"), write_session(app) as db:
            user = _new_user(db, email or f"member{n}@example.org", name or f"Member Number{n}")
            coop_settings = settings.current_settings(db, app.config)
            for code in classes:
                application = _apply(db, user, code, town)
                if application.state is not ApplicationState.APPROVED:  # listeners are at once
                    applications.approve_application(
                        db, application, actor=_reviewer(db), settings=coop_settings
                    )
            member = members.member_for_user(db, user)
            assert member is not None
            return MemberRef(member.id, member.number, user.id, user.email, user.name)

    return make


def cease(app: Flask, member: MemberRef) -> None:
    """End a membership through the service (as a confirmed resignation would)."""
    with app.test_request_context("/"), write_session(app) as db:
        members.cease_member(db, db.get(Member, member.id), actor=_reviewer(db), note="Resigned")


def is_partial(response: Any) -> bool:
    """An htmx partial: no page around it, and caches told it depends on HX-Request."""
    body = response.get_data(as_text=True)
    return "<html" not in body and "HX-Request" in response.headers.get("Vary", "")


def is_page(response: Any) -> bool:
    """A full page, with caches told it depends on HX-Request."""
    body = response.get_data(as_text=True)
    return "<html" in body and "HX-Request" in response.headers.get("Vary", "")


HTMX = {"HX-Request": "true"}
