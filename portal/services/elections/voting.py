"""Voting in board elections: opened with the meeting's voting, closed and counted by STV,
declared onto the board, and counted again by ``check-votes`` (issue 15 §4, §5).

* **Opening** (:func:`open_elections`, in the transaction that opens the meeting's voting):
  every election whose candidate list is confirmed opens for the meeting's voting window
  (the latest closing time of its open resolutions, else ``CoopSettings.voting_window_days``
  days from today to the end of that day, as ``meetings.lifecycle.open_voting`` sets a
  resolution's), and its **tie-break seed** is drawn (``secrets``) and published now, so it
  is on the election's pages before any count. An election still taking nominations stops
  the meeting's voting from opening (409): staff confirm its list or cancel it first.
* **Closing** (:func:`close_election`) takes the election's row lock exclusively, as closing
  a resolution does: a ranking being written commits first and is counted, or waits and is
  refused. Directed proxies' rankings are cast, every ranking is counted with the stored
  seed (``count.count_stv``: one seat is instant-runoff), the count with every round is
  stored (``Election.result_json``), and a secret election's ballots are sealed. A second
  close finds the election counted and leaves it.
* **Declaring** (:func:`declare`) records each elected candidate as a director of the class
  (``board.record_director``) from the meeting's day for ``CoopSettings.director_term_years``
  years.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, joinedload

from ... import coop
from ...errors import InvalidState
from ...models import (
    NOMINATING_STATES,
    Candidate,
    CandidateState,
    Director,
    Election,
    ElectionParticipation,
    ElectionState,
    Meeting,
    RankedBallot,
    Resolution,
    ResolutionState,
    User,
)
from .. import transitions
from ..meetings import closing
from ..meetings.tally import Tally
from . import ballots, board, nominations
from .count import Count, count_stv
from .nominations import title

# What ``check-votes`` answers (resolutions and elections together).
VoteCheck = closing.VoteCheck


# -- opening ----------------------------------------------------------------------------------


def voting_window(db: Session, meeting: Meeting) -> tuple[datetime, datetime]:
    """The meeting's voting window from now: to the latest closing time of its open
    resolutions, else ``CoopSettings.voting_window_days`` days from today, at the end of
    that day in the co-op's zone (``lifecycle.open_voting``'s default)."""
    clock = coop.clock(db)
    now = clock.now()
    closes = [
        r.closes_at
        for r in meeting.resolutions
        if r.state is ResolutionState.OPEN and r.closes_at is not None
    ]
    if closes:
        return now, max(closes)
    days = timedelta(days=coop.settings(db).voting_window_days)
    return now, clock.end_of_day(clock.today() + days)


def open_elections(db: Session, meeting: Meeting, *, actor: User) -> list[Election]:
    """Open voting in every election of the meeting whose candidate list is confirmed, for
    the meeting's voting window, with its tie-break seed drawn and published now. Refused
    (409) while an election of the meeting is still taking nominations. The elections opened.
    """
    elections = nominations.meeting_elections(db, meeting)
    nominating = [e for e in elections if e.state in NOMINATING_STATES]
    if nominating:
        names = "; ".join(f"{title(e)} is {e.state.label.lower()}" for e in nominating)
        raise InvalidState(
            f"Voting cannot open while an election is not ready: {names}. "
            "Confirm its candidate list or cancel it first."
        )
    ready = [e for e in elections if e.state is ElectionState.CANDIDATES_CONFIRMED]
    if not ready:
        return []
    opens, closes = voting_window(db, meeting)
    if closes <= opens:
        raise InvalidState("The meeting's voting window has passed; close its due votes first.")
    for election in ready:
        election.voting_opens_at, election.voting_closes_at = opens, closes
        election.tie_break_seed = secrets.token_hex(16)
        election.seed_published_at = opens
        transitions.move(
            db,
            election,
            ElectionState.VOTING_OPEN,
            actor=actor,
            doing="opened for voting",
            stamp="voting_opened_at",
            summary=f"Voting opened in {title(election)}; tie-break seed "
            f"{election.tie_break_seed} published",
        )
    return ready


# -- closing and counting ---------------------------------------------------------------------


def _lock_for_closing(db: Session, election: Election) -> None:
    """Wait for rankings being written to commit, keep new ones out, and re-read the state."""
    db.execute(select(Election.id).where(Election.id == election.id).with_for_update())
    db.refresh(election, attribute_names=["state", "voting_closes_at"])


def standing_ids(db: Session, election: Election) -> list[int]:
    """The confirmed candidates' ids: those on the ballot and in the count."""
    return list(
        db.scalars(
            select(Candidate.id)
            .where(
                Candidate.election_id == election.id,
                Candidate.state == CandidateState.CONFIRMED,
            )
            .order_by(Candidate.id)
        )
    )


