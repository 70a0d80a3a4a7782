"""The demo co-op of a preset: its settings, documents, people and a lived-in register.

Every word of the co-op comes from its preset (``portal/presets/``) and its documents
(``portal/seed_documents/<preset>/``). Seeding goes through the same services as the app
(apply, approve, pay, resign…), so the demo data obeys every rule and leaves the same
audit trail as real use would.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from . import coop
from .models import MemberStatus, User
from .presets import PRESETS, Demo, DemoPerson, Preset
from .services import settings
from .services.accounts import users
from .services.documents import publishing
from .services.membership import applications, leaving, review
from .services.membership.applications import ApplicationInput
from .services.register import classes, members
from .services.shares import orders, payments, share_types, withdrawals
from .services.shares.certificates import CertificateRenderer


def _apply(
    db: Session, demo: Demo, user: User, code: str, answers: Mapping[str, str], town: str
) -> Any:
    member_class = classes.find_class(db, code)
    assert member_class is not None, code
    application = applications.start_application(db, user, member_class)
    given = ApplicationInput(
        answers=dict(answers or demo.answers.get(code, {})),
        address={
            "address_line1": f"{len(user.name) + 3} Main Street",
            "town": town,
            "country": demo.country,
        },
        accept_rules=True,
    )
    return applications.submit_application(db, application, given, actor=user)


def _join(
    db: Session, demo: Demo, user: User, codes: tuple[str, ...], staff: User, town: str
) -> None:
    """Apply to each class; staff approve (the membership share is paid later, or not)."""
    for code in codes:
        application = _apply(db, demo, user, code, {}, town)
        if application.can_approve:
            review.approve_application(db, application, actor=staff)


def _member(db: Session, email: str) -> Any:
    return members.member_for_user(db, users.find_user_by_email(db, email))


def _vote_in_last_class(db: Session, person: DemoPerson) -> None:
    """A member of several classes votes in the last they joined (their primary class)."""
    member = _member(db, person.email)
    if member is not None and len(person.classes) > 1:
        member_class = classes.find_class(db, person.classes[-1])
        members.set_primary_class(db, member, member_class, actor=member.user)


def _payment(amount_minor: int, demo: Demo, db: Session, reference: str) -> payments.Payment:
    """A bank transfer as the co-op's statement shows it: "<bank> <reference>"."""
    return payments.Payment(
        amount_minor=amount_minor,
        paid_on=coop.today(db),
        method="bank_transfer",
        reference=f"{demo.bank} {reference}",
    )


def _pay(db: Session, demo: Demo, order: Any, staff: User, render: CertificateRenderer) -> None:
    payment = _payment(order.amount_minor, demo, db, order.payment_reference)
    payments.settle_order(db, order, payment, actor=staff, render=render)


def _buy(
    db: Session,
    demo: Demo,
    email: str,
    quantity: int,
    staff: User,
    render: CertificateRenderer | None,
) -> Any:
    """A member orders investment shares; returns them (render=None leaves it unpaid)."""
    member = _member(db, email)
    investment = share_types.find_type(db, demo.investment)
    order = orders.place_order(db, member, investment, quantity, actor=member.user)
    if render is not None:
        _pay(db, demo, order, staff, render)
    return member


def _seed_shares(db: Session, demo: Demo, staff: User, render: CertificateRenderer) -> None:
    """Membership shares paid (but some), investment shares, withdrawals: a lived-in register.

    The holder holds the membership share and 25 investment shares on two certificates,
    has asked to withdraw 5 and has an order for 10 more awaiting payment. The chair
    bought 50 and withdrew 20, so one certificate is superseded.
    """
    unpaid = {
        _extra_email(demo, n)
        for n, extra in enumerate(demo.extra_members)
        if extra.fate == "unpaid"
    }
    for order in orders.pending_orders(db):
        payer = order.member.user if order.member else order.application.user
        if payer is None or payer.email not in unpaid:
            _pay(db, demo, order, staff, render)  # a membership share paid admits its applicant
    investment = share_types.find_type(db, demo.investment)

    holder = _buy(db, demo, demo.holder, 25, staff, render)
    withdrawals.request_withdrawal(
        db, holder, investment, 5, reason=demo.withdrawal_reason, actor=holder.user
    )
    _buy(db, demo, demo.holder, 10, staff, None)

    chair = _buy(db, demo, demo.chair, 50, staff, render)
    withdrawal = withdrawals.request_withdrawal(
        db, chair, investment, 20, reason="", actor=chair.user
    )
    withdrawals.approve_withdrawal(db, withdrawal, decision_reference=demo.decision, actor=staff)
    withdrawals.record_repayment(
        db,
        withdrawal,
        _payment(withdrawal.amount_minor, demo, db, "OUT-0917"),
        actor=staff,
        render=render,
    )
    for email, quantity in demo.purchases:
        _buy(db, demo, email, quantity, staff, render)


