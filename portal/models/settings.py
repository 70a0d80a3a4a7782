"""The co-op's own settings: one row, edited by admins (DESIGN.md §2)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, enum_column, utcnow
from .states import Labelled


class VotingMode(Labelled):
    ONE_MEMBER_ONE_VOTE = "one_member_one_vote", "One member, one vote"
    CLASS_WEIGHTED = "class_weighted", "Weighted by class"


class PaymentForm(Labelled):
    """How the co-op's bank account is written: each country's banks use their own numbers."""

    IBAN = "iban", "IBAN and BIC (the euro area and other IBAN countries)"
    CANADA = "canada", "Canadian institution, transit and account numbers"
    US = "us", "US routing (ABA) and account numbers"

    @property
    def bank_fields(self) -> tuple[tuple[str, str], ...]:
        """The settings this form uses, with their labels: ``(("bank_iban", "IBAN"), …)``."""
        return BANK_FIELDS[self]


# The account numbers of each form, in the order a member copies them into a transfer.
BANK_FIELDS: dict[PaymentForm, tuple[tuple[str, str], ...]] = {
    PaymentForm.IBAN: (("bank_iban", "IBAN"), ("bank_bic", "BIC")),
    PaymentForm.CANADA: (
        ("bank_institution", "Institution number"),
        ("bank_transit", "Transit number"),
        ("bank_account_number", "Account number"),
    ),
    PaymentForm.US: (
        ("bank_routing", "Routing number (ABA)"),
        ("bank_account_number", "Account number"),
    ),
}


class CoopSettings(Base):
    """The co-op's own settings: one row, edited by admins (DESIGN.md §2)."""

    __tablename__ = "coop_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("quorum_percent BETWEEN 0 AND 100", name="quorum_percent_range"),
        CheckConstraint(
            "quorum_percent_per_class BETWEEN 0 AND 100", name="quorum_percent_per_class_range"
        ),
        CheckConstraint("proxy_deadline_hours BETWEEN 0 AND 720", name="proxy_deadline_range"),
        CheckConstraint(
            "special_majority_numerator > 0 AND special_majority_numerator "
            "<= special_majority_denominator",
            name="special_majority_fraction",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    name: Mapped[str] = mapped_column(String(120))
    legal_name: Mapped[str] = mapped_column(String(200))
    registration: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    tagline: Mapped[str] = mapped_column(String(300))
    purpose: Mapped[str] = mapped_column(Text)
    contact_email: Mapped[str] = mapped_column(String(254))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Dublin")
    notice_days: Mapped[int] = mapped_column(default=14)  # clear days before a meeting
    voting_window_days: Mapped[int] = mapped_column(default=7)
    quorum_min_members: Mapped[int] = mapped_column(default=3)
    quorum_percent: Mapped[int] = mapped_column(default=10)  # of eligible members
    # Each class must also reach this % of its own roll; 0 turns the per-class quorum off.
    quorum_percent_per_class: Mapped[int] = mapped_column(default=0, server_default="0")
    special_majority_numerator: Mapped[int] = mapped_column(default=2)
    special_majority_denominator: Mapped[int] = mapped_column(default=3)
    special_needs_class_majority: Mapped[bool] = mapped_column(default=True)
    max_holding_minor: Mapped[int] = mapped_column(default=15_000_000)  # €150,000
    voting_mode: Mapped[VotingMode] = mapped_column(
        enum_column(VotingMode, "voting_mode"), default=VotingMode.ONE_MEMBER_ONE_VOTE
    )
    proxies_per_holder: Mapped[int] = mapped_column(default=5)
    # Proxies are appointed, changed and revoked until this many hours before the start.
    proxy_deadline_hours: Mapped[int] = mapped_column(default=48, server_default="48")
    # The chair may hold any number of proxies (proxies_per_holder does not bind them).
    chair_exempt_from_proxy_cap: Mapped[bool] = mapped_column(default=True, server_default=true())
    # A requisition needs this % of the members it counts (its class's, or all) to sign
    # within requisition_signing_days; the board then calls the meeting within
    # requisition_call_days (rule 22).
    requisition_percent: Mapped[int] = mapped_column(default=10, server_default="10")
    requisition_signing_days: Mapped[int] = mapped_column(default=28, server_default="28")
    requisition_call_days: Mapped[int] = mapped_column(default=21, server_default="21")
    # A director elected at an AGM sits until the AGM this many years later (rule 30).
    director_term_years: Mapped[int] = mapped_column(default=3, server_default="3")
    first_signatory_title: Mapped[str] = mapped_column(String(60), default="Secretary")
    second_signatory_title: Mapped[str] = mapped_column(String(60), default="Director")
    first_signatory_name: Mapped[str] = mapped_column(String(120), default="")
    second_signatory_name: Mapped[str] = mapped_column(String(120), default="")
    # Where members send money for shares (bank transfer is the default way to pay).
    # The payment form says which of the account numbers below apply (PaymentForm).
    bank_account_name: Mapped[str] = mapped_column(String(120), default="")
    bank_name: Mapped[str] = mapped_column(String(120), default="")
    payment_form: Mapped[PaymentForm] = mapped_column(
        enum_column(PaymentForm, "payment_form"), default=PaymentForm.IBAN
    )
    bank_iban: Mapped[str] = mapped_column(String(34), default="")
    bank_bic: Mapped[str] = mapped_column(String(11), default="")
    bank_institution: Mapped[str] = mapped_column(String(3), default="")  # Canada
    bank_transit: Mapped[str] = mapped_column(String(5), default="")  # Canada
    bank_routing: Mapped[str] = mapped_column(String(9), default="")  # US (ABA)
    bank_account_number: Mapped[str] = mapped_column(String(17), default="")  # Canada, US
    # Starts every order's payment reference ("RVB-7KQ4-M2XD"), so transfers are told apart.
    reference_prefix: Mapped[str] = mapped_column(String(6), default="REF")
    two_person_approval: Mapped[bool] = mapped_column(default=False)
    retention_years: Mapped[int] = mapped_column(default=6)  # register data kept after ceasing
    # The rulebook version applicants accept; the documents issue replaces it with a link.
    rulebook_version: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
