"""Member classes: their terms and questions, and who belonged to which class on a date.

A member may belong to several classes (DESIGN.md §2); a membership of a class runs from
its admission date until the day it ends. The voter roll and the share register "as of"
a day both ask who was in which class then: :func:`in_class_on` and :func:`classes_on`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, selectinload

from ...errors import InvalidInput
from ...models import (
    AdmissionRule,
    ApplicationQuestion,
    ClassMembership,
    Member,
    MemberClass,
    QuestionKind,
    User,
)
from .. import audit
from ..inputs import read_choice, read_flag, read_money, read_text, read_whole

# The stable key under which a question's answers are kept.
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def list_classes(db: Session, *, open_only: bool = False) -> list[MemberClass]:
    """Member classes in their display order, with their questions."""
    query = select(MemberClass).options(selectinload(MemberClass.questions))
    if open_only:
        query = query.where(MemberClass.open_for_applications.is_(True))
    return list(db.scalars(query.order_by(MemberClass.position, MemberClass.id)))


def find_class(db: Session, code: str) -> MemberClass | None:
    """The member class with this code, if any."""
    return db.scalar(
        select(MemberClass)
        .options(selectinload(MemberClass.questions))
        .where(MemberClass.code == code)
    )


# --- Who was in which class on a date ----------------------------------------------------


def in_class_on(member_class: MemberClass, day: date) -> ColumnElement[bool]:
    """The member belonged to the class on ``day`` (a condition on ``Member``)."""
    return Member.class_memberships.any(
        and_(
            ClassMembership.class_id == member_class.id,
            ClassMembership.admitted_on <= day,
            or_(ClassMembership.ended_on.is_(None), ClassMembership.ended_on > day),
        )
    )


def classes_on(member: Member, day: date) -> str:
    """The member's classes on ``day`` (primary one starred); ended ones if none was current."""
    joined = [cm for cm in member.class_memberships if cm.admitted_on <= day]
    current = [cm for cm in joined if cm.ended_on is None or cm.ended_on > day]
    if current:
        return ", ".join(
            cm.member_class.name + ("*" if cm.class_id == member.primary_class_id else "")
            for cm in current
        )
    return ", ".join(f"{cm.member_class.name} (ended)" for cm in joined)


# --- Admin edits -------------------------------------------------------------------------

CLASS_FIELDS: dict[str, Any] = {
    "name": lambda v: read_text(v, "Name", max_length=80),
    "summary": lambda v: read_text(v, "Who it is for", max_length=300),
    "description": lambda v: read_text(v, "What it gives", max_length=4000),
    "required_shares": lambda v: read_whole(v, "Required shares", low=0, high=1000),
    "annual_fee_minor": lambda v: read_money(v, "Annual fee", high_minor=10**8),
    "board_seats": lambda v: read_whole(v, "Board seats", low=0, high=50),
    "voting_weight": lambda v: read_whole(v, "Voting weight", low=0, high=100),
}


def update_class(
    db: Session, member_class: MemberClass, values: Mapping[str, Any], *, actor: User
) -> MemberClass:
    """Change a member class's terms; each value is checked and the change audited."""
    changes = []
    for name, parse in CLASS_FIELDS.items():
        if name not in values:
            continue
        try:
            value = parse(values[name])
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field=name) from None
        if getattr(member_class, name) != value:
            changes.append(name)
            setattr(member_class, name, value)
    if "admission_rule" in values:
        rule = read_choice(
            AdmissionRule,
            values["admission_rule"],
            "Choose an admission rule.",
            field="admission_rule",
        )
        if rule != member_class.admission_rule:
            changes.append("admission_rule")
            member_class.admission_rule = rule
    if "open_for_applications" in values:
        is_open = read_flag(values["open_for_applications"])
        if is_open != member_class.open_for_applications:
            changes.append("open_for_applications")
            member_class.open_for_applications = is_open
    if changes:
        audit.record(
            db,
            actor=actor,
            action="member_class.changed",
            target=member_class,
            summary=f"{member_class.name}: changed {', '.join(changes)}",
        )
        db.flush()
    return member_class


def check_voting_weights(classes: list[MemberClass]) -> str | None:
    """Why the class weights cannot be used in class-weighted voting, or None if they can.

    DESIGN.md §2: the weights sum to 100, each between 10 and 50.
    """
    weights = [c.voting_weight for c in classes]
    if sum(weights) != 100:
        return f"The class voting weights add up to {sum(weights)}, not 100."
    if any(not 10 <= w <= 50 for w in weights):
        return "Each class's voting weight must be between 10 and 50."
    return None


def save_question(
    db: Session,
    member_class: MemberClass,
    values: Mapping[str, Any],
    *,
    actor: User,
    question: ApplicationQuestion | None = None,
) -> ApplicationQuestion:
    """Add a question to a class, or change one; answers are kept under its key."""
    label = read_text(values.get("label"), "Question", max_length=200)
    help_text = read_text(values.get("help"), "Help", max_length=300, required=False)
    kind = read_choice(QuestionKind, values.get("kind"), "Choose the kind of answer.", field="kind")
    required = read_flag(values.get("required"))
    if question is None:
        key = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:40] or "question"
        if not KEY_RE.match(key):
            key = f"q_{key}"[:40]
        taken = {q.key for q in member_class.questions}
        base, n = key, 2
        while key in taken:
            key = f"{base[:36]}_{n}"
            n += 1
        question = ApplicationQuestion(key=key, position=len(member_class.questions))
        member_class.questions.append(question)
        action = "question.added"
    else:
        if question.member_class is not member_class:
            raise InvalidInput("That question belongs to another class.")
        action = "question.changed"
    question.label, question.help, question.kind, question.required = (
        label,
        help_text,
        kind,
        required,
    )
    db.flush()
    audit.record(
        db, actor=actor, action=action, target=question, summary=f"{member_class.name}: {label}"
    )
    return question


def remove_question(
    db: Session, member_class: MemberClass, question: ApplicationQuestion, *, actor: User
) -> None:
    """Stop asking a question (answers already given keep their label)."""
    if question.member_class is not member_class:
        raise InvalidInput("That question belongs to another class.")
    member_class.questions.remove(question)
    for position, remaining in enumerate(member_class.questions):
        remaining.position = position
    audit.record(
        db,
        actor=actor,
        action="question.removed",
        target=member_class,
        summary=f"{member_class.name}: removed {question.label}",
    )
    db.flush()