DOCUMENTS = Path(__file__).parent / "seed_documents"


def _table_rows(index: Path) -> list[list[str]]:
    """The body rows of the Markdown tables in ``index``, as lists of cells."""
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in index.read_text().splitlines()
        if line.startswith("| ") and not line.startswith(("| File |", "| Slug |"))
    ]


def _seed_documents(db: Session, folder: Path, staff: User) -> None:
    """The library from the preset's ``index.md``: its documents, then one row per version."""
    rows = _table_rows(folder / "index.md")
    about = {row[0]: (row[1], row[2]) for row in rows if len(row) == 3}
    made: dict[str, Any] = {}
    for file_name, slug, _number, title, category, visibility, effective, note in (
        row for row in rows if len(row) == 8
    ):
        if slug not in made:
            summary, approved_by = about[slug]
            made[slug] = publishing.create_document(
                db,
                title=title,
                slug=slug,
                category=category.lower(),
                visibility=visibility,
                summary=summary,
                approved_by=approved_by,
                actor=staff,
            )
        publishing.publish_markdown(
            db,
            made[slug],
            body=(folder / file_name).read_text(),
            effective_on=date.fromisoformat(effective),
            change_note=note,
            actor=staff,
        )
    publishing.mark_rulebook(db, made["rules"], actor=staff)


def _extra_email(demo: Demo, n: int, kind: str = "member") -> str:
    return f"{kind}{n + 1}@{demo.domain}"


def seed(
    db: Session,
    config: Mapping[str, Any],
    preset: str = "resonate",
    *,
    render: CertificateRenderer | None = None,
) -> bool:
    """Create the preset's demo co-op in an empty database; False if it holds data already.

    With ``render`` (the certificate renderer), shares are bought and paid too: only a
    paid membership share makes a member.
    """
    if users.count_users(db):
        return False
    chosen = PRESETS[preset]
    demo = chosen.demo
    settings.apply_preset(db, chosen)
    people = {
        person.email: users.create_user(
            db,
            name=person.name,
            email=person.email,
            password=person.password,
            role=person.role,
            title=person.title,
            verified=True,
        )
        for person in demo.people
    }
    staff = people[demo.acting_staff.email]
    _seed_documents(db, DOCUMENTS / chosen.name, staff)  # first: applicants accept the rules
    for person in demo.people:
        if person.classes:
            _join(db, demo, people[person.email], person.classes, staff, person.town)
    for person in demo.people:
        if person.applies_to:
            _apply(db, demo, people[person.email], person.applies_to, person.answers, person.town)

    for n, extra in enumerate(demo.extra_members):
        user = users.create_user(
            db,
            name=extra.name,
            email=_extra_email(demo, n),
            password=demo.extra_password,
            verified=True,
        )
        _join(db, demo, user, (extra.class_code,), staff, extra.town)
    if render is not None:  # without PDFs no share is paid, so no one is a member yet
        _seed_shares(db, demo, staff, render)
        for person in demo.people:
            _vote_in_last_class(db, person)
        for n, extra in enumerate(demo.extra_members):
            member = _member(db, _extra_email(demo, n))
            if extra.fate == "lapsed":
                leaving.set_status(db, member, MemberStatus.LAPSED, demo.lapse_note, actor=staff)
            elif extra.fate == "ceased":
                resignation = leaving.request_resignation(
                    db, member, demo.resignation_note, actor=member.user
                )
                leaving.confirm_resignation(db, resignation, actor=staff)

    for n, applicant in enumerate(demo.extra_applicants):
        user = users.create_user(
            db,
            name=applicant.name,
            email=_extra_email(demo, n, "applicant"),
            password=demo.extra_password,
            verified=True,
        )
        application = _apply(
            db, demo, user, applicant.class_code, applicant.answers, applicant.town
        )
        if applicant.question:
            review.ask_for_information(db, application, applicant.question, actor=staff)
    return True


def seeded_preset(db: Session) -> Preset | None:
    """The preset whose co-op this database holds (by its legal name), if any."""
    legal_name = coop.settings(db).legal_name
    return next((p for p in PRESETS.values() if p.settings["legal_name"] == legal_name), None)


def logins_text(preset: Preset) -> str:
    """The demo sign-ins of ``preset``'s co-op, for the terminal."""
    people = preset.demo.people
    lines = [f"Demo sign-ins for {preset.settings['legal_name']}:"]
    width = max(len(p.email) for p in people)
    for person in people:
        lines.append(f"  {person.email:<{width}}  {person.password:<28} {person.note}")
    return "\n".join(lines)
