"""The STV count (issue 15): published elections with known results, the adapter against
STVPoll called directly, the invariants, and ties broken reproducibly from the seed.

Candidates are numbered as in each source, so a reader can follow the source's tables.
"""

from __future__ import annotations

import decimal
import hashlib
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stvpoll.irv import calculate_irv
from stvpoll.scottish_stv import calculate_scottish_stv
from stvpoll.tiebreak_strategies import TiebreakHistory, TiebreakRandom
from stvpoll.transfer_strategies import transfer_all

from portal.services.elections.count import (
    Count,
    Decision,
    count_stv,
    lot_order,
)

D = Decimal


def ballots_of(*groups):
    """Ballots from ``(count, ranking)`` pairs."""
    return [tuple(ranking) for count, ranking in groups for _ in range(count)]


def round_trip(count):
    return Count.from_json(json.loads(json.dumps(count.as_json())))


# --- Published elections -------------------------------------------------------------


def test_wikipedia_food_election_elects_chocolate_orange_strawberry():
    # The worked example of https://en.wikipedia.org/wiki/Single_transferable_vote (also
    # STVPoll's own test `_wikipedia_example_fixture`): 20 voters, 3 seats, quota 6.
    orange, pear, chocolate, strawberry, bonbon = 1, 2, 3, 4, 5
    ballots = ballots_of(
        (4, [orange]),
        (2, [pear, orange]),
        (8, [chocolate, strawberry]),
        (4, [chocolate, bonbon]),
        (1, [strawberry]),
        (1, [bonbon]),
    )
    count = count_stv([1, 2, 3, 4, 5], ballots, 3, seed="food")
    assert count.quota == 6
    assert count.elected == (chocolate, orange, strawberry)
    first, second, third, fourth, last = count.rounds
    assert first.elected == (chocolate,)
    assert first.votes == {orange: 4, pear: 2, chocolate: 12, strawberry: 1, bonbon: 1}
    # Chocolate's surplus of 6 passes on at 6/12 a ballot: 4 to strawberry, 2 to bonbon.
    assert {(t.source, t.target, t.votes) for t in first.transfers} == {
        (chocolate, strawberry, D(4)),
        (chocolate, bonbon, D(2)),
    }
    assert second.votes == {orange: 4, pear: 2, strawberry: 5, bonbon: 3}
    assert (second.excluded, second.decision) == ((pear,), Decision.FEWEST)
    assert third.votes[orange] == 6 and third.elected == (orange,)
    assert fourth.excluded == (bonbon,) and fourth.exhausted == 3
    assert (last.elected, last.decision) == ((strawberry,), Decision.LAST_STANDING)


def test_opavote_example_from_stvpolls_tests():
    # STVPoll's `_opa_example_fixture` (OpaVote's STV example): 60 voters, 3 seats.
    alice, bob, chris, don, eric = 1, 2, 3, 4, 5
    ballots = ballots_of(
        (28, [alice, bob, chris]),
        (26, [bob, alice, chris]),
        (3, [chris]),
        (2, [don]),
        (1, [eric]),
    )
    count = count_stv(range(1, 6), ballots, 3, seed="opa")
    assert set(count.elected) == {alice, bob, chris}
    assert not count.drawn_by_lot


def test_wikipedia_cpo_stv_example_counted_by_stv():
    # https://en.wikipedia.org/wiki/CPO-STV: STV elects Carter, Andrea and Scott (STVPoll's
    # `_wikipedia_cpo_example_fixture`, Scottish STV).
    andrea, carter, brad, delilah, scott = 1, 2, 3, 4, 5
    ballots = ballots_of(
        (25, [andrea]),
        (34, [carter, brad, delilah]),
        (7, [brad, delilah]),
        (8, [delilah, brad]),
        (5, [delilah, scott]),
        (21, [scott, delilah]),
    )
    count = count_stv(range(1, 6), ballots, 3, seed="cpo")
    assert set(count.elected) == {carter, scott, andrea}


