"""How long staff usually take to decide: measured from the record, never guessed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from portal.services.membership import review, review_times
from portal.services.register.classes import find_class

SENT = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)


def decided_after(db, make_applicant, reviewer, hours, *, reject=False):
    """An artist application sent at SENT and decided by staff ``hours`` later."""
    with time_machine.travel(SENT, tick=False):
        application = make_applicant().load(db)
    with time_machine.travel(SENT + timedelta(hours=hours), tick=False):
        if reject:
            review.reject_application(db, application, "Not yet", actor=reviewer)
        else:
            review.approve_application(db, application, actor=reviewer)


def test_the_usual_time_is_the_median_of_recent_staff_decisions_in_whole_days(
    db, make_applicant, reviewer
):
    artist = find_class(db, "artist")
    for hours in (23, 47):  # a day, two days (a part of a day counts as a day)
        decided_after(db, make_applicant, reviewer, hours)
    with time_machine.travel(SENT + timedelta(days=10), tick=False):
        assert review_times.usual_review_time(db, artist) is None  # two say nothing yet
    decided_after(db, make_applicant, reviewer, 5 * 24 - 1, reject=True)
    with time_machine.travel(SENT + timedelta(days=10), tick=False):
        assert review_times.usual_review_time(db, artist) == review_times.ReviewTime(2, 3)
    with time_machine.travel(SENT + timedelta(days=400), tick=False):
        assert review_times.usual_review_time(db, artist) is None  # a year on, too old


def test_classes_admitted_at_once_and_other_classes_do_not_count(
    db, make_applicant, make_member, reviewer
):
    for _ in range(3):
        make_member(classes=("listener",))  # admitted automatically, by no one
    make_member(classes=("artist",))
    assert review_times.usual_review_time(db, find_class(db, "listener")) is None
    assert review_times.usual_review_time(db, find_class(db, "worker")) is None
