"""A meeting's results as members and staff read them: the stored counts of each closed
resolution, per class and in total, the rules that applied, and secret ballots' receipts.

Everything here is read from the count stored when voting closed (``Resolution.tally``),
never recounted, so the page shows what was declared; ``check-votes`` compares the two.
How many votes came by proxy is counted from the participations (each marks the proxy it
came through, never a choice), for all of a meeting's resolutions in one grouped query.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import (
    Ballot,
    Choice,
    Meeting,
    Member,
    MemberClass,
    Participation,
    Resolution,
    ResolutionKind,
    ResolutionState,
)
from ...models import ResolutionResult as Result
from .proxies import proxy_votes_by_class
from .tally import ClassCount, Tally


def percent(share: Fraction | None) -> str:
    """A share as a percentage to one decimal place (``2/3`` → ``66.7 %``); — for none."""
    if share is None:
        return "—"
    tenths = round(share * 1000)
    return f"{tenths // 10}.{tenths % 10} %"


# How votes reached the count (issue 14 §2), in the order the results show them.
CHANNEL_NAMES = ("Online", "By proxy", "In the room", "By post", "Show of hands")
CHANNEL_PHRASES = ("online", "by proxy", "in the room", "by post", "by show of hands")


def channel_votes(count: ClassCount, by_proxy: int) -> tuple[int, ...]:
    """A class's votes by channel, in ``CHANNEL_NAMES`` order: online (less those by
    proxy), by proxy, in the room, by post, show of hands. A count stored before channels
    were kept (issue 13) came online."""
    online = count.channel("online").turnout if count.channels else count.turnout
    return (
        online - by_proxy,
        by_proxy,
        count.channel("in_room").turnout,
        count.channel("postal").turnout,
        count.channel("hands").turnout,
    )


@dataclass(frozen=True)
class ResultRow:
    """One line of a resolution's count: a class, or the total."""

    name: str
    count: ClassCount
    weight: Fraction | None = None  # the class's rescaled weight, when weighted
    by_proxy: int = 0  # how many of its votes came by proxy
    channels: tuple[int, ...] = (0, 0, 0, 0, 0)  # votes by channel, as CHANNEL_NAMES

    @property
    def share_for(self) -> str:
        return percent(self.count.share_for)

    @property
    def weight_percent(self) -> str:
        return percent(self.weight)


@dataclass(frozen=True)
class Outcome:
    """A closed resolution's declared result, with what it was decided by."""

    resolution: Resolution
    tally: Tally
    rows: list[ResultRow]
    total: ResultRow
    class_names: dict[str, str]

    @property
    def result(self) -> Result:
        return self.tally.result

    @property
    def by_proxy(self) -> str:
        """How many of the votes came by proxy, in words (issue 14: the results show it)."""
        votes, by_proxy = self.tally.turnout, self.total.by_proxy
        if not by_proxy:
            return "No vote came by proxy"
        if votes == 1:
            return "The only vote came by proxy"
        return f"{by_proxy} of the {votes} votes came by proxy"

    @property
    def came_by(self) -> str:
        """How the votes came, in words: "5 online, 1 by proxy, 2 by show of hands"."""
        parts = [
            f"{n} {phrase}"
            for phrase, n in zip(CHANNEL_PHRASES, self.total.channels, strict=True)
            if n
        ]
        return ", ".join(parts) if parts else "No votes"

    @property
    def hybrid(self) -> bool:
        """Some vote came other than online or by proxy (the table by channel is shown)."""
        return any(self.total.channels[2:])

    @property
    def weighted(self) -> bool:
        return self.tally.rules.weighted

    @property
    def share_for(self) -> str:
        return percent(self.tally.share_for)

    @property
    def threshold(self) -> str:
        """The majority that was needed, in words (``CoopSettings.special_majority_*``)."""
        rules = self.tally.rules
        counted = "weighted by class" if rules.weighted else "of For and Against"
        if rules.kind is ResolutionKind.SPECIAL:
            needed = (
                f"For at least {rules.special_numerator}/{rules.special_denominator} "
                f"({percent(rules.threshold)}) {counted}"
            )
            if rules.special_needs_class_majority:
                needed += ", and more For than Against in every class that voted"
            return needed + "; abstentions not counted"
        if rules.kind is ResolutionKind.CLASS:
            return "More For than Against within the class; abstentions not counted"
        return f"More For than Against ({counted}); abstentions not counted"

    @property
    def quorum(self) -> str:
        """The quorum that applied (``CoopSettings.quorum_*``) and whether it was met."""
        rules, tally = self.tally.rules, self.tally
        text = (
            f"{tally.quorum} of {tally.roll} on the roll had to take part (at least "
            f"{rules.quorum_min_members}, and {rules.quorum_percent} % of the roll); "
            f"{tally.turnout} did"
        )
        if rules.quorum_percent_per_class:
            text += f"; each class needed {rules.quorum_percent_per_class} % of its own roll"
        return text

    @property
    def lists_votes(self) -> bool:
        """Members may read who voted how (an open vote, closed)."""
        return lists_votes(self.resolution)

    @property
    def short_classes(self) -> list[str]:
        return [self.class_names.get(c, c) for c in self.tally.classes_short_of_quorum]

    @property
    def classes_without_majority(self) -> list[str]:
        return [self.class_names.get(c, c) for c in self.tally.classes_without_majority]