def test_stvpolls_vote_transfer_case():
    # STVPoll's `test_vote_transfers`: quota 3, and 6038 holds 2.5 votes in round 2.
    candidates = (6041, 6042, 6044, 6038, 6034, 6043, 6040, 6039, 6035, 6036, 6037)
    ballots = [
        [6039, 6043, 6042, 6044, 6034],
        [6043, 6042, 6039, 6036, 6037, 6044, 6041, 6040, 6038, 6035, 6034],
        [6038, 6042, 6036, 6035, 6034, 6037, 6040, 6039, 6043, 6044, 6041],
        [6034, 6035, 6036, 6037, 6038],
        [6037, 6038, 6044],
        [6039, 6038, 6037, 6042, 6044],
        [6038, 6039, 6037, 6036, 6035, 6034, 6040, 6042],
        [6036, 6035, 6039, 6040, 6042, 6037, 6041, 6043, 6044],
        [6034, 6038, 6039, 6040, 6042],
        [6034, 6036, 6035, 6040, 6042, 6043, 6044, 6041, 6039, 6037, 6038],
        [6037, 6042, 6040, 6044, 6035],
        [6034, 6042, 6037, 6044, 6036, 6035, 6043, 6040, 6039, 6041, 6038],
        [6037, 6043, 6038, 6035, 6034, 6036, 6039, 6040, 6041, 6042, 6044],
        [6036, 6035, 6034, 6038, 6041, 6042, 6040],
        [6037, 6044, 6042, 6040, 6034, 6036, 6035, 6038, 6041],
    ]
    count = count_stv(candidates, ballots, 5, seed="stvpoll")
    assert count.quota == 3
    assert count.rounds[1].votes[6038] == D("2.5")


def test_the_count_does_not_depend_on_the_order_the_ballots_are_read():
    """A sealed secret election's ballots come back under new random ids, so in another
    order: its recount (check-votes) must be the very same count, transfers and all."""
    ballots = ballots_of(
        (3, (1, 2)), (4, (2, 3)), (6, (3,)), (2, (4, 3)), (1, (4, 2)), (2, (1, 3)), (1, (1, 2))
    )
    counts = [
        count_stv(range(1, 5), order, 1, seed="sealed").as_json()
        for order in (ballots, list(reversed(ballots)), sorted(ballots, key=lambda b: b[-1]))
    ]
    assert counts[0] == counts[1] == counts[2]
    assert any(len(r["transfers"]) > 1 for r in counts[0]["rounds"])


# Scottish-rules reference counts by Droop (Jonathan Lundell's STV counter, its "scotland"
# rule: the Scottish Local Government Elections Order 2007), from its test suite:
# github.com/jklundell/droop, test/blt/<name>.blt (the ballots) and
# test/ref/dump/<name>-scotland-fixed-p5-d5.txt (each stage, to 5 decimal places).


def stages(count):
    """Each distinct state of the count: the non-zero votes of the continuing candidates
    and the votes exhausted so far (a zero-vote exclusion changes neither)."""
    seen, exhausted = [], D(0)
    for r in count.rounds:
        state = ({c: v for c, v in r.votes.items() if v}, exhausted)
        if not seen or seen[-1] != state:
            seen.append(state)
        exhausted += r.exhausted
    return seen


def test_droop_42_scottish_reference():
    # 42.blt: "Pollux and Helen should tie"; 3 candidates, 2 seats, 6 ballots.
    castor, pollux, helen = 1, 2, 3
    ballots = ballots_of((4, [castor, pollux]), (2, [helen]))
    count = count_stv([1, 2, 3], ballots, 2, seed="42")
    assert count.quota == 3
    assert count.elected == (castor, helen)
    assert stages(count) == [
        ({castor: 4, helen: 2}, 0),
        ({pollux: 1, helen: 2}, 0),
        ({helen: 2}, 1),
    ]


