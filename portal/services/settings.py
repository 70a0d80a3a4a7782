"""The co-op's settings: admins change them one at a time; a preset starts a new co-op.

Each setting is read and checked by its own reader before it is stored, and every change
is audited with its old and new value.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from schwifty import BIC, IBAN
from schwifty.exceptions import InvalidChecksumDigits, SchwiftyException
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum.us import rtn

from .. import coop, tasks
from ..errors import InvalidInput, InvalidState
from ..models import (
    BANK_FIELDS,
    ApplicationQuestion,
    CoopSettings,
    MemberClass,
    PaymentForm,
    ShareType,
    User,
)
from ..money import format_money
from ..presets import Preset
from . import audit
from .inputs import read_choice, read_flag, read_money, read_text, read_whole


def apply_preset(db: Session, preset: Preset) -> None:
    """Load a preset's settings, member classes and share types (into a new co-op)."""
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
        values = dataclasses.asdict(spec)
        # The text names the share's own price, in the co-op's own currency.
        values["description"] = spec.description.format(
            par=format_money(spec.par_value_minor, stored.currency)
        )
        db.add(ShareType(position=position, **values))
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
    """An IBAN, checked by its country's length and its ISO 13616 check digits (schwifty)."""
    iban = re.sub(r"\s+", "", str(value or "")).upper()
    if not iban:
        return ""
    try:
        return IBAN(iban).compact
    except InvalidChecksumDigits:
        raise InvalidInput(
            "That IBAN's check digits are wrong; check for a typing mistake."
        ) from None
    except SchwiftyException:
        raise InvalidInput("That is not an IBAN (e.g. IE29 AIBK 9311 5212 3456 78).") from None


def _bic(value: Any) -> str:
    """A BIC (SWIFT code) of 8 or 11 letters and digits, in its ISO 9362 shape (schwifty)."""
    bic = re.sub(r"\s+", "", str(value or "")).upper()
    if not bic:
        return ""
    try:
        return str(BIC(bic))
    except SchwiftyException:
        raise InvalidInput("A BIC has 8 or 11 letters and digits, e.g. AIBKIE2D.") from None


def _digits(value: Any, label: str, *, low: int, high: int, example: str) -> str:
    """A bank number of ``low`` to ``high`` digits, spaces and dashes dropped; empty allowed."""
    number = re.sub(r"[\s-]+", "", str(value or ""))
    if number and not re.fullmatch(rf"[0-9]{{{low},{high}}}", number):
        size = f"{low} digits" if low == high else f"{low} to {high} digits"
        raise InvalidInput(f"{label} has {size}, e.g. {example}.")
    return number


def _routing(value: Any) -> str:
    """A US routing number (ABA): nine digits whose weighted sum checks (python-stdnum)."""
    number = _digits(value, "A routing number", low=9, high=9, example="121000358")
    if number and not rtn.is_valid(number):
        raise InvalidInput(
            "That routing number's check digit is wrong; check for a typing mistake."
        )
    return number


def _reference_prefix(value: Any) -> str:
    """Two to six capital letters or digits: the start of every payment reference."""
    prefix = str(value or "").strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{2,6}", prefix):
        raise InvalidInput("Use 2 to 6 letters or digits, e.g. ABC.")
    return prefix


def _payment_form(value: Any) -> PaymentForm:
    return read_choice(PaymentForm, value, "Choose how the co-op's bank account is written.")


