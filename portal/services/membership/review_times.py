"""How long staff take to decide applications, measured from the co-op's own record.

An applicant waiting for review wants to know how long it usually takes. The portal has
no promise to make, so it reports what happened: how many days the recent decisions on
applications to the class took, from the day the application was sent to the decision.
With too few decisions to go on, it says nothing rather than guess.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from statistics import median_low

from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import coop
from ...models import Application, ApplicationState, MemberClass

# The decisions looked at: the most recent this many, from the last year.
SAMPLE = 20
LOOKBACK = timedelta(days=365)
# Fewer decisions than this say nothing about the next one.
MINIMUM = 3
# Sent, and waiting for staff to decide (the applicant has nothing to do).
# Staff have decided these (approval may still wait for the membership share).
DECIDED = (ApplicationState.AWAITING_SHARE, ApplicationState.APPROVED, ApplicationState.REJECTED)
WAITING_FOR_STAFF = frozenset({ApplicationState.SUBMITTED, ApplicationState.AWAITING_SECOND})


@dataclass(frozen=True)
class ReviewTime:
    """Half of the last ``sample`` staff decisions came within ``days`` days of sending."""

    days: int
    sample: int


def usual_review_time(db: Session, member_class: MemberClass) -> ReviewTime | None:
    """The median time staff took to decide the class's recent applications, in whole days
    (part of a day counts as a day); None with fewer than :data:`MINIMUM` decisions.

    Only staff decisions count (approved or rejected by a reviewer), not classes admitted
    automatically; the time runs from the last time the application was sent (after
    answering a question, from the answer).
    """
    since = coop.clock(db).now() - LOOKBACK
    decided = db.execute(
        select(Application.submitted_at, Application.decided_at)
        .where(
            Application.class_id == member_class.id,
            Application.state.in_(DECIDED),
            Application.reviewer_id.is_not(None),
            Application.submitted_at.is_not(None),
            Application.decided_at >= since,
        )
        .order_by(Application.decided_at.desc())
        .limit(SAMPLE)
    ).all()
    if len(decided) < MINIMUM:
        return None
    days = [
        max(1, math.ceil((decided_at - sent).total_seconds() / 86_400))
        for sent, decided_at in decided
    ]
    return ReviewTime(days=median_low(days), sample=len(days))


def for_waiting(db: Session, applications: Iterable[Application]) -> dict[int, ReviewTime | None]:
    """The usual review time of each class, by class id, for the applications among these
    that wait for staff to decide."""
    waiting = {a.class_id: a.member_class for a in applications if a.state in WAITING_FOR_STAFF}
    return {class_id: usual_review_time(db, c) for class_id, c in waiting.items()}
