"""Ranked ballots in board elections (issue 15 §3): cast, changed, by proxy, counted once.

A member on the meeting's frozen roll whose primary class is the election's ranks its
confirmed candidates, 1, 2, 3… as many as they wish, while the election's voting is open
(``Election.voting_opens_at`` to ``voting_closes_at``, by the co-op's clock). The last
ranking cast before close counts and keeps the first receipt. One
:class:`~portal.models.ElectionParticipation` per member and election (a unique
constraint), taken under the write lock before anything is read, as resolutions' votes
are (``services.meetings.ballots``): a double post is applied to the row the first wrote.

**Secrecy** is a secret resolution's: the participation says only *that* the member took
part; the ranking is on a :class:`~portal.models.RankedBallot` with a random id, found
again only through its voter tag, an HMAC of (election, member) under a key derived from
the secret key for this purpose alone (``meetings.ballots.keyed_tag``). At close
:func:`seal_rankings` erases the tags (and on PostgreSQL rewrites the ballots under new
random ids). An open election keeps the ranking and receipt on the participation.

**Proxies.** The holder of an accepted proxy ranks for the grantor where the holder
decides (a discretionary proxy, or a :class:`~portal.models.ProxyRanking` without a
ranking); a directed ranking is cast as the grantor gave it when voting closes
(:func:`cast_directed_rankings`). A grantor who ranks themselves revokes their proxy for
that election (``ProxyRanking.revoked_at``) and their ranking replaces one the proxy cast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from ... import coop
from ...errors import InvalidInput, InvalidState, NotAllowed
from ...models import (
    LIVE_PROXY_STATES,
    Candidate,
    CandidateState,
    Channel,
    Election,
    ElectionParticipation,
    ElectionState,
    Member,
    ProxyAppointment,
    ProxyKind,
    ProxyRanking,
    ProxyState,
    RankedBallot,
    RollEntry,
    User,
    utcnow,
)
from .. import audit
from ..inputs import read_id
from ..meetings import roll
from ..meetings.ballots import keyed_tag, new_ballot_id, new_receipt, seal_rows, tagged_ballots
from .nominations import title

TAG_PURPOSE = "portal.elections.voter-tag"  # never the resolutions' purpose: its own key
RANK_FIELD = "rank-"  # the form's field for a candidate: rank-<candidate id>


@dataclass(frozen=True)
class RankedVote:
    """A member's ranking as it stands: candidate ids first preference first, the receipt,
    and whether it changed now."""

    election_id: int
    ranking: tuple[int, ...]
    receipt: str
    secret: bool
    changed: bool = False
    by_proxy: bool = False  # cast by the member's proxy, not the member


def voter_tag(election_id: int, member_id: int) -> str:
    """The member's tag on their secret ranked ballot in ``election_id``."""
    return keyed_tag(TAG_PURPOSE, election_id, member_id)


def _joined(ranking: Sequence[int]) -> str:
    return ",".join(str(candidate_id) for candidate_id in ranking)


def _split(ranking: str | None) -> tuple[int, ...]:
    return tuple(int(part) for part in ranking.split(",")) if ranking else ()


# -- who may rank, when -----------------------------------------------------------------------


def accepts_rankings_at(election: Election, instant: datetime) -> bool:
    """Voting is open and ``instant`` is inside the election's voting window."""
    return (
        election.state is ElectionState.VOTING_OPEN
        and election.voting_closes_at is not None
        and (election.voting_opens_at is None or election.voting_opens_at <= instant)
        and instant < election.voting_closes_at
    )


def lock_for_ranking(db: Session, election: Election) -> None:
    """Hold the election against closing while this ranking is written, and re-read it
    (``meetings.ballots.lock_for_voting``: rankers share the lock, closing takes it)."""
    db.execute(select(Election.id).where(Election.id == election.id).with_for_update(read=True))
    db.refresh(election, attribute_names=["state", "voting_opens_at", "voting_closes_at"])


