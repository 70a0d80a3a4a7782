"""The co-op's settings and member classes: reading them, presets, and admin edits."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..errors import InvalidInput, InvalidState
from ..models import (
    ApplicationQuestion,
    CoopSettings,
    MemberClass,
    QuestionKind,
    ShareType,
    User,
)
from ..presets import Preset
from . import audit

CODE_RE = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def settings_from_config(config: Mapping[str, Any]) -> CoopSettings:
    """Settings built from the deployment's COOP_* configuration (not yet stored)."""
    return CoopSettings(
        id=1,
        name=config["COOP_NAME"],
        legal_name=config["COOP_LEGAL_NAME"],
        registration=config["COOP_REGISTRATION"],
        address=config["COOP_ADDRESS"],
        tagline=config["COOP_TAGLINE"],
        purpose=config["COOP_PURPOSE"],
        contact_email=config["COOP_CONTACT_EMAIL"],
        timezone=config["COOP_TIMEZONE"],
        rulebook_version=config["COOP_RULEBOOK_VERSION"],
        **{column: default for column, default in _column_defaults().items()},
    )


def _column_defaults() -> dict[str, Any]:
    """The Python-side defaults of CoopSettings' columns not set from the configuration."""
    from_config = {
        "id",
        "name",
        "legal_name",
        "registration",
        "address",
        "tagline",
        "purpose",
        "contact_email",
        "timezone",
        "rulebook_version",
        "updated_at",
    }
    defaults = {}
    for column in CoopSettings.__table__.columns:
        if column.name in from_config or column.default is None:
            continue
        defaults[column.name] = column.default.arg  # type: ignore[attr-defined]
    return defaults


def current_settings(db: Session, config: Mapping[str, Any]) -> CoopSettings:
    """The stored settings, or those of the configuration before any are stored."""
    return db.get(CoopSettings, 1) or settings_from_config(config)


def ensure_settings(db: Session, config: Mapping[str, Any]) -> CoopSettings:
    """Store the configuration's settings if none are stored yet."""
    stored = db.get(CoopSettings, 1)
    if stored is None:
        stored = settings_from_config(config)
        db.add(stored)
        db.flush()
    return stored


def apply_preset(db: Session, preset: Preset, config: Mapping[str, Any]) -> None:
    """Load a preset's settings and member classes (into a co-op with no classes yet)."""
    if db.scalar(select(func.count()).select_from(MemberClass)):
        raise InvalidState("Member classes exist already; a preset only starts a new co-op.")
    stored = ensure_settings(db, config)
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


# --- Admin edits -------------------------------------------------------------------------


