"""Applications to join a member class: drafts, submission, review and the decision.

States (DESIGN.md §2): draft → submitted → (needs_info → submitted) → approved | rejected,
and withdrawn by the applicant from any open state. With the two-person rule on, a first
approval moves the application to awaiting_second and another staff member confirms it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from .. import mail
from ..errors import InvalidInput, InvalidState, NotAllowed
from ..models import (
    OPEN_APPLICATION_STATES,
    AdmissionRule,
    Application,
    ApplicationQuestion,
    ApplicationState,
    CoopSettings,
    MemberClass,
    QuestionKind,
    User,
    utcnow,
)
from . import audit, documents, members, shares
from .pagination import Page, paginate

State = ApplicationState

TEXT_MAX = 200
LONG_TEXT_MAX = 5000
URL_MAX = 500
REASON_MAX = 2000
ADDRESS_LIMITS = {
    "address_line1": ("Address", 120, True),
    "address_line2": ("Address line 2", 120, False),
    "town": ("Town or city", 80, True),
    "postcode": ("Postcode", 20, False),
    "country": ("Country", 60, True),
}


class InvalidFields(InvalidInput):
    """Several inputs are wrong; ``errors`` maps each field name to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("Please correct the marked answers.")
        self.errors = errors


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


def start_application(db: Session, user: User, member_class: MemberClass) -> Application:
    """The user's open application for the class, or a new draft; refused when not allowed."""
    if not user.email_verified:
        raise NotAllowed("Confirm your e-mail address before you apply.")
    if not member_class.open_for_applications:
        raise InvalidState(f"The {member_class.name} class is not taking applications.")
    existing = open_application(db, user, member_class)
    if existing is not None:
        return existing
    member = members.member_for_user(db, user)
    if member is not None and member_class in member.active_classes:
        raise InvalidState(f"You are already a member of the {member_class.name} class.")
    if member is not None and member.status.value == "ceased":
        raise InvalidState("Your membership has ceased. Please contact the co-op to rejoin.")
    application = Application(user=user, member_class=member_class, state=State.DRAFT, answers=[])
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


def _require_state(application: Application, *allowed: ApplicationState, doing: str) -> None:
    if application.state not in allowed:
        raise InvalidState(
            f"This application is {application.state.value.replace('_', ' ')}; "
            f"it cannot be {doing}."
        )


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
    _require_state(application, State.DRAFT, doing="edited")
    answers, address = check_input(application.member_class, given, strict=False)
    _store(application, answers, address)
    db.flush()
    return application


def _record_rulebook(db: Session, application: Application, settings: CoopSettings) -> None:
    """Note the rulebook version the applicant accepted: the library's, else the setting's."""
    today = utcnow().astimezone(ZoneInfo(settings.timezone)).date()
    rulebook = documents.current_rulebook(db, today)
    if rulebook is None:
        application.rulebook_version = settings.rulebook_version
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
    settings: CoopSettings,
) -> Application:
    """Submit a complete draft (or answer a request for more information)."""
    _require_owner(application, actor)
    _require_state(application, State.DRAFT, State.NEEDS_INFO, doing="submitted")
    answers, address = check_input(application.member_class, given, strict=True)
    reply = given.reply.strip()
    answering = application.state is State.NEEDS_INFO
    if answering:
        if not reply:
            raise InvalidFields({"reply": "Answer the question you were asked."})
        if len(reply) > REASON_MAX:
            raise InvalidFields({"reply": f"Use at most {REASON_MAX} characters."})
        application.applicant_reply = reply
    _store(application, answers, address)
    now = utcnow()
    _record_rulebook(db, application, settings)
    application.rules_accepted_at = now
    application.submitted_at = now
    application.state = State.SUBMITTED
    audit.record(
        db,
        actor=actor,
        action="application.submitted",
        target=application,
        summary=(
            "Answered the request for information"
            if answering
            else f"Applied to the {application.member_class.name} class, accepting "
            f"{settings.rulebook_version}"
        ),
    )
    if not answering:
        mail.queue(db, "application_received", to=actor.email, application=application)
    if application.member_class.admission_rule is AdmissionRule.AUTOMATIC:
        _decide_approved(
            db,
            application,
            actor=None,
            settings=settings,
            note="Admitted automatically; to be ratified by the board",
        )
    db.flush()
    return application


def withdraw_application(db: Session, application: Application, *, actor: User) -> Application:
    """The applicant withdraws an open application (they may apply again later)."""
    _require_owner(application, actor)
    _require_state(application, *OPEN_APPLICATION_STATES, doing="withdrawn")
    application.state = State.WITHDRAWN
    application.decided_at = utcnow()
    audit.record(
        db,
        actor=actor,
        action="application.withdrawn",
        target=application,
        summary=f"Withdrew the {application.member_class.name} application",
    )
    db.flush()
    return application


