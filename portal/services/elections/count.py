"""Counting a board election: the single transferable vote (STV), by STVPoll's Scottish STV.

Pure: plain candidate ids and ballots in, a :class:`Count` out; no database. The result
keeps every round and is stored on the election as JSON (:meth:`Count.as_json`, as
``Tally.as_json`` is for a resolution), so the results page can draw the count and
``check-votes`` can count the ballots again and compare.

**Why STVPoll** (``stvpoll`` on PyPI, VoteIT/STVPoll; /work/scratch/i15_elections-count.md
has the full comparison). We read STVPoll 0.5.6 and PyRankVote 2.0.6, their code and tests:

* STVPoll counts in exact decimals, with the Droop quota as the Scottish rules set it (the
  whole number above valid ballots ÷ (seats + 1)), surpluses by the weighted inclusive
  Gregory method (every ballot of an elected candidate passes on at surplus ÷ votes of its
  value), one exclusion per round, and ties broken by pluggable strategies (earlier rounds,
  then lot). Its repository's tests count the 2017 City of Edinburgh council wards and
  check the declared winners. It is maintained (0.5.x for Python
  3.10 to 3.13) and GPL-3.0-or-later, which an AGPL-3.0-or-later portal may use.
* PyRankVote (MIT) counts in floats compared within 0.001, passes an elected candidate's
  surplus on as an equal share per ballot whatever each ballot was worth (not Gregory),
  takes ballots ÷ (seats + 1) as its quota (no +1, no rounding: Hagenbach-Bischoff),
  excludes several candidates at once, breaks ties
  by second choices and then by Python's unseeded ``random`` (inside a comparison, so not
  even a consistent order), and keeps no transfers. Not reproducible, so not for a vote.

**The rules applied** (STVPoll's ``calculate_scottish_stv`` with these options):

* Quota: ``valid ballots // (seats + 1) + 1`` (Droop). A ballot ranking no candidate is
  empty: counted and reported, never in the quota.
* Each round, every continuing candidate with at least the quota is elected, and each
  one's surplus passes on from all their ballots (weighted inclusive Gregory): a ballot
  passes at ``its value * surplus / the candidate's votes``, cut (never rounded up) to five
  decimal places, "any remainder being ignored" as the Scottish rules say (the Scottish
  Local Government Elections Order 2007, SSI 2007/42, sched. 1). The count runs in its own
  ``decimal`` context with ``ROUND_DOWN`` for this (STVPoll alone rounds half-even), so no
  round's total can exceed the ballots.
* A surplus passes to continuing candidates only, never to another candidate elected in
  the same round, as in the Scottish rules: STVPoll's ``transfer_all``. (Its default,
  ``transfer_serial``, passes a surplus on to a candidate elected alongside; on the GPUS
  2005 election in tests/services/test_stv_count.py its stage values part from the
  Scottish-rules reference count, while ``transfer_all``'s match it to the last digit.)
  Where the Scottish rules pass the surpluses of one stage one at a time, a candidate who
  reaches the quota on the first is skipped by the second; here such a candidate may
  still receive from the second, and is elected next round with that surplus to pass on.
* Otherwise the candidate with fewest votes is excluded and their ballots pass on at their
  value. When no more candidates continue than seats are left, they are all elected.
* A seat count of one is therefore instant-runoff: the quota is a majority of the valid
  ballots, and the last candidate standing wins.
* **Ties** (to exclude the fewest, or to order candidates who reach the quota together):
  first the totals of the previous rounds, the most recent round first and back to the
  first preferences (STVPoll's ``TiebreakHistory``): going back a round at a time, only
  those with the fewest (for exclusion) or most (for election) votes stay tied, until one
  is left. (Droop's Scottish-rules reference "weak-defeat" is decided so too.) Then
  **by lot from the seed**: a string published before the count. The lot order ranks the
  candidates by ``SHA-256("<seed>:<candidate id>")`` as hexadecimal, lowest first (see
  :func:`lot_order`): anyone can recompute it. In a tie to be excluded, the tied candidate
  latest in that order goes; in a tie to be elected first, the earliest. (STVPoll's
  ``TiebreakRandom`` is given this order with ``shuffle=False``, so it draws nothing
  itself.) The same ballots and seed give the same count, round for round.

A round here may elect several candidates and pass on all their surpluses, where the
Scottish rules take a stage for each surplus: the count has fewer rounds than their
stages, and its totals are those of the stages after each round's transfers.

Votes are ``Decimal`` (exact); in JSON they are strings, so a stored count reads back
equal.
"""

from __future__ import annotations

