"""Presets: the settings and member classes a new co-op starts from.

``resonate`` is the reference (listeners, artists, workers); ``stocksy`` proves the model
is general (contributing artists, employees, founders and advisors).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .models import AdmissionRule, QuestionKind


@dataclass(frozen=True)
class QuestionPreset:
    key: str
    label: str
    kind: QuestionKind = QuestionKind.TEXT
    help: str = ""
    required: bool = True


@dataclass(frozen=True)
class ClassPreset:
    code: str
    name: str
    summary: str
    description: str
    admission_rule: AdmissionRule
    annual_fee_minor: int = 0
    required_shares: int = 1
    board_seats: int = 0
    voting_weight: int = 0
    questions: tuple[QuestionPreset, ...] = ()


@dataclass(frozen=True)
class ShareTypePreset:
    code: str
    name: str
    description: str
    par_value_minor: int = 100
    voting: bool = False
    min_quantity: int = 1
    step: int = 1
    max_quantity: int | None = None
    transferable: bool = False
    withdrawable: bool = False
    cancelled_on_ceasing: bool = False


# Resonate's share types: one €1 voting membership share per member, and supporter
# shares (non-voting, in fives, repaid at par on withdrawal).
SHARE_TYPES = (
    ShareTypePreset(
        "membership",
        "Membership share",
        "The €1 share every member holds: it carries the member's vote. It cannot be "
        "transferred and is cancelled when the member leaves.",
        voting=True,
        max_quantity=1,
        cancelled_on_ceasing=True,
    ),
    ShareTypePreset(
        "supporter",
        "Supporter share",
        "Non-voting shares that fund the co-op, bought in multiples of 5 and repaid at par "
        "on withdrawal under the Supporter Share Terms.",
        min_quantity=5,
        step=5,
        withdrawable=True,
    ),
)


@dataclass(frozen=True)
class Preset:
    settings: dict[str, Any]
    classes: tuple[ClassPreset, ...] = field(default_factory=tuple)
    share_types: tuple[ShareTypePreset, ...] = SHARE_TYPES


RESONATE = Preset(
    settings={
        "name": "Reverb Music Co-op",
        "legal_name": "Reverb Music Co-operative Society Ltd",
        "registration": "Registered Society No. 5678R (Ireland)",
        "address": "12 Ormond Quay Upper, Dublin 7, D07 X2Y3, Ireland",
        "tagline": "A streaming music service owned by the people who make it, "
        "play it and build it.",
        "purpose": "Reverb is a multi-stakeholder co-operative. Artists, listeners and the "
        "workers who build the service own it together, share its surplus fairly and decide "
        "its future one member, one vote.",
        "contact_email": "members@reverb.example",
        "rulebook_version": "Rules of Reverb Music Co-operative Society Ltd, 2025 edition",
        "first_signatory_name": "Máire Ní Dhónaill",
        "second_signatory_name": "Pádraig Walsh",
        "bank_account_name": "Reverb Music Co-operative Society Ltd",
        "bank_iban": "IE29AIBK93115212345678",
        "bank_bic": "AIBKIE2D",
    },
    classes=(
        ClassPreset(
            code="listener",
            name="Listener",
            summary="For anyone who streams music on Reverb and wants a say in how it is run.",
            description="Stream fairly: your subscription pays artists per play. Listener "
            "members elect listener directors and vote at general meetings.",
            admission_rule=AdmissionRule.AUTOMATIC,
            annual_fee_minor=1000,
            board_seats=2,
            voting_weight=35,
        ),
        ClassPreset(
            code="artist",
            name="Artist",
            summary="For musicians, bands and labels whose music is on Reverb.",
            description="Own the platform that plays your music, earn more per stream and "
            "elect artists to the board. There is no annual fee; staff check your releases.",
            admission_rule=AdmissionRule.STAFF_REVIEW,
            board_seats=3,
            voting_weight=45,
            questions=(
                QuestionPreset("artist_name", "Artist or band name"),
                QuestionPreset(
                    "release_url",
                    "Link to one of your releases",
                    QuestionKind.URL,
                    help="On Reverb or any other service, so we can check it is yours.",
                ),
            ),
        ),
        ClassPreset(
            code="worker",
            name="Worker",
            summary="For the people who build and run Reverb, paid or volunteer.",
            description="Build the service you own. Workers are admitted once they have "
            "contributed the hours the Membership Policy sets, and elect worker directors.",
            admission_rule=AdmissionRule.STAFF_REVIEW,
            board_seats=2,
            voting_weight=20,
            questions=(
                QuestionPreset(
                    "team",
                    "Which team do you work with?",
                    help="For example engineering, support, curation, operations.",
                ),
                QuestionPreset(
                    "hours",
                    "Hours contributed so far",
                    QuestionKind.NUMBER,
                    help="The Membership Policy asks for 50 hours before admission.",
                ),
            ),
        ),
    ),
)

STOCKSY = Preset(
    settings={
        "name": "Lumen Stock Co-op",
        "legal_name": "Lumen Stock Photography Co-operative Ltd",
        "registration": "Registered Co-operative No. 7731 (British Columbia)",
        "address": "400 Water Street, Victoria, BC V8W 1N9, Canada",
        "tagline": "Stock photography and film owned by the artists who make it.",
        "purpose": "Lumen is a platform co-op: contributing artists, employees and founders "
        "share ownership, royalties and the decisions that shape the agency.",
        "contact_email": "members@lumen.example",
        "currency": "CAD",
        "timezone": "America/Vancouver",
        "rulebook_version": "Lumen Rules and Bylaws, 2024 edition",
    },
    classes=(
        ClassPreset(
            code="contributor",
            name="Contributing artist",
            summary="Photographers and filmmakers whose work is licensed through Lumen.",
            description="Earn 50% royalties and a share of the year's surplus; elect the "
            "artist directors.",
            admission_rule=AdmissionRule.STAFF_REVIEW,
            board_seats=3,
            voting_weight=50,
            questions=(
                QuestionPreset("portfolio_url", "Portfolio link", QuestionKind.URL),
                QuestionPreset("statement", "Tell us about your work", QuestionKind.LONG_TEXT),
                QuestionPreset(
                    "exclusive",
                    "Will you license this work exclusively through Lumen?",
                    QuestionKind.YES_NO,
                ),
            ),
        ),
        ClassPreset(
            code="employee",
            name="Employee",
            summary="Staff employed by the co-op for at least six months.",
            description="Share in the co-op's success and elect an employee director.",
            admission_rule=AdmissionRule.STAFF_REVIEW,
            board_seats=1,
            voting_weight=30,
            questions=(QuestionPreset("start_date", "When did you start working for Lumen?"),),
        ),
        ClassPreset(
            code="founder",
            name="Founder or advisor",
            summary="The co-op's founders and appointed advisors.",
            description="Holds the founding vision; elects one director.",
            admission_rule=AdmissionRule.STAFF_REVIEW,
            board_seats=1,
            voting_weight=20,
            questions=(QuestionPreset("role", "Your founding or advisory role"),),
        ),
    ),
)

PRESETS = {"resonate": RESONATE, "stocksy": STOCKSY}
