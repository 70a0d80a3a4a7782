"""Counting votes: every rule by name, and the service against a reference written here.

The reference counts individual ballots the long way (weighted points per class, integer
cross-multiplication) from the rules as the issue states them; hypothesis compares it
with ``tally_resolution`` over random rolls, classes, weights, choices and kinds.
"""

from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction

from hypothesis import example, given, settings
from hypothesis import strategies as st

from portal.models import ResolutionKind, ResolutionResult, VotingMode
from portal.services.meetings.tally import (
    ClassCount,
    Rules,
    Tally,
    quorum_needed,
    tally_resolution,
)

ORDINARY, SPECIAL, CLASS = ResolutionKind.ORDINARY, ResolutionKind.SPECIAL, ResolutionKind.CLASS
OMOV, WEIGHTED = VotingMode.ONE_MEMBER_ONE_VOTE, VotingMode.CLASS_WEIGHTED
PASSED, FAILED, NOT_QUORATE = (
    ResolutionResult.PASSED,
    ResolutionResult.FAILED,
    ResolutionResult.NOT_QUORATE,
)


def rules(kind=ORDINARY, mode=OMOV, **changes):
    values = {
        "quorum_min_members": 1,
        "quorum_percent": 0,
        "quorum_percent_per_class": 0,
        "special_numerator": 2,
        "special_denominator": 3,
        "special_needs_class_majority": True,
    }
    values.update(changes)
    return Rules(kind=kind, mode=mode, **values)


def cls(code, roll=100, weight=0, f=0, a=0, x=0):
    return ClassCount(code, roll=roll, weight=weight, votes_for=f, against=a, abstain=x)


# -- the rules, one test each ------------------------------------------------------------------


def test_ordinary_resolution_passes_with_more_for_than_against():
    assert tally_resolution(rules(), [cls("listener", f=6, a=5)]).result is PASSED


def test_ordinary_resolution_fails_on_a_tie():
    assert tally_resolution(rules(), [cls("listener", f=5, a=5)]).result is FAILED


def test_abstentions_never_count_towards_the_majority():
    tally = tally_resolution(rules(), [cls("listener", f=2, a=1, x=50)])
    assert tally.result is PASSED
    assert tally.share_for == Fraction(2, 3)


def test_abstentions_count_for_turnout_and_quorum():
    # 10 on the roll, quorum 50 %: 1 For and 4 abstentions make 5 who took part.
    tally = tally_resolution(rules(quorum_percent=50), [cls("listener", roll=10, f=1, x=4)])
    assert tally.turnout == 5 and tally.quorum == 5 and tally.quorate
    assert tally.result is PASSED


def test_all_abstentions_fail_a_quorate_resolution():
    tally = tally_resolution(rules(), [cls("listener", x=10)])
    assert tally.quorate and tally.share_for is None
    assert tally.result is FAILED


def test_quorum_is_the_greater_of_the_minimum_and_the_percentage():
    assert quorum_needed(20, minimum=3, percent=10) == 3
    assert quorum_needed(200, minimum=3, percent=10) == 20
    assert quorum_needed(201, minimum=3, percent=10) == 21  # rounded up


def test_a_resolution_short_of_quorum_is_not_quorate_neither_passed_nor_failed():
    tally = tally_resolution(rules(quorum_min_members=3), [cls("listener", f=2)])
    assert not tally.quorate
    assert tally.result is NOT_QUORATE


def test_quorum_exactly_met_is_quorate():
    tally = tally_resolution(rules(quorum_percent=10), [cls("listener", roll=30, f=3)])
    assert tally.quorum == 3 and tally.quorate and tally.result is PASSED


def test_each_class_must_reach_its_own_quorum_when_the_setting_is_on():
    counts = [cls("listener", roll=100, f=40), cls("artist", roll=10, f=1)]
    assert tally_resolution(rules(), counts).result is PASSED
    tally = tally_resolution(rules(quorum_percent_per_class=20), counts)
    assert tally.classes_short_of_quorum == ("artist",)
    assert tally.result is NOT_QUORATE


