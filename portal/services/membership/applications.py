"""Applying to join a member class: the form's answers, drafts, submission, withdrawal.

States (DESIGN.md §2, the table on ``ApplicationState``): draft → submitted →
(needs_info → submitted) → approved | rejected, and withdrawn by the applicant from any
open state. Staff decide in ``membership.review``; a class admitted automatically
(``MemberClass.admission_rule``) is approved at submission.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ... import coop, mail
from ...errors import InvalidFields, InvalidInput, InvalidState, NotAllowed
from ...models import (
    OPEN_APPLICATION_STATES,
    AdmissionRule,
    Application,
    ApplicationQuestion,
    ApplicationState,
    MemberClass,
    MemberStatus,
    QuestionKind,
    User,
    utcnow,
)
from .. import audit, transitions
from ..documents import library
from ..register import members
from ..shares import orders
from . import review
from .review import REASON_MAX

TEXT_MAX = 200
LONG_TEXT_MAX = 5000
URL_MAX = 500


ADDRESS_LIMITS = {
    "address_line1": ("Address", 120, True),
    "address_line2": ("Address line 2", 120, False),
    "town": ("Town or city", 80, True),
    "postcode": ("Postcode", 20, False),
    "country": ("Country", 60, True),
}


@dataclass(frozen=True)
class ApplicationInput:
    """What an applicant typed: answers by question key, address, and rule acceptance."""

    answers: Mapping[str, str]
    address: Mapping[str, str]
    accept_rules: bool = False
    reply: str = ""

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> ApplicationInput:
        """Read the application form's fields (``answer-<key>``, address, ``accept_rules``)."""
        return cls(
            answers={
                k.removeprefix("answer-"): v for k, v in form.items() if k.startswith("answer-")
            },
            address={k: form.get(k, "") for k in ADDRESS_LIMITS},
            accept_rules=form.get("accept_rules") in {"y", "on", "true", "1"},
            reply=form.get("reply", ""),
        )


def answer_field(question: ApplicationQuestion) -> str:
    """The form field name of a question's answer."""
    return f"answer-{question.key}"


def _check_answer(question: ApplicationQuestion, raw: str, *, strict: bool) -> str:
    """The cleaned answer; InvalidInput with a message fit to show beside the field."""
    value = (raw or "").strip()
    if not value:
        if strict and question.required:
            raise InvalidInput("This answer is required.")
        return ""
    kind = question.kind
    limit = {QuestionKind.LONG_TEXT: LONG_TEXT_MAX, QuestionKind.URL: URL_MAX}.get(kind, TEXT_MAX)
    if len(value) > limit:
        raise InvalidInput(f"Use at most {limit} characters.")
    if kind is QuestionKind.URL:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or "." not in (parts.hostname or ""):
            raise InvalidInput("Enter a full web address starting with https://")
    elif kind is QuestionKind.NUMBER:
        try:
            number = Decimal(value.replace(",", ""))
        except InvalidOperation:
            raise InvalidInput("Enter a number, such as 40.") from None
        if not number.is_finite() or number < 0 or number > 1_000_000:
            raise InvalidInput("Enter a number between 0 and 1,000,000.")
        value = format(number.normalize(), "f")
    elif kind is QuestionKind.YES_NO and value not in {"yes", "no"}:
        raise InvalidInput("Choose yes or no.")
    return value