def _reason(text: str, what: str) -> str:
    reason = (text or "").strip()
    if not reason:
        raise InvalidInput(f"Write the {what}.", field="reason")
    if len(reason) > REASON_MAX:
        raise InvalidInput(f"Use at most {REASON_MAX} characters.", field="reason")
    return reason


def ask_for_information(
    db: Session, application: Application, question: str, *, actor: User
) -> Application:
    """Staff ask the applicant a question; the application waits for the answer."""
    _require_state(application, State.SUBMITTED, State.AWAITING_SECOND, doing="queried")
    application.reason = _reason(question, "question for the applicant")
    application.state = State.NEEDS_INFO
    application.reviewer = actor
    application.first_approver = None
    audit.record(
        db,
        actor=actor,
        action="application.needs_info",
        target=application,
        summary="Asked the applicant for more information",
    )
    mail.queue(db, "application_needs_info", to=application.user.email, application=application)
    db.flush()
    return application


def reject_application(
    db: Session, application: Application, reason: str, *, actor: User
) -> Application:
    """Staff reject the application with a reason the applicant will read."""
    _require_state(
        application, State.SUBMITTED, State.NEEDS_INFO, State.AWAITING_SECOND, doing="rejected"
    )
    application.reason = _reason(reason, "reason for the applicant")
    application.state = State.REJECTED
    application.reviewer = actor
    application.decided_at = utcnow()
    audit.record(
        db,
        actor=actor,
        action="application.rejected",
        target=application,
        summary=f"Rejected the {application.member_class.name} application",
    )
    mail.queue(db, "application_rejected", to=application.user.email, application=application)
    db.flush()
    return application


def approve_application(
    db: Session, application: Application, *, actor: User, settings: CoopSettings
) -> Application:
    """Approve: admit the applicant to the class, or record the first of two approvals."""
    _require_state(application, State.SUBMITTED, State.AWAITING_SECOND, doing="approved")
    if application.user_id == actor.id:
        raise NotAllowed("Staff cannot approve their own application.")
    if settings.two_person_approval:
        if application.state is State.SUBMITTED:
            application.state = State.AWAITING_SECOND
            application.first_approver = actor
            audit.record(
                db,
                actor=actor,
                action="application.first_approval",
                target=application,
                summary="First of two approvals",
            )
            db.flush()
            return application
        if application.first_approver_id == actor.id:
            raise NotAllowed("A second staff member must confirm this approval.")
    _decide_approved(db, application, actor=actor, settings=settings, note="Approved by staff")
    db.flush()
    return application


def _decide_approved(
    db: Session,
    application: Application,
    *,
    actor: User | None,
    settings: CoopSettings,
    note: str,
) -> None:
    """Admit the applicant and close the application as approved (one transaction).

    The class's required membership shares are ordered at once, for the member to pay.
    """
    member = members.admit(db, application, actor=actor, note=note)
    shares.order_required_shares(db, member, application.member_class, settings=settings)
    application.state = State.APPROVED
    application.member_id = member.id
    application.reviewer = actor
    application.decided_at = utcnow()
    audit.record(
        db,
        actor=actor,
        action="application.approved",
        target=application,
        summary=f"{note}: member no. {member.number}, {application.member_class.name} class",
    )
    mail.queue(
        db,
        "application_approved",
        to=application.user.email,
        application=application,
        member=member,
    )


def approve_many(
    db: Session, applications: Iterable[Application], *, actor: User, settings: CoopSettings
) -> list[Application]:
    """Approve each of several applications (all or none: the caller commits once)."""
    return [approve_application(db, a, actor=actor, settings=settings) for a in applications]


# --- Reading -----------------------------------------------------------------------------


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


def get_for_applicant(db: Session, application_id: int, user: User) -> Application | None:
    """The application if it is this user's (None otherwise, never another's)."""
    return db.scalar(
        select(Application)
        .options(joinedload(Application.member_class))
        .where(Application.id == application_id, Application.user_id == user.id)
    )


def review_queue(
    db: Session, *, state: str = "", class_code: str = "", page: int = 1, per_page: int = 25
) -> Page:
    """Applications for staff, by state ("open", "all" but drafts, or one) and class."""
    query = (
        select(Application)
        .join(Application.member_class)
        .options(
            joinedload(Application.user),
            joinedload(Application.member_class),
            selectinload(Application.first_approver),
        )
    )
    if state == "open":
        query = query.where(
            Application.state.in_([State.SUBMITTED, State.NEEDS_INFO, State.AWAITING_SECOND])
        )
    elif state and state != "all":
        query = query.where(Application.state == state)
    else:
        query = query.where(Application.state != State.DRAFT)  # drafts are private
    if class_code:
        query = query.where(MemberClass.code == class_code)
    query = query.order_by(Application.submitted_at.asc(), Application.id.asc())
    return paginate(db, query, page=page, per_page=per_page)


def get_for_review(db: Session, application_id: int) -> Application | None:
    """An application staff may review (any but a private draft)."""
    application = db.get(Application, application_id)
    if application is None or application.state is State.DRAFT:
        return None
    return application
