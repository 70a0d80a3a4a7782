"""The tally across channels (issue 14 §2): online, by proxy, paper in the room, by post,
and the tellers' show of hands, against the reference of ``test_tally``.

The reference counts one ballot per member however it came (a show of hands is one
ballot per hand); hypothesis draws who votes how and through which channel, first over
plain counts, then through the services against a real meeting: the stored tally must
agree with the reference, keep each channel's part, never count a member twice, and
``check-votes`` must find nothing to report.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.errors import InvalidState
from portal.models import Choice, ProxyKind
from portal.services.meetings import ballots, closing, hybrid, proxies, roll
from portal.services.meetings.tally import (
    CHANNELS,
    ChannelCount,
    ClassCount,
    Rules,
    Tally,
    tally_resolution,
)

from . import test_meetings
from .test_tally import reference_result, votes

today = test_meetings.today
secretary = test_meetings.secretary
long_standing = test_meetings.long_standing
voting = test_meetings.voting

WAYS = ("online", "proxy", "in_room", "postal", "hands")


# -- over plain counts ------------------------------------------------------------------------


@st.composite
def channelled(draw):
    """A reference case whose ballots each came through a drawn channel."""
    rule, roll_, weights, ballots_ = draw(votes())
    ways = [draw(st.sampled_from(WAYS)) for _ in ballots_]
    return rule, roll_, weights, ballots_, ways


def merged_counts(roll_, weights, ballots_, ways):
    per = Counter(
        (code, "online" if way == "proxy" else way, choice)
        for (code, choice), way in zip(ballots_, ways, strict=True)
    )
    return [
        ClassCount.merged(
            code,
            roll_[code],
            weights[code],
            [
                ChannelCount(
                    ch, per[code, ch, "for"], per[code, ch, "against"], per[code, ch, "abstain"]
                )
                for ch in CHANNELS
            ],
        )
        for code in roll_
    ]


@settings(max_examples=300, deadline=None)
@given(channelled())
def test_a_tally_merged_from_channels_agrees_with_the_reference(case):
    rule, roll_, weights, ballots_, ways = case
    tally = tally_resolution(rule, merged_counts(roll_, weights, ballots_, ways))
    assert tally.result is reference_result(rule, roll_, weights, ballots_)
    assert tally.turnout == len(ballots_)
    for c in tally.classes:
        assert sum(ch.turnout for ch in c.channels) == c.turnout
        assert all(ch.turnout for ch in c.channels)  # an empty channel is not kept
    assert Tally.from_json(tally.as_json()) == tally


# -- through the services ---------------------------------------------------------------------

MEMBERS = (("listener",),) * 5 + (("artist",),) * 3
PLANS = st.lists(
    st.tuples(
        st.sampled_from((None, *WAYS)),  # None: does not vote
        st.sampled_from(list(Choice)),
        st.booleans(),  # then also tries to vote again another way
    ),
    min_size=len(MEMBERS),
    max_size=len(MEMBERS),
)


@pytest.fixture
def members(long_standing):
    return [long_standing(classes) for classes in MEMBERS]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=PLANS, secret=st.booleans())
def test_votes_through_every_channel_are_counted_once_as_the_reference_says(
    db, voting, members, secretary, plan, secret
):
    meeting, (resolution,) = voting({"secret": secret})
    expected = []  # (class code, choice, channel) of each vote that must count
    hands: Counter = Counter()
    classes = {c.code: c for c in roll.class_rolls(db, resolution)}
    codes = {c.class_id: code for code, c in classes.items()}
    for ref, (way, choice, again) in zip(members, plan, strict=True):
        member = ref.load(db)
        code = codes[roll.voter_entry(db, resolution, member).class_id]
        if way is None:
            continue
        if way == "hands" and secret:
            way = "postal"  # no show of hands on a secret ballot
        if way == "online":
            ballots.cast_vote(db, resolution, member, choice, actor=member.user)
        elif way == "proxy":
            proxies.appoint_proxy(
                db,
                meeting,
                member,
                holder=None,
                kind=ProxyKind.DIRECTED,
                directions={resolution.id: choice},
                actor=member.user,
            )  # the chair's directed proxy, cast as directed at close
        elif way == "hands":
            hybrid.mark_present(db, meeting, member, actor=secretary)
            hands[code, choice] += 1
        else:
            channel = hybrid.read_channel(way)
            hybrid.enter_paper_ballot(db, resolution, member, choice, channel, actor=secretary)
        if again and way in ("online", "in_room", "postal"):
            with pytest.raises(InvalidState), db.begin_nested():
                hybrid.enter_paper_ballot(
                    db, resolution, member, choice, hybrid.read_channel("postal"), actor=secretary
                )
        expected.append((code, choice.value, "online" if way == "proxy" else way))
    if hands:
        hybrid.enter_hands(
            db,
            resolution,
            {
                classes[code].class_id: hybrid.Hands(
                    hands[code, Choice.FOR],
                    hands[code, Choice.AGAINST],
                    hands[code, Choice.ABSTAIN],
                )
                for code in {code for code, _ in hands}
            },
            actor=secretary,
        )
    tally = closing.close_resolution(db, resolution, actor=secretary)
    db.flush()
    rule = Rules.from_json(resolution.rules)
    roll_ = {code: c.members for code, c in classes.items()}
    weights = {code: c.weight for code, c in classes.items()}
    assert tally.result is reference_result(rule, roll_, weights, [(c, x) for c, x, _ in expected])
    assert tally.turnout == len(expected)
    per = Counter(expected)
    for c in tally.classes:
        for ch in CHANNELS:
            got = c.channel(ch)
            assert (got.votes_for, got.against, got.abstain) == (
                per[c.code, "for", ch],
                per[c.code, "against", ch],
                per[c.code, "abstain", ch],
            )
    assert closing.check_votes(db).ok
