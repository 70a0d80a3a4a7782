"""Applications: every allowed transition, and every forbidden one refused clearly."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyotp
import pytest
import time_machine
from sqlalchemy import func, select

import portal.coop
from portal.errors import InvalidInput, InvalidState, NotAllowed
from portal.models import (
    Application,
    ApplicationState,
    Certificate,
    LedgerEntry,
    Member,
    MemberStatus,
    OrderState,
    ShareOrder,
)
from portal.services.accounts import two_factor
from portal.services.counters import next_number
from portal.services.membership import applications, leaving, privacy, review
from portal.services.membership.applications import ApplicationInput, InvalidFields
from portal.services.register import members
from portal.services.register.classes import find_class
from portal.services.shares import ledger, orders
from portal.services.shares.share_types import find_type

from ..factories import audit_trail

ADDRESS = {"address_line1": "1 Main Street", "town": "Cork", "country": "Ireland"}
ARTIST = ApplicationInput(
    answers={"artist_name": "The Quays", "release_url": "https://music.example/quays"},
    address=ADDRESS,
    accept_rules=True,
)


@pytest.fixture
def person(make_user):
    """An account: ``person()``, ``person("staff")``, ``person(verified=False)``."""
    return lambda role="member", verified=True: make_user(role=role, verified=verified)


WORKER = ApplicationInput(
    answers={"team": "Engineering", "hours": "120"}, address=ADDRESS, accept_rules=True
)
LISTENER = ApplicationInput(answers={}, address=ADDRESS, accept_rules=True)


def submitted(db, user, code="artist", given=ARTIST):
    application = applications.start_application(db, user, find_class(db, code))
    return applications.submit_application(db, application, given, actor=user)


def how_many(db, model):
    return db.scalar(select(func.count()).select_from(model))


def admitted(db, user, staff, pay, code="artist", given=ARTIST):
    """Apply, be approved and pay the membership share: the member."""
    application = submitted(db, user, code, given)
    if application.can_approve:
        review.approve_application(db, application, actor=staff)
    pay(orders.waiting_admission_order(db, user))
    return members.member_for_user(db, user)


def test_approval_asks_for_the_membership_share_and_admits_no_one(db, coop, person):
    staff, user = person("staff"), person()
    application = submitted(db, user)
    review.approve_application(db, application, actor=staff)
    assert application.state is ApplicationState.AWAITING_SHARE
    assert application.reviewer is staff and application.decided_at is not None
    assert application.member_id is None and members.member_for_user(db, user) is None
    assert how_many(db, Member) == 0  # not on the register
    assert how_many(db, LedgerEntry) == how_many(db, Certificate) == 0  # nor the share register
    order = application.admission_order
    assert order is orders.waiting_admission_order(db, user)
    assert (order.share_type.code, order.quantity, order.fee_minor, order.amount_minor) == (
        "membership",
        1,
        0,  # the Artist class has no annual fee
        100,
    )
    assert (order.state, order.member_id, order.application_id) == (
        OrderState.PENDING_PAYMENT,
        None,
        application.id,
    )
    assert order.admits and not order.can_cancel
    assert audit_trail(db, application)[-1] == "application.awaiting_share"


def test_paying_the_membership_share_admits_with_the_next_number(db, coop, person, pay):
    staff, ann, bob = person("staff"), person(), person()
    first, second = submitted(db, ann), submitted(db, bob)
    review.approve_application(db, first, actor=staff)
    review.approve_application(db, second, actor=staff)
    bobs = pay(second.admission_order)  # numbers go in the order the shares are paid
    anns = pay(first.admission_order)
    assert first.state is second.state is ApplicationState.APPROVED
    assert (first.member.number, second.member.number) == (2, 1)
    assert sorted(db.scalars(select(Member.number))) == [1, 2]
    member = first.member
    assert member.user is ann and member.status is MemberStatus.ACTIVE
    assert member.admitted_on == portal.coop.today(db)
    assert [c.code for c in member.active_classes] == ["artist"]
    assert member.primary_class.code == "artist"
    assert first.rulebook_version == coop.rulebook_version
    assert audit_trail(db, first)[-1] == "application.admitted"
    # The membership share and its certificate, numbered in the same order.
    assert (bobs.number, anns.number) == (1, 2)
    assert (anns.member_id, anns.share_type.code, anns.quantity) == (member.id, "membership", 1)
    assert ledger.holding(db, member, find_type(db, "membership")) == 1
    paid = db.get(ShareOrder, anns.order_id)
    assert (paid.state, paid.member_id, paid.application_id) == (
        OrderState.ISSUED,
        member.id,
        first.id,
    )


def test_a_payment_of_the_wrong_amount_leaves_them_an_applicant(db, coop, person, pay):
    staff, user = person("staff"), person()
    application = submitted(db, user)
    review.approve_application(db, application, actor=staff)
    order = application.admission_order
    with pytest.raises(InvalidInput, match=r"0\.50 less"):
        pay(order, amount=50)
    assert application.state is ApplicationState.AWAITING_SHARE
    assert order.state is OrderState.PENDING_PAYMENT and order.member_id is None
    assert members.member_for_user(db, user) is None
    assert how_many(db, Member) == how_many(db, LedgerEntry) == how_many(db, Certificate) == 0
    pay(order)  # the right amount: the first number, none lost to the refusal
    assert application.member.number == 1


def test_approving_twice_is_refused(db, coop, person, pay):
    staff = person("staff")
    application = submitted(db, person())
    review.approve_application(db, application, actor=staff)
    with pytest.raises(InvalidState, match="approved, share to pay; it cannot be approved"):
        review.approve_application(db, application, actor=staff)
    assert how_many(db, ShareOrder) == 1
    pay(application.admission_order)
    with pytest.raises(InvalidState, match="it cannot be approved"):
        review.approve_application(db, application, actor=staff)
    assert how_many(db, ShareOrder) == how_many(db, Member) == 1


def test_a_withdrawn_application_cannot_be_approved_but_can_be_made_again(db, coop, person):
    staff, user = person("staff"), person()
    application = submitted(db, user)
    applications.withdraw_application(db, application, actor=user)
    with pytest.raises(InvalidState, match="withdrawn"):
        review.approve_application(db, application, actor=staff)
    again = submitted(db, user)
    assert again.id != application.id and again.state is ApplicationState.SUBMITTED


def test_one_open_application_per_class(db, coop, person):
    user = person()
    application = submitted(db, user)
    artist = find_class(db, "artist")
    assert applications.start_application(db, user, artist) is application
    with pytest.raises(InvalidState, match="cannot be submitted"):
        applications.submit_application(db, application, ARTIST, actor=user)


def test_a_rejected_application_can_be_made_again(db, coop, person):
    staff, user = person("staff"), person()
    application = submitted(db, user)
    review.reject_application(db, application, "We could not find the release.", actor=staff)
    assert application.reason == "We could not find the release."
    assert submitted(db, user).state is ApplicationState.SUBMITTED


def test_a_rejection_needs_a_reason(db, coop, person):
    application = submitted(db, person())
    with pytest.raises(Exception, match="Write the reason"):
        review.reject_application(db, application, "  ", actor=person("staff"))


def test_needs_information_then_the_applicant_answers(db, coop, person):
    staff, user = person("staff"), person()
    application = submitted(db, user)
    review.ask_for_information(db, application, "Which label released it?", actor=staff)
    assert application.state is ApplicationState.NEEDS_INFO
    with pytest.raises(InvalidState):
        review.approve_application(db, application, actor=staff)
    with pytest.raises(InvalidFields) as caught:
        applications.submit_application(db, application, ARTIST, actor=user)
    assert "reply" in caught.value.errors
    reply = ApplicationInput(
        answers=ARTIST.answers,
        address=ADDRESS,
        accept_rules=True,
        reply="Self-released on our own label.",
    )
    applications.submit_application(db, application, reply, actor=user)
    assert application.state is ApplicationState.SUBMITTED
    assert application.applicant_reply == "Self-released on our own label."


def test_the_two_person_rule_needs_a_second_staff_member(db, coop, person):
    coop.two_person_approval = True
    first, second, user = person("staff"), person("staff"), person()
    application = submitted(db, user)
    review.approve_application(db, application, actor=first)
    assert application.state is ApplicationState.AWAITING_SECOND
    with pytest.raises(NotAllowed, match="second staff member"):
        review.approve_application(db, application, actor=first)
    assert application.admission_order is None  # nothing to pay before the second approval
    review.approve_application(db, application, actor=second)
    assert application.state is ApplicationState.AWAITING_SHARE
    assert application.admission_order is not None
    assert members.member_for_user(db, user) is None


def test_staff_cannot_approve_their_own_application(db, coop, person):
    staff = person("staff")
    application = submitted(db, staff)
    with pytest.raises(NotAllowed):
        review.approve_application(db, application, actor=staff)


def test_the_applicant_must_have_verified_their_email(db, coop, person):
    with pytest.raises(NotAllowed, match="Confirm your e-mail"):
        applications.start_application(db, person(verified=False), find_class(db, "artist"))


def test_listeners_are_approved_at_once_and_pay_the_share_and_the_first_fee(db, coop, person, pay):
    user = person()
    application = submitted(db, user, code="listener", given=LISTENER)
    assert application.state is ApplicationState.AWAITING_SHARE
    assert members.member_for_user(db, user) is None
    order = application.admission_order
    assert (order.share_type.code, order.quantity) == ("membership", 1)
    assert (order.fee_minor, order.shares_minor, order.amount_minor) == (1000, 100, 1100)
    with pytest.raises(InvalidInput, match=r"The order is for €11; the payment is €10 less"):
        pay(order, amount=100)  # the share alone does not admit a Listener
    assert members.member_for_user(db, user) is None
    certificate = pay(order)
    member = members.member_for_user(db, user)
    assert member.number == 1 and [c.code for c in member.active_classes] == ["listener"]
    assert application.state is ApplicationState.APPROVED
    assert order.paid_amount_minor == 1100
    # Only the share goes on the share register; the fee is not capital.
    (row,) = db.scalars(select(LedgerEntry))
    assert (row.member_id, row.quantity, row.amount_minor) == (member.id, 1, 100)
    assert ledger.capital(db, member) == 100
    assert (certificate.quantity, certificate.share_type.code) == (1, "membership")


def test_a_member_can_join_a_second_class_and_choose_the_primary(db, coop, person, pay):
    staff, user = person("staff"), person()
    admitted(db, user, staff, pay)
    second = submitted(db, user, code="worker", given=WORKER)
    review.approve_application(db, second, actor=staff)
    assert second.state is ApplicationState.APPROVED  # a member already: no share to pay
    assert audit_trail(db, second)[-1] == "application.admitted"
    member = members.member_for_user(db, user)
    assert second.member is member
    assert {c.code for c in member.active_classes} == {"artist", "worker"}
    assert member.number == 1  # one member, one number
    assert how_many(db, ShareOrder) == 1 and orders.waiting_admission_order(db, user) is None
    assert ledger.holding(db, member, find_type(db, "membership")) == 1  # one share for all
    members.set_primary_class(db, member, find_class(db, "worker"), actor=user)
    assert member.primary_class.code == "worker"
    with pytest.raises(InvalidState, match="already a member"):
        applications.start_application(db, user, find_class(db, "artist"))


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"release_url": "https://x.example/a"}, "answer-artist_name", "required"),
        ({"artist_name": "A", "release_url": "not a url"}, "answer-release_url", "https://"),
        (
            {"artist_name": "A", "release_url": "javascript:alert(1)"},
            "answer-release_url",
            "https://",
        ),
        (
            {"artist_name": "A" * 201, "release_url": "https://x.example"},
            "answer-artist_name",
            "at most 200",
        ),
    ],
)
def test_bad_answers_are_refused_field_by_field(db, coop, person, answers, field, message):
    user = person()
    application = applications.start_application(db, user, find_class(db, "artist"))
    with pytest.raises(InvalidFields) as caught:
        applications.submit_application(
            db,
            application,
            ApplicationInput(answers=answers, address=ADDRESS, accept_rules=True),
            actor=user,
        )
    assert message in caught.value.errors[field]
    assert application.state is ApplicationState.DRAFT


def test_the_rules_must_be_accepted_and_the_address_given(db, coop, person):
    user = person()
    application = applications.start_application(db, user, find_class(db, "artist"))
    given = ApplicationInput(answers=ARTIST.answers, address={}, accept_rules=False)
    with pytest.raises(InvalidFields) as caught:
        applications.submit_application(db, application, given, actor=user)
    assert {"accept_rules", "address_line1", "town", "country"} <= caught.value.errors.keys()


def test_numbers_are_checked(db, coop, person):
    user = person()
    application = applications.start_application(db, user, find_class(db, "worker"))
    given = ApplicationInput(
        answers={"team": "Ops", "hours": "lots"}, address=ADDRESS, accept_rules=True
    )
    with pytest.raises(InvalidFields) as caught:
        applications.submit_application(db, application, given, actor=user)
    assert "Enter a number" in caught.value.errors["answer-hours"]


def test_resignation_confirmed_by_staff_ceases_the_member(db, coop, person, pay):
    staff, user = person("staff"), person()
    member = admitted(db, user, staff, pay)
    resignation = leaving.request_resignation(db, member, "Moving on", actor=user)
    with pytest.raises(InvalidState, match="already asked"):
        leaving.request_resignation(db, member, "again", actor=user)
    leaving.confirm_resignation(db, resignation, actor=staff)
    assert member.status is MemberStatus.CEASED and member.ceased_on is not None
    assert audit_trail(db, member)[-3:] == [
        "member.resignation_requested",
        "member.resignation_confirmed",
        "member.ceased",
    ]
    assert member.active_classes == []
    with pytest.raises(InvalidState, match="ceased"):
        applications.start_application(db, user, find_class(db, "worker"))


def test_only_a_ceased_member_is_anonymised_and_the_register_fields_stay(db, coop, person, pay):
    staff, user = person("staff"), person()
    member = admitted(db, user, staff, pay)
    name = member.name
    with pytest.raises(InvalidState, match="Only a ceased member"):
        privacy.anonymise(db, member, actor=staff)
    leaving.cease_member(db, member, actor=staff, note="Resigned")
    two_factor.start_setup(db, user)
    two_factor.enable(db, user, pyotp.TOTP(two_factor.pending_secret(user)).now())
    privacy.anonymise(db, member, actor=staff)
    assert member.user is None and member.name == name
    assert user.totp_secret is None and not user.two_factor_enabled and not user.recovery_codes
    assert member.address_line1 == "1 Main Street"  # kept for the statutory register
    assert user.email.endswith("@invalid") and not user.is_active
    assert db.scalar(select(Application).where(Application.user_id == user.id)).answers == []


def test_two_classes_approved_before_paying_wait_for_one_share_and_are_admitted_by_it(
    db, coop, person, pay
):
    staff, user = person("staff"), person()
    first = submitted(db, user)
    review.approve_application(db, first, actor=staff)
    second = submitted(db, user, code="worker", given=WORKER)
    review.approve_application(db, second, actor=staff)
    assert first.state is second.state is ApplicationState.AWAITING_SHARE
    (order,) = db.scalars(select(ShareOrder))  # one membership share, however many classes
    assert (order.quantity, order.share_type.code, order.state, order.application_id) == (
        1,
        "membership",
        OrderState.PENDING_PAYMENT,
        first.id,
    )
    assert orders.waiting_admission_order(db, user) is order
    assert members.member_for_user(db, user) is None
    pay(order)
    member = members.member_for_user(db, user)
    assert first.state is second.state is ApplicationState.APPROVED
    assert first.member is second.member is member and member.number == 1
    assert {c.code for c in member.active_classes} == {"artist", "worker"}
    assert member.primary_class.code == "artist"
    assert ledger.holding(db, member, find_type(db, "membership")) == 1
    assert how_many(db, Certificate) == 1


def test_withdrawing_an_application_awaiting_its_share_cancels_its_order(db, coop, person, pay):
    staff, user = person("staff"), person()
    application = submitted(db, user)
    review.approve_application(db, application, actor=staff)
    order = application.admission_order
    with pytest.raises(InvalidState, match="withdraw the application instead"):
        orders.cancel_order(db, order, actor=user)
    applications.withdraw_application(db, application, actor=user)
    assert application.state is ApplicationState.WITHDRAWN
    assert order.state is OrderState.CANCELLED and "order.cancelled" in audit_trail(db, order)
    assert orders.waiting_admission_order(db, user) is None
    with pytest.raises(InvalidState, match="cancelled; it cannot be paid"):
        pay(order)
    assert members.member_for_user(db, user) is None and how_many(db, Member) == 0


def test_rejecting_an_application_never_paid_cancels_its_order(db, coop, person):
    staff, user = person("staff"), person()
    application = submitted(db, user)
    review.approve_application(db, application, actor=staff)
    order = application.admission_order
    review.reject_application(db, application, "The share was never paid.", actor=staff)
    assert application.state is ApplicationState.REJECTED
    assert order.state is OrderState.CANCELLED


def test_withdrawing_one_of_two_awaiting_applications_passes_the_order_to_the_other(
    db, coop, person, pay
):
    staff, user = person("staff"), person()
    first = submitted(db, user)
    review.approve_application(db, first, actor=staff)
    second = submitted(db, user, code="worker", given=WORKER)
    review.approve_application(db, second, actor=staff)
    order = orders.waiting_admission_order(db, user)
    applications.withdraw_application(db, first, actor=user)
    assert order.state is OrderState.PENDING_PAYMENT and order.application_id == second.id
    assert audit_trail(db, order)[-1] == "order.changed"
    pay(order)
    member = members.member_for_user(db, user)
    assert [c.code for c in member.active_classes] == ["worker"]
    assert first.state is ApplicationState.WITHDRAWN and first.member_id is None
    assert second.state is ApplicationState.APPROVED


def test_only_an_application_awaiting_its_share_can_be_chased(db, coop, person, pay):
    staff, user = person("staff"), person()
    application = submitted(db, user)
    with pytest.raises(InvalidState, match="awaiting its share"):
        review.remind_to_pay(db, application, actor=staff)
    review.approve_application(db, application, actor=staff)
    review.remind_to_pay(db, application, actor=staff)
    assert audit_trail(db, application)[-1] == "application.reminded"
    pay(application.admission_order)
    with pytest.raises(InvalidState, match="awaiting its share"):
        review.remind_to_pay(db, application, actor=staff)


def test_approving_takes_no_member_number(db, coop, person, pay):
    """The counter moves only when a payment admits someone: approvals take no number."""
    staff = person("staff")
    for _ in range(3):
        review.approve_application(db, submitted(db, person()), actor=staff)
    assert how_many(db, Member) == 0
    assert next_number(db, members.MEMBER_NUMBER) == 1  # nothing was taken by approving


def test_a_member_admitted_half_past_midnight_irish_summer_time_is_admitted_that_day(
    db, coop, person, pay
):
    """The admission date is the co-op's date (CoopSettings.timezone), not UTC's: the day the
    membership share's payment is recorded, not the day of approval."""
    staff = person("staff")
    application = submitted(db, person())
    with time_machine.travel(datetime(2026, 6, 20, 12, tzinfo=UTC), tick=False):
        review.approve_application(db, application, actor=staff)
    with time_machine.travel(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), tick=False):  # 00:30 IST
        pay(application.admission_order)
    member = application.member
    assert member.admitted_on == date(2026, 7, 2)
    assert [cm.admitted_on for cm in member.class_memberships] == [date(2026, 7, 2)]