def check_ranking_open(db: Session, election: Election) -> None:
    """Refuse a ranking outside the election's voting window (the co-op's clock)."""
    now = coop.clock(db).now()
    if election.state is ElectionState.CANCELLED:
        raise InvalidState(f"{title(election).capitalize()} was cancelled.")
    closed = election.state in (ElectionState.COUNTED, ElectionState.DECLARED) or (
        election.state is ElectionState.VOTING_OPEN
        and election.voting_closes_at is not None
        and now >= election.voting_closes_at
    )
    if closed:
        raise InvalidState(f"Voting in {title(election)} has closed; your ranking was not counted.")
    if not accepts_rankings_at(election, now):
        raise InvalidState(f"Voting in {title(election)} has not opened yet.")


def voter_entry(db: Session, election: Election, member: Member) -> RollEntry | None:
    """The member's roll entry that ranks in ``election``: on the meeting's frozen roll,
    in the election's class as their primary class."""
    return db.scalar(
        select(RollEntry).where(
            RollEntry.meeting_id == election.meeting_id,
            RollEntry.member_id == member.id,
            RollEntry.class_id == election.class_id,
            RollEntry.is_primary.is_(True),
        )
    )


def check_can_rank(db: Session, election: Election, member: Member) -> None:
    """Refuse a ranking outside the window (409) or by a member not on the roll in the
    election's class (403)."""
    check_ranking_open(db, election)
    check_rank_on_roll(election, roll.member_entries(db, election.meeting_id, member))


def check_rank_on_roll(election: Election, entries: Sequence[RollEntry]) -> None:
    """Refuse a member whose roll entries (``entries``: all theirs on the meeting's roll)
    do not put them in the election's class as their primary class (403)."""
    if any(e.is_primary and e.class_id == election.class_id for e in entries):
        return
    if entries:
        raise NotAllowed(
            f"Only members whose voting class is the {election.member_class.name} class "
            f"rank the candidates in {title(election)}."
        )
    raise NotAllowed(
        "You are not on this meeting's voter roll: it lists the members on the register "
        f"on the record date, {election.meeting.record_date:%-d %B %Y}."
    )


# -- the ranking ------------------------------------------------------------------------------


def ballot_candidates(db: Session, election: Election) -> list[Candidate]:
    """The confirmed candidates on the ballot, in the order of their names."""
    return candidates_of(db, [election])[election.id]


def candidates_of(db: Session, elections: Sequence[Election]) -> dict[int, list[Candidate]]:
    """Each election's confirmed candidates in the order of their names, by election id,
    in one statement."""
    found: dict[int, list[Candidate]] = {e.id: [] for e in elections}
    if found:
        for candidate in db.scalars(
            select(Candidate)
            .join(Member, Member.id == Candidate.member_id)
            .options(joinedload(Candidate.member))
            .where(
                Candidate.election_id.in_(found),
                Candidate.state == CandidateState.CONFIRMED,
            )
            .order_by(Member.name, Candidate.id)
        ):
            found[candidate.election_id].append(candidate)
    return found


def _not_on_ballot(db: Session, election: Election, candidate_id: int) -> InvalidInput:
    """Why ``candidate_id`` cannot be ranked here, naming them where they exist."""
    candidate = db.scalar(
        select(Candidate)
        .options(joinedload(Candidate.member), joinedload(Candidate.election))
        .where(Candidate.id == candidate_id)
    )
    if candidate is None:
        return InvalidInput(f"Candidate {candidate_id} is not on this ballot.")
    name = candidate.member.name
    if candidate.election_id != election.id:
        other = candidate.election.member_class.name
        if candidate.election.class_id != election.class_id:
            why = f"stands for the {other} class, not the {election.member_class.name} class"
        else:
            why = "stands in another election"
        return InvalidInput(f"{name} {why}: rank only the candidates on this ballot.")
    if candidate.state is CandidateState.WITHDRAWN:
        return InvalidInput(f"{name} has withdrawn from {title(election)}.")
    return InvalidInput(f"{name} is not on the confirmed list of candidates.")


