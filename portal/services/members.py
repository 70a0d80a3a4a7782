"""The register of members: admission, classes, profile, resignation, export, anonymising."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from .. import mail
from ..errors import InvalidInput, InvalidState, NotAllowed
from ..models import (
    Application,
    AuditEvent,
    ClassMembership,
    Consent,
    CoopSettings,
    LedgerKind,
    Member,
    MemberClass,
    MemberStatus,
    MemberStatusChange,
    Resignation,
    ResignationState,
    ShareType,
    User,
    utcnow,
)
from . import audit
from .counters import next_number
from .pagination import Page, paginate

MEMBER_NUMBER = "member_number"


def member_for_user(db: Session, user: User) -> Member | None:
    """The user's entry on the register, if they are or were a member."""
    return db.scalar(
        select(Member)
        .options(selectinload(Member.class_memberships).joinedload(ClassMembership.member_class))
        .where(Member.user_id == user.id)
    )


def member_by_number(db: Session, number: int) -> Member | None:
    """The member with this number on the register, if any."""
    return db.scalar(select(Member).where(Member.number == number))


def _history(
    db: Session, member: Member, status: MemberStatus, note: str, actor: User | None
) -> None:
    db.add(
        MemberStatusChange(
            member_id=member.id, status=status, note=note, actor_id=actor.id if actor else None
        )
    )


def admit(db: Session, application: Application, *, actor: User | None, note: str) -> Member:
    """Put the applicant on the register (a new member number) or add the class to them."""
    user = application.user
    member_class = application.member_class
    today = utcnow().date()
    member = member_for_user(db, user)
    if member is None:
        member = Member(
            number=next_number(db, MEMBER_NUMBER),
            user=user,
            name=user.name,
            address_line1=application.address_line1,
            address_line2=application.address_line2,
            town=application.town,
            postcode=application.postcode,
            country=application.country,
            status=MemberStatus.ACTIVE,
            admitted_on=today,
            primary_class=member_class,
        )
        db.add(member)
        db.flush()
        _history(db, member, MemberStatus.ACTIVE, f"Admitted: {member_class.name}", actor)
        audit.record(
            db,
            actor=actor,
            action="member.admitted",
            target=member,
            summary=f"Member no. {member.number} admitted ({member_class.name})",
        )
    elif member.status is MemberStatus.CEASED:
        raise InvalidState(
            "This person's membership has ceased; they cannot be admitted to another class."
        )
    else:
        audit.record(
            db,
            actor=actor,
            action="member.class_added",
            target=member,
            summary=f"Member no. {member.number} joined the {member_class.name} class",
        )
    db.add(ClassMembership(member=member, member_class=member_class, admitted_on=today))
    db.flush()
    db.refresh(member, ["class_memberships"])
    return member


def set_primary_class(
    db: Session, member: Member, member_class: MemberClass, *, actor: User
) -> Member:
    """Choose the class in which the member votes; it must be one they belong to."""
    if member_class not in member.active_classes:
        raise InvalidInput("Choose one of your own member classes.", field="primary_class")
    if member.primary_class_id != member_class.id:
        member.primary_class = member_class
        audit.record(
            db,
            actor=actor,
            action="member.primary_class",
            target=member,
            summary=f"Primary (voting) class set to {member_class.name}",
        )
        db.flush()
    return member


# --- Profile -----------------------------------------------------------------------------

PROFILE_LIMITS = {
    "name": ("Name", 120, True),
    "address_line1": ("Address", 120, True),
    "address_line2": ("Address line 2", 120, False),
    "town": ("Town or city", 80, True),
    "postcode": ("Postcode", 20, False),
    "country": ("Country", 60, True),
}


