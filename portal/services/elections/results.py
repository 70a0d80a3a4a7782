"""An election's result as the results page shows it: the count stored when it closed
(``Election.result_json``, never recounted here) with the candidates named, round by round,
and the geometry of its chart (issue 15 §5).

Before the count, nothing of the rankings is read: the page shows the election's state,
its candidates and its published tie-break seed only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from ... import charts
from ...models import Candidate, CandidateState, Election, ElectionState, Meeting, Member
from ..meetings import roll
from . import nominations
from .count import Count, Decision, Round
from .voting import stored_count


def votes_text(votes: Decimal) -> str:
    """Votes as counted (up to five decimal places), without trailing zeros."""
    text = format(votes, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def votes_short(votes: Decimal) -> str:
    """Votes to two decimal places (the chart's labels; the table has them exactly)."""
    return votes_text(votes.quantize(Decimal("0.01")))


@dataclass(frozen=True)
class CandidateLine:
    """A candidate through the count: votes in each round while continuing (None after
    they were elected or excluded), and how they ended."""

    candidate_id: int
    name: str
    votes: tuple[str | None, ...]
    first: Decimal
    best: Decimal
    elected_in: int | None
    excluded_in: int | None

    @property
    def first_votes(self) -> str:
        return votes_short(self.first)

    @property
    def best_votes(self) -> str:
        return votes_short(self.best)

    @property
    def outcome(self) -> str:
        if self.elected_in is not None:
            return f"Elected in round {self.elected_in}"
        if self.excluded_in is not None:
            return f"Excluded in round {self.excluded_in}"
        return "Not elected"


@dataclass(frozen=True)
class TransferLine:
    source: str
    target: str
    votes: str


@dataclass(frozen=True)
class RoundLine:
    """One round in words: who was elected or excluded, why, and what passed on."""

    number: int
    decision: Decision
    elected: tuple[str, ...]
    excluded: tuple[str, ...]
    transfers: tuple[TransferLine, ...]
    exhausted: str
    total: str


@dataclass(frozen=True)
class ElectionResult:
    """The stored count of a counted (or declared) election, its candidates named."""

    election: Election
    count: Count
    candidates: tuple[CandidateLine, ...]  # elected first, in order; then the rest
    rounds: tuple[RoundLine, ...]
    chart: charts.ScaledBarChart

    @property
    def elected(self) -> list[CandidateLine]:
        return [c for c in self.candidates if c.elected_in is not None]

    @property
    def declared(self) -> bool:
        return self.election.state is ElectionState.DECLARED

    @property
    def lot_order(self) -> list[str]:
        names = {c.candidate_id: c.name for c in self.candidates}
        return [names[c] for c in self.count.lot_order]

    @property
    def summary(self) -> str:
        """The count in one paragraph: the chart's text alternative."""
        elected = ", ".join(c.name for c in self.elected) or "no one"
        parts = [
            f"{self.count.ballots} valid ballots, quota {self.count.quota}, "
            f"{len(self.count.rounds)} rounds; elected: {elected}."
        ]
        for line in self.candidates:
            parts.append(
                f"{line.name}: {line.first_votes} first preferences, "
                f"at most {line.best_votes}; {line.outcome.lower()}."
            )
        return " ".join(parts)


def _names(election: Election) -> dict[int, str]:
    return {c.id: c.member.name for c in election.candidates}


def _line(candidate_id: int, name: str, rounds: tuple[Round, ...]) -> CandidateLine:
    votes: list[str | None] = []
    seen: list[Decimal] = []
    elected_in = excluded_in = None
    for r in rounds:
        value = r.votes.get(candidate_id)
        votes.append(None if value is None else votes_text(value))
        if value is not None:
            seen.append(value)
        if candidate_id in r.elected and elected_in is None:
            elected_in = r.number
        if candidate_id in r.excluded and excluded_in is None:
            excluded_in = r.number
    return CandidateLine(
        candidate_id,
        name,
        tuple(votes),
        seen[0] if seen else Decimal(0),
        max(seen, default=Decimal(0)),
        elected_in,
        excluded_in,
    )


def count_chart(lines: tuple[CandidateLine, ...], quota: int) -> charts.ScaledBarChart:
    """A bar per candidate on one scale: first preferences, then what transfers added up
    to their highest total; the quota marked across."""
    rows = [
        (line.name, [("first", float(line.first)), ("transfers", float(line.best - line.first))])
        for line in lines
    ]
    top = max([float(quota), *(float(line.best) for line in lines)])
    return charts.scaled_bars(rows, ceiling=top, mark=float(quota))


def election_result(election: Election) -> ElectionResult | None:
    """The stored count, named; None before the election is counted."""
    count = stored_count(election)
    if count is None or election.state not in (ElectionState.COUNTED, ElectionState.DECLARED):
        return None
    names = _names(election)
    lines = [_line(c, names.get(c, f"Candidate {c}"), count.rounds) for c in count.candidates]
    by_id = {line.candidate_id: line for line in lines}
    order = [*count.elected, *reversed(count.not_elected)]
    ordered = tuple(by_id[c] for c in order if c in by_id)
    rounds = tuple(
        RoundLine(
            number=r.number,
            decision=r.decision,
            elected=tuple(names.get(c, str(c)) for c in r.elected),
            excluded=tuple(names.get(c, str(c)) for c in r.excluded),
            transfers=tuple(
                TransferLine(names.get(t.source, ""), names.get(t.target, ""), votes_text(t.votes))
                for t in r.transfers
            ),
            exhausted=votes_text(r.exhausted),
            total=votes_text(r.total),
        )
        for r in count.rounds
    )
    return ElectionResult(election, count, ordered, rounds, count_chart(ordered, count.quota))


def ballot_candidates(db: Session, election: Election) -> list[Candidate]:
    """The candidates on the ballot (confirmed), as the page lists them before the count."""
    return [
        c
        for c in nominations.election_candidates(db, election)
        if c.state is CandidateState.CONFIRMED
    ]


def voted_elections(db: Session, meeting: Meeting) -> list[Election]:
    """The meeting's elections from the opening of voting on, for its results page."""
    shown = (ElectionState.VOTING_OPEN, ElectionState.COUNTED, ElectionState.DECLARED)
    return [e for e in nominations.meeting_elections(db, meeting) if e.state in shown]


def may_read(db: Session, meeting: Meeting, member: Member | None, *, staff: bool) -> bool:
    """Staff, and members on the meeting's roll in any class, read its elections' results."""
    return staff or (member is not None and roll.on_roll(db, meeting, member))