def test_droop_513_scottish_reference():
    # 513.blt: 3 candidates, 2 seats, 9 ballots; quota 4.
    castor, pollux, helen = 1, 2, 3
    ballots = ballots_of((5, [castor, pollux]), (1, [pollux]), (3, [helen]))
    count = count_stv([1, 2, 3], ballots, 2, seed="513")
    assert count.quota == 4
    assert count.elected == (castor, helen)
    assert stages(count) == [
        ({castor: 5, pollux: 1, helen: 3}, 0),
        ({pollux: 2, helen: 3}, 0),
        ({helen: 3}, 2),
    ]


def test_droop_weak_defeat_scottish_reference_breaks_the_tie_by_the_earlier_stage():
    # scotland/weak-defeat.blt: 5 candidates, 2 seats, 15 ballots. After A is excluded
    # B and C both hold 3; at the stage before, B had 2 and C 3, so B is excluded.
    a, b, c, d, e = 1, 2, 3, 4, 5
    ballots = ballots_of((1, [a, b]), (2, [b]), (3, [c]), (4, [d]), (5, [e]))
    for seed in ("x", "y", "z"):
        count = count_stv(range(1, 6), ballots, 2, seed=seed)
        assert count.quota == 6
        assert count.excluded == (a, b, c)
        assert count.rounds[1].decision is Decision.EARLIER_ROUND
        assert set(count.elected) == {d, e}
        assert stages(count)[-1] == ({d: 4, e: 5}, 6)


def test_droop_weak_surplus_scottish_reference():
    # scotland/weak-surplus.blt: 6 candidates, 4 seats, 35 ballots. A and B reach the
    # quota of 8; A's surplus of 2 takes C to 8. E and F tie at 3 at every stage, so the
    # lot decides; the other's 3 votes go to D, who is elected.
    a, b, c, d, e, f = 1, 2, 3, 4, 5, 6
    ballots = ballots_of((10, [a, c]), (8, [b]), (6, [c]), (5, [d]), (3, [e, d]), (3, [f, d]))
    count = count_stv(range(1, 7), ballots, 4, seed="weak")
    assert count.quota == 8
    assert count.elected[:2] == (a, b) and set(count.elected) == {a, b, c, d}
    assert count.rounds[1].votes == {c: 8, d: 5, e: 3, f: 3}
    assert count.drawn_by_lot