def check_ranking(db: Session, election: Election, ranking: Sequence[int]) -> tuple[int, ...]:
    """The ranking, checked: at least one candidate, each a confirmed candidate of this
    election, none twice (422 naming the candidate)."""
    ranking = tuple(ranking)
    if not ranking:
        raise InvalidInput("Rank at least one candidate: put 1 beside your first choice.")
    confirmed = {c.id: c for c in ballot_candidates(db, election)}
    seen: set[int] = set()
    for candidate_id in ranking:
        if candidate_id not in confirmed:
            raise _not_on_ballot(db, election, candidate_id)
        if candidate_id in seen:
            raise InvalidInput(
                f"{confirmed[candidate_id].member.name} is ranked twice: rank each candidate once."
            )
        seen.add(candidate_id)
    return ranking


def read_ranks(
    db: Session,
    election: Election,
    values: Mapping[str, str],
    *,
    prefix: str = RANK_FIELD,
    required: bool = True,
) -> list[int]:
    """The ranking from the form's ``<prefix><candidate id>`` selects ("" leaves a
    candidate unranked): ranks 1 to n, each once, without gaps; 422 saying which rank is
    wrong. Nothing ranked is refused when ``required``, else an empty ranking."""
    candidates = {c.id: c for c in ballot_candidates(db, election)}
    by_rank: dict[int, Candidate] = {}
    for key, value in values.items():
        if not key.startswith(prefix) or str(value or "").strip() == "":
            continue
        raw_id = key.removeprefix(prefix)
        candidate_id = read_id(raw_id) or 0
        if candidate_id not in candidates:
            raise _not_on_ballot(db, election, candidate_id)
        candidate = candidates[candidate_id]
        rank = _read_rank(value, candidate, len(candidates), key)
        if rank in by_rank:
            raise InvalidInput(
                f"You gave rank {rank} to both {by_rank[rank].member.name} and "
                f"{candidate.member.name}: give each rank once.",
                field=key,
            )
        by_rank[rank] = candidate
    if not by_rank and required:
        raise InvalidInput("Rank at least one candidate: put 1 beside your first choice.")
    for rank in range(1, max(by_rank) + 1):
        if rank not in by_rank:
            raise InvalidInput(
                f"Rank {rank} is missing: number your choices 1, 2, 3… without gaps."
            )
    return [by_rank[rank].id for rank in sorted(by_rank)]


def _read_rank(value: object, candidate: Candidate, count: int, field: str) -> int:
    raw = str(value or "").strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 4 and 1 <= int(raw) <= count):
        raise InvalidInput(
            f"Give {candidate.member.name} a rank from 1 to {count}, or leave them unranked.",
            field=field,
        )
    return int(raw)


# -- casting ----------------------------------------------------------------------------------


def participation_of(
    db: Session, election: Election, member: Member, *, lock: bool = True
) -> ElectionParticipation | None:
    """The member's participation in ``election``, locked to change it (``lock``)."""
    query = select(ElectionParticipation).where(
        ElectionParticipation.election_id == election.id,
        ElectionParticipation.member_id == member.id,
    )
    return db.scalar(query.with_for_update() if lock else query)


def _own_ballot(
    db: Session, election: Election, member: Member, *, lock: bool = True
) -> RankedBallot | None:
    """The member's secret ranked ballot, found by its voter tag while voting is open."""
    query = select(RankedBallot).where(
        RankedBallot.election_id == election.id,
        RankedBallot.voter_tag == voter_tag(election.id, member.id),
    )
    return db.scalar(query.with_for_update() if lock else query)


def add_ranking(
    db: Session,
    election: Election,
    member: Member,
    ranking: Sequence[int],
    *,
    proxy_id: int | None = None,
    channel: Channel = Channel.ONLINE,
) -> str:
    """Write the member's first ranking (participation, and the ranked ballot when
    secret) without any check; the receipt."""
    receipt = new_receipt()
    db.add(
        ElectionParticipation(
            election_id=election.id,
            member_id=member.id,
            ranking=None if election.secret else _joined(ranking),
            receipt=None if election.secret else receipt,
            proxy_id=proxy_id,
            channel=channel,
        )
    )
    if election.secret:
        db.add(
            RankedBallot(
                id=new_ballot_id(),
                election_id=election.id,
                ranking=_joined(ranking),
                receipt=receipt,
                voter_tag=voter_tag(election.id, member.id),
                channel=channel,
            )
        )
    db.flush()
    return receipt


