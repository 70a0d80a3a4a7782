"""Numbered share certificates: issuing one, and replacing them when a holding changes.

A certificate is rendered once, at issue, and its bytes kept with their SHA-256, so a
download years later is the document the member was given. When a holding shrinks or
moves (withdrawal, transfer, ceasing), the certificates that described it stop being
valid: ``superseded`` by one new certificate for what remains, or ``cancelled`` when
nothing does.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import coop, mail
from ...models import (
    Certificate,
    CertificateState,
    CoopSettings,
    LedgerKind,
    Member,
    ShareOrder,
    ShareType,
    User,
    utcnow,
)
from .. import audit, transitions
from ..counters import next_number
from . import ledger

CERTIFICATE_COUNTER = "certificate_number"

# Renders a certificate's PDF: (certificate, settings) -> bytes. The app passes
# pdf.render_certificate; tests may pass their own.
CertificateRenderer = Callable[[Certificate, CoopSettings], bytes]


def issue_certificate(
    db: Session,
    member: Member,
    share_type: ShareType,
    quantity: int,
    *,
    actor: User | None,
    render: CertificateRenderer,
    order: ShareOrder | None = None,
    notify: bool = True,
) -> Certificate:
    """Take the next certificate number, render and store the PDF, and tell the member."""
    certificate = Certificate(
        number=next_number(db, CERTIFICATE_COUNTER),
        member=member,
        share_type=share_type,
        quantity=quantity,
        issued_at=utcnow(),
        code=secrets.token_urlsafe(24),  # 192 random bits
        order_id=order.id if order else None,
    )
    certificate.pdf = render(certificate, coop.settings(db))
    certificate.sha256 = hashlib.sha256(certificate.pdf).hexdigest()
    db.add(certificate)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="certificate.issued",
        target=certificate,
        summary=f"Certificate no. {certificate.number}: {quantity} × "
        f"{share_type.name} to member no. {member.number}",
    )
    if notify and member.user is not None:
        mail.queue(
            db, "certificate_ready", to=member.user.email, certificate=certificate, member=member
        )
    return certificate


def certificate_of_order(db: Session, order: ShareOrder) -> Certificate | None:
    """The certificate issued when this order was paid; None until it is."""
    return db.scalar(select(Certificate).where(Certificate.order_id == order.id))


def valid_certificates(db: Session, member: Member, share_type: ShareType) -> list[Certificate]:
    """The member's certificates of this type that are still valid, oldest first."""
    return list(
        db.scalars(
            select(Certificate)
            .where(
                Certificate.member_id == member.id,
                Certificate.share_type_id == share_type.id,
                Certificate.state == CertificateState.VALID,
            )
            .order_by(Certificate.number)
        )
    )


def replace_certificates(
    db: Session,
    member: Member,
    share_type: ShareType,
    *,
    actor: User | None,
    render: CertificateRenderer | None,
    notify: bool = True,
) -> Certificate | None:
    """Make the member's certificates of this type match the ledger after a change.

    One new certificate covers the whole remaining holding and supersedes the old ones;
    with nothing left, the old ones are cancelled. ``render`` may be None only when the
    holding is known to be zero (ceasing). ``notify=False`` when the caller sends its own
    mail about the change.
    """
    old = valid_certificates(db, member, share_type)
    held = ledger.holding(db, member, share_type)
    if held <= 0:
        for certificate in old:
            transitions.move(
                db,
                certificate,
                CertificateState.CANCELLED,
                actor=actor,
                doing="cancelled",
                summary=f"Certificate no. {certificate.number} cancelled",
            )
        db.flush()
        return None
    if render is None:
        raise ValueError("a remaining holding needs a renderer for its new certificate")
    new = issue_certificate(db, member, share_type, held, actor=actor, render=render, notify=notify)
    for certificate in old:
        certificate.replaced_by_id = new.id
        transitions.move(
            db,
            certificate,
            CertificateState.SUPERSEDED,
            actor=actor,
            doing="superseded",
            summary=f"Certificate no. {certificate.number} superseded by no. {new.number}",
        )
    db.flush()
    return new


def issue_shares(
    db: Session,
    member: Member,
    share_type: ShareType,
    quantity: int,
    *,
    actor: User | None,
    render: CertificateRenderer,
    reference: str,
    order: ShareOrder | None = None,
    notify: bool = True,
) -> Certificate:
    """Put shares on the register (an ``issue`` row) and issue the numbered certificate."""
    ledger.append(
        db,
        kind=LedgerKind.ISSUE,
        member=member,
        share_type=share_type,
        quantity=quantity,
        currency=coop.settings(db).currency,
        reference=reference,
        actor=actor,
    )
    return issue_certificate(
        db, member, share_type, quantity, actor=actor, render=render, order=order, notify=notify
    )
