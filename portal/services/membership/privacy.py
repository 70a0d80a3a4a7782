"""A person's data rights: everything held about them, and anonymising a former member.

Board elections (issue 15) are read from the models: this area sits beside meetings,
below the elections services."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import coop
from ...errors import InvalidState
from ...models import (
    Application,
    AuditEvent,
    Candidate,
    Consent,
    Director,
    Election,
    Member,
    MemberStatus,
    MemberStatusChange,
    Resignation,
    User,
    utcnow,
)
from .. import audit
from ..accounts import sessions, two_factor
from ..register import members, profile


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _election_name(election: Election) -> str:
    return f"{election.member_class.name} directors, {election.meeting.title}"


def _board_data(db: Session, member: Member) -> dict[str, Any]:
    """The member's candidacies (statement, photo's checksum and type), the nominations
    they made or seconded, and their terms on the board."""
    candidacies = db.scalars(
        select(Candidate).where(Candidate.member_id == member.id).order_by(Candidate.id)
    ).all()
    backed = db.scalars(
        select(Candidate)
        .where(
            Candidate.member_id != member.id,
            (Candidate.nominated_by_id == member.id) | (Candidate.seconded_by_id == member.id),
        )
        .order_by(Candidate.id)
    ).all()
    terms = db.scalars(
        select(Director).where(Director.member_id == member.id).order_by(Director.term_started_on)
    ).all()
    return {
        "candidacies": [
            {
                "election": _election_name(c.election),
                "class": c.election.member_class.name,
                "state": c.state.label,
                "self_nominated": c.self_nominated,
                "nominated_at": _iso(c.nominated_at),
                "accepted_at": _iso(c.accepted_at),
                "statement": c.statement,
                "photo_sha256": c.photo_sha256,
                "photo_type": c.photo_type,
                "reject_reason": c.reject_reason,
                "withdrawn_at": _iso(c.withdrawn_at),
            }
            for c in candidacies
        ],
        "nominations_backed": [
            {
                "election": _election_name(c.election),
                "class": c.election.member_class.name,
                "as": "nominator" if c.nominated_by_id == member.id else "seconder",
                "nominee_number": c.member.number,
            }
            for c in backed
        ],
        "director_terms": [
            {
                "class": d.member_class.name,
                "term_started_on": _iso(d.term_started_on),
                "term_ends_on": _iso(d.term_ends_on),
                "elected": d.election_id is not None,
            }
            for d in terms
        ],
    }


def export_data(db: Session, user: User) -> dict[str, Any]:
    """Everything the portal holds about this person, for their download."""
    member = members.member_for_user(db, user)
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
            "role": user.role.label,
            "created_at": _iso(user.created_at),
            "email_verified_at": _iso(user.email_verified_at),
            "last_login_at": _iso(user.last_login_at),
            "pending_email": user.pending_email,
            "two_factor_enabled_at": _iso(user.two_factor_enabled_at),
        },
        "member": None,
        "applications": [
            {
                "id": a.id,
                "class": a.member_class.name,
                "state": a.state.label,
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
            for c in profile.consent_history(db, user)
        ],
        "activity": [
            {"at": _iso(e.at), "action": e.action, "summary": e.summary, "ip": e.ip} for e in events
        ],
    }
    if member is not None:
        data["member"] = {
            "number": member.number,
            "name": member.name,
            "status": member.status.label,
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
                {"at": _iso(c.at), "status": c.status.label, "note": c.note}
                for c in db.scalars(
                    select(MemberStatusChange)
                    .where(MemberStatusChange.member_id == member.id)
                    .order_by(MemberStatusChange.at)
                )
            ],
            "resignations": [
                {
                    "state": r.state.label,
                    "reason": r.reason,
                    "requested_at": _iso(r.requested_at),
                    "decided_at": _iso(r.decided_at),
                }
                for r in db.scalars(select(Resignation).where(Resignation.member_id == member.id))
            ],
            **_board_data(db, member),
        }
    return data


def anonymise(db: Session, member: Member, *, actor: User) -> Member:
    """Remove a ceased member's personal data, keeping what the register must keep.

    The register's statutory fields (name, address, number, dates, classes) are kept
    until ``CoopSettings.retention_years`` after ceasing; after that they are removed too.
    A candidate's statement and photo are removed at once (the candidacy and its outcome,
    and any term on the board, stay in the record).
    """
    retention_years = coop.settings(db).retention_years
    if member.status is not MemberStatus.CEASED or member.ceased_on is None:
        raise InvalidState("Only a ceased member can be anonymised.")
    today = coop.today(db)
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
        two_factor.forget(db, user)
        user.disabled_at = utcnow()
        sessions.end_all_sessions(db, user)
        for consent in db.scalars(select(Consent).where(Consent.user_id == user.id)):
            db.delete(consent)
    if not register_kept:
        member.name = f"Former member no. {member.number}"
        member.address_line1 = member.address_line2 = member.postcode = ""
        member.town = member.country = ""
    for resignation in db.scalars(select(Resignation).where(Resignation.member_id == member.id)):
        resignation.reason = ""
    for candidate in db.scalars(select(Candidate).where(Candidate.member_id == member.id)):
        candidate.statement = ""
        candidate.photo_sha256 = candidate.photo_type = None
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
