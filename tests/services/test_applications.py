"""Applications: every allowed transition, and every forbidden one refused clearly."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select

from portal.errors import InvalidState, NotAllowed
from portal.models import (
    Application,
    ApplicationState,
    Member,
    MemberStatus,
    OrderState,
    ShareOrder,
)
from portal.services.membership import applications, leaving, privacy, review
from portal.services.membership.applications import ApplicationInput, InvalidFields
from portal.services.register import members
from portal.services.register.classes import find_class

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


def submitted(db, user, code="artist", given=ARTIST):
    application = applications.start_application(db, user, find_class(db, code))
    return applications.submit_application(db, application, given, actor=user)


def test_submit_then_approve_admits_a_member_with_the_next_number(db, coop, person):
    staff = person("staff")
    first = submitted(db, person())
    second = submitted(db, person())
    review.approve_application(db, first, actor=staff)
    review.approve_application(db, second, actor=staff)
    assert first.state is second.state is ApplicationState.APPROVED
    numbers = sorted(db.scalars(select(Member.number)))
    assert numbers == [1, 2]
    member = db.get(Member, first.member_id)
    assert member.status is MemberStatus.ACTIVE
    assert [c.code for c in member.active_classes] == ["artist"]
    assert member.primary_class.code == "artist"
    assert first.rulebook_version == coop.rulebook_version


def test_approving_twice_is_refused(db, coop, person):
    staff = person("staff")
    application = submitted(db, person())
    review.approve_application(db, application, actor=staff)
    with pytest.raises(InvalidState, match="approved; it cannot be approved"):
        review.approve_application(db, application, actor=staff)


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
    review.approve_application(db, application, actor=second)
    assert application.state is ApplicationState.APPROVED


def test_staff_cannot_approve_their_own_application(db, coop, person):
    staff = person("staff")
    application = submitted(db, staff)
    with pytest.raises(NotAllowed):
        review.approve_application(db, application, actor=staff)


def test_the_applicant_must_have_verified_their_email(db, coop, person):
    with pytest.raises(NotAllowed, match="Confirm your e-mail"):
        applications.start_application(db, person(verified=False), find_class(db, "artist"))


def test_listeners_are_admitted_automatically(db, coop, person):
    user = person()
    listener = ApplicationInput(answers={}, address=ADDRESS, accept_rules=True)
    application = submitted(db, user, code="listener", given=listener)
    assert application.state is ApplicationState.APPROVED
    assert members.member_for_user(db, user).number == 1


def test_a_member_can_join_a_second_class_and_choose_the_primary(db, coop, person):
    staff, user = person("staff"), person()
    review.approve_application(db, submitted(db, user), actor=staff)
    worker = ApplicationInput(
        answers={"team": "Engineering", "hours": "120"}, address=ADDRESS, accept_rules=True
    )
    second = submitted(db, user, code="worker", given=worker)
    review.approve_application(db, second, actor=staff)
    member = members.member_for_user(db, user)
    assert {c.code for c in member.active_classes} == {"artist", "worker"}
    assert member.number == 1  # one member, one number
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


def test_resignation_confirmed_by_staff_ceases_the_member(db, coop, person):
    staff, user = person("staff"), person()
    review.approve_application(db, submitted(db, user), actor=staff)
    member = members.member_for_user(db, user)
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


def test_only_a_ceased_member_is_anonymised_and_the_register_fields_stay(db, coop, person):
    staff, user = person("staff"), person()
    review.approve_application(db, submitted(db, user), actor=staff)
    member = members.member_for_user(db, user)
    name = member.name
    with pytest.raises(InvalidState, match="Only a ceased member"):
        privacy.anonymise(db, member, actor=staff)
    leaving.cease_member(db, member, actor=staff, note="Resigned")
    privacy.anonymise(db, member, actor=staff)
    assert member.user is None and member.name == name
    assert member.address_line1 == "1 Main Street"  # kept for the statutory register
    assert user.email.endswith("@invalid") and not user.is_active
    assert db.scalar(select(Application).where(Application.user_id == user.id)).answers == []


def test_approval_orders_the_required_membership_share_once(db, coop, person):
    staff, user = person("staff"), person()
    review.approve_application(db, submitted(db, user), actor=staff)
    worker = ApplicationInput(
        answers={"team": "Ops", "hours": "60"}, address=ADDRESS, accept_rules=True
    )
    second = submitted(db, user, code="worker", given=worker)
    review.approve_application(db, second, actor=staff)
    orders = db.scalars(select(ShareOrder)).all()
    assert [(o.quantity, o.share_type.code, o.state) for o in orders] == [
        (1, "membership", OrderState.PENDING_PAYMENT)
    ]
    assert orders[0].member.user_id == user.id


def test_a_member_admitted_half_past_midnight_irish_summer_time_is_admitted_that_day(
    db, coop, person
):
    """The admission date is the co-op's date (CoopSettings.timezone), not UTC's."""
    staff = person("staff")
    application = submitted(db, person())
    with time_machine.travel(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), tick=False):  # 00:30 IST
        review.approve_application(db, application, actor=staff)
    member = application.member
    assert member.admitted_on == date(2026, 7, 2)
    assert [cm.admitted_on for cm in member.class_memberships] == [date(2026, 7, 2)]


def test_a_member_who_resigns_half_past_midnight_ceases_that_day(db, coop, person):
    staff, user = person("staff"), person()
    review.approve_application(db, submitted(db, user), actor=staff)
    member = members.member_for_user(db, user)
    resignation = leaving.request_resignation(db, member, "", actor=user)
    with time_machine.travel(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), tick=False):
        leaving.confirm_resignation(db, resignation, actor=staff)
    assert member.ceased_on == date(2026, 7, 2)
    assert {cm.ended_on for cm in member.class_memberships} == {date(2026, 7, 2)}