def _standing_ranking(
    db: Session, election: Election, grantor: Member
) -> tuple[ProxyAppointment, ProxyRanking | None] | None:
    """The grantor's standing proxy for the election's meeting, and its row for the
    election (None: no row, a discretionary proxy's or an election added later)."""
    appointment = db.scalar(
        select(ProxyAppointment).where(
            ProxyAppointment.meeting_id == election.meeting_id,
            ProxyAppointment.grantor_id == grantor.id,
            ProxyAppointment.state.in_(LIVE_PROXY_STATES),
        )
    )
    if appointment is None:
        return None
    row = db.scalar(
        select(ProxyRanking).where(
            ProxyRanking.appointment_id == appointment.id,
            ProxyRanking.election_id == election.id,
        )
    )
    return appointment, row


def revoke_proxy_ranking(db: Session, election: Election, member: Member) -> None:
    """The member ranks themselves: their standing proxy no longer ranks in this election
    (its row marked revoked, made for a discretionary proxy; one audit event)."""
    standing = _standing_ranking(db, election, member)
    if standing is None:
        return
    appointment, row = standing
    if row is None:
        row = ProxyRanking(appointment_id=appointment.id, election_id=election.id)
        db.add(row)
    elif row.revoked_at is not None:
        return
    row.revoked_at = utcnow()
    audit.record(
        db,
        actor=None,
        action="proxy.revoked_for_election",
        target=election,
        summary=f"Member no. {member.number} ranked the candidates in {title(election)} "
        "themselves: their proxy no longer ranks in it",
    )


def check_proxy_may_rank(
    db: Session,
    election: Election,
    grantor: Member,
    proxy: ProxyAppointment,
    participation: ElectionParticipation | None,
) -> None:
    """A proxy ranks for its grantor only when accepted, for this meeting, where the holder
    decides, and until the grantor ranked themselves."""
    if proxy.grantor_id != grantor.id or proxy.meeting_id != election.meeting_id:
        raise NotAllowed("This proxy does not rank for that member in this election.")
    if proxy.state is not ProxyState.ACCEPTED:
        raise InvalidState(
            f"This proxy is {proxy.state.label.lower()}: only an accepted proxy ranks."
        )
    row = db.scalar(
        select(ProxyRanking).where(
            ProxyRanking.appointment_id == proxy.id, ProxyRanking.election_id == election.id
        )
    )
    revoked = row is not None and row.revoked_at is not None
    if revoked or (participation is not None and participation.proxy_id is None):
        raise InvalidState(
            f"Member no. {grantor.number} has ranked the candidates in {title(election)} "
            "themselves, so their proxy no longer applies to it."
        )
    if row is not None and row.ranking is not None:
        raise InvalidState(
            f"Member no. {grantor.number} directed this proxy's ranking in {title(election)}; "
            "it is cast as they directed when voting closes."
        )
    if row is None and proxy.kind is not ProxyKind.DISCRETIONARY:
        raise NotAllowed(f"This proxy does not rank in {title(election)}.")


