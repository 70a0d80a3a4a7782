"""What a member sees of board elections: their ranked ballot in an election, the ballots
of the proxies they hold, the elections awaiting their ranking, and the meeting page's
election cards. The rules are in :mod:`.ballots`; this module only reads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, partial

from markupsafe import Markup
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from ... import coop
from ...errors import InvalidState, NotAllowed
from ...models import (
    LIVE_PROXY_STATES,
    Candidate,
    Election,
    ElectionParticipation,
    ElectionState,
    Meeting,
    Member,
    ProxyAppointment,
    RollEntry,
)
from ..meetings import roll
from .ballots import (
    RANK_FIELD,
    RankedVote,
    ballot_candidates,
    candidates_of,
    check_proxy_may_rank,
    check_rank_on_roll,
    check_ranking_open,
    participation_of,
    ranking_of,
    rankings_of,
    voter_entry,
)
from .nominations import meeting_elections, statement_html


@dataclass(frozen=True)
class RankingBallot:
    """One ranked ballot as a member sees it: the election, its candidates, the ranking
    cast (if any), and why it cannot be cast now (None: it can). ``appointment``: a proxy
    the member holds, ranking for its grantor."""

    election: Election
    candidates: list[Candidate]
    vote: RankedVote | None
    refusal: str | None
    appointment: ProxyAppointment | None = None

    @property
    def open(self) -> bool:
        return self.refusal is None

    @cached_property
    def statements(self) -> dict[int, Markup]:
        """Each candidate's statement as sanitised HTML, by candidate id."""
        return {c.id: statement_html(c) for c in self.candidates}

    @property
    def ranks(self) -> dict[str, str]:
        """The rank each candidate has in the ranking cast, as the form's values."""
        ranking = self.vote.ranking if self.vote else ()
        return {f"{RANK_FIELD}{cid}": str(rank) for rank, cid in enumerate(ranking, start=1)}


def _refusal(check: Callable[[], object]) -> str | None:
    try:
        check()
    except (InvalidState, NotAllowed) as refused:
        return refused.message
    return None


def ballot_for(db: Session, election: Election, member: Member | None) -> RankingBallot:
    """``member``'s ranked ballot in ``election`` (None: staff, who only read it)."""
    return ballots_for(db, election.meeting, [election], member)[election.id]


def ballots_for(
    db: Session, meeting: Meeting, elections: Sequence[Election], member: Member | None
) -> dict[int, RankingBallot]:
    """``member``'s ranked ballot in each of the meeting's ``elections``, by id, in a few
    statements however many there are: the candidates, the member's roll entries and
    their rankings are each read once for them all."""
    candidates = candidates_of(db, elections)
    if member is None:
        refusal = "Only members on the voter roll rank the candidates."
        return {e.id: RankingBallot(e, candidates[e.id], None, refusal) for e in elections}
    entries = roll.member_entries(db, meeting.id, member)
    rankings = rankings_of(db, elections, member)

    def check(election: Election) -> None:
        check_ranking_open(db, election)
        check_rank_on_roll(election, entries)

    return {
        e.id: RankingBallot(e, candidates[e.id], rankings.get(e.id), _refusal(partial(check, e)))
        for e in elections
    }


def held_ballots(db: Session, election: Election, holder: Member | None) -> list[RankingBallot]:
    """A ballot for each grantor whose proxy ``holder`` holds and who ranks in
    ``election``; refused where the holder does not decide (directed, ranked by the
    grantor themselves, not accepted). A ranking is shown only as the proxy cast it."""
    if holder is None:
        return []
    appointments = db.scalars(
        select(ProxyAppointment)
        .options(joinedload(ProxyAppointment.grantor))
        .where(
            ProxyAppointment.meeting_id == election.meeting_id,
            ProxyAppointment.holder_id == holder.id,
            ProxyAppointment.state.in_(LIVE_PROXY_STATES),
        )
        .order_by(ProxyAppointment.id)
    ).all()
    candidates = ballot_candidates(db, election)
    held = []
    for appointment in appointments:
        grantor = appointment.grantor
        if voter_entry(db, election, grantor) is None:
            continue
        participation = participation_of(db, election, grantor, lock=False)
        refusal = None
        try:
            check_ranking_open(db, election)
            check_proxy_may_rank(db, election, grantor, appointment, participation)
        except (InvalidState, NotAllowed) as refused:
            refusal = refused.message
        cast_here = participation is not None and participation.proxy_id == appointment.id
        vote = ranking_of(db, election, grantor) if cast_here else None
        held.append(RankingBallot(election, candidates, vote, refusal, appointment))
    return held


def awaiting_rankings(db: Session, member: Member) -> int:
    """Elections whose voting is open now in which the member ranks and has not ranked."""
    now = coop.clock(db).now()
    ranked = (
        select(ElectionParticipation.id)
        .where(
            ElectionParticipation.election_id == Election.id,
            ElectionParticipation.member_id == member.id,
        )
        .exists()
    )
    on_roll = (
        select(RollEntry.id)
        .where(
            RollEntry.meeting_id == Election.meeting_id,
            RollEntry.member_id == member.id,
            RollEntry.class_id == Election.class_id,
            RollEntry.is_primary.is_(True),
        )
        .exists()
    )
    return (
        db.scalar(
            select(func.count())
            .select_from(Election)
            .where(
                Election.state == ElectionState.VOTING_OPEN,
                Election.voting_closes_at > now,
                or_(Election.voting_opens_at.is_(None), Election.voting_opens_at <= now),
                on_roll,
                ~ranked,
            )
        )
        or 0
    )


@dataclass(frozen=True)
class ElectionCard:
    """A board election on the member's meeting page, with their ballot while voting is
    open (None otherwise)."""

    election: Election
    ballot: RankingBallot | None


def meeting_cards(db: Session, meeting: Meeting, member: Member | None) -> list[ElectionCard]:
    """The meeting's elections members may see (not draft or cancelled): first those the
    member may rank in now, then the others, each in the classes' order. The open ones'
    ballots are read together (``ballots_for``)."""
    shown = [
        election
        for election in meeting_elections(db, meeting)
        if election.state not in (ElectionState.DRAFT, ElectionState.CANCELLED)
    ]
    open_ = [e for e in shown if e.state is ElectionState.VOTING_OPEN]
    ballots = ballots_for(db, meeting, open_, member)
    cards = [ElectionCard(election, ballots.get(election.id)) for election in shown]
    return sorted(cards, key=lambda card: not (card.ballot and card.ballot.open))