def _currency(value: Any) -> str:
    code = str(value or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise InvalidInput("Currency must be a three-letter ISO code such as EUR.")
    return code


class SettingField(NamedTuple):
    """An editable setting: its label, help, and how its typed value is read.

    A bank number belongs to one payment form (``form``): it is shown, and asked for, only
    while the co-op's account is written in that form. ``choices`` makes it a select.
    """

    label: str
    help: str
    parse: Callable[[Any], Any]
    form: frozenset[PaymentForm] = frozenset()
    choices: tuple[tuple[str, str], ...] = ()

    def shown_for(self, settings: CoopSettings) -> bool:
        """Whether the settings page shows this setting for ``settings``' payment form."""
        return not self.form or settings.payment_form in self.form


def _bank_field(name: str, help: str, parse: Callable[[Any], Any]) -> SettingField:
    """A bank number's setting, labelled as its forms label it (``BANK_FIELDS``)."""
    forms = frozenset(f for f, fields in BANK_FIELDS.items() if name in dict(fields))
    label = next(dict(BANK_FIELDS[f])[name] for f in PaymentForm if f in forms)
    return SettingField(label, help, parse, forms)


# Each editable setting, in the order the settings page lists them.
SETTING_FIELDS: dict[str, SettingField] = {
    "name": SettingField(
        "Short name",
        "Shown in the header and in e-mail.",
        lambda v: read_text(v, "Short name", max_length=120),
    ),
    "legal_name": SettingField(
        "Legal name",
        "As registered, printed on certificates.",
        lambda v: read_text(v, "Legal name", max_length=200),
    ),
    "registration": SettingField(
        "Registration",
        "The register and number.",
        lambda v: read_text(v, "Registration", max_length=200),
    ),
    "address": SettingField(
        "Registered office",
        "",
        lambda v: read_text(v, "Registered office", max_length=300),
    ),
    "tagline": SettingField(
        "Tagline",
        "The landing page's headline.",
        lambda v: read_text(v, "Tagline", max_length=300),
    ),
    "purpose": SettingField(
        "Purpose",
        "A paragraph on the landing page.",
        lambda v: read_text(v, "Purpose", max_length=2000),
    ),
    "contact_email": SettingField(
        "Contact e-mail",
        "",
        lambda v: read_text(v, "Contact e-mail", max_length=254),
    ),
    "currency": SettingField("Currency", "ISO code.", _currency),
    "timezone": SettingField("Time zone", "Times are shown in this zone.", _zone),
    "notice_days": SettingField(
        "Notice period (clear days)",
        "Before a general meeting.",
        lambda v: read_whole(v, "Notice period", low=0, high=90),
    ),
    "voting_window_days": SettingField(
        "Voting window (days)",
        "",
        lambda v: read_whole(v, "Voting window", low=1, high=60),
    ),
    "quorum_min_members": SettingField(
        "Quorum: at least this many members",
        "",
        lambda v: read_whole(v, "Quorum", low=1, high=100_000),
    ),
    "quorum_percent": SettingField(
        "Quorum: or this % of eligible members",
        "The greater applies.",
        lambda v: read_whole(v, "Quorum percentage", low=0, high=100),
    ),
    "quorum_percent_per_class": SettingField(
        "Quorum in each class: this % of its own members",
        "0 turns it off; otherwise every class must reach it as well.",
        lambda v: read_whole(v, "Quorum in each class", low=0, high=100),
    ),
    "max_holding_minor": SettingField(
        "Maximum holding per member",
        "In the co-op's currency.",
        lambda v: read_money(v, "Maximum holding", high_minor=10**11),
    ),
    "proxies_per_holder": SettingField(
        "Proxies one member may hold",
        "",
        lambda v: read_whole(v, "Proxies per holder", low=0, high=100),
    ),
    "proxy_deadline_hours": SettingField(
        "Proxy deadline (hours before the meeting)",
        "Proxies are appointed, changed and revoked until then.",
        lambda v: read_whole(v, "Proxy deadline", low=0, high=720),
    ),
    "requisition_percent": SettingField(
        "Requisition: this % of members must sign",
        "Of the class's members for a class meeting, else of all members; fixed on each "
        "requisition when it starts.",
        lambda v: read_whole(v, "Requisition percentage", low=1, high=100),
    ),
    "requisition_signing_days": SettingField(
        "Requisition: days to collect signatures",
        "From the day it starts; short of its threshold by then, it lapses.",
        lambda v: read_whole(v, "Days to collect signatures", low=1, high=365),
    ),
    "requisition_call_days": SettingField(
        "Requisition: days for the board to call the meeting",
        "From the day it reaches its threshold.",
        lambda v: read_whole(v, "Days to call the meeting", low=1, high=180),
    ),
    "director_term_years": SettingField(
        "Board: years in a director's term",
        "An elected director sits from the meeting's day until the meeting this many years later.",
        lambda v: read_whole(v, "Years in a term", low=1, high=10),
    ),
    "first_signatory_title": SettingField(
        "First signatory on certificates",
        "",
        lambda v: read_text(v, "Signatory", max_length=60),
    ),
    "second_signatory_title": SettingField(
        "Second signatory on certificates",
        "",
        lambda v: read_text(v, "Signatory", max_length=60),
    ),
    "first_signatory_name": SettingField(
        "First signatory's name",
        "Printed on new certificates.",
        lambda v: read_text(v, "Name", max_length=120, required=False),
    ),
    "second_signatory_name": SettingField(
        "Second signatory's name",
        "Printed on new certificates.",
        lambda v: read_text(v, "Name", max_length=120, required=False),
    ),
    "bank_account_name": SettingField(
        "Bank account name",
        "Shown with the payment instructions for shares.",
        lambda v: read_text(v, "Account name", max_length=120, required=False),
    ),
    "bank_name": SettingField(
        "Bank",
        "The bank's name, shown with the account details.",
        lambda v: read_text(v, "Bank", max_length=120, required=False),
    ),
    "payment_form": SettingField(
        "How the account is written",
        "Each country's banks number accounts their own way; the fields below follow it.",
        _payment_form,
        choices=tuple(PaymentForm.choices()),
    ),
    "bank_iban": _bank_field("bank_iban", "", _iban),
    "bank_bic": _bank_field("bank_bic", "", _bic),
    "bank_institution": _bank_field(
        "bank_institution",
        "Three digits: the bank or credit union.",
        lambda v: _digits(v, "An institution number", low=3, high=3, example="815"),
    ),
    "bank_transit": _bank_field(
        "bank_transit",
        "Five digits: the branch.",
        lambda v: _digits(v, "A transit number", low=5, high=5, example="01234"),
    ),
    "bank_routing": _bank_field("bank_routing", "Nine digits, on the account's cheques.", _routing),
    "bank_account_number": _bank_field(
        "bank_account_number",
        "",
        lambda v: _digits(v, "An account number", low=4, high=17, example="1234567"),
    ),
    "reference_prefix": SettingField(
        "Payment reference prefix",
        "Two to six letters or digits that start every order's reference.",
        _reference_prefix,
    ),
    "retention_years": SettingField(
        "Keep ceased members' register data (years)",
        "",
        lambda v: read_whole(v, "Retention", low=1, high=100),
    ),
    "rulebook_version": SettingField(
        "Current rulebook version",
        "What applicants accept.",
        lambda v: read_text(v, "Rulebook version", max_length=120),
    ),
}


BOOLEAN_SETTINGS = {
    "two_person_approval": "Two staff members approve each application",
    "special_needs_class_majority": "Special resolutions also need a majority in each class",
    "chair_exempt_from_proxy_cap": "The chair may hold any number of proxies",
}


# The register's daily totals (services/shares/ledger.py) are kept by the co-op's days: a
# new time zone moves them, in the worker (named, not imported: a sibling service area).
ZONE_CHANGED_JOB = "shares.ledger_days_in_zone"


def update_setting(db: Session, name: str, raw: Any, *, actor: User) -> CoopSettings:
    """Change one setting after checking the value; audited with old and new values."""
    stored = coop.stored_settings(db)
    if name in SETTING_FIELDS:
        label, parse = SETTING_FIELDS[name].label, SETTING_FIELDS[name].parse
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
    old, value = (getattr(v, "label", v) for v in (old, value))  # a choice, in words
    audit.record(
        db,
        actor=actor,
        action="settings.changed",
        target="coopsettings",
        summary=f"{label}: {old!s:.120} → {value!s:.120}",
    )
    if name == "timezone":  # each day of the register's daily totals moves with the zone
        tasks.after_commit(db, ZONE_CHANGED_JOB)
    db.flush()
    return stored