def outcome_of(
    resolution: Resolution, class_names: dict[str, str], by_proxy: dict[str, int] | None = None
) -> Outcome | None:
    """The declared result of ``resolution``, or None while it has none; ``by_proxy``: how
    many of its votes came by proxy, by class code."""
    if resolution.tally is None:
        return None
    tally = Tally.from_json(resolution.tally)
    by_proxy = by_proxy or {}
    rows = [
        ResultRow(
            class_names.get(c.code, c.code),
            c,
            tally.weights.get(c.code),
            by_proxy.get(c.code, 0),
            channel_votes(c, by_proxy.get(c.code, 0)),
        )
        for c in tally.classes
    ]
    total = ResultRow(
        "All classes",
        ClassCount(
            "total",
            roll=tally.roll,
            votes_for=tally.votes_for,
            against=tally.against,
            abstain=tally.abstain,
        ),
        by_proxy=sum(by_proxy.values()),
        channels=tuple(sum(column) for column in zip(*(r.channels for r in rows), strict=True))
        if rows
        else (0, 0, 0, 0, 0),
    )
    return Outcome(resolution, tally, rows, total, class_names)


def class_names(db: Session) -> dict[str, str]:
    """Each member class's name by its code."""
    return {code: name for code, name in db.execute(select(MemberClass.code, MemberClass.name))}


def meeting_outcomes(db: Session, meeting: Meeting) -> list[Outcome]:
    """The declared results of the meeting's closed resolutions, in order."""
    names = class_names(db)
    closed = [r for r in meeting.resolutions if r.tally is not None]
    by_proxy = proxy_votes_by_class(db, [r.id for r in closed]) if closed else {}
    outcomes = (outcome_of(r, names, by_proxy.get(r.id)) for r in closed)
    return [o for o in outcomes if o is not None]


def published_receipts(db: Session, resolution: Resolution) -> list[tuple[str, Choice]]:
    """A closed secret resolution's receipts with their choices, in receipt order, so each
    member can check their vote was counted as cast. Empty until it closes."""
    if not resolution.secret or resolution.state is not ResolutionState.CLOSED:
        return []
    return [
        (receipt, choice)
        for receipt, choice in db.execute(
            select(Ballot.receipt, Ballot.choice)
            .where(Ballot.resolution_id == resolution.id)
            .order_by(Ballot.receipt)
        )
    ]


def lists_votes(resolution: Resolution) -> bool:
    """Members may read who voted how: the resolution is closed, and not a secret ballot."""
    return not resolution.secret and resolution.state is ResolutionState.CLOSED


@dataclass(frozen=True)
class MemberVote:
    """How one member voted on an open (not secret) resolution."""

    key: int  # the member's id: what the list is paged by
    number: int
    name: str
    class_name: str
    choice: Choice


@dataclass(frozen=True)
class VotesPage:
    """One page of who voted how, and the key the next page starts after (None: the last)."""

    votes: list[MemberVote]
    after: int | None  # the key this page started after (None: the first page)
    next_after: int | None


VOTES_PER_PAGE = 100


def member_votes(
    db: Session, resolution: Resolution, *, after: int | None = None, per_page: int = VOTES_PER_PAGE
) -> VotesPage | None:
    """Who voted how on a closed open-ballot resolution, a page after the member ``after``
    (by id, the order members joined); None for a secret ballot or one not yet closed,
    whose voters' choices are never listed.

    Paged by key along the participations' own (resolution, member) index, so a page of a
    meeting of 100,000 costs what a page of ten does and never renders them all.
    """
    if not lists_votes(resolution):
        return None
    query = (
        select(Member.id, Member.number, Member.name, MemberClass.name, Participation.choice)
        .join(Member, Member.id == Participation.member_id)
        .join(MemberClass, MemberClass.id == Participation.class_id)
        .where(Participation.resolution_id == resolution.id, Participation.choice.is_not(None))
        .order_by(Participation.member_id)
        .limit(per_page + 1)
    )
    if after is not None:
        query = query.where(Participation.member_id > after)
    votes = [MemberVote(*row) for row in db.execute(query)]
    more = len(votes) > per_page
    votes = votes[:per_page]
    return VotesPage(votes, after, votes[-1].key if more else None)


RESULTS_CSV_COLUMNS = (
    "resolution",
    "title",
    "kind",
    "class",
    "roll",
    "for",
    "against",
    "abstain",
    "for_share",
    "weight",
    "result",
    "by_proxy",
    "online",
    "in_room",
    "by_post",
    "show_of_hands",
)


def results_csv_rows(db: Session, meeting: Meeting) -> Iterator[tuple[object, ...]]:
    """A row per closed resolution and class, then the resolution's total with its result."""
    for outcome in meeting_outcomes(db, meeting):
        r = outcome.resolution
        for row in [*outcome.rows, outcome.total]:
            is_total = row is outcome.total
            yield (
                r.number,
                r.title,
                r.kind.label,
                row.name,
                row.count.roll,
                row.count.votes_for,
                row.count.against,
                row.count.abstain,
                outcome.share_for if is_total else row.share_for,
                row.weight_percent if row.weight is not None else "",
                outcome.result.label if is_total else "",
                row.by_proxy,
                *(row.channels[:1] + row.channels[2:]),
            )