import decimal
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib.metadata import version
from typing import Any

from stvpoll.quotas import droop_quota
from stvpoll.scottish_stv import calculate_scottish_stv
from stvpoll.tiebreak_strategies import TiebreakHistory, TiebreakRandom
from stvpoll.transfer_strategies import transfer_all
from stvpoll.types import CandidateStatus, SelectionMethod

from ...models.states import Labelled

# What counted: stored with each count, so a recount by a later version can say so.
METHOD = f"Scottish STV (stvpoll {version('stvpoll')})"

# The count's own arithmetic: 28 digits, and every cut rounds down (SSI 2007/42, sched. 1).
_CONTEXT = decimal.Context(prec=28, rounding=decimal.ROUND_DOWN)


class Decision(Labelled):
    """Why a round elected or excluded whom it did."""

    QUOTA = "quota", "Reached the quota", "success"
    FEWEST = "fewest", "Fewest votes", "neutral"
    EARLIER_ROUND = "earlier_round", "Tie broken by an earlier round", "info"
    LOT = "lot", "Tie broken by lot", "warning"
    LAST_STANDING = "last_standing", "As many candidates left as seats", "success"


@dataclass(frozen=True)
class Transfer:
    """Votes passed from one candidate to another after a round."""

    source: int
    target: int
    votes: Decimal


@dataclass(frozen=True)
class Round:
    """One round: the continuing candidates' votes, who was elected or excluded and why,
    and what their ballots passed on (``exhausted``: votes no further preference took)."""

    number: int
    votes: Mapping[int, Decimal]
    elected: tuple[int, ...] = ()
    excluded: tuple[int, ...] = ()
    decision: Decision = Decision.QUOTA
    transfers: tuple[Transfer, ...] = ()
    exhausted: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        """The continuing candidates' votes together."""
        return sum(self.votes.values(), Decimal(0))


