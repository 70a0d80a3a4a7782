"""Reverb Music Co-operative Society Ltd: the reference co-op, a fictional Irish society.

Listeners, artists and workers own a music streaming service (the shape of Resonate).
"""

from __future__ import annotations

from ..models import AdmissionRule, PaymentForm, QuestionKind, Role
from .spec import (
    ClassPreset,
    Demo,
    DemoPerson,
    ExtraApplicant,
    ExtraMember,
    Preset,
    QuestionPreset,
    ShareTypePreset,
)

# One €1 voting membership share per member, and supporter shares (non-voting, in fives,
# repaid at par on withdrawal).
SHARE_TYPES = (
    ShareTypePreset(
        "membership",
        "Membership share",
        "The {par} share every member holds: it carries the member's vote. It cannot be "
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

CLASSES = (
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
)

# Demo passwords are public by design: they are printed by `make run` and in the README.
DEMO = Demo(
    country="Ireland",
    bank="AIB",
    people=(
        DemoPerson(
            "Aoife Byrne",
            "admin@reverb.example",
            Role.ADMIN,
            "amber-lighthouse-fiddle-41",
            "admin: settings, staff accounts",
        ),
        DemoPerson(
            "Ciarán Doyle",
            "staff@reverb.example",
            Role.STAFF,
            "copper-kettle-harbour-27",
            "staff: applications, register, meetings",
        ),
        DemoPerson(
            "Máire Ní Dhónaill",
            "secretary@reverb.example",
            Role.STAFF,
            "heather-signal-lantern-85",
            "staff: the co-op's secretary",
            title="Secretary",
        ),
        DemoPerson(
            "Pádraig Walsh",
            "chair@reverb.example",
            Role.MEMBER,
            "marble-cedar-rowing-32",
            "member: listener, chair of the board",
            classes=("listener",),
            town="Galway",
        ),
        DemoPerson(
            "Niamh Kelly",
            "listener@reverb.example",
            Role.MEMBER,
            "velvet-tram-orchard-58",
            "member: a listener",
            classes=("listener",),
            town="Cork",
        ),
        DemoPerson(
            "Tadhg O'Sullivan",
            "artist@reverb.example",
            Role.MEMBER,
            "granite-banjo-meadow-63",
            "member: an artist",
            classes=("artist",),
            town="Limerick",
        ),
        DemoPerson(
            "Siobhán Murphy",
            "worker@reverb.example",
            Role.MEMBER,
            "saffron-ferry-compass-19",
            "member: artist and worker, votes as worker",
            classes=("artist", "worker"),
            town="Dublin",
        ),
        DemoPerson(
            "Eoin Gallagher",
            "applicant@reverb.example",
            Role.MEMBER,
            "willow-anchor-quartet-74",
            "applicant: an artist awaiting review",
            town="Derry",
            applies_to="artist",
            answers={
                "artist_name": "The Gallagher Tapes",
                "release_url": "https://music.example/gallagher-tapes",
            },
        ),
    ),
    answers={
        "artist": {"artist_name": "Harbour Lights", "release_url": "https://music.example/harbour"},
        "worker": {"team": "Engineering", "hours": "120"},
    },
    extra_members=(
        ExtraMember("Aisling Brennan", "listener", "Sligo"),
        ExtraMember("Darragh Quinn", "listener", "Kilkenny"),
        ExtraMember("Orla Fitzgerald", "artist", "Waterford"),
        ExtraMember("Cathal Ryan", "worker", "Dublin"),
        ExtraMember("Gráinne Moore", "listener", "Athlone", "lapsed"),
        ExtraMember("Ronan Keane", "listener", "Tralee", "ceased"),
        ExtraMember("Lorcan Byrne", "artist", "Bray", "unpaid"),
        ExtraMember("Clíodhna Walsh", "worker", "Ennis", "unpaid"),
    ),
    extra_applicants=(
        ExtraApplicant(
            "Sinéad Daly",
            "worker",
            {"team": "Support", "hours": "35"},
            "Dundalk",
            question="Which weeks did you volunteer on the support rota?",
        ),
        ExtraApplicant(
            "Fiachra Nolan",
            "artist",
            {"artist_name": "Tidewater Choir", "release_url": "https://music.example/tidewater"},
            "Dundalk",
        ),
    ),
    investment="supporter",
    holder="listener@reverb.example",
    chair="chair@reverb.example",
    purchases=(("artist@reverb.example", 100), ("member1@reverb.example", 15)),
    withdrawal_reason="Paying for a new guitar.",
    lapse_note="Annual fee unpaid",
    resignation_note="Moving abroad",
)

RESONATE = Preset(
    name="resonate",
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
        "currency": "EUR",
        "timezone": "Europe/Dublin",
        "max_holding_minor": 15_000_000,  # €150,000 (rule 15.3)
        "rulebook_version": "Rules of Reverb Music Co-operative Society Ltd, 2025 edition",
        "first_signatory_title": "Secretary",
        "first_signatory_name": "Máire Ní Dhónaill",
        "second_signatory_title": "Director",
        "second_signatory_name": "Pádraig Walsh",
        "bank_account_name": "Reverb Music Co-operative Society Ltd",
        "bank_name": "AIB",
        "payment_form": PaymentForm.IBAN,
        "bank_iban": "IE29AIBK93115212345678",
        "bank_bic": "AIBKIE2D",
        "reference_prefix": "RVB",
    },
    classes=CLASSES,
    share_types=SHARE_TYPES,
    demo=DEMO,
)
