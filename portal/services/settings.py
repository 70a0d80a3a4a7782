"""The co-op's settings: admins change them one at a time; a preset starts a new co-op.

Each setting is read and checked by its own reader before it is stored, and every change
is audited with its old and new value.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import coop
from ..errors import InvalidInput, InvalidState
from ..models import (
    ApplicationQuestion,
    CoopSettings,
    MemberClass,
    ShareType,
    User,
)
from ..money import format_money
from ..presets import Preset
from . import audit
from .inputs import read_flag, read_money, read_text, read_whole


def apply_preset(db: Session, preset: Preset) -> None:
    """Load a preset's settings and member classes (into a co-op with no classes yet)."""
    if db.scalar(select(func.count()).select_from(MemberClass)):
        raise InvalidState("Member classes exist already; a preset only starts a new co-op.")
    stored = coop.stored_settings(db)
    for name, value in preset.settings.items():
        setattr(stored, name, value)
    for position, spec in enumerate(preset.classes):
        member_class = MemberClass(
            code=spec.code,
            name=spec.name,
            summary=spec.summary,
            description=spec.description,
            admission_rule=spec.admission_rule,
            annual_fee_minor=spec.annual_fee_minor,
            required_shares=spec.required_shares,
            board_seats=spec.board_seats,
            voting_weight=spec.voting_weight,
            position=position,
        )
        member_class.questions = [
            ApplicationQuestion(
                key=q.key, label=q.label, kind=q.kind, help=q.help, required=q.required, position=i
            )
            for i, q in enumerate(spec.questions)
        ]
        db.add(member_class)
    for position, spec in enumerate(preset.share_types):
        db.add(ShareType(position=position, **dataclasses.asdict(spec)))
    db.flush()


def _zone(value: Any) -> str:
    name = str(value or "").strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"{name or 'That'} is not a time zone name (e.g. Europe/Dublin)."
        ) from None
    return name


def _iban(value: Any) -> str:
    """An IBAN, checked by its ISO 13616 mod-97 check digits; empty is allowed."""
    iban = re.sub(r"\s+", "", str(value or "")).upper()
    if not iban:
        return ""
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", iban):
        raise InvalidInput("That is not an IBAN (e.g. IE29 AIBK 9311 5212 3456 78).")
    digits = "".join(str(int(c, 36)) for c in iban[4:] + iban[:4])
    if int(digits) % 97 != 1:
        raise InvalidInput("That IBAN's check digits are wrong; check for a typing mistake.")
    return iban


