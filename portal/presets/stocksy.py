"""Lumen Stock Photography Co-operative: a fictional co-op of British Columbia.

Contributing artists, employees, and founders and advisors own a stock photography and
film agency (the shape of Stocksy United), paid in Canadian dollars.
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
        "The {par} share each member holds, whatever their classes: it carries the member's "
        "vote. It cannot be transferred and is redeemed at par when the member leaves.",
        par_value_minor=1000,
        voting=True,
        max_quantity=1,
        cancelled_on_ceasing=True,
    ),
    ShareTypePreset(
        "investment",
        "Investment share",
        "Non-voting shares of {par} each that fund the agency, bought in fives and "
        "redeemed at par when the board allows, under the Investment Share Terms.",
        par_value_minor=1000,
        min_quantity=5,
        step=5,
        withdrawable=True,
    ),
)

CLASSES = (
    ClassPreset(
        code="contributor",
        name="Contributing artist",
        summary="Photographers and filmmakers whose work is licensed through Lumen.",
        description="Earn 50% royalties and a share of the year's surplus; elect the "
        "artist directors. Staff review your portfolio.",
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
        questions=(
            QuestionPreset(
                "start_date",
                "When did you start working for Lumen?",
                help="The month and year: employees join after six months.",
            ),
        ),
    ),
    ClassPreset(
        code="founder",
        name="Founder or advisor",
        summary="The co-op's founders and the advisors the board appoints.",
        description="Holds the founding vision; elects one director.",
        admission_rule=AdmissionRule.STAFF_REVIEW,
        board_seats=1,
        voting_weight=20,
        questions=(QuestionPreset("role", "Your founding or advisory role"),),
    ),
)

# Demo passwords are public by design: they are printed by `make run` and in the README.
DEMO = Demo(
    country="Canada",
    bank="ACCU",
    people=(
        DemoPerson(
            "Jordan Tremblay",
            "admin@lumen.example",
            Role.ADMIN,
            "cedar-ferry-aperture-36",
            "admin: settings, staff accounts",
        ),
        DemoPerson(
            "Mei Lin Chen",
            "staff@lumen.example",
            Role.STAFF,
            "tidal-lens-umbrella-52",
            "staff: applications, register, meetings",
        ),
        DemoPerson(
            "Priya Raman",
            "secretary@lumen.example",
            Role.STAFF,
            "granite-shutter-kayak-18",
            "staff: the co-op's secretary",
            title="Secretary",
        ),
        DemoPerson(
            "Daniel Moreau",
            "president@lumen.example",
            Role.MEMBER,
            "orchard-tripod-harbour-64",
            "member: founder, president of the board",
            classes=("founder",),
            town="Victoria",
        ),
        DemoPerson(
            "Sofia Alvarez",
            "artist@lumen.example",
            Role.MEMBER,
            "copper-glacier-frame-27",
            "member: a contributing artist",
            classes=("contributor",),
            town="Vancouver",
        ),
        DemoPerson(
            "Liam Nguyen",
            "employee@lumen.example",
            Role.MEMBER,
            "maple-darkroom-signal-93",
            "member: contributing artist and employee, votes as employee",
            classes=("contributor", "employee"),
            town="Victoria",
        ),
        DemoPerson(
            "Ethan Brooks",
            "applicant@lumen.example",
            Role.MEMBER,
            "willow-negative-canoe-45",
            "applicant: a contributing artist awaiting review",
            town="Nelson",
            applies_to="contributor",
            answers={
                "portfolio_url": "https://photos.example/ethan-brooks",
                "statement": "Documentary work from the Kootenays: orchards, rail and rivers.",
                "exclusive": "yes",
            },
        ),
    ),
    answers={
        "contributor": {
            "portfolio_url": "https://photos.example/coastlight",
            "statement": "Coastal landscapes and food photography, shot on medium format.",
            "exclusive": "yes",
        },
        "employee": {"start_date": "March 2025"},
        "founder": {"role": "Founding member of the 2013 steering group"},
    },
    extra_members=(
        ExtraMember("Hana Sato", "contributor", "Nanaimo"),
        ExtraMember("Marcus Dubois", "contributor", "Kelowna"),
        ExtraMember("Aaliyah Thompson", "employee", "Victoria"),
        ExtraMember("Robert Whitehorse", "founder", "Squamish"),
        ExtraMember("Chloé Gagnon", "contributor", "Kamloops", "lapsed"),
        ExtraMember("Arjun Mehta", "contributor", "Surrey", "ceased"),
        ExtraMember("Grace MacLeod", "contributor", "Tofino", "unpaid"),
        ExtraMember("Noah Campbell", "employee", "Saanich", "unpaid"),
    ),
    extra_applicants=(
        ExtraApplicant(
            "Emily Fraser",
            "employee",
            {"start_date": "August 2026"},
            "Victoria",
            question="On what date did your six months as an employee end?",
        ),
        ExtraApplicant(
            "Kenji Watanabe",
            "contributor",
            {
                "portfolio_url": "https://photos.example/kenji",
                "statement": "Aerial and drone footage of the Pacific coast.",
                "exclusive": "no",
            },
            "Prince Rupert",
        ),
    ),
    investment="investment",
    holder="artist@lumen.example",
    chair="president@lumen.example",
    purchases=(("employee@lumen.example", 100), ("member1@lumen.example", 15)),
    withdrawal_reason="Buying a new camera body.",
    lapse_note="No work licensed for two years",
    resignation_note="Leaving photography",
)

STOCKSY = Preset(
    name="stocksy",
    settings={
        "name": "Lumen Stock Co-op",
        "legal_name": "Lumen Stock Photography Co-operative",
        "registration": "Incorporated under the Cooperative Association Act (British "
        "Columbia), No. CP0007731",
        "address": "1720 Store Street, Victoria, BC V8W 3K2, Canada",
        "tagline": "Stock photography and film owned by the artists who make it.",
        "purpose": "Lumen is a platform co-op: contributing artists, employees and founders "
        "share ownership, royalties and the decisions that shape the agency.",
        "contact_email": "members@lumen.example",
        "currency": "CAD",
        "timezone": "America/Vancouver",
        "max_holding_minor": 10_000_000,  # CA$100,000 (rule 11.4)
        "special_majority_numerator": 3,  # a special resolution needs three quarters (rule 19.2)
        "special_majority_denominator": 4,
        "rulebook_version": "Rules of Lumen Stock Photography Co-operative, 2024 edition",
        "first_signatory_title": "Secretary",
        "first_signatory_name": "Priya Raman",
        "second_signatory_title": "President",
        "second_signatory_name": "Daniel Moreau",
        "bank_account_name": "Lumen Stock Photography Co-operative",
        "bank_name": "Arbutus Coast Credit Union",
        "payment_form": PaymentForm.CANADA,
        "bank_institution": "809",
        "bank_transit": "04312",
        "bank_account_number": "1002345",
        "reference_prefix": "LUM",
    },
    classes=CLASSES,
    share_types=SHARE_TYPES,
    demo=DEMO,
)
