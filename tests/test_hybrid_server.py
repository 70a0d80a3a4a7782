"""A hybrid meeting against a real gunicorn server (issue 14): 100 members vote online while
20 proxy holders cast 60 directed proxies and staff enter 30 paper ballots, all at once,
through the real endpoints: 0 lost, 0 counted twice, 0 server errors, and ``check-votes``
clean after closing. The server, members and sign-ins are ``test_voting_server``'s."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import select

from portal.db import write_session
from portal.models import Channel, Choice, Meeting, Participation, ProxyKind
from portal.services.meetings import proxies

from .test_concurrency import Browserless
from .test_voting_server import (  # served: the module server, shared
    CHOICES,
    HTMX,
    Voter,
    cast,
    check_votes_ok,
    close_meeting,
    run_all,
    served,  # noqa: F401  (the module server, a fixture)
    stored_count,
)

ONLINE, HOLDERS, PROXIES_EACH, PAPER = 100, 20, 3, 30


def appoint_proxies(app, meeting_id, resolution_id, holders, grantors) -> dict[int, int]:
    """Each grantor appoints a holder (PROXIES_EACH each) directed on the resolution, and
    the holder accepts: the appointment's id by grantor's member id."""
    made = {}
    with app.test_request_context("/"), write_session(app) as db:
        meeting = db.get(Meeting, meeting_id)
        others = [r for r in meeting.resolutions if r.id != resolution_id]
        for i, grantor in enumerate(grantors):
            holder = holders[i // PROXIES_EACH].member.load(db)
            member = grantor.member.load(db)
            appointment = proxies.appoint_proxy(
                db,
                meeting,
                member,
                holder=holder,
                kind=ProxyKind.DIRECTED,
                directions={
                    resolution_id: Choice(CHOICES[i % 3]),
                    **{r.id: None for r in others},
                },
                actor=member.user,
            )
            proxies.answer_proxy(db, appointment, holder, accept=True, actor=holder.user)
            made[member.id] = appointment.id
    return made


def post(base: str, cookie: str, path: str, data: dict[str, str], htmx: bool) -> tuple[int, str]:
    client = Browserless(base, timeout=120)
    client.cookie = cookie
    try:
        return client.request("POST", path, data, headers=HTMX if htmx else None)
    except Exception as error:  # reported through the answer, not lost in a thread
        return 0, repr(error)


@pytest.mark.slow
def test_online_proxy_and_paper_votes_at_once_count_each_member_once(served):  # noqa: F811
    app, server, voters = served.app, served.server, served.voters
    meeting = served.meeting()
    rid = meeting.resolution_ids[0]
    online = voters[:ONLINE]
    holders = voters[ONLINE : ONLINE + HOLDERS]
    grantors = voters[ONLINE + HOLDERS : ONLINE + HOLDERS + HOLDERS * PROXIES_EACH]
    rest = voters[ONLINE + HOLDERS + HOLDERS * PROXIES_EACH :]
    on_paper = (rest + holders)[:PAPER]  # holders vote on paper themselves too
    assert len(grantors) == 60 and len(on_paper) == PAPER
    appointments = appoint_proxies(app, meeting.id, rid, holders, grantors)

    expected: dict[int, tuple[str, Channel, bool]] = {}  # member: choice, channel, by proxy
    jobs = []
    for i, voter in enumerate(online):
        choice = CHOICES[i % 3]
        expected[voter.member.id] = (choice, Channel.ONLINE, False)
        jobs.append(("online", voter, choice))
    for i, grantor in enumerate(grantors):
        choice = CHOICES[i % 3]
        expected[grantor.member.id] = (choice, Channel.ONLINE, True)
        jobs.append(("proxy", grantor, choice))
    for i, member in enumerate(on_paper):
        choice = CHOICES[(i + 1) % 3]
        channel = Channel.IN_ROOM if i % 2 else Channel.POSTAL
        expected[member.member.id] = (choice, channel, False)
        jobs.append(("paper", member, choice))
    holder_of = {g.member.id: holders[i // PROXIES_EACH] for i, g in enumerate(grantors)}
    answers: list[tuple[str, int, str]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(jobs))

    def run(kind: str, voter: Voter, choice: str) -> None:
        barrier.wait()
        if kind == "online":
            answer = cast(server.base, voter, meeting.id, rid, choice)
            status, body = answer.status, answer.body
            ok = answer.acknowledged and answer.choice == choice
        elif kind == "proxy":
            holder = holder_of[voter.member.id]
            aid = appointments[voter.member.id]
            status, body = post(
                server.base,
                holder.cookie,
                f"/meetings/{meeting.id}/proxy/{aid}/resolutions/{rid}/vote",
                {"choice": choice, "csrf_token": holder.csrf},
                htmx=True,
            )
            ok = status == 200
        else:
            channel = expected[voter.member.id][1]
            status, body = post(
                server.base,
                served.staff.cookie,
                f"/staff/meetings/{meeting.id}/resolutions/{rid}/paper",
                {
                    "member": str(voter.member.number),
                    "choice": choice,
                    "channel": channel.value,
                    "csrf_token": served.staff_csrf,
                },
                htmx=False,
            )
            ok = status == 303
        with lock:
            answers.append((kind, status, body[:300] if not ok else ""))

    run_all([threading.Thread(target=run, args=job) for job in jobs])

    assert len(answers) == ONLINE + 60 + PAPER
    assert [a for a in answers if a[2]] == []  # every one acknowledged
    assert server.errors() == []
    with write_session(app) as db:
        rows = db.execute(
            select(
                Participation.member_id,
                Participation.choice,
                Participation.channel,
                Participation.proxy_id,
            ).where(Participation.resolution_id == rid)
        ).all()
    assert len(rows) == len({member_id for member_id, *_ in rows})  # none counted twice
    stored = {m: (c.value, ch, proxy is not None) for m, c, ch, proxy in rows}
    assert stored == expected  # none lost, each by its channel

    assert close_meeting(served, meeting) == 303
    _state, counted = stored_count(app, rid)
    assert counted == Counter(choice for choice, _ch, _p in expected.values())
    check_votes_ok(app)
    assert server.errors() == []