def count_election(db: Session, election: Election) -> Count:
    """Count the election's rankings for its seats among its confirmed candidates, ties
    by lot from its published seed."""
    if election.tie_break_seed is None:
        raise InvalidState(f"Voting in {title(election)} never opened.")
    return count_stv(
        standing_ids(db, election),
        ballots.rankings_for_count(db, election),
        election.seats,
        seed=election.tie_break_seed,
    )


def close_election(db: Session, election: Election, *, actor: User | None) -> Count:
    """Close voting in the election, count it and store the count with every round.

    Refused (409) once counted: a second close, waiting on the first's lock, finds it so.
    """
    _lock_for_closing(db, election)
    transitions.require(election.state, ElectionState.COUNTED, doing="counted")
    # Directed proxies' rankings go in before the count (the grantor did not rank).
    ballots.cast_directed_rankings(db, election)
    name = title(election)
    count = count_election(db, election)
    election.result_json = count.as_json()
    secret = election.secret
    elected = len(count.elected)
    transitions.move(
        db,
        election,
        ElectionState.COUNTED,
        actor=actor,
        doing="counted",
        stamp="counted_at",
        summary=f"{name.capitalize()} counted: {elected} elected of {len(count.candidates)} "
        f"candidates, quota {count.quota}, {count.ballots} valid ballots",
    )
    if secret:
        ballots.seal_rankings(db, election)
    return count


def _due(now: datetime) -> object:
    return (Election.state == ElectionState.VOTING_OPEN) & (Election.voting_closes_at <= now)


def _past_closing(election: Election, now: datetime) -> bool:
    return (
        election.state is ElectionState.VOTING_OPEN
        and election.voting_closes_at is not None
        and election.voting_closes_at <= now
    )


def _close_due(db: Session, elections: list[Election], now: datetime) -> list[Election]:
    """Close each election past its closing time, re-read under its lock (another request
    may have closed it since)."""
    closed = []
    for election in elections:
        if not _past_closing(election, now):
            continue
        _lock_for_closing(db, election)
        if _past_closing(election, now):
            close_election(db, election, actor=None)
            closed.append(election)
    return closed


def is_due(db: Session, meeting: Meeting) -> bool:
    """A resolution or an election of the meeting is open past its closing time: one small
    read, on every page of the meeting."""
    now = coop.clock(db).now()
    election = exists().where(Election.meeting_id == meeting.id, _due(now))
    return bool(db.scalar(select(or_(closing.due(meeting, now), election))))


@dataclass(frozen=True)
class Closed:
    """What a sweep closed: resolutions (``closing.close_if_due``) and elections."""

    resolutions: list[Resolution]
    elections: list[Election]


def close_if_due(db: Session, meeting: Meeting) -> Closed:
    """Close and count the meeting's resolutions past their closing time (and its voting
    once none is open: ``closing.close_if_due``), then its elections past theirs."""
    now = coop.clock(db).now()
    resolutions = closing.close_if_due(db, meeting)
    return Closed(resolutions, _close_due(db, nominations.meeting_elections(db, meeting), now))


def close_due_elections(db: Session) -> list[Election]:
    """Close and count every election open past its closing time (the co-op's clock)."""
    now = coop.clock(db).now()
    due = list(db.scalars(select(Election).where(_due(now)).order_by(Election.id)))
    return _close_due(db, due, now)


def close_meeting_voting(
    db: Session, meeting: Meeting, *, actor: User
) -> tuple[list[Tally], list[Count]]:
    """Staff close the meeting's voting: every open resolution (``closing.close_voting``)
    and every open election of the meeting, each counted."""
    tallies = closing.close_voting(db, meeting, actor=actor)
    counts = [
        close_election(db, election, actor=actor)
        for election in nominations.meeting_elections(db, meeting)
        if election.state is ElectionState.VOTING_OPEN
    ]
    return tallies, counts


