"""Lanternhouse Film Cooperative, Inc.: a fictional producers-and-fans co-op in New York.

The filmmakers who make independent films and the audience members who watch and fund
them own the studio and its streaming service together (the shape of Members Media), in
US dollars.
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

SHARE_TYPES = (
    ShareTypePreset(
        "membership",
        "Membership share",
        "The {par} share every member holds, filmmaker or audience member: it carries the "
        "member's vote. It cannot be transferred and is repurchased at par when the member "
        "leaves.",
        par_value_minor=1000,
        voting=True,
        max_quantity=1,
        cancelled_on_ceasing=True,
    ),
    ShareTypePreset(
        "production",
        "Production share",
        "Non-voting shares of {par} each that finance the co-op's slate of films, bought "
        "in fives and repurchased at par under the Production Share Terms.",
        par_value_minor=2000,
        min_quantity=5,
        step=5,
        withdrawable=True,
    ),
)

CLASSES = (
    ClassPreset(
        code="filmmaker",
        name="Filmmaker",
        summary="Directors, producers, writers and crews whose films Lanternhouse makes or shows.",
        description="Keep the rights to your work, earn a fair share of every screening "
        "and elect three of the five directors. Staff check your credits.",
        admission_rule=AdmissionRule.STAFF_REVIEW,
        board_seats=3,
        voting_weight=50,
        questions=(
            QuestionPreset("credit", "A film you made, and your role in it"),
            QuestionPreset(
                "film_url",
                "Link to the film or its trailer",
                QuestionKind.URL,
                help="A private screener link is fine.",
            ),
        ),
    ),
    ClassPreset(
        code="audience",
        name="Audience member",
        summary="Film lovers who watch on Lanternhouse and help choose what it makes.",
        description="Stream the whole catalogue, vote on which projects the co-op backs, "
        "and elect two audience directors. Admitted when the share and the year's "
        "dues are paid.",
        admission_rule=AdmissionRule.AUTOMATIC,
        annual_fee_minor=3000,
        board_seats=2,
        voting_weight=50,
    ),
)

# Demo passwords are public by design: they are printed by `make run` and in the README.
DEMO = Demo(
    country="United States",
    bank="GCB",
    people=(
        DemoPerson(
            "Hannah Goldberg",
            "admin@lanternhouse.example",
            Role.ADMIN,
            "velvet-reel-subway-42",
            "admin: settings, staff accounts",
        ),
        DemoPerson(
            "Kevin Park",
            "staff@lanternhouse.example",
            Role.STAFF,
            "amber-projector-bridge-17",
            "staff: applications, register, meetings",
        ),
        DemoPerson(
            "Inês Duarte",
            "secretary@lanternhouse.example",
            Role.STAFF,
            "marble-clapper-harbor-59",
            "staff: the co-op's secretary",
            title="Secretary",
        ),
        DemoPerson(
            "Malik Johnson",
            "president@lanternhouse.example",
            Role.MEMBER,
            "indigo-dolly-orchard-83",
            "member: a filmmaker, president of the board",
            classes=("filmmaker",),
            town="Brooklyn",
        ),
        DemoPerson(
            "Owen Fischer",
            "audience@lanternhouse.example",
            Role.MEMBER,
            "popcorn-ferry-lantern-26",
            "member: an audience member",
            classes=("audience",),
            town="Queens",
        ),
        DemoPerson(
            "Nadia Haddad",
            "filmmaker@lanternhouse.example",
            Role.MEMBER,
            "silver-montage-river-74",
            "member: a filmmaker",
            classes=("filmmaker",),
            town="Manhattan",
        ),
        DemoPerson(
            "Leah Cohen",
            "both@lanternhouse.example",
            Role.MEMBER,
            "cobalt-marquee-willow-31",
            "member: audience member and filmmaker, votes as filmmaker",
            classes=("audience", "filmmaker"),
            town="Jersey City",
        ),
        DemoPerson(
            "Jamal Wright",
            "applicant@lanternhouse.example",
            Role.MEMBER,
            "garnet-splice-meadow-65",
            "applicant: a filmmaker awaiting review",
            town="the Bronx",
            applies_to="filmmaker",
            answers={
                "credit": "Director, 'Stoop Season' (short, 2025)",
                "film_url": "https://films.example/stoop-season",
            },
        ),
    ),
    answers={
        "filmmaker": {
            "credit": "Producer, 'Salt Marsh' (feature documentary, 2024)",
            "film_url": "https://films.example/salt-marsh",
        },
    },
    extra_members=(
        ExtraMember("Sophie Laurent", "audience", "Hoboken"),
        ExtraMember("Diego Ramírez", "audience", "Yonkers"),
        ExtraMember("Ava Sullivan", "filmmaker", "Brooklyn"),
        ExtraMember("Theo Brandt", "filmmaker", "Astoria"),
        ExtraMember("Priscilla Owusu", "audience", "Newark", "lapsed"),
        ExtraMember("Martin Kowalski", "audience", "Staten Island", "ceased"),
        ExtraMember("Yuki Tanaka", "filmmaker", "Long Island City", "unpaid"),
        ExtraMember("Carmen Flores", "audience", "the Bronx", "unpaid"),
    ),
    extra_applicants=(
        ExtraApplicant(
            "Ibrahim Diallo",
            "filmmaker",
            {"credit": "Editor, 'Night Buses' (2026)", "film_url": "https://films.example/nb"},
            "Harlem",
            question="Which festival screened 'Night Buses'? We could not find it.",
        ),
        ExtraApplicant(
            "Rachel Stein",
            "filmmaker",
            {
                "credit": "Writer, 'The Long Table' (short, 2025)",
                "film_url": "https://films.example/long-table",
            },
            "Brooklyn",
        ),
    ),
    investment="production",
    holder="audience@lanternhouse.example",
    chair="president@lanternhouse.example",
    purchases=(("filmmaker@lanternhouse.example", 100), ("member1@lanternhouse.example", 15)),
    withdrawal_reason="Saving for film school.",
    lapse_note="Annual dues unpaid",
    resignation_note="Too busy to watch",
)

MEMBERSMEDIA = Preset(
    name="membersmedia",
    settings={
        "name": "Lanternhouse",
        "legal_name": "Lanternhouse Film Cooperative, Inc.",
        "registration": "A cooperative corporation under the New York Cooperative "
        "Corporations Law, DOS ID 6512098",
        "address": "88 Ferris Street, Brooklyn, NY 11231, United States",
        "tagline": "Independent films owned by the people who make them and the people "
        "who watch them.",
        "purpose": "Lanternhouse is a producers-and-fans co-op: filmmakers and their "
        "audience own the studio and its streaming service together, choose the films it "
        "backs and share what they earn.",
        "contact_email": "members@lanternhouse.example",
        "currency": "USD",
        "timezone": "America/New_York",
        "max_holding_minor": 2_500_000,  # $25,000 (Bylaws 9.3)
        "rulebook_version": "Bylaws of Lanternhouse Film Cooperative, Inc., 2026 edition",
        "first_signatory_title": "Secretary",
        "first_signatory_name": "Inês Duarte",
        "second_signatory_title": "President",
        "second_signatory_name": "Malik Johnson",
        "bank_account_name": "Lanternhouse Film Cooperative, Inc.",
        "bank_name": "Gowanus Community Bank",
        "payment_form": PaymentForm.US,
        "bank_routing": "026311197",
        "bank_account_number": "88120455",
        "reference_prefix": "LHF",
    },
    classes=CLASSES,
    share_types=SHARE_TYPES,
    demo=DEMO,
)