# SC.blt: the GPUS Steering Committee election of 2005-07-24, 94 ballots, 13 candidates,
# 4 seats. One line a ballot, preferences in order (Droop's candidate numbers):
# 1 Budd Dickinson, 2 Kirit Mookerjee, 3 Tom Sevigny, 4 Pat LaMarche, 5 Michael Piacsek,
# 6 Write-In 2, 7 Rebecca Rotzler, 8 Kristen Olsen, 9 Jason Jones, 10 Write-In 1,
# 11 Steve Greenfield, 12 Jimmy Leas, 13 Steve Kramer.
GPUS_2005 = """
7 8 9 11 12
7 8 9 11 12
13 7 5 4 2 1
5 13 2 7 4 1
13 4 1 2
4 2 13 1 3
4 13 2 7
7 8 12 1 13 9 2 4 11 5
1 13 3 4 7 5 2
4 1 13 7 3 5 2
4 1 13 7 3 5 2
1 4 13 2 7 5 3 9 8 12 11
7 1 8 9 13 3 2 4 12 5 11
7 8 9 11 12
7 1 8 9 13 3 2 4 12 5 11
7 8 9 11 12
7 8 9 11 12
7 8 9 11 12
5 1 13 3 2 4 7
7 8 9 3 12 2 13 5 1 4
3 13 1 2
3 13 1 2
4 7 13 5
4 5 13 3 2 1
7 8 9 11 12
7 9 8 12 11 2 13
7 8 9 11 12
7 8 9 11 12
4 3 13 1
4 3 13 1
13 3 4 1 7 2 5
3 13 4 1 7 2 5
13 3 4 1 2 5 7
13 1 4 2 5 3 7
13 4 3 1 2 5
3 13 1 4 2 7 5
4 3 13 8
4 3 13 1
1 4 13 7
1 4 13 7
7 3 4 13 1 5
9 11 8 7
7 8 9 11 12
13 3 5 2
4 5 2 3 13
13 5 2 4 1 3 7
13 5 2 1 7 3 8
7 8 9 12 11
7 8 4 9 12
13 4 7 2 8
4 13 2 7 1 8
7 8 11 9 12
8 4 7 11 13 9
7 4 2 13
13 1 7 4
4 1 2 13 9 5
1 4 13 5 3 2
7 5 4 8 11 2 13 1 3 9 12
4 8 7 5 13 2 1 3 9
3 4 7 2 12 13 8 1 5
7 8 9 11 12
7 8 11 9
7 8 11 9
7 8 9 11 12
7 8 9 11 12
7 8 9 11 12
13 2 4 7 5 1
7 8 9 11 12
7 8 9 11
7 8 9 11 12
2 7 8 12 13 11 1 5 9
4 7 8 2
4 13 5 2 1 3
13 4 7 3 1 5 8 2 9
4 3 13 1 7
13 4 1 3
4 1 13 3 2 7 8
2 4 13 5
2 3 4 1 13 7
3 1 4 13
4 3 1 2 11
3 1 4 13 2 7
4 1 2 8 3
4 1 5 13 2 3
4 1 5 13 2 3
7 8 9 11 12
7 8 9 11 12
13 7 3 2 5 4 1
13 5 7 2 4 1
7 8 9 11 12
1 13 3 7 2 4 5
13 1 2 7 4 5 3
13 1 2 7 4 5 3
3 1 4 2 13 7 9 5 8
"""


def test_gpus_2005_matches_the_scottish_reference_count_stage_by_stage():
    ballots = [tuple(map(int, line.split())) for line in GPUS_2005.strip().splitlines()]
    assert len(ballots) == 94
    count = count_stv(range(1, 14), ballots, 4, seed="gpus")
    assert count.quota == 19
    assert set(count.elected) == {7, 4, 13, 3}
    assert count.elected[:2] == (7, 4)  # both reach the quota on first preferences
    # Droop's stages after each transfer (SC-scotland-fixed-p5-d5.txt), with the votes
    # exhausted ("Non-Transferable") so far. Stages with only zero-vote exclusions and
    # the elected candidates' quotas are left out.
    assert stages(count) == [
        ({1: 6, 2: 3, 3: 8, 4: 22, 5: 2, 7: 33, 8: 1, 9: 1, 13: 18}, D(0)),
        (
            {
                1: D("7.80300"),
                2: D("3.56060"),
                3: D("9.24240"),
                5: D("2.69696"),
                8: D("12.72720"),
                9: D("1.42424"),
                13: D("18.54544"),
            },
            D(0),
        ),
        (
            {
                1: D("7.80300"),
                2: D("3.56060"),
                3: D("9.24240"),
                5: D("2.69696"),
                8: D("14.15144"),
                13: D("18.54544"),
            },
            D(0),
        ),
        (
            {
                1: D("8.80300"),
                2: D("3.69696"),
                3: D("9.24240"),
                8: D("14.57568"),
                13: D("19.68180"),
            },
            D(0),
        ),
        ({1: D("9.01084"), 2: D("3.95360"), 3: D("9.45496"), 8: D("14.57568")}, D("0.00472")),
        ({1: D("9.36448"), 3: D("10.59132"), 8: D("15.61032")}, D("1.43368")),
        ({3: D("16.62204"), 8: D("16.59988")}, D("3.77788")),
        ({3: D("18.59172")}, D("18.40808")),
    ]


# --- The adapter against STVPoll called directly ---------------------------------------