def cast_ranking(
    db: Session,
    election: Election,
    voter: Member,
    ranking: Sequence[int],
    *,
    proxy: ProxyAppointment | None = None,
    channel: Channel = Channel.ONLINE,
    actor: User | None = None,
) -> RankedVote:
    """Record the voter's ranking, or change it: the last one counts, the receipt stays.

    Refused, nothing written: outside the voting window (409), off the roll or in another
    class (403), a ranking naming anyone but this election's confirmed candidates, or one
    twice, or no one (422). ``proxy``: the holder of the voter's accepted proxy ranks for
    them (checked here; the holder is checked by :func:`holder_ranks`). The voter's own
    ranking revokes their proxy for this election and replaces one it cast.
    """
    lock_for_ranking(db, election)
    check_can_rank(db, election, voter)
    ranking = check_ranking(db, election, ranking)
    participation = participation_of(db, election, voter)
    if participation is not None and participation.channel is not channel:
        raise InvalidState(
            f"Member no. {voter.number}'s ranking in {title(election)} was recorded "
            f"{participation.channel.label.lower()}; no other can be counted for them."
        )
    proxy_id = None if proxy is None else proxy.id
    if proxy is not None:
        check_proxy_may_rank(db, election, voter, proxy, participation)
    else:
        revoke_proxy_ranking(db, election, voter)
    if participation is None:
        try:
            with db.begin_nested():
                receipt = add_ranking(
                    db, election, voter, ranking, proxy_id=proxy_id, channel=channel
                )
        except IntegrityError:
            # The voter's other request got there first: change that ranking instead.
            participation = participation_of(db, election, voter)
            if participation is None:
                raise
            if proxy is not None:
                check_proxy_may_rank(db, election, voter, proxy, participation)
        else:
            _audit(db, election, voter, ranking, actor=actor, changed=False, proxy_id=proxy_id)
            return RankedVote(election.id, ranking, receipt, election.secret, by_proxy=bool(proxy))
    if proxy is None and participation.proxy_id is not None:
        participation.proxy_id = None  # the member's own ranking replaces their proxy's
    return _change(db, election, voter, participation, ranking, actor=actor, proxy_id=proxy_id)


def _change(
    db: Session,
    election: Election,
    voter: Member,
    participation: ElectionParticipation,
    ranking: tuple[int, ...],
    *,
    actor: User | None,
    proxy_id: int | None,
) -> RankedVote:
    joined = _joined(ranking)
    if election.secret:
        ballot = _own_ballot(db, election, voter)
        if ballot is None:
            # Only if the secret key changed during voting: never add a second ballot.
            raise InvalidState(
                "Your ranking on this secret ballot is counted, but it can no longer be changed."
            )
        changed = ballot.ranking != joined
        ballot.ranking = joined
        receipt = ballot.receipt
    else:
        changed = participation.ranking != joined
        participation.ranking = joined
        receipt = participation.receipt or new_receipt()
        participation.receipt = receipt
    if changed:
        _audit(db, election, voter, ranking, actor=actor, changed=True, proxy_id=proxy_id)
    db.flush()
    return RankedVote(
        election.id, ranking, receipt, election.secret, changed=changed, by_proxy=bool(proxy_id)
    )


def _audit(
    db: Session,
    election: Election,
    voter: Member,
    ranking: Sequence[int],
    *,
    actor: User | None,
    changed: bool,
    proxy_id: int | None,
) -> None:
    """Audit the ranking; a secret one never goes beside a name."""
    verb = "changed their ranking" if changed else "ranked the candidates"
    if proxy_id is not None:
        verb += " by proxy"
    how = "secret ballot" if election.secret else f"candidates {_joined(ranking)}"
    audit.record(
        db,
        actor=actor,
        action="ranking.changed" if changed else "ranking.cast",
        target=election,
        summary=f"Member no. {voter.number} {verb} in {title(election)} ({how})",
    )


def holder_ranks(
    db: Session,
    appointment: ProxyAppointment,
    election: Election,
    ranking: Sequence[int],
    *,
    holder: Member | None,
    actor: User,
) -> RankedVote:
    """The holder of ``appointment`` ranks for its grantor (:func:`cast_ranking`); refused
    (403) to anyone but the holder."""
    if appointment.to_chair or holder is None or appointment.holder_id != holder.id:
        raise NotAllowed("This proxy is held by someone else.")
    return cast_ranking(db, election, appointment.grantor, ranking, proxy=appointment, actor=actor)