def update_profile(
    db: Session,
    user: User,
    member: Member | None,
    values: Mapping[str, str],
    *,
    news_opt_in: bool,
    name_on_verify: bool | None = None,
) -> list[str]:
    """Update name, address and the consents; returns what changed."""
    cleaned = {}
    for name, (label, limit, required) in PROFILE_LIMITS.items():
        if member is None and name != "name":
            continue
        value = (values.get(name) or "").strip()
        if required and not value:
            raise InvalidInput(f"Enter your {label.lower()}.", field=name)
        if len(value) > limit:
            raise InvalidInput(f"Use at most {limit} characters.", field=name)
        cleaned[name] = value
    changed = []
    if cleaned["name"] != user.name:
        user.name = cleaned["name"]
        changed.append("name")
    if member is not None:
        for name, value in cleaned.items():
            if getattr(member, name) != value:
                setattr(member, name, value)
                if name != "name" or "name" not in changed:
                    changed.append(name)
        if member.news_opt_in != news_opt_in:
            member.news_opt_in = news_opt_in
            db.add(Consent(user_id=user.id, topic="news", granted=news_opt_in))
            changed.append("news consent")
        if name_on_verify is not None and member.name_on_verify != name_on_verify:
            member.name_on_verify = name_on_verify
            db.add(Consent(user_id=user.id, topic="name_on_verify", granted=name_on_verify))
            changed.append("name on certificate checks")
    if changed:
        audit.record(
            db,
            actor=user,
            action="member.profile_changed",
            target=user,
            summary="Changed " + ", ".join(sorted(set(changed))),
        )
        db.flush()
    return changed


def consent_history(db: Session, user: User) -> list[Consent]:
    """Every consent given or withdrawn, newest first."""
    return list(
        db.scalars(
            select(Consent)
            .where(Consent.user_id == user.id)
            .order_by(Consent.at.desc(), Consent.id.desc())
        )
    )


# --- Resignation and ceasing ---------------------------------------------------------------


def pending_resignation(db: Session, member: Member) -> Resignation | None:
    """The member's resignation awaiting staff confirmation, if any."""
    return db.scalar(
        select(Resignation).where(
            Resignation.member_id == member.id, Resignation.state == ResignationState.PENDING
        )
    )


def request_resignation(db: Session, member: Member, reason: str, *, actor: User) -> Resignation:
    """The member asks to resign; staff confirm it."""
    if member.user_id != actor.id:
        raise NotAllowed("Only the member can ask to resign.")
    if member.status is MemberStatus.CEASED:
        raise InvalidState("Your membership has already ceased.")
    if pending_resignation(db, member) is not None:
        raise InvalidState("You have already asked to resign; staff will confirm it.")
    if len(reason or "") > 2000:
        raise InvalidInput("Use at most 2000 characters.", field="reason")
    resignation = Resignation(member=member, reason=(reason or "").strip())
    db.add(resignation)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="member.resignation_requested",
        target=member,
        summary=f"Member no. {member.number} asked to resign",
    )
    return resignation


def withdraw_resignation(db: Session, resignation: Resignation, *, actor: User) -> None:
    """The member changes their mind before staff confirm."""
    if resignation.member.user_id != actor.id:
        raise NotAllowed("Only the member can withdraw their resignation.")
    if resignation.state is not ResignationState.PENDING:
        raise InvalidState("This resignation is no longer pending.")
    resignation.state = ResignationState.WITHDRAWN
    resignation.decided_at = utcnow()
    audit.record(
        db,
        actor=actor,
        action="member.resignation_withdrawn",
        target=resignation.member,
        summary="Withdrew the request to resign",
    )
    db.flush()


def confirm_resignation(db: Session, resignation: Resignation, *, actor: User) -> Member:
    """Staff confirm a resignation: the member ceases today."""
    if resignation.state is not ResignationState.PENDING:
        raise InvalidState("This resignation is no longer pending.")
    resignation.state = ResignationState.CONFIRMED
    resignation.decided_at = utcnow()
    resignation.decided_by_id = actor.id
    member = cease_member(db, resignation.member, actor=actor, note="Resigned")
    if member.user is not None:
        mail.queue(db, "resignation_confirmed", to=member.user.email, member=member)
    return member


def cease_member(db: Session, member: Member, *, actor: User, note: str) -> Member:
    """End the membership: date ceased set, every class ended (shares are cancelled later)."""
    if member.status is MemberStatus.CEASED:
        raise InvalidState("This membership has already ceased.")
    today = utcnow().date()
    member.status = MemberStatus.CEASED
    member.ceased_on = today
    for membership in member.class_memberships:
        if membership.ended_on is None:
            membership.ended_on = today
    _cancel_membership_shares(db, member, actor)
    _history(db, member, MemberStatus.CEASED, note, actor)
    audit.record(
        db,
        actor=actor,
        action="member.ceased",
        target=member,
        summary=f"Member no. {member.number} ceased: {note}",
    )
    db.flush()
    return member