# -- declaring --------------------------------------------------------------------------------


def years_after(day: date, years: int) -> date:
    """The same day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def term_of(db: Session, election: Election) -> tuple[date, date]:
    """An elected director's term: from the meeting's day (the co-op's zone) for
    ``CoopSettings.director_term_years`` years."""
    start = coop.clock(db).day_of(election.meeting.starts_at)
    return start, years_after(start, coop.settings(db).director_term_years)


def stored_count(election: Election) -> Count | None:
    """The count stored when the election closed, if it has been counted."""
    return None if election.result_json is None else Count.from_json(election.result_json)


def declare(db: Session, election: Election, *, actor: User) -> list[Director]:
    """Declare the counted result: each elected candidate becomes a director of the class
    for a term from the meeting's day (:func:`term_of`). Refused (409) unless counted."""
    _lock_for_closing(db, election)
    transitions.require(election.state, ElectionState.DECLARED, doing="declared")
    count = stored_count(election)
    if count is None:
        raise InvalidState(f"{title(election).capitalize()} has no stored count.")
    start, end = term_of(db, election)
    directors = []
    for candidate_id in count.elected:
        candidate = db.get(Candidate, candidate_id)
        if candidate is None or candidate.election_id != election.id:
            raise InvalidState(f"The stored count names candidate {candidate_id}, not standing.")
        directors.append(
            board.record_director(
                db,
                candidate.member,
                election.member_class,
                start,
                end,
                actor=actor,
                election=election,
            )
        )
    names = ", ".join(d.member.name for d in directors) or "no one"
    transitions.move(
        db,
        election,
        ElectionState.DECLARED,
        actor=actor,
        doing="declared",
        stamp="declared_at",
        summary=f"{title(election).capitalize()} declared: {names} elected, {start} to {end}",
    )
    return directors


# -- checking ---------------------------------------------------------------------------------


def _participants_and_ballots(db: Session, election: Election) -> tuple[int, int]:
    participants = db.scalar(
        select(func.count(ElectionParticipation.id)).where(
            ElectionParticipation.election_id == election.id
        )
    )
    ballots = db.scalar(
        select(func.count())
        .select_from(RankedBallot)
        .where(RankedBallot.election_id == election.id)
    )
    return participants or 0, ballots or 0


def _same_transfers_order(result: dict[str, Any]) -> dict[str, Any]:
    """A stored count with each round's transfers by candidate: a count stored before they
    were ordered so (``count_stv``) lists them in the order its ballots were read, which a
    recount of a sealed secret election does not repeat."""
    rounds = [{**r, "transfers": sorted(r.get("transfers", []))} for r in result.get("rounds", [])]
    return {**result, "rounds": rounds}


def check_elections(db: Session) -> VoteCheck:
    """Recount every counted or declared election from its rankings with its stored seed
    and compare with the stored count; for a secret one, also that each member who took
    part has exactly one ranked ballot."""
    problems = []
    counted = db.scalars(
        select(Election)
        .options(joinedload(Election.member_class))
        .where(Election.state.in_((ElectionState.COUNTED, ElectionState.DECLARED)))
        .order_by(Election.meeting_id, Election.id)
    ).all()
    for election in counted:
        name = f"meeting {election.meeting_id}, {title(election)}"
        if election.result_json is None:
            problems.append(f"{name}: counted but no count is stored")
            continue
        try:
            recount = count_election(db, election).as_json()
        except ValueError as exc:  # a ranking the count refuses (a candidate not standing)
            problems.append(f"{name}: the rankings cannot be counted again ({exc})")
            continue
        if _same_transfers_order(recount) != _same_transfers_order(election.result_json):
            problems.append(f"{name}: the stored count differs from a recount of the rankings")
        if election.secret:
            participants, ballots = _participants_and_ballots(db, election)
            if participants != ballots:
                problems.append(
                    f"{name}: {ballots} ranked ballots for {participants} members who ranked"
                )
    return VoteCheck(len(counted), problems)


def check_votes(db: Session) -> tuple[VoteCheck, VoteCheck]:
    """``check-votes``: every closed resolution (``closing.check_votes``) and every counted
    election."""
    return closing.check_votes(db), check_elections(db)