def cast_directed_rankings(db: Session, election: Election) -> int:
    """At close: cast every accepted, unrevoked directed ranking whose grantor has not
    ranked (themselves or through the holder); how many were cast. A candidate no longer
    confirmed is left out of a ranking; a ranking left empty is not cast."""
    pending = db.execute(
        select(ProxyRanking, ProxyAppointment)
        .join(ProxyAppointment, ProxyRanking.appointment_id == ProxyAppointment.id)
        .options(joinedload(ProxyAppointment.grantor))
        .where(
            ProxyRanking.election_id == election.id,
            ProxyRanking.ranking.is_not(None),
            ProxyRanking.revoked_at.is_(None),
            ProxyAppointment.state == ProxyState.ACCEPTED,
            ~select(ElectionParticipation.id)
            .where(
                ElectionParticipation.election_id == election.id,
                ElectionParticipation.member_id == ProxyAppointment.grantor_id,
            )
            .exists(),
        )
        .order_by(ProxyAppointment.id)
    ).all()
    confirmed = {c.id for c in ballot_candidates(db, election)}
    cast = 0
    for row, appointment in pending:
        ranking = [c for c in _split(row.ranking) if c in confirmed]
        if not ranking or voter_entry(db, election, appointment.grantor) is None:
            continue
        add_ranking(db, election, appointment.grantor, ranking, proxy_id=appointment.id)
        cast += 1
    if cast:
        audit.record(
            db,
            actor=None,
            action="proxy.rankings_cast_at_close",
            target=election,
            summary=f"{cast} directed proxies' rankings cast as directed as "
            f"{title(election)} closed",
        )
    return cast


# -- reading ----------------------------------------------------------------------------------


def ranking_of(db: Session, election: Election, member: Member) -> RankedVote | None:
    """The member's ranking as it stands, if they ranked (for a secret election, while
    voting is open: once sealed the ballot names no one, even by tag)."""
    return rankings_of(db, [election], member).get(election.id)


def rankings_of(
    db: Session, elections: Sequence[Election], member: Member
) -> dict[int, RankedVote]:
    """The member's rankings in ``elections`` as :func:`ranking_of` reads each, by election
    id: their participations in one statement, their secret ballots (by tag) in another."""
    by_id = {e.id: e for e in elections}
    if not by_id:
        return {}
    participations = db.scalars(
        select(ElectionParticipation).where(
            ElectionParticipation.election_id.in_(by_id),
            ElectionParticipation.member_id == member.id,
        )
    ).all()
    tags = {
        voter_tag(p.election_id, member.id): p.election_id
        for p in participations
        if by_id[p.election_id].secret
    }
    secret = tagged_ballots(db, RankedBallot.election_id, tags)
    votes = {}
    for participation in participations:
        election = by_id[participation.election_id]
        if not election.secret:
            ranking, receipt = participation.ranking, participation.receipt
        else:
            ballot = secret.get(election.id)
            ranking, receipt = (ballot.ranking, ballot.receipt) if ballot else (None, None)
        if ranking is None or receipt is None:
            continue
        by_proxy = participation.proxy_id is not None
        votes[election.id] = RankedVote(
            election.id, _split(ranking), receipt, election.secret, by_proxy=by_proxy
        )
    return votes


def has_ranked(db: Session, election: Election, member: Member) -> bool:
    """The member took part in the election (their ranking is another matter)."""
    return participation_of(db, election, member, lock=False) is not None


def rankings_for_count(db: Session, election: Election) -> list[list[int]]:
    """Every ranking cast in ``election``, secret or open: candidate ids, first preference
    first (secret ones in the order of their random ids)."""
    secret = db.scalars(
        select(RankedBallot.ranking)
        .where(RankedBallot.election_id == election.id)
        .order_by(RankedBallot.id)
    )
    open_ = db.scalars(
        select(ElectionParticipation.ranking)
        .where(
            ElectionParticipation.election_id == election.id,
            ElectionParticipation.ranking.is_not(None),
        )
        .order_by(ElectionParticipation.id)
    )
    return [list(_split(ranking)) for ranking in (*secret, *open_)]


def seal_rankings(db: Session, election: Election) -> None:
    """Erase the voter tags of the election's ranked ballots, so nothing joins a ranking
    to a member any more; on PostgreSQL rewritten under new random ids
    (``meetings.ballots.seal_rows``)."""
    seal_rows(db, RankedBallot, RankedBallot.election_id == election.id)