def _cancel_membership_shares(db: Session, member: Member, actor: User | None) -> None:
    """Cancel, without repayment, the shares the rules end with membership (a ``cancel`` row)."""
    from . import certificates, ledger

    coop = db.get(CoopSettings, 1)
    for share_type in db.scalars(select(ShareType).where(ShareType.cancelled_on_ceasing)):
        held = ledger.holding(db, member, share_type)
        if held <= 0:
            continue
        ledger.append(
            db,
            kind=LedgerKind.CANCEL,
            member=member,
            share_type=share_type,
            quantity=held,
            currency=coop.currency if coop else "EUR",
            reference="Membership ceased",
            actor=actor,
        )
        # Nothing remains, so this cancels the certificates and renders nothing.
        certificates.replace_certificates(
            db, member, share_type, actor=actor, settings=coop, render=None
        )


def set_status(
    db: Session, member: Member, status: MemberStatus, note: str, *, actor: User
) -> Member:
    """Mark a member lapsed or active again (ceasing has its own path)."""
    if status is MemberStatus.CEASED:
        return cease_member(db, member, actor=actor, note=note)
    if member.status is MemberStatus.CEASED:
        raise InvalidState("A ceased member cannot be reinstated; they apply again.")
    if member.status is status:
        return member
    member.status = status
    _history(db, member, status, note, actor)
    audit.record(
        db,
        actor=actor,
        action=f"member.{status.value}",
        target=member,
        summary=f"Member no. {member.number}: {note}",
    )
    db.flush()
    return member


# --- Export and anonymising ----------------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def export_data(db: Session, user: User) -> dict[str, Any]:
    """Everything the portal holds about this person, for their download."""
    member = member_for_user(db, user)
    applications = db.scalars(
        select(Application).where(Application.user_id == user.id).order_by(Application.id)
    ).all()
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.actor_id == user.id).order_by(AuditEvent.at)
    ).all()
    data: dict[str, Any] = {
        "exported_at": utcnow().isoformat(),
        "account": {
            "name": user.name,
            "email": user.email,
            "role": user.role.value,
            "created_at": _iso(user.created_at),
            "email_verified_at": _iso(user.email_verified_at),
            "last_login_at": _iso(user.last_login_at),
            "pending_email": user.pending_email,
        },
        "member": None,
        "applications": [
            {
                "id": a.id,
                "class": a.member_class.name,
                "state": a.state.value,
                "answers": a.answers,
                "address": {
                    k: getattr(a, k)
                    for k in ("address_line1", "address_line2", "town", "postcode", "country")
                },
                "rulebook_version": a.rulebook_version,
                "created_at": _iso(a.created_at),
                "submitted_at": _iso(a.submitted_at),
                "decided_at": _iso(a.decided_at),
                "reason": a.reason,
                "reply": a.applicant_reply,
            }
            for a in applications
        ],
        "consents": [
            {"topic": c.topic, "granted": c.granted, "at": _iso(c.at)}
            for c in consent_history(db, user)
        ],
        "activity": [
            {"at": _iso(e.at), "action": e.action, "summary": e.summary, "ip": e.ip} for e in events
        ],
    }
    if member is not None:
        data["member"] = {
            "number": member.number,
            "name": member.name,
            "status": member.status.value,
            "address": member.address_lines,
            "admitted_on": _iso(member.admitted_on),
            "ceased_on": _iso(member.ceased_on),
            "primary_class": member.primary_class.name if member.primary_class else None,
            "classes": [
                {
                    "class": cm.member_class.name,
                    "admitted_on": _iso(cm.admitted_on),
                    "ended_on": _iso(cm.ended_on),
                }
                for cm in member.class_memberships
            ],
            "news_opt_in": member.news_opt_in,
            "status_history": [
                {"at": _iso(c.at), "status": c.status.value, "note": c.note}
                for c in db.scalars(
                    select(MemberStatusChange)
                    .where(MemberStatusChange.member_id == member.id)
                    .order_by(MemberStatusChange.at)
                )
            ],
            "resignations": [
                {
                    "state": r.state.value,
                    "reason": r.reason,
                    "requested_at": _iso(r.requested_at),
                    "decided_at": _iso(r.decided_at),
                }
                for r in db.scalars(select(Resignation).where(Resignation.member_id == member.id))
            ],
        }
    return data


