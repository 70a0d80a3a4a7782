"""Commonhand Cooperative, Inc.: a fictional two-sided platform co-op in California.

The freelance service providers who offer their work on a local marketplace and the
clients who book them own it together (the shape of Loconomics), in US dollars.
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
        "The {par} share every member holds, provider or client: it carries the member's "
        "vote. It cannot be transferred and is repurchased at par when the member leaves.",
        par_value_minor=2000,
        voting=True,
        max_quantity=1,
        cancelled_on_ceasing=True,
    ),
    ShareTypePreset(
        "community",
        "Community investment share",
        "Non-voting preferred shares of {par} each that fund the marketplace, with a "
        "dividend capped by the Bylaws, repurchased at par under the Community Investment "
        "Share Terms.",
        par_value_minor=5000,
        withdrawable=True,
    ),
)

CLASSES = (
    ClassPreset(
        code="provider",
        name="Service provider",
        summary="Freelancers who offer their services on Commonhand: cleaners, tutors, "
        "carers, handypeople, trainers.",
        description="Keep what you earn: members pay no commission on bookings. Providers "
        "elect three of the five directors. Staff check your services and licences.",
        admission_rule=AdmissionRule.STAFF_REVIEW,
        board_seats=3,
        voting_weight=50,
        questions=(
            QuestionPreset(
                "services",
                "What services do you offer?",
                QuestionKind.LONG_TEXT,
                help="For example: house cleaning, piano lessons, dog walking.",
            ),
            QuestionPreset(
                "service_area",
                "Where do you work?",
                help="Towns or ZIP codes you travel to.",
            ),
            QuestionPreset(
                "license",
                "License or certification number",
                help="Only if your trade needs one in California.",
                required=False,
            ),
        ),
    ),
    ClassPreset(
        code="client",
        name="Client",
        summary="Anyone who books providers through Commonhand and wants a say in it.",
        description="Book local help at fair prices and elect two client directors. "
        "Clients are admitted when the membership share and the year's dues are paid.",
        admission_rule=AdmissionRule.AUTOMATIC,
        annual_fee_minor=1200,
        board_seats=2,
        voting_weight=50,
    ),
)

# Demo passwords are public by design: they are printed by `make run` and in the README.
DEMO = Demo(
    country="United States",
    bank="BCCU",
    people=(
        DemoPerson(
            "Rosa Delgado",
            "admin@commonhand.example",
            Role.ADMIN,
            "poppy-trolley-anchor-38",
            "admin: settings, staff accounts",
        ),
        DemoPerson(
            "Marcus Lee",
            "staff@commonhand.example",
            Role.STAFF,
            "redwood-ladder-compass-71",
            "staff: applications, register, meetings",
        ),
        DemoPerson(
            "Aisha Rahman",
            "secretary@commonhand.example",
            Role.STAFF,
            "marigold-ferry-spindle-24",
            "staff: the co-op's secretary",
            title="Secretary",
        ),
        DemoPerson(
            "Tom Whitaker",
            "president@commonhand.example",
            Role.MEMBER,
            "harbor-wrench-quilt-66",
            "member: a provider, president of the board",
            classes=("provider",),
            town="Oakland",
        ),
        DemoPerson(
            "Grace Kim",
            "client@commonhand.example",
            Role.MEMBER,
            "lemon-porch-bicycle-53",
            "member: a client",
            classes=("client",),
            town="Berkeley",
        ),
        DemoPerson(
            "Lucía Herrera",
            "provider@commonhand.example",
            Role.MEMBER,
            "sage-bucket-lantern-87",
            "member: a service provider",
            classes=("provider",),
            town="Alameda",
        ),
        DemoPerson(
            "Devon Carter",
            "both@commonhand.example",
            Role.MEMBER,
            "canyon-whistle-garden-29",
            "member: client and provider, votes as provider",
            classes=("client", "provider"),
            town="Emeryville",
        ),
        DemoPerson(
            "Sam Patel",
            "applicant@commonhand.example",
            Role.MEMBER,
            "pepper-kite-meadow-48",
            "applicant: a provider awaiting review",
            town="Hayward",
            applies_to="provider",
            answers={
                "services": "Bicycle repair and tune-ups at your door.",
                "service_area": "Hayward, San Leandro, Castro Valley",
            },
        ),
    ),
    answers={
        "provider": {
            "services": "Home cleaning and organizing.",
            "service_area": "Oakland and Berkeley",
            "license": "",
        },
    },
    extra_members=(
        ExtraMember("Jasmine Wu", "client", "Richmond"),
        ExtraMember("Carlos Mendoza", "client", "San Leandro"),
        ExtraMember("Brianna Scott", "provider", "Fremont"),
        ExtraMember("Kwame Mensah", "provider", "Oakland"),
        ExtraMember("Olivia Novak", "client", "Albany", "lapsed"),
        ExtraMember("Ryan Gallo", "client", "El Cerrito", "ceased"),
        ExtraMember("Fatima Said", "provider", "Hayward", "unpaid"),
        ExtraMember("Ben Okoro", "client", "Berkeley", "unpaid"),
    ),
    extra_applicants=(
        ExtraApplicant(
            "Nina Rossi",
            "provider",
            {
                "services": "Electrical repairs and lighting.",
                "service_area": "Oakland",
                "license": "",
            },
            "Oakland",
            question="Electrical work needs a C-10 license in California: what is yours?",
        ),
        ExtraApplicant(
            "Victor Huang",
            "provider",
            {"services": "Math and physics tutoring.", "service_area": "Berkeley"},
            "Berkeley",
        ),
    ),
    investment="community",
    holder="client@commonhand.example",
    chair="president@commonhand.example",
    purchases=(("provider@commonhand.example", 100), ("member1@commonhand.example", 15)),
    withdrawal_reason="Paying for my kids' summer camp.",
    lapse_note="Annual dues unpaid",
    resignation_note="Moving out of the Bay Area",
)

LOCONOMICS = Preset(
    name="loconomics",
    settings={
        "name": "Commonhand",
        "legal_name": "Commonhand Cooperative, Inc.",
        "registration": "A California cooperative corporation (Corporations Code "
        "§12200 ff.), Secretary of State No. C4103382",
        "address": "1918 Telegraph Avenue, Oakland, CA 94612, United States",
        "tagline": "Book local help from people who own the marketplace with you.",
        "purpose": "Commonhand is a two-sided platform co-op: the freelance service "
        "providers who offer their work here and the clients who book them own it together, "
        "keep its fees low and share its surplus in proportion to the business each does.",
        "contact_email": "members@commonhand.example",
        "currency": "USD",
        "timezone": "America/Los_Angeles",
        "max_holding_minor": 5_000_000,  # $50,000 (Bylaws 8.4)
        "rulebook_version": "Bylaws of Commonhand Cooperative, Inc., 2025 edition",
        "first_signatory_title": "Secretary",
        "first_signatory_name": "Aisha Rahman",
        "second_signatory_title": "President",
        "second_signatory_name": "Tom Whitaker",
        "bank_account_name": "Commonhand Cooperative, Inc.",
        "bank_name": "Bay Commons Credit Union",
        "payment_form": PaymentForm.US,
        "bank_routing": "321274586",
        "bank_account_number": "4407712093",
        "reference_prefix": "CMH",
    },
    classes=CLASSES,
    share_types=SHARE_TYPES,
    demo=DEMO,
)
