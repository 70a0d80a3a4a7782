"""Counting a resolution's votes: pure functions over plain counts, so they can be proved.

The rules (DESIGN.md §2, the co-op's settings) are fixed in :class:`Rules` when voting
opens and stored with the result, so a later change of settings never changes a count:

* **Quorum**: at least ``CoopSettings.quorum_min_members`` members, and at least
  ``CoopSettings.quorum_percent`` % of the roll, must take part (the greater applies);
  when ``CoopSettings.quorum_percent_per_class`` is set, every class on the roll must also
  reach that % of its own roll. Abstentions count as taking part. A resolution short of
  quorum is *not quorate*: neither passed nor failed.
* **Ordinary**: more For than Against.
* **Special**: For is at least ``CoopSettings.special_majority_numerator /
  special_majority_denominator`` of For + Against; with
  ``CoopSettings.special_needs_class_majority``, also more For than Against in every class
  in which anyone voted For or Against.
* **Class**: only that class's roll votes; more For than Against (no weighting).
* **Voting mode** (``CoopSettings.voting_mode``, or the meeting's override): one member
  one vote counts heads; class-weighted takes each class's share of For among its For +
  Against votes, weighted by the class's ``MemberClass.voting_weight``. A class with no
  For or Against vote (none cast, or all abstained) drops out, and the weights of the
  others are rescaled to 100.

Abstentions never count towards a majority. Everything is exact (fractions, no floats).

**Channels** (issue 14 §2): a class's votes may have come online (a proxy's among them),
on paper in the room, by post, or as a show of hands the tellers counted. They are counted
alike; :attr:`ClassCount.channels` keeps each channel's part, stored with the tally, so the
results can show them and ``check-votes`` recounts them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ...models import CoopSettings, ResolutionKind, ResolutionResult, VotingMode


@dataclass(frozen=True)
class Rules:
    """The counting rules for one resolution, as the settings stood when voting opened."""

    kind: ResolutionKind
    mode: VotingMode
    quorum_min_members: int
    quorum_percent: int
    quorum_percent_per_class: int = 0
    special_numerator: int = 2
    special_denominator: int = 3
    special_needs_class_majority: bool = True

    @classmethod
    def from_settings(
        cls, settings: CoopSettings, kind: ResolutionKind, mode: VotingMode | None = None
    ) -> Rules:
        """The rules of ``settings`` for a resolution of ``kind``; ``mode`` overrides the
        co-op's voting mode (a meeting may set its own).

        Reads ``CoopSettings.voting_mode``, ``CoopSettings.quorum_min_members``,
        ``CoopSettings.quorum_percent``, ``CoopSettings.quorum_percent_per_class``,
        ``CoopSettings.special_majority_numerator``,
        ``CoopSettings.special_majority_denominator`` and
        ``CoopSettings.special_needs_class_majority``.
        """
        return cls(
            kind=kind,
            mode=mode or settings.voting_mode,
            quorum_min_members=settings.quorum_min_members,
            quorum_percent=settings.quorum_percent,
            quorum_percent_per_class=settings.quorum_percent_per_class,
            special_numerator=settings.special_majority_numerator,
            special_denominator=settings.special_majority_denominator,
            special_needs_class_majority=settings.special_needs_class_majority,
        )

    @property
    def weighted(self) -> bool:
        """Classes count by their weight (never for a class resolution: one class votes)."""
        return self.mode is VotingMode.CLASS_WEIGHTED and self.kind is not ResolutionKind.CLASS

    @property
    def threshold(self) -> Fraction:
        """The share of For among For + Against that passes (strictly above ½ for a
        simple majority, at least this for a special one)."""
        if self.kind is ResolutionKind.SPECIAL:
            return Fraction(self.special_numerator, self.special_denominator)
        return Fraction(1, 2)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "mode": self.mode.value,
            "quorum_min_members": self.quorum_min_members,
            "quorum_percent": self.quorum_percent,
            "quorum_percent_per_class": self.quorum_percent_per_class,
            "special_numerator": self.special_numerator,
            "special_denominator": self.special_denominator,
            "special_needs_class_majority": self.special_needs_class_majority,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Rules:
        return cls(
            **{
                **data,
                "kind": ResolutionKind(data["kind"]),
                "mode": VotingMode(data["mode"]),
            }
        )


# The channels a class's votes are kept under, in the order they are shown: the values of
# ``models.Channel`` and a show of hands (``models.HandCount``).
CHANNELS = ("online", "in_room", "postal", "hands")


@dataclass(frozen=True)
class ChannelCount:
    """The votes one class cast through one channel."""

    channel: str  # one of CHANNELS
    votes_for: int = 0
    against: int = 0
    abstain: int = 0

    @property
    def turnout(self) -> int:
        return self.votes_for + self.against + self.abstain

    def as_json(self) -> dict[str, int]:
        return {"for": self.votes_for, "against": self.against, "abstain": self.abstain}


@dataclass(frozen=True)
class ClassCount:
    """One class's part in a vote: its roll, its weight and its votes (and, when known,
    the channels they came through: their sums are the votes)."""

    code: str
    roll: int
    weight: int = 0
    votes_for: int = 0
    against: int = 0
    abstain: int = 0
    channels: tuple[ChannelCount, ...] = ()

    @classmethod
    def merged(
        cls, code: str, roll: int, weight: int, channels: Iterable[ChannelCount]
    ) -> ClassCount:
        """A class's count as the sum of its channels' (those with a vote, in order)."""
        kept = tuple(
            sorted((c for c in channels if c.turnout), key=lambda c: CHANNELS.index(c.channel))
        )
        return cls(
            code,
            roll=roll,
            weight=weight,
            votes_for=sum(c.votes_for for c in kept),
            against=sum(c.against for c in kept),
            abstain=sum(c.abstain for c in kept),
            channels=kept,
        )

    def channel(self, name: str) -> ChannelCount:
        """This class's votes through channel ``name`` (none: zeros)."""
        return next((c for c in self.channels if c.channel == name), ChannelCount(name))

    @property
    def turnout(self) -> int:
        """Members who took part, abstentions included."""
        return self.votes_for + self.against + self.abstain

    @property
    def decided(self) -> int:
        """For + Against: the votes a majority is taken over."""
        return self.votes_for + self.against

    @property
    def share_for(self) -> Fraction | None:
        """For as a share of For + Against; None when no one voted either way."""
        return Fraction(self.votes_for, self.decided) if self.decided else None

    @property
    def has_majority(self) -> bool:
        return self.votes_for > self.against