def anonymise(db: Session, member: Member, *, actor: User, retention_years: int) -> Member:
    """Remove a ceased member's personal data, keeping what the register must keep.

    The register's statutory fields (name, address, number, dates, classes) are kept
    until ``retention_years`` after ceasing; after that they are removed as well.
    """
    if member.status is not MemberStatus.CEASED or member.ceased_on is None:
        raise InvalidState("Only a ceased member can be anonymised.")
    today = utcnow().date()
    user = member.user
    expiry = date(
        member.ceased_on.year + retention_years,
        member.ceased_on.month,
        min(member.ceased_on.day, 28),
    )
    register_kept = today < expiry
    if user is not None:
        for application in db.scalars(select(Application).where(Application.user_id == user.id)):
            application.answers = []
            application.applicant_reply = None
            application.reason = None
            if not register_kept:
                for name in ("address_line1", "address_line2", "town", "postcode", "country"):
                    setattr(application, name, "")
        member.user = None
        user.name = "Former member"
        user.email = f"anonymised-{user.id}@invalid"
        user.pending_email = None
        user.password_hash = "!"  # noqa: S105 (matches no password)
        user.disabled_at = utcnow()
        user.session_version += 1
        for consent in db.scalars(select(Consent).where(Consent.user_id == user.id)):
            db.delete(consent)
    if not register_kept:
        member.name = f"Former member no. {member.number}"
        member.address_line1 = member.address_line2 = member.postcode = ""
        member.town = member.country = ""
    for resignation in db.scalars(select(Resignation).where(Resignation.member_id == member.id)):
        resignation.reason = ""
    member.news_opt_in = False
    member.name_on_verify = False
    member.anonymised_at = utcnow()
    audit.record(
        db,
        actor=actor,
        action="member.anonymised",
        target=member,
        summary=f"Member no. {member.number} anonymised"
        + ("; register entry kept until " + expiry.isoformat() if register_kept else ""),
    )
    db.flush()
    return member


# --- The register --------------------------------------------------------------------------


def search(
    db: Session,
    *,
    text: str = "",
    class_code: str = "",
    status: str = "",
    page: int = 1,
    per_page: int = 25,
) -> Page:
    """Members matching a name, e-mail or number, a class and a status; by number."""
    query = (
        select(Member)
        .outerjoin(Member.user)
        .options(
            joinedload(Member.user),
            selectinload(Member.class_memberships).joinedload(ClassMembership.member_class),
        )
    )
    needle = text.strip().lower()
    if needle:
        conditions = [
            func.lower(Member.name).contains(needle, autoescape=True),
            func.lower(User.email).contains(needle, autoescape=True),
        ]
        if needle.lstrip("#").isdigit():
            conditions.append(Member.number == int(needle.lstrip("#")))
        query = query.where(or_(*conditions))
    if class_code:
        query = query.where(
            Member.class_memberships.any(
                ClassMembership.member_class.has(MemberClass.code == class_code)
            )
        )
    if status:
        query = query.where(Member.status == status)
    return paginate(db, query.order_by(Member.number), page=page, per_page=per_page)


REGISTER_COLUMNS = (
    "member_number",
    "name",
    "address",
    "email",
    "classes",
    "date_admitted",
    "date_ceased",
    "status",
)


def register_rows(db: Session, *, batch: int = 500) -> Iterator[tuple[Any, ...]]:
    """The statutory register, one tuple per member, read in batches (for streaming)."""
    last = 0
    while True:
        rows = db.scalars(
            select(Member)
            .outerjoin(Member.user)
            .options(
                joinedload(Member.user),
                selectinload(Member.class_memberships).joinedload(ClassMembership.member_class),
            )
            .where(Member.number > last)
            .order_by(Member.number)
            .limit(batch)
        ).all()
        if not rows:
            return
        for member in rows:
            yield (
                member.number,
                member.name,
                ", ".join(member.address_lines),
                member.user.email if member.user else "",
                "; ".join(cm.member_class.name for cm in member.class_memberships),
                member.admitted_on.isoformat(),
                member.ceased_on.isoformat() if member.ceased_on else "",
                member.status.value,
            )
        last = rows[-1].number
