"""What a proxy does in each board election of its meeting (issue 15 §3, "proxies apply").

A directed proxy carries, for each election the grantor ranks in, either the grantor's
ranking (cast as given when voting closes: ``ballots.cast_directed_rankings``) or "the
holder decides" (a :class:`~portal.models.ProxyRanking` without a ranking). A
discretionary proxy needs no rows: its holder ranks in every election. The meetings
service appoints the proxy (``services.meetings.proxies``, which cannot see elections);
the proxy page then calls :func:`direct_from_form` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import (
    Election,
    ElectionState,
    Meeting,
    Member,
    ProxyAppointment,
    ProxyKind,
    ProxyRanking,
)
from . import ballots
from .nominations import meeting_elections

# Elections a proxy may be directed in: the list is final, the count not yet made.
DIRECTABLE_STATES = (ElectionState.CANDIDATES_CONFIRMED, ElectionState.VOTING_OPEN)


def field_prefix(election: Election) -> str:
    """The proxy form's rank selects for ``election``: ``election-<id>-rank-<candidate>``."""
    return f"election-{election.id}-rank-"


def directable_elections(db: Session, meeting: Meeting, grantor: Member) -> list[Election]:
    """The meeting's elections the grantor ranks in whose candidates are confirmed and
    whose count is not made, in the classes' order."""
    return [
        e
        for e in meeting_elections(db, meeting)
        if e.state in DIRECTABLE_STATES and ballots.voter_entry(db, e, grantor) is not None
    ]


def read_directed_rankings(
    db: Session, elections: Sequence[Election], values: Mapping[str, str]
) -> dict[int, list[int] | None]:
    """Each election's ranking from the form (None: nothing ranked, the holder decides),
    checked as a ballot is (ranks 1 to n without gaps, confirmed candidates)."""
    return {
        e.id: ballots.read_ranks(db, e, values, prefix=field_prefix(e), required=False) or None
        for e in elections
    }


def set_rankings(
    db: Session, appointment: ProxyAppointment, rankings: Mapping[int, Sequence[int] | None]
) -> int:
    """Store a directed proxy's ranking per election (``rankings`` by election id; None:
    the holder decides). A discretionary proxy stores none. How many rows were written."""
    if appointment.kind is ProxyKind.DISCRETIONARY:
        return 0
    written = 0
    for election_id, ranking in rankings.items():
        election = db.get(Election, election_id)
        checked = ballots.check_ranking(db, election, ranking) if ranking else None
        db.add(
            ProxyRanking(
                appointment_id=appointment.id,
                election_id=election_id,
                ranking=",".join(map(str, checked)) if checked else None,
            )
        )
        written += 1
    db.flush()
    return written


def direct_from_form(db: Session, appointment: ProxyAppointment, values: Mapping[str, str]) -> int:
    """The proxy page's directions for each election, stored for the proxy just
    appointed (in the same transaction as the appointment)."""
    if appointment.kind is ProxyKind.DISCRETIONARY:
        return 0
    elections = directable_elections(db, appointment.meeting, appointment.grantor)
    return set_rankings(db, appointment, read_directed_rankings(db, elections, values))


def rankings_of(db: Session, appointment: ProxyAppointment | None) -> dict[int, ProxyRanking]:
    """The proxy's rows by election id (none for a discretionary proxy)."""
    if appointment is None:
        return {}
    return {
        row.election_id: row
        for row in db.scalars(
            select(ProxyRanking).where(ProxyRanking.appointment_id == appointment.id)
        )
    }