def quorum_needed(roll: int, *, minimum: int, percent: int) -> int:
    """Members who must take part: the greater of ``minimum`` and ``percent`` % of the
    roll, rounded up (``CoopSettings.quorum_min_members``, ``quorum_percent``)."""
    return max(minimum, -(-percent * roll // 100))


def class_quorum_needed(roll: int, percent: int) -> int:
    """Members of one class who must take part: ``percent`` % of its roll, rounded up
    (``CoopSettings.quorum_percent_per_class``; 0 asks for none)."""
    return -(-percent * roll // 100)


def assess_quorum(rules: Rules, classes: Iterable[ClassCount]) -> tuple[int, tuple[str, ...]]:
    """The members who must take part, and the classes short of their own quorum.

    Only turnout matters (choices are never read), so the live turnout of a secret ballot
    can ask it. Reads ``Rules.quorum_min_members``, ``quorum_percent`` and
    ``quorum_percent_per_class`` (from ``CoopSettings``).
    """
    counts = tuple(classes)
    quorum = quorum_needed(
        sum(c.roll for c in counts),
        minimum=rules.quorum_min_members,
        percent=rules.quorum_percent,
    )
    short = tuple(
        c.code
        for c in counts
        if rules.quorum_percent_per_class
        and c.roll
        and c.turnout < class_quorum_needed(c.roll, rules.quorum_percent_per_class)
    )
    return quorum, short


@dataclass(frozen=True)
class Tally:
    """The count of one resolution: per class and in total, quorum, shares and result."""

    rules: Rules
    classes: tuple[ClassCount, ...]
    quorum: int  # members who had to take part
    quorate: bool
    classes_short_of_quorum: tuple[str, ...]
    # Each counted class's weight, rescaled to sum to 1 (weighted mode only).
    weights: dict[str, Fraction] = field(default_factory=dict)
    # For as a share of For + Against (weighted where weighted); None: no one decided.
    share_for: Fraction | None = None
    classes_without_majority: tuple[str, ...] = ()
    result: ResolutionResult = ResolutionResult.FAILED

    @property
    def roll(self) -> int:
        return sum(c.roll for c in self.classes)

    @property
    def turnout(self) -> int:
        return sum(c.turnout for c in self.classes)

    @property
    def votes_for(self) -> int:
        return sum(c.votes_for for c in self.classes)

    @property
    def against(self) -> int:
        return sum(c.against for c in self.classes)

    @property
    def abstain(self) -> int:
        return sum(c.abstain for c in self.classes)

    @property
    def passed(self) -> bool:
        return self.result is ResolutionResult.PASSED

    def as_json(self) -> dict[str, Any]:
        """The tally as stored on the resolution (fractions as "n/d" strings)."""
        return {
            "rules": self.rules.as_json(),
            "classes": [
                {
                    "code": c.code,
                    "roll": c.roll,
                    "weight": c.weight,
                    "for": c.votes_for,
                    "against": c.against,
                    "abstain": c.abstain,
                    "channels": {ch.channel: ch.as_json() for ch in c.channels},
                }
                for c in self.classes
            ],
            "quorum": self.quorum,
            "quorate": self.quorate,
            "classes_short_of_quorum": list(self.classes_short_of_quorum),
            "weights": {code: str(w) for code, w in self.weights.items()},
            "share_for": None if self.share_for is None else str(self.share_for),
            "classes_without_majority": list(self.classes_without_majority),
            "result": self.result.value,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tally:
        return cls(
            rules=Rules.from_json(data["rules"]),
            classes=tuple(
                ClassCount(
                    code=c["code"],
                    roll=c["roll"],
                    weight=c["weight"],
                    votes_for=c["for"],
                    against=c["against"],
                    abstain=c["abstain"],
                    channels=tuple(
                        ChannelCount(name, n["for"], n["against"], n["abstain"])
                        for name, n in c.get("channels", {}).items()
                    ),
                )
                for c in data["classes"]
            ),
            quorum=data["quorum"],
            quorate=data["quorate"],
            classes_short_of_quorum=tuple(data["classes_short_of_quorum"]),
            weights={code: Fraction(w) for code, w in data["weights"].items()},
            share_for=None if data["share_for"] is None else Fraction(data["share_for"]),
            classes_without_majority=tuple(data["classes_without_majority"]),
            result=ResolutionResult(data["result"]),
        )


def weighted_share_for(
    classes: Iterable[ClassCount],
) -> tuple[Fraction | None, dict[str, Fraction]]:
    """For's share under class weighting, and the rescaled weights that made it.

    Each class with a For or Against vote and a weight above 0 counts by its weight
    (``MemberClass.voting_weight``); the others drop out and the rest are rescaled so that
    they sum to 1. None when no class counts.
    """
    counted = [c for c in classes if c.decided and c.weight > 0]
    total = sum(c.weight for c in counted)
    if not total:
        return None, {}
    weights = {c.code: Fraction(c.weight, total) for c in counted}
    share = sum((weights[c.code] * Fraction(c.votes_for, c.decided) for c in counted), Fraction(0))
    return share, weights


def tally_resolution(rules: Rules, classes: Iterable[ClassCount]) -> Tally:
    """Count a resolution: quorum first, then the majority its kind and mode ask for.

    ``classes`` are the classes on this resolution's roll (for a class resolution, only
    its class) with their votes; see the module's docstring for every rule applied.
    """
    counts = tuple(classes)
    quorum, short = assess_quorum(rules, counts)
    quorate = sum(c.turnout for c in counts) >= quorum and not short
    if rules.weighted:
        share, weights = weighted_share_for(counts)
    else:
        decided = sum(c.decided for c in counts)
        share = Fraction(sum(c.votes_for for c in counts), decided) if decided else None
        weights = {}
    without_majority: tuple[str, ...] = ()
    if rules.kind is ResolutionKind.SPECIAL and rules.special_needs_class_majority:
        without_majority = tuple(c.code for c in counts if c.decided and not c.has_majority)
    if not quorate:
        result = ResolutionResult.NOT_QUORATE
    elif share is None:
        result = ResolutionResult.FAILED
    elif rules.kind is ResolutionKind.SPECIAL:
        passes = share >= rules.threshold and not without_majority
        result = ResolutionResult.PASSED if passes else ResolutionResult.FAILED
    else:
        result = ResolutionResult.PASSED if share > rules.threshold else ResolutionResult.FAILED
    return Tally(
        rules=rules,
        classes=counts,
        quorum=quorum,
        quorate=quorate,
        classes_short_of_quorum=short,
        weights=weights,
        share_for=share,
        classes_without_majority=without_majority,
        result=result,
    )
