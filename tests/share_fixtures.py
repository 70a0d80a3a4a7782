"""Share fixtures for service tests: a co-op on the Resonate preset, a member, staff."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from portal.models import Member, MemberStatus, Role, ShareType
from portal.presets import RESONATE
from portal.services import accounts, settings, shares


def render(certificate, coop):
    """The certificate's identity as bytes (the PDF itself is tested in test_pdf.py)."""
    return f"certificate {certificate.number} {certificate.code}".encode()


def share_type(db, code):
    return db.scalar(select(ShareType).where(ShareType.code == code))


def pay(db, order, coop, actor=None, amount=None, reference="BANK-1"):
    return shares.record_payment(
        db,
        order,
        amount_minor=order.amount_minor if amount is None else amount,
        paid_on=date(2026, 11, 2),
        method="bank_transfer",
        bank_reference=reference,
        actor=actor,
        settings=coop,
        render=render,
    )


def add_member(db, number, name="Holder", user=None, user_id=None):
    """Put someone on the register directly (admission is tested elsewhere)."""
    holder = Member(
        number=number,
        name=name,
        user_id=user.id if user is not None else user_id,
        address_line1="1 Quay",
        town="Cork",
        country="Ireland",
        status=MemberStatus.ACTIVE,
        admitted_on=date(2026, 1, 1),
    )
    db.add(holder)
    db.flush()
    return holder


def buy(db, member, code, quantity, coop, staff, reference=None):
    """Order and pay for shares; returns the certificate."""
    order = shares.place_order(
        db, member, share_type(db, code), quantity, actor=None, settings=coop
    )
    return pay(db, order, coop, staff, reference=reference or f"BANK-{order.id}")


@pytest.fixture
def coop(db, app):
    settings.apply_preset(db, RESONATE, app.config)
    return settings.current_settings(db, app.config)


@pytest.fixture
def member(db, coop):
    return add_member(db, 1)


@pytest.fixture
def staff(db):
    return accounts.create_user(
        db,
        name="Staff",
        email="s@example.org",
        password="correct-horse-battery-staple-42",
        role=Role.STAFF,
        verified=True,
    )
