"""Staff review of applications: asking for more, rejecting, approving and admitting.

With the two-person rule on (``CoopSettings.two_person_approval``) a first approval moves
the application to awaiting_second and another staff member confirms it. Approval admits
the applicant to the register in the same transaction, with the next member number.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ... import coop, mail
from ...errors import InvalidInput, InvalidState, NotAllowed
from ...models import (
    AWAITING_DECISION,
    Application,
    ApplicationState,
    MemberClass,
    User,
    utcnow,
)
from .. import audit, transitions
from ..pagination import KeyPage, keyset_page
from ..register import members
from ..shares import orders, payments

REASON_MAX = 2000


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
    transitions.require(application.state, ApplicationState.NEEDS_INFO, doing="queried")
    application.reason = _reason(question, "question for the applicant")
    application.reviewer = actor
    application.first_approver = None
    transitions.move(
        db,
        application,
        ApplicationState.NEEDS_INFO,
        actor=actor,
        doing="queried",
        summary="Asked the applicant for more information",
    )
    mail.queue(db, "application_needs_info", to=application.user.email, application=application)
    db.flush()
    return application


def reject_application(
    db: Session, application: Application, reason: str, *, actor: User
) -> Application:
    """Staff reject the application with a reason the applicant will read."""
    transitions.require(application.state, ApplicationState.REJECTED, doing="rejected")
    application.reason = _reason(reason, "reason for the applicant")
    application.reviewer = actor
    transitions.move(
        db,
        application,
        ApplicationState.REJECTED,
        actor=actor,
        doing="rejected",
        stamp="decided_at",
        summary=f"Rejected the {application.member_class.name} application",
    )
    orders.release_admission_order(db, application, actor=actor)
    mail.queue(db, "application_rejected", to=application.user.email, application=application)
    db.flush()
    return application


def approve_application(db: Session, application: Application, *, actor: User) -> Application:
    """Approve: accept the applicant, or record the first of two approvals."""
    transitions.require(application.state, ApplicationState.AWAITING_SHARE, doing="approved")
    if application.user_id == actor.id:
        raise NotAllowed("Staff cannot approve their own application.")
    if coop.settings(db).two_person_approval:  # CoopSettings.two_person_approval
        if application.state is ApplicationState.SUBMITTED:
            application.first_approver = actor
            transitions.move(
                db,
                application,
                ApplicationState.AWAITING_SECOND,
                actor=actor,
                doing="approved",
                action="application.first_approval",
                summary="First of two approvals",
            )
            db.flush()
            return application
        if application.first_approver_id == actor.id:
            raise NotAllowed("A second staff member must confirm this approval.")
    accept_applicant(db, application, actor=actor, note="Approved by staff")
    db.flush()
    return application


def accept_applicant(
    db: Session, application: Application, *, actor: User | None, note: str
) -> None:
    """The application is approved: membership follows the membership share (rule 8.1).

    Someone new is asked to pay the membership share (and the class's first annual fee):
    the admission order is placed and the application waits for its payment, which admits
    them (``shares.payments.settle_order``). A member already (rule 9.1: one membership
    share, however many classes) joins the further class at once.
    """
    application.reviewer = actor
    member = members.member_for_user(db, application.user)
    order = None
    if member is None:
        order = orders.waiting_admission_order(db, application.user)
        if order is not None:
            orders.add_class_to_admission(db, order, application)
        else:
            order = orders.order_admission(db, application)
    if order is None:
        application.decided_at = utcnow()
        member = members.admit_applicant(
            db,
            application,
            actor=actor,
            note=f"{note}; joined a further class" if member is not None else note,
        )
        mail.queue(
            db,
            "application_approved",
            to=application.user.email,
            application=application,
            member=member,
        )
        return
    transitions.move(
        db,
        application,
        ApplicationState.AWAITING_SHARE,
        actor=actor,
        doing="approved",
        stamp="decided_at",
        summary=f"{note}: awaiting the membership share, reference {order.payment_reference}",
    )
    mail.queue(
        db,
        "membership_share_due",
        to=application.user.email,
        application=application,
        order=order,
        instructions=payments.instructions_for(order, coop.settings(db)),
    )


def remind_to_pay(db: Session, application: Application, *, actor: User) -> None:
    """Staff send the approved applicant the payment details again."""
    order = (
        orders.waiting_admission_order(db, application.user) if application.awaits_share else None
    )
    if order is None:
        raise InvalidState("Only an approved application awaiting its share can be chased.")
    audit.record(
        db,
        actor=actor,
        action="application.reminded",
        target=application,
        summary=f"Reminded to pay {order.payment_reference}",
    )
    mail.queue(
        db,
        "membership_share_due",
        to=application.user.email,
        application=application,
        order=order,
        instructions=payments.instructions_for(order, coop.settings(db)),
        reminder=True,
    )


def approve_many(
    db: Session, applications: Iterable[Application], *, actor: User
) -> list[Application]:
    """Approve each of several applications (all or none: the caller commits once)."""
    return [approve_application(db, a, actor=actor) for a in applications]


def review_queue(
    db: Session,
    *,
    state: str = "",
    class_code: str = "",
    after: int | None = None,
    before: int | None = None,
    per_page: int = 25,
) -> KeyPage:
    """Applications for staff, by state ("open", "all" but drafts, or one) and class,
    oldest first, paged by key (``submitted_at``, ``id``) from the application ``after``
    (or up to ``before``); each row's applicant, class, approver, orders and member are
    loaded with the page (a statement each, whatever its length)."""
    query = (
        select(Application)
        .join(Application.member_class)
        .options(
            joinedload(Application.user),
            joinedload(Application.member_class),
            selectinload(Application.first_approver),
            selectinload(Application.orders),
            selectinload(Application.member),
        )
    )
    if state == "open":
        # Few of a co-op's applications await a decision: said so to SQLite's planner
        # (which otherwise reads the whole queue in order to stop early); the state's
        # index is used either way.
        waiting = Application.state.in_(AWAITING_DECISION)
        query = query.where(
            func.unlikely(waiting) if db.get_bind().dialect.name == "sqlite" else waiting
        )
    elif state and state != "all":
        query = query.where(Application.state == state)
    else:
        query = query.where(Application.state != ApplicationState.DRAFT)  # drafts are private
    if class_code:
        query = query.where(MemberClass.code == class_code)
    return keyset_page(
        db,
        query,
        (Application.submitted_at, Application.id),
        after=after,
        before=before,
        per_page=per_page,
    )


def get_for_review(db: Session, application_id: int) -> Application | None:
    """An application staff may review (any but a private draft)."""
    application = db.get(Application, application_id)
    if application is None or application.state is ApplicationState.DRAFT:
        return None
    return application
