"""benchmarks/seed_large.py at 300 members: the co-op it grows holds together (issue 16 §1).

It runs on the suite's database (SQLite, or PostgreSQL under DATABASE_URL): the counts
scale with the members, ``check-register`` and ``check-votes`` are clean (by their service
functions and by the commands), counters continue after the seed, and the pages that will
be measured at scale answer.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.db import database
from portal.models import (
    Application,
    AuditEvent,
    Ballot,
    Candidate,
    Certificate,
    CertificateState,
    DocumentVersion,
    Election,
    ElectionParticipation,
    ElectionState,
    LedgerEntry,
    LedgerKind,
    Meeting,
    MeetingState,
    Member,
    MemberStatus,
    Participation,
    ProxyAppointment,
    RankedBallot,
    Resolution,
    ResolutionState,
    RollEntry,
    ShareOrder,
)
from portal.models.shares import OrderState
from portal.presets import RESONATE
from portal.services.counters import peek_next

MEMBERS = 300


def _load_seed_large() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "seed_large.py"
    spec = importlib.util.spec_from_file_location("seed_large", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["seed_large"] = module
    spec.loader.exec_module(module)
    return module


seed_large = _load_seed_large()


@pytest.fixture
def seeded(app: Flask) -> Flask:
    lines: list[str] = []
    ok, _report = seed_large.seed(app, MEMBERS, out=lines.append)
    assert ok, "\n".join(lines)
    assert any("check-register: clean" in line for line in lines), lines
    assert any("check-votes: clean" in line for line in lines), lines
    return app


def _count(db, model, *where) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_seeded_at_300_members(seeded: Flask) -> None:
    """One seed (a few seconds), three looks at it."""
    _counts_scale_with_the_members(seeded)
    _checks_clean_from_the_commands(seeded)
    _pages_measured_at_scale_answer(seeded)


def _counts_scale_with_the_members(seeded: Flask) -> None:
    with seeded.app_context(), database(seeded).session(write=False) as db:
        assert _count(db, Member) == MEMBERS
        assert _count(db, Member, Member.status == MemberStatus.CEASED) > 0
        ledger = _count(db, LedgerEntry)
        assert 8 * MEMBERS <= ledger <= 12 * MEMBERS  # ~10 a member
        kinds = set(db.scalars(select(LedgerEntry.kind).distinct()))
        assert {LedgerKind.ISSUE, LedgerKind.REDEEM, LedgerKind.CANCEL} <= kinds
        # a certificate for every issue, and one for each holding that changed
        issues = _count(db, LedgerEntry, LedgerEntry.kind == LedgerKind.ISSUE)
        assert _count(db, Certificate) >= issues
        states = set(db.scalars(select(Certificate.state).distinct()))
        assert states == set(CertificateState)
        assert set(db.scalars(select(ShareOrder.state).distinct())) == set(OrderState)
        assert _count(db, Application, Application.member_id.is_(None)) > 0  # applicants
        assert _count(db, DocumentVersion) == 20  # 2,000 at 100,000, at least 20
        assert _count(db, AuditEvent) >= 15 * MEMBERS  # 1,500,000 at 100,000
        assert _count(db, Meeting) == 10
        assert {MeetingState.MINUTES_PUBLISHED, MeetingState.VOTING_OPEN} <= set(
            db.scalars(select(Meeting.state))
        )
        assert _count(db, RollEntry) > MEMBERS
        participations = _count(db, Participation)
        assert MEMBERS <= participations <= 3 * MEMBERS  # 200,000 at 100,000
        assert _count(db, Ballot) > 0 and _count(db, ProxyAppointment) > 0
        assert _count(db, Participation, Participation.proxy_id.is_not(None)) > 0
        closed = _count(db, Resolution, Resolution.state == ResolutionState.CLOSED)
        assert closed == _count(db, Resolution, Resolution.tally.is_not(None)) > 0
        assert _count(db, Election, Election.state == ElectionState.DECLARED) > 0
        assert _count(db, Election, Election.state == ElectionState.VOTING_OPEN) > 0
        assert _count(db, Candidate) > 0 and _count(db, RankedBallot) > 0
        assert _count(db, ElectionParticipation) >= _count(db, RankedBallot)
        # the counters continue after the seed
        assert peek_next(db, "member_number") == MEMBERS + 1
        assert peek_next(db, "certificate_number") == (
            db.scalar(select(func.max(Certificate.number))) + 1
        )
        assert peek_next(db, "share_ledger") == ledger + 1


def _checks_clean_from_the_commands(seeded: Flask) -> None:
    runner = seeded.test_cli_runner()
    register = runner.invoke(args=["check-register"])
    assert register.exit_code == 0, register.output
    assert "The share register is intact" in register.output
    votes = runner.invoke(args=["check-votes"])
    assert votes.exit_code == 0, votes.output


def _pages_measured_at_scale_answer(seeded: Flask) -> None:
    staff = RESONATE.demo.acting_staff
    client = seeded.test_client()
    assert client.login(staff.email, staff.password).status_code == 303
    for page in ("/staff/register", "/staff/members", "/staff/audit", "/staff/orders"):
        assert client.get(page).status_code == 200, page
    with seeded.app_context(), database(seeded).session(write=False) as db:
        number = db.scalar(
            select(func.min(Member.number)).where(Member.status == MemberStatus.ACTIVE)
        )
    member = seeded.test_client()
    assert member.login(seed_large.email_of(number), seed_large.SEED_PASSWORD).status_code == 303
    for page in ("/me", "/shares", "/meetings"):
        assert member.get(page).status_code == 200, page