def test_a_class_with_nobody_on_the_roll_needs_no_quorum_of_its_own():
    counts = [cls("listener", roll=10, f=5), cls("worker", roll=0)]
    assert tally_resolution(rules(quorum_percent_per_class=50), counts).result is PASSED


def test_special_resolution_needs_the_special_majority_of_votes_cast():
    assert tally_resolution(rules(SPECIAL), [cls("listener", f=20, a=10)]).result is PASSED
    assert tally_resolution(rules(SPECIAL), [cls("listener", f=19, a=10)]).result is FAILED


def test_special_resolution_fails_without_a_majority_in_every_class():
    counts = [cls("listener", f=90, a=10), cls("artist", f=4, a=5)]
    tally = tally_resolution(rules(SPECIAL), counts)
    assert tally.share_for >= Fraction(2, 3)
    assert tally.classes_without_majority == ("artist",)
    assert tally.result is FAILED


def test_special_resolution_needs_no_class_majority_when_the_setting_is_off():
    counts = [cls("listener", f=90, a=10), cls("artist", f=4, a=5)]
    tally = tally_resolution(rules(SPECIAL, special_needs_class_majority=False), counts)
    assert tally.result is PASSED


def test_a_class_that_only_abstained_does_not_block_a_special_resolution():
    counts = [cls("listener", f=9, a=1), cls("artist", x=3)]
    assert tally_resolution(rules(SPECIAL), counts).result is PASSED


def test_special_resolution_with_no_votes_either_way_fails():
    assert tally_resolution(rules(SPECIAL), [cls("listener", x=4)]).result is FAILED


def test_class_weighting_counts_each_class_by_its_weight():
    # Listeners 100 to 0 For at weight 20; artists 0 to 3 at weight 40; workers 1 to 2 at 40.
    counts = [
        cls("listener", weight=20, f=100),
        cls("artist", weight=40, a=3),
        cls("worker", weight=40, f=1, a=2),
    ]
    tally = tally_resolution(rules(mode=WEIGHTED), counts)
    assert tally.share_for == Fraction(20, 100) + Fraction(40, 100) * Fraction(1, 3)
    assert tally.result is FAILED  # 1/3 of the weight, though 101 of 106 heads were For
    assert tally_resolution(rules(), counts).result is PASSED


def test_class_with_no_votes_drops_out_of_the_weighting():
    counts = [
        cls("listener", weight=30, f=2, a=1),
        cls("artist", weight=30),
        cls("worker", weight=40, a=5),
    ]
    tally = tally_resolution(rules(mode=WEIGHTED), counts)
    assert tally.weights == {"listener": Fraction(3, 7), "worker": Fraction(4, 7)}
    assert tally.share_for == Fraction(3, 7) * Fraction(2, 3)


def test_class_that_only_abstained_drops_out_of_the_weighting():
    counts = [cls("listener", weight=50, f=1), cls("artist", weight=50, x=9)]
    tally = tally_resolution(rules(mode=WEIGHTED), counts)
    assert tally.weights == {"listener": 1}
    assert tally.result is PASSED


def test_class_resolution_is_a_simple_majority_of_its_class_whatever_the_mode():
    counts = [cls("worker", weight=0, f=3, a=2)]
    assert tally_resolution(rules(CLASS, mode=WEIGHTED), counts).result is PASSED
    assert tally_resolution(rules(CLASS), [cls("worker", f=2, a=2)]).result is FAILED


def test_a_stored_tally_reads_back_the_same():
    counts = [cls("listener", weight=30, f=2, a=1, x=4), cls("worker", weight=70, a=1)]
    tally = tally_resolution(rules(SPECIAL, WEIGHTED, quorum_percent_per_class=5), counts)
    assert Tally.from_json(tally.as_json()) == tally


# -- the reference, and the property ----------------------------------------------------------


