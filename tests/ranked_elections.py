"""An election whose ranked voting is open, for the ballot's tests and browser states.

Opening an election's voting is the voting helpers' service (``services.elections.voting``);
these tests need only its result, so the rows are written as that service leaves them:
the election in ``voting_open`` with its window, and its confirmed candidates.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

import portal.coop
from portal.models import (
    Candidate,
    CandidateState,
    Election,
    ElectionState,
    MemberClass,
    utcnow,
)


def open_election(
    db: Session,
    meeting_id: int,
    class_code: str,
    candidate_ids: Iterable[int],
    *,
    secret: bool = True,
    seats: int = 1,
    state: ElectionState = ElectionState.VOTING_OPEN,
    closes_in: timedelta = timedelta(days=7),
) -> Election:
    """An election of ``class_code`` directors at the meeting whose voting opened an hour
    ago and closes ``closes_in`` from now, with the members ``candidate_ids`` confirmed
    candidates (each self-nominated, seconded by the next)."""
    now = portal.coop.clock(db).now()
    member_class = db.scalar(select(MemberClass).where(MemberClass.code == class_code))
    election = Election(
        meeting_id=meeting_id,
        class_id=member_class.id,
        seats=seats,
        nominations_open_at=now - timedelta(days=20),
        nominations_close_at=now - timedelta(days=15),
        secret=secret,
        state=state,
        voting_opens_at=now - timedelta(hours=1) if state is ElectionState.VOTING_OPEN else None,
        voting_closes_at=now + closes_in if state is ElectionState.VOTING_OPEN else None,
        confirmed_at=now - timedelta(days=14),
        voting_opened_at=now - timedelta(hours=1) if state is ElectionState.VOTING_OPEN else None,
        # The seed open_elections draws and publishes when voting opens.
        tie_break_seed="5eed" * 16 if state is ElectionState.VOTING_OPEN else None,
        seed_published_at=now - timedelta(hours=1) if state is ElectionState.VOTING_OPEN else None,
    )
    db.add(election)
    db.flush()
    ids = list(candidate_ids)
    for index, member_id in enumerate(ids):
        db.add(
            Candidate(
                election_id=election.id,
                member_id=member_id,
                nominated_by_id=member_id,
                accepted_at=utcnow(),
                seconded_by_id=ids[(index + 1) % len(ids)] if len(ids) > 1 else None,
                statement=f"Candidate {index + 1}: I will **listen**.",
                state=CandidateState.CONFIRMED,
                decided_at=utcnow(),
            )
        )
    db.flush()
    return election