def test_a_member_who_resigns_half_past_midnight_ceases_that_day(db, coop, person, pay):
    staff, user = person("staff"), person()
    member = admitted(db, user, staff, pay)
    resignation = leaving.request_resignation(db, member, "", actor=user)
    with time_machine.travel(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), tick=False):
        leaving.confirm_resignation(db, resignation, actor=staff)
    assert member.ceased_on == date(2026, 7, 2)
    assert {cm.ended_on for cm in member.class_memberships} == {date(2026, 7, 2)}


def test_a_listener_approved_while_another_share_waits_still_pays_the_first_fee(
    db, coop, person, pay
):
    staff, user = person("staff"), person()
    review.approve_application(db, submitted(db, user), actor=staff)
    listener = submitted(db, user, code="listener", given=LISTENER)
    assert listener.state is ApplicationState.AWAITING_SHARE
    due = db.scalars(
        select(ShareOrder.amount_minor)
        .join(ShareOrder.application)
        .where(Application.user_id == user.id, ShareOrder.state == OrderState.PENDING_PAYMENT)
    ).all()
    assert sum(due) == 100 + 1000  # the membership share and the Listener's first fee


def test_approving_an_admitted_application_again_is_refused_in_words(db, coop, person, pay):
    staff = person("staff")
    application = submitted(db, person())
    review.approve_application(db, application, actor=staff)
    pay(application.admission_order)
    with pytest.raises(InvalidState) as refused:
        review.approve_application(db, application, actor=staff)
    assert "is member;" not in refused.value.message