def _text(value: Any, label: str, *, max_length: int, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise InvalidInput(f"{label} cannot be empty.")
    if len(text) > max_length:
        raise InvalidInput(f"{label}: use at most {max_length} characters.")
    return text


def _whole(value: Any, label: str, *, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput(f"{label} must be a whole number.") from None
    if not low <= number <= high:
        raise InvalidInput(f"{label} must be between {low} and {high}.")
    return number


def _money(value: Any, label: str, *, high_minor: int) -> int:
    """A money amount typed in major units (``12.50``) as integer minor units."""
    raw = str(value or "").strip().replace(",", "")
    if not re.fullmatch(r"\d{1,9}(\.\d{1,2})?", raw):
        raise InvalidInput(f"{label} must be an amount like 10 or 10.50.")
    whole, _, cents = raw.partition(".")
    minor = int(whole) * 100 + int((cents + "00")[:2])
    if minor > high_minor:
        raise InvalidInput(f"{label} is too large.")
    return minor


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
        lambda v: _text(v, "Short name", max_length=120),
    ),
    "legal_name": (
        "Legal name",
        "As registered, printed on certificates.",
        lambda v: _text(v, "Legal name", max_length=200),
    ),
    "registration": (
        "Registration",
        "The register and number.",
        lambda v: _text(v, "Registration", max_length=200),
    ),
    "address": ("Registered office", "", lambda v: _text(v, "Registered office", max_length=300)),
    "tagline": (
        "Tagline",
        "The landing page's headline.",
        lambda v: _text(v, "Tagline", max_length=300),
    ),
    "purpose": (
        "Purpose",
        "A paragraph on the landing page.",
        lambda v: _text(v, "Purpose", max_length=2000),
    ),
    "contact_email": ("Contact e-mail", "", lambda v: _text(v, "Contact e-mail", max_length=254)),
    "currency": ("Currency", "ISO code.", _currency),
    "timezone": ("Time zone", "Times are shown in this zone.", _zone),
    "notice_days": (
        "Notice period (clear days)",
        "Before a general meeting.",
        lambda v: _whole(v, "Notice period", low=0, high=90),
    ),
    "voting_window_days": (
        "Voting window (days)",
        "",
        lambda v: _whole(v, "Voting window", low=1, high=60),
    ),
    "quorum_min_members": (
        "Quorum: at least this many members",
        "",
        lambda v: _whole(v, "Quorum", low=1, high=100_000),
    ),
    "quorum_percent": (
        "Quorum: or this % of eligible members",
        "The greater applies.",
        lambda v: _whole(v, "Quorum percentage", low=0, high=100),
    ),
    "max_holding_minor": (
        "Maximum holding per member",
        "In the co-op's currency.",
        lambda v: _money(v, "Maximum holding", high_minor=10**11),
    ),
    "proxies_per_holder": (
        "Proxies one member may hold",
        "",
        lambda v: _whole(v, "Proxies per holder", low=0, high=100),
    ),
    "first_signatory_title": (
        "First signatory on certificates",
        "",
        lambda v: _text(v, "Signatory", max_length=60),
    ),
    "second_signatory_title": (
        "Second signatory on certificates",
        "",
        lambda v: _text(v, "Signatory", max_length=60),
    ),
    "first_signatory_name": (
        "First signatory's name",
        "Printed on new certificates.",
        lambda v: _text(v, "Name", max_length=120, required=False),
    ),
    "second_signatory_name": (
        "Second signatory's name",
        "Printed on new certificates.",
        lambda v: _text(v, "Name", max_length=120, required=False),
    ),
    "bank_account_name": (
        "Bank account name",
        "Shown with the payment instructions for shares.",
        lambda v: _text(v, "Account name", max_length=120, required=False),
    ),
    "bank_iban": ("IBAN", "", lambda v: _iban(v)),
    "bank_bic": ("BIC", "", lambda v: _bic(v)),
    "retention_years": (
        "Keep ceased members' register data (years)",
        "",
        lambda v: _whole(v, "Retention", low=1, high=100),
    ),
    "rulebook_version": (
        "Current rulebook version",
        "What applicants accept.",
        lambda v: _text(v, "Rulebook version", max_length=120),
    ),
}
BOOLEAN_SETTINGS = {
    "two_person_approval": "Two staff members approve each application",
    "special_needs_class_majority": "Special resolutions also need a majority in each class",
}


def update_setting(
    db: Session, name: str, raw: Any, *, actor: User, config: Mapping[str, Any]
) -> CoopSettings:
    """Change one setting after checking the value; audited with old and new values."""
    stored = ensure_settings(db, config)
    if name in SETTING_FIELDS:
        label, _help, parse = SETTING_FIELDS[name]
        try:
            value = parse(raw)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field="value") from None
    elif name in BOOLEAN_SETTINGS:
        label, value = BOOLEAN_SETTINGS[name], str(raw).lower() in {"1", "true", "on", "yes"}
    else:
        raise InvalidInput(f"There is no setting called {name!r}.")
    old = getattr(stored, name)
    if old == value:
        return stored
    setattr(stored, name, value)
    audit.record(
        db,
        actor=actor,
        action="settings.changed",
        target="coopsettings",
        summary=f"{label}: {old!s:.120} → {value!s:.120}",
    )
    db.flush()
    return stored


CLASS_FIELDS: dict[str, Any] = {
    "name": lambda v: _text(v, "Name", max_length=80),
    "summary": lambda v: _text(v, "Who it is for", max_length=300),
    "description": lambda v: _text(v, "What it gives", max_length=4000),
    "required_shares": lambda v: _whole(v, "Required shares", low=0, high=1000),
    "annual_fee_minor": lambda v: _money(v, "Annual fee", high_minor=10**8),
    "board_seats": lambda v: _whole(v, "Board seats", low=0, high=50),
    "voting_weight": lambda v: _whole(v, "Voting weight", low=0, high=100),
}


def update_class(
    db: Session, member_class: MemberClass, values: Mapping[str, Any], *, actor: User
) -> MemberClass:
    """Change a member class's terms; each value is checked and the change audited."""
    from ..models import AdmissionRule

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
        try:
            rule = AdmissionRule(values["admission_rule"])
        except ValueError:
            raise InvalidInput("Choose an admission rule.", field="admission_rule") from None
        if rule != member_class.admission_rule:
            changes.append("admission_rule")
            member_class.admission_rule = rule
    if "open_for_applications" in values:
        is_open = str(values["open_for_applications"]).lower() in {"1", "true", "on", "y"}
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
    label = _text(values.get("label"), "Question", max_length=200)
    help_text = _text(values.get("help"), "Help", max_length=300, required=False)
    try:
        kind = QuestionKind(values.get("kind") or "")
    except ValueError:
        raise InvalidInput("Choose the kind of answer.", field="kind") from None
    required = str(values.get("required", "")).lower() in {"1", "true", "on", "y"}
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
