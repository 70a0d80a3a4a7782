"""Counting votes cast by proxy (issue 14 §1) against the reference of ``test_tally``.

The reference here decides, member by member, which vote counts: their own if they voted
(it revokes their proxy for the resolution and replaces a vote the proxy cast); else their
accepted proxy's, as the holder cast it or, for a directed choice the holder did not cast,
as directed at close; else none (a proxy revoked, declined, never answered, or leaving the
choice to a holder who did not make it). ``test_tally.reference_result`` then counts those
ballots; hypothesis compares it with the tally stored when the resolution closes.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal import coop as coop_module
from portal.errors import InvalidState
from portal.models import Choice, Participation, ProxyKind, ProxyState, ResolutionKind
from portal.services.meetings import closing, proxies
from portal.services.meetings.tally import Rules, Tally

from . import test_meetings
from .test_meetings import vote
from .test_proxies import accept, appoint, cast
from .test_tally import reference_result

today = test_meetings.today
secretary = test_meetings.secretary
long_standing = test_meetings.long_standing
voting = test_meetings.voting

CHOICES = ("for", "against", "abstain")
# The members every example's meeting has on its roll, by their voting class.
CLASSES = ("listener", "listener", "listener", "listener", "artist", "artist")


@pytest.fixture
def pool(db, long_standing):
    """Six members on every roll, four listeners and two artists; no cap on proxies held."""
    coop_module.stored_settings(db).proxies_per_holder = len(CLASSES)
    return [long_standing(classes=(code,)) for code in CLASSES]


# -- the rules at close, one test each ---------------------------------------------------------


def test_an_unaccepted_directed_proxy_is_not_cast_at_close(db, voting, pool, secretary):
    meeting, (resolution,) = voting()
    appoint(db, meeting, pool[0], pool[1], directions={resolution.id: Choice.FOR})
    tally = closing.close_resolution(db, resolution, actor=secretary)
    assert tally.turnout == 0 and proxies.proxy_votes(db, resolution) == 0


def test_a_declined_or_revoked_directed_proxy_is_not_cast_at_close(db, voting, pool, secretary):
    meeting, (resolution,) = voting()
    declined = appoint(db, meeting, pool[0], pool[1], directions={resolution.id: Choice.FOR})
    holder = pool[1].load(db)
    proxies.answer_proxy(db, declined, holder, accept=False, actor=holder.user)
    revoked = appoint(db, meeting, pool[2], directions={resolution.id: Choice.FOR})  # chair
    grantor = pool[2].load(db)
    proxies.revoke_proxy(db, revoked, grantor, actor=grantor.user)
    assert closing.close_resolution(db, resolution, actor=secretary).turnout == 0


def test_a_holder_decides_direction_is_not_cast_at_close_unless_the_holder_did(
    db, voting, pool, secretary
):
    meeting, (first, second) = voting({}, {"title": "Set the fee"})
    appointment = appoint(
        db, meeting, pool[0], pool[1], directions={first.id: None, second.id: None}
    )
    accept(db, appointment, pool[1])
    cast(db, appointment, second, pool[1], "against")
    assert closing.close_resolution(db, first, actor=secretary).turnout == 0
    assert closing.close_resolution(db, second, actor=secretary).against == 1


# -- the reference, and the property ----------------------------------------------------------


@st.composite
def proxy_cases(draw):
    """Each member: maybe their own vote, maybe a proxy (to another member or the chair;
    directed or discretionary; accepted, declined, unanswered or revoked; cast by the
    holder or not), and whether they vote themselves before or after the holder casts."""
    people = []
    for n in range(len(CLASSES)):
        proxy = draw(
            st.none()
            | st.fixed_dictionaries(
                {
                    "holder": st.sampled_from([None, *(m for m in range(len(CLASSES)) if m != n)]),
                    "discretionary": st.booleans(),
                    "direction": st.sampled_from([*CHOICES, None]),  # None: the holder decides
                    "answer": st.sampled_from(["accept", "decline", "none", "revoke"]),
                    "holder_casts": st.sampled_from([None, *CHOICES]),
                }
            )
        )
        own = draw(st.sampled_from([None, *CHOICES]))
        people.append({"own": own, "own_first": draw(st.booleans()), "proxy": proxy})
    kind = draw(st.sampled_from([ResolutionKind.ORDINARY, ResolutionKind.SPECIAL]))
    return kind, draw(st.booleans()), people


def someone(own=None, *, own_first=False, proxy=None):
    return {"own": own, "own_first": own_first, "proxy": proxy}


def a_proxy(holder, *, discretionary=False, direction=None, answer="accept", holder_casts=None):
    return {
        "holder": holder,
        "discretionary": discretionary,
        "direction": direction,
        "answer": answer,
        "holder_casts": holder_casts,
    }


NOBODY = [someone() for _ in CLASSES]


def counted_choice(person):
    """The vote that counts for this member by the rules, and whether it came by proxy."""
    if person["own"] is not None:
        return person["own"], False
    proxy = person["proxy"]
    if proxy is None or proxy["answer"] == "revoke":
        return None, False
    if proxy["answer"] in ("decline", "none") and proxy["holder"] is not None:
        return None, False  # declined or never answered (a proxy to the chair stands accepted)
    directed = None if proxy["discretionary"] else proxy["direction"]
    if directed is not None:
        return directed, True  # cast by the holder as directed, or at close
    return proxy["holder_casts"], proxy["holder_casts"] is not None


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=proxy_cases())
@example(  # a proxy to the chair stands accepted: nobody declines it, and it is cast at close
    case=(
        ResolutionKind.ORDINARY,
        False,
        [*NOBODY[:5], someone(proxy=a_proxy(None, direction="for", answer="decline"))],
    )
)
@example(  # own vote after the holder cast: it replaces the proxy's, on a secret ballot
    case=(
        ResolutionKind.SPECIAL,
        True,
        [someone("against", proxy=a_proxy(1, discretionary=True, holder_casts="for")), *NOBODY[1:]],
    )
)
def test_the_stored_tally_with_proxies_agrees_with_the_reference(db, voting, pool, secretary, case):
    kind, secret, people = case
    meeting, (resolution,) = voting({"kind": kind, "secret": secret})
    appointments = {}
    for n, person in enumerate(people):
        proxy = person["proxy"]
        if proxy is None:
            continue
        holder = None if proxy["holder"] is None else pool[proxy["holder"]]
        if proxy["discretionary"]:
            made = appoint(db, meeting, pool[n], holder, kind=ProxyKind.DISCRETIONARY)
        else:
            direction = None if proxy["direction"] is None else Choice(proxy["direction"])
            made = appoint(db, meeting, pool[n], holder, directions={resolution.id: direction})
        appointments[n] = made
        grantor = pool[n].load(db)
        if proxy["answer"] == "revoke":
            proxies.revoke_proxy(db, made, grantor, actor=grantor.user)
        elif holder is not None and proxy["answer"] != "none":
            member = holder.load(db)
            accept_it = proxy["answer"] == "accept"
            proxies.answer_proxy(db, made, member, accept=accept_it, actor=member.user)
    for n, person in enumerate(people):
        if person["own"] is not None and person["own_first"]:
            vote(db, resolution, pool[n], person["own"])
        made = appointments.get(n)
        if made is not None and made.state is ProxyState.ACCEPTED:
            holder_casts(db, made, resolution, person, pool, secretary)
        if person["own"] is not None and not person["own_first"]:
            vote(db, resolution, pool[n], person["own"])

    stored = closing.close_resolution(db, resolution, actor=secretary)

    counted = [(CLASSES[n], *counted_choice(p)) for n, p in enumerate(people)]
    ballots = [(code, choice) for code, choice, _ in counted if choice is not None]
    roll = Counter(CLASSES)
    rule = Rules.from_json(resolution.rules)
    assert stored.result is reference_result(rule, roll, dict.fromkeys(roll, 0), ballots)
    assert Tally.from_json(resolution.tally) == stored
    votes = Counter(ballots)
    for count in stored.classes:
        assert (count.votes_for, count.against, count.abstain) == (
            votes[count.code, "for"],
            votes[count.code, "against"],
            votes[count.code, "abstain"],
        )
    assert stored.turnout == len(ballots)
    by_proxy = sum(proxied for _, choice, proxied in counted if choice is not None)
    assert proxies.proxy_votes(db, resolution) == by_proxy
    if not secret:
        participations = db.scalars(
            select(Participation).where(Participation.resolution_id == resolution.id)
        ).all()
        assert len(participations) == len(ballots)
    assert closing.check_votes(db).ok


def holder_casts(db, appointment, resolution, person, pool, secretary):
    """The holder (or staff for the chair) casts the proxy as the case says: refused once
    the grantor has voted themselves."""
    proxy = person["proxy"]
    if proxy["holder_casts"] is None:
        return
    directed = not proxy["discretionary"] and proxy["direction"] is not None
    choice = None if directed else proxy["holder_casts"]
    holder = None if proxy["holder"] is None else pool[proxy["holder"]].load(db)
    actor = secretary if holder is None else holder.user
    if person["own"] is not None and person["own_first"]:
        with pytest.raises(InvalidState):
            proxies.cast_proxy(db, appointment, resolution, choice, holder=holder, actor=actor)
        return
    proxies.cast_proxy(db, appointment, resolution, choice, holder=holder, actor=actor)