def _bic(value: Any) -> str:
    bic = str(value or "").strip().upper()
    if bic and not re.fullmatch(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?", bic):
        raise InvalidInput("A BIC has 8 or 11 letters and digits, e.g. AIBKIE2D.")
    return bic


def _currency(value: Any) -> str:
    code = str(value or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise InvalidInput("Currency must be a three-letter ISO code such as EUR.")
    return code


# Each editable setting: label, help, and how to read the typed value.
SETTING_FIELDS: dict[str, tuple[str, str, Any]] = {
    "name": (
        "Short name",
        "Shown in the header and in e-mail.",
        lambda v: read_text(v, "Short name", max_length=120),
    ),
    "legal_name": (
        "Legal name",
        "As registered, printed on certificates.",
        lambda v: read_text(v, "Legal name", max_length=200),
    ),
    "registration": (
        "Registration",
        "The register and number.",
        lambda v: read_text(v, "Registration", max_length=200),
    ),
    "address": (
        "Registered office",
        "",
        lambda v: read_text(v, "Registered office", max_length=300),
    ),
    "tagline": (
        "Tagline",
        "The landing page's headline.",
        lambda v: read_text(v, "Tagline", max_length=300),
    ),
    "purpose": (
        "Purpose",
        "A paragraph on the landing page.",
        lambda v: read_text(v, "Purpose", max_length=2000),
    ),
    "contact_email": (
        "Contact e-mail",
        "",
        lambda v: read_text(v, "Contact e-mail", max_length=254),
    ),
    "currency": ("Currency", "ISO code.", _currency),
    "timezone": ("Time zone", "Times are shown in this zone.", _zone),
    "notice_days": (
        "Notice period (clear days)",
        "Before a general meeting.",
        lambda v: read_whole(v, "Notice period", low=0, high=90),
    ),
    "voting_window_days": (
        "Voting window (days)",
        "",
        lambda v: read_whole(v, "Voting window", low=1, high=60),
    ),
    "quorum_min_members": (
        "Quorum: at least this many members",
        "",
        lambda v: read_whole(v, "Quorum", low=1, high=100_000),
    ),
    "quorum_percent": (
        "Quorum: or this % of eligible members",
        "The greater applies.",
        lambda v: read_whole(v, "Quorum percentage", low=0, high=100),
    ),
    "quorum_percent_per_class": (
        "Quorum in each class: this % of its own members",
        "0 turns it off; otherwise every class must reach it as well.",
        lambda v: read_whole(v, "Quorum in each class", low=0, high=100),
    ),
    "max_holding_minor": (
        "Maximum holding per member",
        "In the co-op's currency.",
        lambda v: read_money(v, "Maximum holding", high_minor=10**11),
    ),
    "proxies_per_holder": (
        "Proxies one member may hold",
        "",
        lambda v: read_whole(v, "Proxies per holder", low=0, high=100),
    ),
    "first_signatory_title": (
        "First signatory on certificates",
        "",
        lambda v: read_text(v, "Signatory", max_length=60),
    ),
    "second_signatory_title": (
        "Second signatory on certificates",
        "",
        lambda v: read_text(v, "Signatory", max_length=60),
    ),
    "first_signatory_name": (
        "First signatory's name",
        "Printed on new certificates.",
        lambda v: read_text(v, "Name", max_length=120, required=False),
    ),
    "second_signatory_name": (
        "Second signatory's name",
        "Printed on new certificates.",
        lambda v: read_text(v, "Name", max_length=120, required=False),
    ),
    "bank_account_name": (
        "Bank account name",
        "Shown with the payment instructions for shares.",
        lambda v: read_text(v, "Account name", max_length=120, required=False),
    ),
    "bank_iban": ("IBAN", "", lambda v: _iban(v)),
    "bank_bic": ("BIC", "", lambda v: _bic(v)),
    "retention_years": (
        "Keep ceased members' register data (years)",
        "",
        lambda v: read_whole(v, "Retention", low=1, high=100),
    ),
    "rulebook_version": (
        "Current rulebook version",
        "What applicants accept.",
        lambda v: read_text(v, "Rulebook version", max_length=120),
    ),
}


BOOLEAN_SETTINGS = {
    "two_person_approval": "Two staff members approve each application",
    "special_needs_class_majority": "Special resolutions also need a majority in each class",
}


def update_setting(db: Session, name: str, raw: Any, *, actor: User) -> CoopSettings:
    """Change one setting after checking the value; audited with old and new values."""
    stored = coop.stored_settings(db)
    if name in SETTING_FIELDS:
        label, _help, parse = SETTING_FIELDS[name]
        try:
            value = parse(raw)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field="value") from None
    elif name in BOOLEAN_SETTINGS:
        label, value = BOOLEAN_SETTINGS[name], read_flag(raw)
    else:
        raise InvalidInput(f"There is no setting called {name!r}.")
    old = getattr(stored, name)
    if old == value:
        return stored
    setattr(stored, name, value)
    if name.endswith("_minor"):  # an amount, in the co-op's currency
        old, value = (format_money(v, stored.currency) for v in (old, value))
    audit.record(
        db,
        actor=actor,
        action="settings.changed",
        target="coopsettings",
        summary=f"{label}: {old!s:.120} → {value!s:.120}",
    )
    db.flush()
    return stored