def reference_result(rule: Rules, roll: dict, weights: dict, ballots: list) -> ResolutionResult:
    """The rules of issue 13, counted ballot by ballot."""
    turnout = len(ballots)
    needed = max(
        rule.quorum_min_members, math.ceil(Fraction(rule.quorum_percent * sum(roll.values()), 100))
    )
    if turnout < needed:
        return NOT_QUORATE
    by_class = Counter(code for code, _ in ballots)
    for code, members in roll.items():
        if members and by_class[code] * 100 < rule.quorum_percent_per_class * members:
            return NOT_QUORATE
    votes = Counter(ballots)
    if rule.kind is SPECIAL and rule.special_needs_class_majority:
        for code in roll:
            if (
                votes[code, "for"] + votes[code, "against"]
                and votes[code, "for"] <= votes[code, "against"]
            ):
                return FAILED
    if rule.mode is WEIGHTED and rule.kind is not CLASS:
        points_for = points_against = Fraction(0)
        for code in roll:
            cast = votes[code, "for"] + votes[code, "against"]
            if cast:
                points_for += Fraction(weights[code] * votes[code, "for"], cast)
                points_against += Fraction(weights[code] * votes[code, "against"], cast)
        for_, against = points_for, points_against
    else:
        for_ = sum(votes[code, "for"] for code in roll)
        against = sum(votes[code, "against"] for code in roll)
    if for_ + against == 0:
        return FAILED
    if rule.kind is SPECIAL:
        ok = for_ * rule.special_denominator >= rule.special_numerator * (for_ + against)
    else:
        ok = for_ > against
    return PASSED if ok else FAILED


CODES = ("listener", "artist", "worker", "founder")


@st.composite
def votes(draw):
    kind = draw(st.sampled_from(list(ResolutionKind)))
    mode = draw(st.sampled_from(list(VotingMode)))
    codes = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=4, unique=True))
    if kind is CLASS:
        codes = codes[:1]
    roll, weights, ballots = {}, {}, []
    for code in codes:
        roll[code] = draw(st.integers(0, 9))
        weights[code] = draw(st.sampled_from([0, 10, 20, 25, 30, 40, 50, 100]))
        voters = draw(st.integers(0, roll[code]))
        ballots += [
            (code, draw(st.sampled_from(["for", "against", "abstain"]))) for _ in range(voters)
        ]
    denominator = draw(st.integers(1, 5))
    rule = rules(
        kind,
        mode,
        quorum_min_members=draw(st.integers(0, 6)),
        quorum_percent=draw(st.sampled_from([0, 10, 25, 33, 50, 100])),
        quorum_percent_per_class=draw(st.sampled_from([0, 0, 10, 50])),
        special_numerator=draw(st.integers(1, denominator)),
        special_denominator=denominator,
        special_needs_class_majority=draw(st.booleans()),
    )
    return rule, roll, weights, ballots


def counts_of(roll, weights, ballots):
    votes = Counter(ballots)
    return [
        cls(
            code,
            roll=roll[code],
            weight=weights[code],
            f=votes[code, "for"],
            a=votes[code, "against"],
            x=votes[code, "abstain"],
        )
        for code in roll
    ]


@settings(max_examples=400, deadline=None)
@given(votes())
@example(
    (
        rules(ORDINARY),
        {"listener": 4},
        {"listener": 0},
        [("listener", "for"), ("listener", "against")],
    )
)
@example(
    (
        rules(SPECIAL, WEIGHTED),
        {"listener": 3, "artist": 0},
        {"listener": 0, "artist": 50},
        [("listener", "abstain")] * 3,
    )
)
@example(
    (
        rules(ORDINARY, quorum_percent=50),
        {"listener": 2, "artist": 2},
        {"listener": 50, "artist": 50},
        [("listener", "for"), ("artist", "against")],
    )
)
def test_the_tally_agrees_with_the_reference(case):
    rule, roll, weights, ballots = case
    tally = tally_resolution(rule, counts_of(roll, weights, ballots))
    assert tally.result is reference_result(rule, roll, weights, ballots)
    assert tally.turnout == len(ballots)
    assert Tally.from_json(tally.as_json()) == tally