def check_input(
    member_class: MemberClass, given: ApplicationInput, *, strict: bool
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Cleaned answers and address; InvalidFields listing every problem at once.

    ``strict`` (submission) also requires the required answers, the address and the
    acceptance of the rules; a draft only has to respect lengths and types.
    """
    errors: dict[str, str] = {}
    answers = []
    for question in member_class.questions:
        try:
            value = _check_answer(question, given.answers.get(question.key, ""), strict=strict)
        except InvalidInput as exc:
            errors[answer_field(question)] = exc.message
            value = (given.answers.get(question.key) or "")[:LONG_TEXT_MAX]
        answers.append(
            {
                "key": question.key,
                "label": question.label,
                "kind": question.kind.value,
                "value": value,
            }
        )
    address = {}
    for name, (label, limit, required) in ADDRESS_LIMITS.items():
        value = (given.address.get(name) or "").strip()
        if len(value) > limit:
            errors[name] = f"Use at most {limit} characters."
        elif strict and required and not value:
            errors[name] = f"Enter your {label.lower()}."
        address[name] = value[:limit]
    if strict and not given.accept_rules:
        errors["accept_rules"] = "You must accept the rules to become a member."
    if errors:
        raise InvalidFields(errors)
    return answers, address


def open_application(db: Session, user: User, member_class: MemberClass) -> Application | None:
    """The user's open application for this class, if there is one."""
    return db.scalar(
        select(Application).where(
            Application.user_id == user.id,
            Application.class_id == member_class.id,
            Application.state.in_(OPEN_APPLICATION_STATES),
        )
    )


def refusal(db: Session, user: User, member_class: MemberClass) -> str | None:
    """Why ``user`` may not apply to the class, in words fit to show before they type;
    None when they may (an open application of theirs is continued, not refused)."""
    member = members.member_for_user(db, user)
    if member is not None and member_class in member.active_classes:
        return f"You are already a member of the {member_class.name} class."
    if member is not None and member.status is MemberStatus.CEASED:
        return "Your membership has ceased. Please contact the co-op to rejoin."
    return None


def start_application(db: Session, user: User, member_class: MemberClass) -> Application:
    """The user's open application for the class, or a new draft; refused when not allowed."""
    if not user.email_verified:
        raise NotAllowed("Confirm your e-mail address before you apply.")
    if not member_class.open_for_applications:
        raise InvalidState(f"The {member_class.name} class is not taking applications.")
    existing = open_application(db, user, member_class)
    if existing is not None:
        return existing
    refused = refusal(db, user, member_class)
    if refused is not None:
        raise InvalidState(refused)
    member = members.member_for_user(db, user)
    application = Application(
        user=user, member_class=member_class, state=ApplicationState.DRAFT, answers=[]
    )
    if member is not None:  # the register already has the address
        application.address_line1 = member.address_line1
        application.address_line2 = member.address_line2
        application.town = member.town
        application.postcode = member.postcode
        application.country = member.country
    db.add(application)
    db.flush()
    audit.record(
        db,
        actor=user,
        action="application.started",
        target=application,
        summary=f"Draft application to the {member_class.name} class",
    )
    return application


def _require_owner(application: Application, actor: User) -> None:
    if application.user_id != actor.id:
        raise NotAllowed("This is not your application.")


def _store(
    application: Application, answers: list[dict[str, Any]], address: dict[str, str]
) -> None:
    application.answers = answers
    for name, value in address.items():
        setattr(application, name, value)


def save_draft(
    db: Session, application: Application, given: ApplicationInput, *, actor: User
) -> Application:
    """Keep what the applicant has typed so far."""
    _require_owner(application, actor)
    if not application.is_draft:
        raise InvalidState(
            f"This application is {application.state.label.lower()}; it cannot be edited."
        )
    answers, address = check_input(application.member_class, given, strict=False)
    _store(application, answers, address)
    db.flush()
    return application


def _record_rulebook(db: Session, application: Application) -> None:
    """Note the rulebook version the applicant accepted: the library's, else the setting's.

    The setting is ``CoopSettings.rulebook_version``, for a co-op whose library holds no
    rulebook yet.
    """
    rulebook = library.current_rulebook(db, coop.today(db))
    if rulebook is None:
        application.rulebook_version = coop.settings(db).rulebook_version
        application.rulebook_version_id = None
        return
    document, version = rulebook
    application.rulebook_version = f"{document.title}, version {version.number}"[:120]
    application.rulebook_version_id = version.id


def submit_application(
    db: Session,
    application: Application,
    given: ApplicationInput,
    *,
    actor: User,
) -> Application:
    """Submit a complete draft (or answer a request for more information)."""
    _require_owner(application, actor)
    transitions.require(application.state, ApplicationState.SUBMITTED, doing="submitted")
    answers, address = check_input(application.member_class, given, strict=True)
    reply = given.reply.strip()
    answering = application.state is ApplicationState.NEEDS_INFO
    if answering:
        if not reply:
            raise InvalidFields({"reply": "Answer the question you were asked."})
        if len(reply) > REASON_MAX:
            raise InvalidFields({"reply": f"Use at most {REASON_MAX} characters."})
        application.applicant_reply = reply
    _store(application, answers, address)
    _record_rulebook(db, application)
    application.rules_accepted_at = utcnow()
    transitions.move(
        db,
        application,
        ApplicationState.SUBMITTED,
        actor=actor,
        doing="submitted",
        stamp="submitted_at",
        summary=(
            "Answered the request for information"
            if answering
            else f"Applied to the {application.member_class.name} class, accepting "
            f"{application.rulebook_version}"
        ),
    )
    if not answering:
        mail.queue(db, "application_received", to=actor.email, application=application)
    if application.member_class.admission_rule is AdmissionRule.AUTOMATIC:
        review.accept_applicant(
            db, application, actor=None, note="Admitted automatically; to be ratified by the board"
        )
    db.flush()
    return application


def withdraw_application(db: Session, application: Application, *, actor: User) -> Application:
    """The applicant withdraws an open application (they may apply again later)."""
    _require_owner(application, actor)
    orders.release_admission_order(db, application, actor=actor)
    transitions.move(
        db,
        application,
        ApplicationState.WITHDRAWN,
        actor=actor,
        doing="withdrawn",
        stamp="decided_at",
        summary=f"Withdrew the {application.member_class.name} application",
    )
    db.flush()
    return application


def applications_of(db: Session, user: User) -> list[Application]:
    """Every application of this user, newest first."""
    return list(
        db.scalars(
            select(Application)
            .options(joinedload(Application.member_class))
            .where(Application.user_id == user.id)
            .order_by(Application.created_at.desc(), Application.id.desc())
        )
    )


def submitted_by(db: Session, user_id: int | None) -> list[Application]:
    """A person's applications as staff see them (drafts are the applicant's), newest first."""
    if user_id is None:
        return []
    return list(
        db.scalars(
            select(Application)
            .options(joinedload(Application.member_class))
            .where(Application.user_id == user_id, Application.state != ApplicationState.DRAFT)
            .order_by(Application.created_at.desc(), Application.id.desc())
        )
    )


def get_for_applicant(db: Session, application_id: int, user: User) -> Application | None:
    """The application if it is this user's (None otherwise, never another's)."""
    return db.scalar(
        select(Application)
        .options(joinedload(Application.member_class))
        .where(Application.id == application_id, Application.user_id == user.id)
    )