# Elections as hypothesis draws them: 1 to 7 candidates, 0 to 40 ballots each ranking some
# of them (none: an empty ballot), 1 to 8 seats, and a seed.
elections = st.integers(1, 7).flatmap(
    lambda n: st.tuples(
        st.just(tuple(range(1, n + 1))),
        st.lists(
            st.permutations(range(1, n + 1)).flatmap(
                lambda order: st.integers(0, len(order)).map(lambda k: tuple(order[:k]))
            ),
            max_size=40,
        ),
        st.integers(1, 8),
        st.text(max_size=8),
    )
)


@settings(max_examples=300, deadline=None)
@given(elections)
def test_adapter_elects_what_stvpoll_elects(election):
    candidates, ballots, seats, seed = election
    count = count_stv(candidates, ballots, seats, seed=seed)
    with decimal.localcontext(decimal.Context(prec=28, rounding=decimal.ROUND_DOWN)):
        direct = calculate_scottish_stv(
            candidates,
            [(ballot, 1) for ballot in ballots],
            min(seats, len(candidates)),
            pedantic_order=True,
            tiebreak_strategies=(
                TiebreakHistory(),
                TiebreakRandom(lot_order(candidates, seed), shuffle=False),
            ),
            transfer_strategy=transfer_all,
        )
    assert set(count.elected) == set(direct)
    assert count.elected == tuple(direct)
    assert count.quota == direct.quota


@settings(max_examples=300, deadline=None)
@given(elections)
def test_invariants(election):
    candidates, ballots, seats, seed = election
    count = count_stv(candidates, ballots, seats, seed=seed)
    # No more elected than seats; fewer only when the candidates run out.
    assert len(count.elected) == min(seats, len(candidates))
    assert len(set(count.elected)) == len(count.elected)
    assert set(count.elected) <= set(candidates)
    assert not set(count.elected) & set(count.excluded)
    assert count.ballots + count.empty_ballots == len(ballots)
    assert count.quota == count.ballots // (min(seats, len(candidates)) + 1) + 1
    for r in count.rounds:
        # Round totals never exceed the valid ballots; nothing is ever negative.
        assert r.total <= count.ballots
        assert all(v >= 0 for v in r.votes.values()) and r.exhausted >= 0
        assert set(r.elected) | set(r.excluded) <= set(r.votes)
        assert bool(r.elected) != bool(r.excluded)
        # What a round passes on, it passes on from whom it elected or excluded.
        assert {t.source for t in r.transfers} <= set(r.elected + r.excluded)
    assert round_trip(count) == count
    assert count_stv(candidates, ballots, seats, seed=seed) == count


@settings(max_examples=200, deadline=None)
@given(elections, st.data())
def test_a_unanimous_first_choice_is_elected_first(election, data):
    candidates, ballots, seats, seed = election
    favourite = data.draw(st.sampled_from(candidates))
    ballots = [(favourite, *(c for c in b if c != favourite)) for b in ballots] or [(favourite,)]
    count = count_stv(candidates, ballots, seats, seed=seed)
    assert count.elected[0] == favourite
    assert count.rounds[0].elected[:1] == (favourite,)


@settings(max_examples=200, deadline=None)
@given(elections)
def test_one_seat_is_instant_runoff(election):
    candidates, ballots, _, seed = election
    count = count_stv(candidates, ballots, 1, seed=seed)
    assert count.instant_runoff
    with decimal.localcontext(decimal.Context(prec=28, rounding=decimal.ROUND_DOWN)):
        irv = calculate_irv(
            candidates,
            [(ballot, 1) for ballot in ballots],
            tiebreak_strategies=(
                TiebreakHistory(),
                TiebreakRandom(lot_order(candidates, seed), shuffle=False),
            ),
            transfer_strategy=transfer_all,
        )
    # STVPoll's IRV leaves the seat empty when exhausted ballots deny everyone a majority;
    # the count elects the last candidate standing. Otherwise they agree.
    if irv.complete:
        assert count.elected == tuple(irv)
    assert len(count.elected) == 1