@dataclass(frozen=True)
class Count:
    """A counted election: the elected in order of election and every round."""

    seats: int
    candidates: tuple[int, ...]
    seed: str
    lot_order: tuple[int, ...]
    ballots: int  # valid ballots: ranking at least one candidate
    empty_ballots: int
    quota: int
    elected: tuple[int, ...]
    excluded: tuple[int, ...]  # in the order they were excluded
    rounds: tuple[Round, ...]
    method: str = METHOD

    @property
    def instant_runoff(self) -> bool:
        return self.seats == 1

    @property
    def drawn_by_lot(self) -> bool:
        """Whether any round needed the lot."""
        return any(r.decision is Decision.LOT for r in self.rounds)

    @property
    def not_elected(self) -> tuple[int, ...]:
        """Every candidate not elected, those excluded first in their order."""
        rest = tuple(c for c in self.candidates if c not in self.elected + self.excluded)
        return self.excluded + rest

    def as_json(self) -> dict[str, Any]:
        """The count as stored on the election (votes as exact decimal strings)."""
        return {
            "method": self.method,
            "seats": self.seats,
            "candidates": list(self.candidates),
            "seed": self.seed,
            "lot_order": list(self.lot_order),
            "ballots": self.ballots,
            "empty_ballots": self.empty_ballots,
            "quota": self.quota,
            "elected": list(self.elected),
            "excluded": list(self.excluded),
            "rounds": [
                {
                    "number": r.number,
                    "votes": {str(c): _text(v) for c, v in r.votes.items()},
                    "elected": list(r.elected),
                    "excluded": list(r.excluded),
                    "decision": r.decision.value,
                    "transfers": [[t.source, t.target, _text(t.votes)] for t in r.transfers],
                    "exhausted": _text(r.exhausted),
                }
                for r in self.rounds
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Count:
        return cls(
            method=data["method"],
            seats=data["seats"],
            candidates=tuple(data["candidates"]),
            seed=data["seed"],
            lot_order=tuple(data["lot_order"]),
            ballots=data["ballots"],
            empty_ballots=data["empty_ballots"],
            quota=data["quota"],
            elected=tuple(data["elected"]),
            excluded=tuple(data["excluded"]),
            rounds=tuple(
                Round(
                    number=r["number"],
                    votes={int(c): Decimal(v) for c, v in r["votes"].items()},
                    elected=tuple(r["elected"]),
                    excluded=tuple(r["excluded"]),
                    decision=Decision(r["decision"]),
                    transfers=tuple(Transfer(s, t, Decimal(v)) for s, t, v in r["transfers"]),
                    exhausted=Decimal(r["exhausted"]),
                )
                for r in data["rounds"]
            ),
        )


def _text(value: Decimal) -> str:
    """A decimal as plain digits (never an exponent: STVPoll normalises its values)."""
    return format(value, "f")


def lot_order(candidates: Iterable[int], seed: str) -> tuple[int, ...]:
    """The candidates in the order the lot from ``seed`` favours them: by the hexadecimal
    SHA-256 of ``"<seed>:<candidate id>"``, lowest first (anyone can recompute it)."""
    return tuple(
        sorted(candidates, key=lambda c: (hashlib.sha256(f"{seed}:{c}".encode()).hexdigest(), c))
    )


def _checked_ballots(
    candidates: tuple[int, ...], ballots: Iterable[Sequence[int]]
) -> tuple[Counter[tuple[int, ...]], int]:
    """The non-empty ballots, counted by ranking, and how many were empty; a ballot that
    ranks a candidate twice or one not standing is refused (the ballot service checks
    first: this is the count's own guard)."""
    standing = set(candidates)
    rankings: Counter[tuple[int, ...]] = Counter()
    empty = 0
    for ballot in ballots:
        ranking = tuple(ballot)
        if len(set(ranking)) != len(ranking):
            raise ValueError(f"a ballot ranks a candidate twice: {ranking}")
        if not standing.issuperset(ranking):
            raise ValueError(f"a ballot ranks a candidate not standing: {ranking}")
        if ranking:
            rankings[ranking] += 1
        else:
            empty += 1
    return rankings, empty


_DECISIONS = {
    SelectionMethod.TiebreakHistory: Decision.EARLIER_ROUND,
    SelectionMethod.TiebreakRandom: Decision.LOT,
    SelectionMethod.NoCompetition: Decision.LAST_STANDING,
}


def count_stv(
    candidates: Iterable[int], ballots: Iterable[Sequence[int]], seats: int, *, seed: str
) -> Count:
    """Count ``ballots`` (each a ranking of candidate ids, first preference first) for
    ``seats`` seats among ``candidates`` by STV; one seat is instant-runoff.

    ``seed`` is the string published before the count that decides ties by lot. With fewer
    candidates than seats, all are elected. See the module's docstring for every rule.
    """
    if seats < 1:
        raise ValueError("an election needs at least one seat")
    standing = tuple(dict.fromkeys(candidates))
    rankings, empty = _checked_ballots(standing, ballots)
    valid = sum(rankings.values())
    order = lot_order(standing, seed)
    if not standing:
        return Count(
            seats=seats,
            candidates=(),
            seed=seed,
            lot_order=(),
            ballots=valid,
            empty_ballots=empty,
            quota=droop_quota(valid, seats),
            elected=(),
            excluded=(),
            rounds=(),
        )

    exhausted_by_transfer: list[Decimal] = []

    def transfer(**arguments: Any) -> Any:
        moved, exhausted, votes = transfer_all(**arguments)
        exhausted_by_transfer.append(exhausted)
        return moved, exhausted, votes

    with decimal.localcontext(_CONTEXT):
        result = calculate_scottish_stv(
            standing,
            dict(rankings),
            min(seats, len(standing)),
            pedantic_order=True,
            tiebreak_strategies=(TiebreakHistory(), TiebreakRandom(order, shuffle=False)),
            transfer_strategy=transfer,
        )

    rounds = []
    transfers = iter(zip(result.transfer_log, exhausted_by_transfer, strict=True))
    for number, selection in enumerate(result.rounds, start=1):
        elected = selection.status is CandidateStatus.Elected
        decision = _DECISIONS.get(
            selection.selection_method, Decision.QUOTA if elected else Decision.FEWEST
        )
        moved, exhausted = ({}, Decimal(0))
        if decision is not Decision.LAST_STANDING:
            moved, exhausted = next(transfers)
        rounds.append(
            Round(
                number=number,
                votes=dict(selection.votes),
                elected=tuple(selection.selected) if elected else (),
                excluded=() if elected else tuple(selection.selected),
                decision=decision,
                # By candidate, not in the order the ballots were read: a secret election's
                # ballots are stored again under new random ids when sealed, and a recount
                # (check-votes) must give the very same count.
                transfers=tuple(
                    Transfer(source, target, votes)
                    for (source, target), votes in sorted(moved.items())
                    if votes
                ),
                exhausted=exhausted,
            )
        )
    return Count(
        seats=seats,
        candidates=standing,
        seed=seed,
        lot_order=order,
        ballots=valid,
        empty_ballots=empty,
        quota=result.quota,
        elected=tuple(result),
        excluded=tuple(c for r in rounds for c in r.excluded),
        rounds=tuple(rounds),
    )
