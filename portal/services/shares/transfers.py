"""Transferring shares between members, where the share type allows it.

Off by default: neither membership nor supporter shares are transferable in the seeded
rules. Where an admin makes a type transferable, staff record a transfer the board has
approved; the ledger gets a ``transfer_out`` and a ``transfer_in`` row, and both members'
certificates of that type are replaced by ones matching their new holdings.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ... import coop
from ...errors import InvalidInput, InvalidState, NotAllowed
from ...models import (
    LedgerKind,
    Member,
    MemberStatus,
    ShareType,
    Transfer,
    User,
)
from .. import audit
from . import ledger
from .certificates import CertificateRenderer, replace_certificates
from .orders import capital_ordered
from .withdrawals import withdrawable_quantity


def check_transfer(
    db: Session,
    from_member: Member,
    to_member: Member,
    share_type: ShareType,
    quantity: int,
) -> list[str]:
    """Every rule the transfer would break, in words (empty when none)."""
    if not share_type.transferable:
        return [f"{share_type.plural} are not transferable under the rules."]
    problems = []
    if from_member.id == to_member.id:
        problems.append("Choose two different members.")
    if to_member.status is not MemberStatus.ACTIVE:
        problems.append(f"Member no. {to_member.number} is not an active member.")
    free = ledger.holding(db, from_member, share_type)
    if share_type.withdrawable:
        free = withdrawable_quantity(db, from_member, share_type)  # less open withdrawals
    if quantity < 1 or quantity > free:
        problems.append(
            f"Member no. {from_member.number} can transfer at most {share_type.count(free)}."
        )
    received = ledger.holding(db, to_member, share_type) + quantity
    if share_type.max_quantity is not None and received > share_type.max_quantity:
        problems.append(
            f"Member no. {to_member.number} may hold at most "
            f"{share_type.count(share_type.max_quantity)}."
        )
    amount = quantity * share_type.par_value_minor
    cap = coop.settings(db).max_holding_minor  # CoopSettings.max_holding_minor
    if ledger.capital(db, to_member) + capital_ordered(db, to_member) + amount > cap:
        problems.append(f"This would take member no. {to_member.number} over the holding limit.")
    return problems


def transfer_shares(
    db: Session,
    from_member: Member,
    to_member: Member,
    share_type: ShareType,
    quantity: int,
    *,
    decision_reference: str,
    actor: User,
    render: CertificateRenderer,
) -> Transfer:
    """Record a transfer the board approved: ledger rows and new certificates for both."""
    if not actor.is_staff:
        raise NotAllowed("Only staff record transfers.")
    if from_member.status is MemberStatus.CEASED:
        raise InvalidState(f"Member no. {from_member.number} has ceased.")
    problems = check_transfer(db, from_member, to_member, share_type, quantity)
    if problems:
        raise InvalidInput(" ".join(problems), field="quantity")
    decision_reference = decision_reference.strip()
    if not decision_reference:
        raise InvalidInput(
            "Give the board's decision reference for the transfer.", field="decision_reference"
        )
    transfer = Transfer(
        from_member=from_member,
        to_member=to_member,
        share_type=share_type,
        quantity=quantity,
        decision_reference=decision_reference[:120],
        recorded_by_id=actor.id,
    )
    db.add(transfer)
    db.flush()
    reference = f"Transfer {transfer.id}, {transfer.decision_reference}"
    for kind, member in (
        (LedgerKind.TRANSFER_OUT, from_member),
        (LedgerKind.TRANSFER_IN, to_member),
    ):
        ledger.append(
            db,
            kind=kind,
            member=member,
            share_type=share_type,
            quantity=quantity,
            currency=coop.settings(db).currency,
            reference=reference,
            actor=actor,
        )
    for member in (from_member, to_member):
        replace_certificates(db, member, share_type, actor=actor, render=render)
    audit.record(
        db,
        actor=actor,
        action="shares.transferred",
        target=transfer,
        summary=f"{quantity} × {share_type.name} from member no. {from_member.number} "
        f"to member no. {to_member.number} ({transfer.decision_reference})",
    )
    return transfer


def transferable_types(db: Session) -> list[ShareType]:
    """Share types the rules let members transfer (none, by default)."""
    return list(
        db.scalars(select(ShareType).where(ShareType.transferable).order_by(ShareType.position))
    )


def recent_transfers(db: Session, limit: int = 50) -> list[Transfer]:
    """The latest transfers recorded, newest first."""
    return list(
        db.scalars(
            select(Transfer)
            .options(
                joinedload(Transfer.from_member),
                joinedload(Transfer.to_member),
                joinedload(Transfer.share_type),
            )
            .order_by(Transfer.recorded_at.desc())
            .limit(limit)
        )
    )