# --- Ties -------------------------------------------------------------------------------


def test_the_lot_order_is_the_published_hash_order():
    seed = "AGM 2026, artists: 7f3a"
    digests = {c: hashlib.sha256(f"{seed}:{c}".encode()).hexdigest() for c in (4, 8, 15, 16)}
    assert lot_order([4, 8, 15, 16], seed) == tuple(sorted(digests, key=digests.get))


def test_a_tie_goes_to_the_earlier_round_before_the_lot():
    # Round 1: A 5, B 4, C 3, D 2; D is excluded and one of D's ballots goes to C.
    # Round 2: A 5, B 4, C 4: B and C tie for fewest; in round 1 C had fewer, so C goes,
    # whatever the seed.
    a, b, c, d = 1, 2, 3, 4
    ballots = ballots_of((5, [a]), (4, [b]), (3, [c]), (1, [d, c]), (1, [d]))
    for seed in ("one", "two", "three"):
        count = count_stv([a, b, c, d], ballots, 1, seed=seed)
        second = count.rounds[1]
        assert second.votes == {a: 5, b: 4, c: 4}
        assert (second.excluded, second.decision) == ((c,), Decision.EARLIER_ROUND)
        assert not count.drawn_by_lot


def test_a_tie_by_lot_is_reproducible_from_the_seed_and_seeds_differ():
    ballots = ballots_of((1, [1]), (1, [2]), (1, [3]))
    winners = set()
    for seed in (f"seed {n}" for n in range(20)):
        count = count_stv([1, 2, 3], ballots, 1, seed=seed)
        assert count.drawn_by_lot
        assert count.rounds[0].decision is Decision.LOT
        # The tied candidate the lot places last is excluded first.
        assert count.rounds[0].excluded == (count.lot_order[-1],)
        assert count_stv([1, 2, 3], ballots, 1, seed=seed) == count
        winners.add(count.elected)
    assert len(winners) > 1


# --- Edges ------------------------------------------------------------------------------


def test_empty_ballots_are_counted_but_not_in_the_quota():
    count = count_stv([1, 2], [(1,), (1,), (2,), ()], 1, seed="")
    assert (count.ballots, count.empty_ballots, count.quota) == (3, 1, 2)
    assert count.elected == (1,)


def test_fewer_candidates_than_seats_are_all_elected():
    count = count_stv([1, 2], [(2, 1), (2,)], 3, seed="")
    assert set(count.elected) == {1, 2}
    assert count.rounds[-1].decision in (Decision.QUOTA, Decision.LAST_STANDING)
    assert round_trip(count) == count


def test_no_candidates_elects_no_one():
    count = count_stv([], [(), ()], 2, seed="")
    assert (count.elected, count.rounds, count.empty_ballots) == ((), (), 2)


@pytest.mark.parametrize(
    ("ballot", "message"),
    [((1, 1), "twice"), ((1, 9), "not standing")],
)
def test_a_bad_ballot_is_refused(ballot, message):
    with pytest.raises(ValueError, match=message):
        count_stv([1, 2], [ballot], 1, seed="")


def test_an_election_needs_a_seat():
    with pytest.raises(ValueError, match="seat"):
        count_stv([1, 2], [(1,)], 0, seed="")


def test_transfer_values_are_cut_to_five_places_never_rounded_up():
    # Quota 3 // 4 + 1 = 1: A's surplus of 2 passes on at 2/3 a ballot, cut to 0.66666
    # (rounded, 0.66667 would give B 2.00001 and the round more votes than ballots).
    a, b, c, d = 1, 2, 3, 4
    count = count_stv([a, b, c, d], ballots_of((3, [a, b])), 3, seed="")
    assert count.rounds[1].votes[b] == D("1.99998")
    assert count.rounds[0].transfers[0].votes == D("1.99998")
