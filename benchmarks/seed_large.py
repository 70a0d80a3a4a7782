"""Grow a fresh database to co-op scale for the benchmarks (issue 16 §1).

    .venv/bin/python benchmarks/seed_large.py --members 100000 [--database-url URL]
        [--instance PATH] [--seed 16]

Starts from ``flask init-db`` and the resonate preset (its settings, classes, share types,
library and staff; not the demo's people), then writes, in bulk, for N members (every other
figure scales with N; the figures below are those of N = 100,000):

* N members across the classes (listener, artist, worker; some in two), each with an
  account (``member<number>@seed.example``, password ``SEED_PASSWORD``), an approved
  application, a status history; some lapsed, some ceased (their resignation confirmed);
  about 1.5 % more applicants with open, rejected or withdrawn applications;
* about 1,000,000 share-ledger rows (membership share issued on admission, supporter shares
  bought in fives, withdrawals repaid, membership shares cancelled on ceasing), each row
  hashed into the chain by ``services.shares.ledger.row_digest`` (the register's own
  function), in time order, so ``check-register`` walks an intact chain;
* a certificate for every issue and every replaced holding (superseded / cancelled as the
  app does); the PDF column holds **one shared PDF per share type**, rendered once by
  ``pdf.render_certificate``, for the certificates of the first 1 % of members
  (``REAL_PDF_MEMBERS`` at 100,000: those the load benchmark signs in as), and a small
  valid placeholder PDF for everyone else: a real 25 KB PDF in a million rows would make
  a 25 GB database;
* an order for every issue, and orders in every other state (awaiting payment, paid,
  cancelled; admission orders of approved applicants);
* 2,000 document versions (the preset's library, more documents, the meetings' minutes);
* 1,500,000 audit events with the app's actions and real targets, spread over five years;
* 10 meetings: seven closed (six with minutes), one open for voting now, one noticed, one
  draft; rolls frozen from the seeded register; 200,000 participations on their
  resolutions (secret ones with ballots, sealed once closed), some by proxy, on paper or in
  the room; proxies with their directions; elections at the AGMs with candidates and
  ranked ballots; every closed resolution and election counted by the app's own count
  (``closing.count_resolution``, ``voting.count_election``) and stored.

Rows go in with SQLAlchemy Core ``insert(table)`` executemany (on PostgreSQL, ``COPY``),
``BATCH`` rows per transaction, through the same tables, so every CHECK, foreign key and
unique constraint holds; counters (member, certificate numbers, ledger sequence) are
advanced to match and, on PostgreSQL, every id sequence too. Random choices come from
``random.Random(seed)``: the same arguments give the same co-op. At the end it runs
``check-register`` and ``check-votes`` (their service functions) and prints what they
found; the exit status is 1 if either found a problem.

Each stage prints its time and rows per second. ``--members 2000`` is a quick smoke run
(about 10 s on SQLite). ``tests/test_seed_large.py`` runs it at 300 members on the suite's
database.

Using the seeded co-op (``make bench`` and by hand): serve it from the same instance folder
(``PORTAL_INSTANCE_PATH=instance-seed``; with ``DATABASE_URL`` for PostgreSQL) so the app
has the secret key the open ballots' voter tags were made with. Staff sign in as the
preset's staff (``RESONATE.demo.acting_staff``: its e-mail and password); members as
``member<number>@seed.example`` with ``SEED_PASSWORD``. The AGM open for voting now (the
meeting with state ``voting_open``) has a secret and two open resolutions and an election
per class; the first 1 % of members (by number) have real certificate PDFs.
"""

from __future__ import annotations

import argparse
import base64
import enum
import hashlib
import json
import os
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Table, func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask

from portal import coop, create_app, demo, pdf
from portal.config import public_base_url
from portal.db import database, write_session
from portal.migrations import upgrade
from portal.models import (
    Application,
    ApplicationState,
    Attendance,
    AuditEvent,
    Ballot,
    Base,
    Candidate,
    CandidateState,
    Certificate,
    CertificateState,
    Channel,
    Choice,
    ClassMembership,
    Counter,
    Director,
    Document,
    DocumentCategory,
    DocumentVersion,
    Election,
    ElectionParticipation,
    ElectionState,
    LedgerEntry,
    LedgerKind,
    Meeting,
    MeetingKind,
    MeetingMinutes,
    MeetingState,
    Member,
    MemberClass,
    MemberStatus,
    MemberStatusChange,
    Participation,
    ProxyAppointment,
    ProxyDirection,
    ProxyKind,
    ProxyRanking,
    ProxySource,
    ProxyState,
    RankedBallot,
    Resignation,
    ResignationState,
    Resolution,
    ResolutionKind,
    ResolutionState,
    Role,
    RollClass,
    RollEntry,
    ShareOrder,
    ShareType,
    TurnoutCount,
    User,
    VersionFormat,
    Visibility,
    Withdrawal,
    WithdrawalState,
)
from portal.models.shares import OrderState
from portal.presets import RESONATE
from portal.services import settings as settings_service
from portal.services.accounts import passwords, two_factor, users
from portal.services.counters import next_number
from portal.services.documents.publishing import rendered_body
from portal.services.elections import ballots as election_ballots
from portal.services.elections import voting
from portal.services.meetings import ballots, closing
from portal.services.meetings.tally import Rules
from portal.services.register.members import MEMBER_NUMBER
from portal.services.shares.certificates import CERTIFICATE_COUNTER
from portal.services.shares.ledger import (
    GENESIS,
    LEDGER_COUNTER,
    check_register,
    rebuild_derived,
    row_digest,
)
from portal.services.shares.orders import REFERENCE_ALPHABET

BATCH = 10_000  # rows per executemany, one transaction each
SEED_DOMAIN = "seed.example"
SEED_PASSWORD = "seeded-member-lantern-2026"  # every seeded member's (and applicant's)
REAL_PDF_MEMBERS = 1_000  # at 100,000 members: those whose certificates hold the real PDF
YEARS = 5  # the co-op's history
PER_100K = 100_000


def scaled(members: int, at_100k: int, minimum: int = 1) -> int:
    """A figure given at 100,000 members, for ``members``."""
    return max(minimum, round(at_100k * members / PER_100K))


def email_of(number: int) -> str:
    """The sign-in of seeded member ``number``."""
    return f"member{number}@{SEED_DOMAIN}"


# -- timing -----------------------------------------------------------------------------------


@dataclass
class Report:
    """Each stage's time and rows, printed as it ends."""

    out: Callable[[str], None] = print
    stages: list[tuple[str, float, int]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # What a benchmark needs to find its way in: the meeting open for voting, its resolutions
    facts: dict[str, Any] = field(default_factory=dict)

    def stage(self, name: str) -> _Stage:
        return _Stage(self, name)

    @property
    def total(self) -> float:
        return sum(s for _, s, _ in self.stages)


class _Stage:
    def __init__(self, report: Report, name: str) -> None:
        self.report, self.name, self.rows = report, name, 0

    def __enter__(self) -> _Stage:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        seconds = time.perf_counter() - self.start
        self.report.stages.append((self.name, seconds, self.rows))
        rate = f", {self.rows / seconds:,.0f} rows/s" if self.rows and seconds > 0 else ""
        self.report.out(f"  {self.name:<28} {seconds:7.1f} s  {self.rows:>10,} rows{rate}")


def bulk(
    conn_engine: Engine,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    stage: _Stage | None = None,
    report: Report | None = None,
) -> int:
    """Insert ``rows`` into the model's table, BATCH rows per transaction."""
    table = model.__table__
    keys = set().union(*rows) if rows else set()
    missing = {}  # a key some rows leave out: the column's own default, else NULL
    for name in keys:
        default = table.c[name].default
        arg = getattr(default, "arg", None)
        missing[name] = None if arg is None or callable(arg) else arg
    copy = conn_engine.dialect.name == "postgresql"
    if copy:  # COPY applies no Python-side default: give the columns' own
        for column in table.c:
            arg = getattr(column.default, "arg", None)
            if column.name not in keys and arg is not None and not callable(arg):
                missing[column.name] = arg
        keys |= set(missing)
    for low in range(0, len(rows), BATCH):
        batch = [
            row if len(row) == len(keys) else {**missing, **row} for row in rows[low : low + BATCH]
        ]
        with conn_engine.begin() as conn:
            if copy:
                _copy(conn, table, sorted(keys), batch)
            else:
                conn.execute(insert(table), batch)
    if stage is not None:
        stage.rows += len(rows)
    if report is not None:
        report.counts[table.name] += len(rows)
    return len(rows)


def _copy(conn: Connection, table: Table, names: list[str], rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: the rows through COPY, values as the columns' types store them (an enum's
    value, JSON as text); the table's constraints are checked as for an INSERT."""
    as_json = {name for name in names if isinstance(table.c[name].type, JSON)}
    columns = ", ".join(f'"{name}"' for name in names)
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(
                tuple(
                    json.dumps(value)
                    if name in as_json and value is not None
                    else value.value
                    if isinstance(value, enum.Enum)
                    else value
                    for name, value in ((name, row[name]) for name in names)
                )
            )


# -- small deterministic helpers --------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


FIRST = _words(
    "Aoife Ciara Niamh Saoirse Sinead Orla Roisin Maeve Clodagh Grainne Sean Cian Darragh "
    "Eoin Oisin Padraig Ronan Tadhg Fionn Liam Emma Sofia Lucas Mateo Amara Yusuf Mei Hana "
    "Kofi Ines Lars Elif Tomas Marta Nadia Omar Priya Rafael Sara Zeynep"
)
LAST = _words(
    "Murphy Kelly Byrne Ryan OBrien Walsh OConnor McCarthy Doyle Gallagher Lynch Quinn "
    "Kennedy Brennan Fitzgerald Moran Nolan Dunne Burke Power Novak Silva Rossi Muller Haddad "
    "Okafor Tanaka Kowalski Jensen Garcia"
)
TOWNS = _words("Dublin Cork Galway Limerick Waterford Kilkenny Sligo Athlone Belfast Derry")
RECEIPT_ALPHABET = ballots.RECEIPT_ALPHABET
ANSWERS = {"yes_no": "yes", "url": "https://music.example/seeded", "number": "12"}
WORDS = _words(
    "the co-op members board artists listeners workers streaming royalties share capital "
    "meeting resolution accounts auditor policy rules vote class annual report fair play "
    "platform revenue distribution transparency community governance proposal budget surplus "
    "reserve catalogue licence payment quarterly growth review"
)


class Dice(random.Random):
    """The seeded random source, with the few shapes the seed needs."""

    def receipt(self) -> str:
        chars = "".join(self.choice(RECEIPT_ALPHABET) for _ in range(12))
        return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"

    def hex(self, bits: int = 128) -> str:
        return f"{self.getrandbits(bits):0{bits // 4}x}"

    def token(self, nbytes: int = 24) -> str:
        return (
            base64.urlsafe_b64encode(self.getrandbits(nbytes * 8).to_bytes(nbytes, "big"))
            .decode()
            .rstrip("=")
        )

    def reference(self, prefix: str) -> str:
        chars = "".join(self.choice(REFERENCE_ALPHABET) for _ in range(8))
        return f"{prefix}-{chars[:4]}-{chars[4:]}"

    def between(self, start: datetime, end: datetime) -> datetime:
        if end <= start:
            return start
        span = (end - start).total_seconds()
        return start + timedelta(seconds=self.random() * span)

    def name(self) -> str:
        return f"{self.choice(FIRST)} {self.choice(LAST)}"

    def sentence(self, words: int = 12) -> str:
        text_ = " ".join(self.choice(WORDS) for _ in range(words))
        return text_[0].upper() + text_[1:] + "."

    def choice_of(self, weights: dict[Any, float]) -> Any:
        return self.choices(list(weights), weights=list(weights.values()))[0]


def unique(make: Callable[[], str], taken: set[str]) -> str:
    while True:
        value = make()
        if value not in taken:
            taken.add(value)
            return value


def stub_pdf(label: str) -> bytes:
    """A small valid one-page PDF saying what it stands for (the certificates of members
    past REAL_PDF_MEMBERS)."""
    stream = f"BT /F1 14 Tf 72 760 Td ({label}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


class _Row:
    """A ledger row's fields, as ``row_digest`` reads them (no ORM object per row)."""

    __slots__ = (
        "actor_id",
        "amount_minor",
        "at",
        "currency",
        "hash",
        "kind",
        "member_id",
        "prev_hash",
        "quantity",
        "reference",
        "seq",
        "share_type_id",
        "unit_price_minor",
    )

    def __init__(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)

    def as_dict(self, row_id: int) -> dict[str, Any]:
        return {"id": row_id, **{name: getattr(self, name) for name in self.__slots__}}


# -- the seed ---------------------------------------------------------------------------------


@dataclass
class SeedMember:
    """What the seed remembers of a member while it writes the rest."""

    id: int
    number: int
    user_id: int
    name: str
    town: str
    admitted_at: datetime
    classes: list[tuple[int, date, date | None]]  # class id, admitted on, ended on
    primary_class_id: int
    lapsed_at: datetime | None = None
    ceased_at: datetime | None = None
    application_id: int = 0


class Seeder:
    """Writes the co-op in stages; ``run`` is the whole of it."""

    def __init__(
        self, app: Flask, members: int, *, seed: int = 16, out: Callable[[str], None] = print
    ) -> None:
        self.app, self.n, self.dice = app, members, Dice(seed)
        self.engine: Engine = database(app).engine
        self.report = Report(out)
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.start = self.now - timedelta(days=365 * YEARS)
        self.audit: list[tuple[datetime, int | None, str, str, str | None, str]] = []
        self.ids: dict[str, int] = {}

    # ids are given here, so rows refer to each other without reading back
    def next_id(self, model: type[Base]) -> int:
        name = model.__tablename__
        if name not in self.ids:
            with self.engine.connect() as conn:
                self.ids[name] = conn.execute(
                    select(func.coalesce(func.max(model.__table__.c.id), 0))
                ).scalar_one()
        self.ids[name] += 1
        return self.ids[name]

    def event(
        self,
        at: datetime,
        actor: int | None,
        action: str,
        target: str,
        target_id: int | str | None,
        summary: str,
    ) -> None:
        self.audit.append(
            (
                at,
                actor,
                action,
                target,
                None if target_id is None else str(target_id),
                summary[:500],
            )
        )

    def zone_day(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    # -- stages -------------------------------------------------------------------------------

    def run(self) -> bool:
        out = self.report.out
        out(f"Seeding {self.n:,} members into {self.engine.url.render_as_string()}")
        with self.report.stage("preset and staff"):
            self.found()
        with self.report.stage("members") as stage:
            self.seed_members(stage)
        with self.report.stage("orders, ledger, certificates") as stage:
            self.seed_shares(stage)
        with self.report.stage("documents") as stage:
            self.seed_documents(stage)
        with self.report.stage("meetings and votes") as stage, self.app.app_context():
            self.seed_meetings(stage)  # the app's secret key makes the open ballots' tags
        with self.report.stage("counts stored") as stage:
            self.count_votes(stage)
        with self.report.stage("audit events") as stage:
            self.seed_audit(stage)
        with self.report.stage("counters and sequences"):
            self.advance_counters()
        with self.report.stage("check-register") as stage:
            register_ok = self.check_register(stage)
        with self.report.stage("check-votes"):
            votes_ok = self.check_votes()
        out(f"Seeded in {self.report.total:.1f} s; {self.size()}")
        out(f"Open for voting now: {self.report.facts}")
        out("Rows: " + ", ".join(f"{name} {n:,}" for name, n in self.table_counts().items()))
        return register_ok and votes_ok

    def found(self) -> None:
        """The preset's settings, classes, share types, staff and library (not its demo)."""
        with self.app.test_request_context("/"), write_session(self.app) as db:
            if db.scalar(select(func.count()).select_from(User)):
                raise SystemExit("The database holds data already: seed a fresh one.")
            settings_service.apply_preset(db, RESONATE)
            people = RESONATE.demo
            made = {}
            for person in people.people:
                if person.role is Role.MEMBER:
                    continue
                made[person.email] = users.create_user(
                    db,
                    name=person.name,
                    email=person.email,
                    password=person.password,
                    role=person.role,
                    title=person.title,
                    verified=True,
                )
                db.flush()  # the staff pages need two-factor sign-in: the demo's key
                two_factor.enrol_with_secret(db, made[person.email], demo.DEMO_TWO_FACTOR_SECRET)
            staff = made[people.acting_staff.email]
            demo.seed_documents(db, demo.DOCUMENTS / RESONATE.name, staff)
            self.staff_ids = [u.id for u in made.values()]
            self.staff_id = staff.id
            stored = coop.settings(db)
            self.currency = stored.currency
            self.prefix = stored.reference_prefix
            self.zone = ZoneInfo(stored.timezone)
            self.settings = stored
            self.rules = {
                kind: Rules.from_settings(stored, kind).as_json() for kind in ResolutionKind
            }
            self.classes = {
                c.code: c for c in db.scalars(select(MemberClass).order_by(MemberClass.position))
            }
            self.class_by_id = {c.id: c for c in self.classes.values()}
            self.weights = {c.id: c.voting_weight for c in self.classes.values()}
            self.questions = {
                c.id: [
                    {
                        "key": q.key,
                        "label": q.label,
                        "kind": q.kind.value,
                        "value": ANSWERS.get(q.kind.value, "Seeded answer"),
                    }
                    for q in c.questions
                ]
                for c in self.classes.values()
            }
            types = {t.code: t for t in db.scalars(select(ShareType))}
            self.membership, self.supporter = types["membership"], types["supporter"]
            self.par = {t.id: t.par_value_minor for t in types.values()}
            self.rulebook = db.scalar(
                select(DocumentVersion.id, DocumentVersion.document_id)
                .join(Document)
                .where(Document.is_rulebook.is_(True))
                .order_by(DocumentVersion.number.desc())
            )
            self.rulebook_title = db.scalar(
                select(Document.title).where(Document.is_rulebook.is_(True))
            )
            self.password_hash = passwords.hash_password(SEED_PASSWORD)
            self.pdfs = self.shared_pdfs(db, types)

    def shared_pdfs(self, db: Any, types: dict[str, ShareType]) -> dict[tuple[int, bool], bytes]:
        """One PDF per share type: the real certificate (rendered once) and a placeholder."""
        pdfs = {}
        support = pdf.pdf_support()
        for share_type in types.values():
            stub = stub_pdf(f"Seeded certificate: {share_type.name} (benchmark data)")
            pdfs[(share_type.id, False)] = stub
            real = stub
            if support.usable:
                sample = Certificate(
                    number=1,
                    member=Member(
                        number=1,
                        name="A. Member",
                        address_line1="1 Main Street",
                        town="Dublin",
                        country="Ireland",
                        admitted_on=self.now.date(),
                    ),
                    share_type=share_type,
                    quantity=share_type.min_quantity,
                    issued_at=self.now,
                    code="seeded-certificate-code",
                )
                with self.app.test_request_context("/", base_url=public_base_url(self.app.config)):
                    real = pdf.render_certificate(sample, coop.settings(db))
                db.expunge(sample) if sample in db else None
            pdfs[(share_type.id, True)] = real
        return pdfs

    def seed_members(self, stage: _Stage) -> None:
        """Accounts, applications, members, their classes and status history; applicants."""
        dice, n = self.dice, self.n
        listener, artist, worker = (self.classes[c] for c in ("listener", "artist", "worker"))
        weights = {listener.id: 0.80, artist.id: 0.15, worker.id: 0.05}
        reviewer = self.staff_id
        last_join = self.now - timedelta(days=35)
        users_, members, classes, applications, statuses, resignations = [], [], [], [], [], []
        self.members: list[SeedMember] = []
        for i in range(n):
            number = i + 1
            admitted_at = (
                self.start
                + (last_join - self.start) * (i / n)
                + timedelta(seconds=dice.randrange(3600))
            )
            primary = dice.choice_of(weights)
            joined = [(primary, self.zone_day(admitted_at))]
            if dice.random() < 0.08:
                other = dice.choice([c for c in weights if c != primary])
                later = dice.between(admitted_at, self.now - timedelta(days=20))
                joined.append((other, self.zone_day(later)))
            name, town = dice.name(), dice.choice(TOWNS)
            user_id, member_id = self.next_id(User), self.next_id(Member)
            member = SeedMember(member_id, number, user_id, name, town, admitted_at, [], primary)
            roll = dice.random()
            if roll < 0.06 and admitted_at < self.now - timedelta(days=90):
                member.ceased_at = dice.between(
                    admitted_at + timedelta(days=60), self.now - timedelta(days=5)
                )
            elif (
                roll < 0.10
                and primary == listener.id
                and admitted_at < self.now - timedelta(days=400)
            ):
                member.lapsed_at = dice.between(
                    admitted_at + timedelta(days=365), self.now - timedelta(days=10)
                )
            ceased_on = self.zone_day(member.ceased_at) if member.ceased_at else None
            created = admitted_at - timedelta(days=dice.randint(1, 12), hours=dice.randint(0, 9))
            users_.append(
                {
                    "id": user_id,
                    "email": email_of(number),
                    "name": name,
                    "password_hash": self.password_hash,
                    "role": Role.MEMBER,
                    "email_verified_at": created + timedelta(minutes=7),
                    "created_at": created,
                }
            )
            for k, (class_id, day) in enumerate(joined):
                if ceased_on is not None and day >= ceased_on:
                    continue
                member.classes.append((class_id, day, ceased_on))
                classes.append(
                    {
                        "id": self.next_id(ClassMembership),
                        "member_id": member_id,
                        "class_id": class_id,
                        "admitted_on": day,
                        "ended_on": ceased_on,
                    }
                )
                app_id = self.next_id(Application)
                member.application_id = member.application_id or app_id
                at = created if k == 0 else datetime.combine(day, datetime.min.time(), UTC)
                automatic = self.class_by_id[class_id].admits_automatically
                applications.append(
                    {
                        "id": app_id,
                        "user_id": user_id,
                        "class_id": class_id,
                        "state": ApplicationState.APPROVED,
                        "answers": self.questions[class_id],
                        "address_line1": f"{dice.randint(1, 200)} Main Street",
                        "town": town,
                        "country": "Ireland",
                        "rulebook_version": self.rulebook_title,
                        "rulebook_version_id": self.rulebook,
                        "rules_accepted_at": at,
                        "created_at": at,
                        "submitted_at": at,
                        "decided_at": at if automatic else at + timedelta(days=1),
                        "reviewer_id": None if automatic else reviewer,
                        "member_id": member_id,
                    }
                )
                self.event(
                    at,
                    user_id,
                    "application.submitted",
                    "application",
                    app_id,
                    f"Application to the {self.class_by_id[class_id].name} class",
                )
                self.event(
                    at + timedelta(days=1),
                    reviewer,
                    "application.admitted",
                    "application",
                    app_id,
                    f"Membership share paid: member no. {number}",
                )
            members.append(
                {
                    "id": member_id,
                    "number": number,
                    "user_id": user_id,
                    "name": name,
                    "address_line1": applications[-1]["address_line1"],
                    "town": town,
                    "postcode": "",
                    "country": "Ireland",
                    "status": MemberStatus.CEASED
                    if ceased_on
                    else MemberStatus.LAPSED
                    if member.lapsed_at
                    else MemberStatus.ACTIVE,
                    "admitted_on": self.zone_day(admitted_at),
                    "ceased_on": ceased_on,
                    "primary_class_id": primary,
                    "news_opt_in": dice.random() < 0.3,
                }
            )
            statuses.append(
                {
                    "id": self.next_id(MemberStatusChange),
                    "member_id": member_id,
                    "at": admitted_at,
                    "status": MemberStatus.ACTIVE,
                    "note": f"Admitted: {self.class_by_id[primary].name} (Membership share paid)",
                    "actor_id": reviewer,
                }
            )
            self.event(created, user_id, "user.created", "user", user_id, f"Account for {name}")
            self.event(
                admitted_at,
                reviewer,
                "member.admitted",
                "member",
                member_id,
                f"Member no. {number} admitted ({self.class_by_id[primary].name})",
            )
            if member.lapsed_at:
                statuses.append(
                    {
                        "id": self.next_id(MemberStatusChange),
                        "member_id": member_id,
                        "at": member.lapsed_at,
                        "status": MemberStatus.LAPSED,
                        "note": "Annual fee unpaid",
                        "actor_id": reviewer,
                    }
                )
                self.event(
                    member.lapsed_at,
                    reviewer,
                    "membership.lapsed",
                    "member",
                    member_id,
                    f"Member no. {number}: Annual fee unpaid",
                )
            if member.ceased_at:
                asked = member.ceased_at - timedelta(days=dice.randint(1, 20))
                resignations.append(
                    {
                        "id": self.next_id(Resignation),
                        "member_id": member_id,
                        "state": ResignationState.CONFIRMED,
                        "reason": "Moving on.",
                        "requested_at": asked,
                        "decided_at": member.ceased_at,
                        "decided_by_id": reviewer,
                    }
                )
                statuses.append(
                    {
                        "id": self.next_id(MemberStatusChange),
                        "member_id": member_id,
                        "at": member.ceased_at,
                        "status": MemberStatus.CEASED,
                        "note": "Resigned",
                        "actor_id": reviewer,
                    }
                )
                self.event(
                    asked,
                    user_id,
                    "member.resignation_requested",
                    "member",
                    member_id,
                    f"Member no. {number} asked to resign",
                )
                self.event(
                    member.ceased_at,
                    reviewer,
                    "member.resignation_confirmed",
                    "member",
                    member_id,
                    f"Member no. {number}: resignation confirmed",
                )
            self.members.append(member)
        # Applicants still on their way in, or turned away.
        states = {
            ApplicationState.SUBMITTED: 40,
            ApplicationState.NEEDS_INFO: 15,
            ApplicationState.AWAITING_SECOND: 10,
            ApplicationState.AWAITING_SHARE: 15,
            ApplicationState.REJECTED: 10,
            ApplicationState.WITHDRAWN: 5,
            ApplicationState.DRAFT: 5,
        }
        self.applicant_orders: list[tuple[int, int, datetime]] = []
        for k in range(scaled(n, 1_500, 7)):
            user_id, name = self.next_id(User), dice.name()
            created = dice.between(self.now - timedelta(days=60), self.now - timedelta(hours=2))
            users_.append(
                {
                    "id": user_id,
                    "email": f"applicant{k + 1}@{SEED_DOMAIN}",
                    "name": name,
                    "password_hash": self.password_hash,
                    "role": Role.MEMBER,
                    "email_verified_at": created,
                    "created_at": created,
                }
            )
            state = dice.choice_of(states) if k >= len(states) else list(states)[k]
            class_id = dice.choice_of(weights)
            app_id = self.next_id(Application)
            submitted = None if state is ApplicationState.DRAFT else created
            decided = (
                created + timedelta(days=1)
                if state in (ApplicationState.REJECTED, ApplicationState.AWAITING_SHARE)
                else None
            )
            applications.append(
                {
                    "id": app_id,
                    "user_id": user_id,
                    "class_id": class_id,
                    "state": state,
                    "answers": self.questions[class_id],
                    "address_line1": "3 Quay Street",
                    "town": dice.choice(TOWNS),
                    "country": "Ireland",
                    "rulebook_version": self.rulebook_title,
                    "rulebook_version_id": self.rulebook,
                    "rules_accepted_at": submitted,
                    "created_at": created,
                    "submitted_at": submitted,
                    "decided_at": decided,
                    "reviewer_id": reviewer
                    if decided or state is ApplicationState.NEEDS_INFO
                    else None,
                    "first_approver_id": reviewer
                    if state is ApplicationState.AWAITING_SECOND
                    else None,
                    "reason": "Please tell us more about your music."
                    if state in (ApplicationState.NEEDS_INFO, ApplicationState.REJECTED)
                    else None,
                }
            )
            if state is ApplicationState.AWAITING_SHARE:
                self.applicant_orders.append((app_id, class_id, created))
            if submitted:
                self.event(
                    created,
                    user_id,
                    "application.submitted",
                    "application",
                    app_id,
                    f"Application to the {self.class_by_id[class_id].name} class",
                )
        for model, rows in (
            (User, users_),
            (Member, members),
            (ClassMembership, classes),
            (Application, applications),
            (MemberStatusChange, statuses),
            (Resignation, resignations),
        ):
            bulk(self.engine, model, rows, stage, self.report)

    def seed_shares(self, stage: _Stage) -> None:
        """Orders, the ledger in time order (hash-chained), certificates and withdrawals."""
        dice = self.dice
        membership, supporter = self.membership.id, self.supporter.id
        staff = self.staff_id
        events: list[tuple[datetime, int, int, str, int, int]] = []  # at, tie, member idx…
        orders: list[dict[str, Any]] = []
        withdrawals: list[dict[str, Any]] = []
        references: set[str] = set()
        recent = self.now - timedelta(days=2)

        def order(
            member: SeedMember | None,
            type_id: int,
            quantity: int,
            created: datetime,
            state: OrderState,
            *,
            application_id: int | None = None,
            fee: int = 0,
            paid: datetime | None = None,
        ) -> dict[str, Any]:
            row = {
                "id": self.next_id(ShareOrder),
                "member_id": member.id if member else None,
                "application_id": application_id,
                "share_type_id": type_id,
                "quantity": quantity,
                "fee_minor": fee,
                "amount_minor": quantity * self.par[type_id] + fee,
                "currency": self.currency,
                "payment_reference": unique(lambda: dice.reference(self.prefix), references),
                "order_key": None if application_id else dice.token(),
                "state": state,
                "created_at": created,
            }
            if paid is not None:
                row.update(
                    paid_at=paid,
                    paid_amount_minor=row["amount_minor"],
                    paid_on=self.zone_day(paid),
                    payment_method="bank_transfer",
                    bank_reference=f"BANK {row['payment_reference']}",
                    recorded_by_id=staff,
                )
            orders.append(row)
            return row

        for idx, m in enumerate(self.members):
            end = m.ceased_at or recent
            fee = self.class_by_id[m.primary_class_id].annual_fee_minor
            first = order(
                m,
                membership,
                1,
                m.admitted_at - timedelta(days=1),
                OrderState.ISSUED,
                application_id=m.application_id,
                fee=fee,
                paid=m.admitted_at,
            )
            events.append((m.admitted_at, 0, idx, "issue", membership, 1, first["id"]))
            times = sorted(dice.between(m.admitted_at, end) for _ in range(dice.randint(5, 12)))
            held = 0
            for k, at in enumerate(times):
                if k >= 2 and held >= 10 and dice.random() < 0.05:
                    quantity = 5 * dice.randint(1, held // 10)
                    withdrawal = {
                        "id": self.next_id(Withdrawal),
                        "member_id": m.id,
                        "share_type_id": supporter,
                        "quantity": quantity,
                        "amount_minor": quantity * self.par[supporter],
                        "currency": self.currency,
                        "reason": "",
                        "state": WithdrawalState.REPAID,
                        "requested_at": at - timedelta(days=21),
                        "requested_by_id": m.user_id,
                        "decided_at": at - timedelta(days=7),
                        "decided_by_id": staff,
                        "decision_reference": f"Board minute {self.zone_day(at):%Y/%m}",
                        "repaid_on": self.zone_day(at),
                        "repayment_method": "bank_transfer",
                        "repayment_reference": f"REPAY-{m.number}-{k}",
                        "repaid_by_id": staff,
                    }
                    withdrawals.append(withdrawal)
                    events.append((at, 1, idx, "redeem", supporter, quantity, withdrawal["id"]))
                    held -= quantity
                    continue
                quantity = 5 * dice.randint(1, 20)
                row = order(
                    m,
                    supporter,
                    quantity,
                    at - timedelta(days=dice.randint(1, 9)),
                    OrderState.ISSUED,
                    paid=at,
                )
                events.append((at, 1, idx, "issue", supporter, quantity, row["id"]))
                held += quantity
            if m.ceased_at:
                events.append((m.ceased_at, 2, idx, "cancel", membership, 1, 0))
            elif m.lapsed_at is None:
                extra = dice.random()
                at = dice.between(self.now - timedelta(days=30), self.now - timedelta(hours=1))
                if extra < 0.03:
                    order(m, supporter, 5 * dice.randint(1, 10), at, OrderState.PENDING_PAYMENT)
                elif extra < 0.05:
                    order(m, supporter, 5 * dice.randint(1, 10), at, OrderState.CANCELLED)
                elif extra < 0.052:
                    order(m, supporter, 5, at, OrderState.PAID, paid=at + timedelta(minutes=30))
        for app_id, class_id, created in self.applicant_orders:
            order(
                None,
                membership,
                1,
                created + timedelta(days=1),
                OrderState.PENDING_PAYMENT,
                application_id=app_id,
                fee=self.class_by_id[class_id].annual_fee_minor,
            )
        for row in orders:
            if dice.random() < 0.2:
                self.event(
                    row["created_at"],
                    staff if row["application_id"] else None,
                    "order.placed",
                    "shareorder",
                    row["id"],
                    f"Order {row['payment_reference']} placed",
                )
            if row.get("paid_at") and dice.random() < 0.2:
                self.event(
                    row["paid_at"],
                    staff,
                    "order.paid",
                    "shareorder",
                    row["id"],
                    f"Order {row['payment_reference']} paid",
                )
        bulk(self.engine, ShareOrder, orders, stage, self.report)
        references_of = {row["id"]: row["payment_reference"] for row in orders}
        orders.clear()
        bulk(self.engine, Withdrawal, withdrawals, stage, self.report)
        self.write_ledger(stage, sorted(events), references_of)
        # The rows went in without ``ledger.append``: its derived tables are filled from them.
        with self.engine.begin() as conn:
            rebuild_derived(conn, coop.Clock.named(self.settings.timezone))

    def write_ledger(
        self, stage: _Stage, events: list[tuple[Any, ...]], references_of: dict[int, str]
    ) -> None:
        """The ledger rows in time order, each hashed into the chain; certificates as the app
        issues, supersedes and cancels them."""
        dice, staff = self.dice, self.staff_id
        with self.engine.connect() as conn:
            seq = conn.execute(select(func.coalesce(func.max(LedgerEntry.seq), 0))).scalar_one()
            previous = (
                conn.execute(select(LedgerEntry.hash).where(LedgerEntry.seq == seq)).scalar()
                or GENESIS
            )
        certificates: list[list[Any]] = []  # id, number, member, type, qty, at, order, state…
        valid: dict[tuple[int, int], list[list[Any]]] = defaultdict(list)
        holding: dict[tuple[int, int], int] = defaultdict(int)
        number = 0
        rows: list[dict[str, Any]] = []
        codes: set[str] = set()

        def certificate(
            m: SeedMember, type_id: int, quantity: int, at: datetime, order_id: int | None
        ) -> list[Any]:
            nonlocal number
            number += 1
            cert = [
                self.next_id(Certificate),
                number,
                m,
                type_id,
                quantity,
                at,
                order_id,
                CertificateState.VALID,
                None,
                unique(dice.token, codes),
            ]
            certificates.append(cert)
            valid[(m.id, type_id)].append(cert)
            if dice.random() < 0.2:
                self.event(
                    at,
                    staff,
                    "certificate.issued",
                    "certificate",
                    cert[0],
                    f"Certificate no. {number}: {quantity} shares to member no. {m.number}",
                )
            return cert

        for at, _tie, idx, kind, type_id, quantity, ref_id in events:
            m = self.members[idx]
            key = (m.id, type_id)
            if kind == "issue":
                reference = references_of[ref_id]
            elif kind == "redeem":
                reference = f"Withdrawal {ref_id}, Board minute {self.zone_day(at):%Y/%m}"
            else:
                reference = "Membership ceased"
            seq += 1
            row = _Row(
                seq=seq,
                at=at,
                kind=LedgerKind(kind),
                member_id=m.id,
                share_type_id=type_id,
                quantity=quantity,
                unit_price_minor=self.par[type_id],
                amount_minor=quantity * self.par[type_id],
                currency=self.currency,
                reference=reference,
                prev_hash=previous,
                actor_id=staff,
            )
            row.hash = previous = row_digest(row)  # the register's own hash of the row
            rows.append(row.as_dict(self.next_id(LedgerEntry)))
            if len(rows) == BATCH:
                bulk(self.engine, LedgerEntry, rows, stage, self.report)
                rows = []
            if kind == "issue":
                holding[key] += quantity
                certificate(m, type_id, quantity, at, ref_id)
                continue
            holding[key] -= quantity
            old, valid[key] = valid[key], []
            new = certificate(m, type_id, holding[key], at, None) if holding[key] > 0 else None
            for cert in old:
                cert[7] = CertificateState.SUPERSEDED if new else CertificateState.CANCELLED
                cert[8] = new[0] if new else None
        bulk(self.engine, LedgerEntry, rows, stage, self.report)
        self.ledger_seq, self.certificate_number = seq, number
        self.write_certificates(stage, certificates)

    def write_certificates(self, stage: _Stage, certificates: list[list[Any]]) -> None:
        """Newest first, so a superseded certificate's replacement is already there."""
        digests = {key: hashlib.sha256(value).hexdigest() for key, value in self.pdfs.items()}
        real_upto = scaled(self.n, REAL_PDF_MEMBERS, 5)
        rows = []
        for cid, number, m, type_id, quantity, at, order_id, state, replaced, code in reversed(
            certificates
        ):
            key = (type_id, m.number <= real_upto)
            rows.append(
                {
                    "id": cid,
                    "number": number,
                    "member_id": m.id,
                    "share_type_id": type_id,
                    "quantity": quantity,
                    "issued_at": at,
                    "code": code,
                    "state": state,
                    "replaced_by_id": replaced,
                    "order_id": order_id,
                    "pdf": self.pdfs[key],
                    "sha256": digests[key],
                }
            )
            if len(rows) == BATCH:
                bulk(self.engine, Certificate, rows, stage, self.report)
                rows = []
        bulk(self.engine, Certificate, rows, stage, self.report)

    def seed_documents(self, stage: _Stage) -> None:
        """More documents and versions, to 2,000 versions in all (minutes come with their
        meetings)."""
        dice, staff = self.dice, self.staff_id
        with self.engine.connect() as conn:
            have = conn.execute(select(func.count()).select_from(DocumentVersion)).scalar_one()
        want = scaled(self.n, 2_000, 20) - have - 6  # six meetings' minutes follow
        categories = [
            DocumentCategory.POLICIES,
            DocumentCategory.REPORTS,
            DocumentCategory.NOTICES,
            DocumentCategory.RULES,
        ]
        visibilities = {Visibility.MEMBERS: 6, Visibility.PUBLIC: 3, Visibility.STAFF: 1}
        documents, versions = [], []
        k = 0
        while want > 0:
            k += 1
            doc_id, category = self.next_id(Document), categories[k % len(categories)]
            created = dice.between(self.start, self.now - timedelta(days=40))
            title = (
                f"{category.label[:-1] if category.label.endswith('s') else category.label}"
                f" {k}: {dice.sentence(4)[:-1]}"
            )
            documents.append(
                {
                    "id": doc_id,
                    "slug": f"seeded-{category.value}-{k}",
                    "title": title[:200],
                    "summary": dice.sentence(14),
                    "category": category,
                    "visibility": dice.choice_of(visibilities),
                    "approved_by": "",
                    "is_rulebook": False,
                    "created_at": created,
                }
            )
            count = min(want, dice.randint(1, 15))
            at = created
            for number in range(1, count + 1):
                at = dice.between(at, min(at + timedelta(days=120), self.now - timedelta(hours=1)))
                body = f"# {title}\n\n" + "\n\n".join(
                    f"## Section {s}\n\n" + " ".join(dice.sentence() for _ in range(6))
                    for s in range(1, dice.randint(3, 8))
                )
                versions.append(
                    {
                        "id": self.next_id(DocumentVersion),
                        "document_id": doc_id,
                        "number": number,
                        "format": VersionFormat.MARKDOWN,
                        "body": body,
                        "body_html": rendered_body(title[:200], body),
                        "effective_on": self.zone_day(at),
                        "change_note": dice.sentence(6),
                        "published_at": at,
                        "published_by_id": staff,
                    }
                )
                self.event(
                    at,
                    staff,
                    "document.published",
                    "document",
                    doc_id,
                    f"{title[:80]}: version {number} published",
                )
            want -= count
        bulk(self.engine, Document, documents, stage, self.report)
        bulk(self.engine, DocumentVersion, versions, stage, self.report)

    # -- meetings -----------------------------------------------------------------------------

    AGM_RESOLUTIONS = (
        ("Adopt the annual accounts", ResolutionKind.ORDINARY, False),
        ("Appoint the auditor", ResolutionKind.ORDINARY, True),
        ("Amend rule 12 on supporter shares", ResolutionKind.SPECIAL, False),
    )
    EGM_RESOLUTIONS = (
        ("Change the royalty distribution policy", ResolutionKind.SPECIAL, True),
        ("Approve the budget for the new catalogue", ResolutionKind.ORDINARY, False),
    )

    def meeting_specs(self) -> list[tuple[MeetingKind, str, datetime, MeetingState]]:
        now = self.now
        day = timedelta(days=1)
        years = [now - timedelta(days=365 * y) for y in range(4, 0, -1)]
        return [
            (
                MeetingKind.AGM,
                f"Annual general meeting {years[0]:%Y}",
                years[0],
                MeetingState.MINUTES_PUBLISHED,
            ),
            (
                MeetingKind.AGM,
                f"Annual general meeting {years[1]:%Y}",
                years[1],
                MeetingState.MINUTES_PUBLISHED,
            ),
            (
                MeetingKind.EGM,
                "Extraordinary general meeting on royalties",
                years[1] + 180 * day,
                MeetingState.MINUTES_PUBLISHED,
            ),
            (
                MeetingKind.AGM,
                f"Annual general meeting {years[2]:%Y}",
                years[2],
                MeetingState.MINUTES_PUBLISHED,
            ),
            (
                MeetingKind.CLASS,
                "Artist class meeting",
                years[2] + 150 * day,
                MeetingState.MINUTES_PUBLISHED,
            ),
            (
                MeetingKind.AGM,
                f"Annual general meeting {years[3]:%Y}",
                years[3],
                MeetingState.MINUTES_PUBLISHED,
            ),
            (
                MeetingKind.EGM,
                "Extraordinary general meeting on the budget",
                now - 90 * day,
                MeetingState.VOTING_CLOSED,
            ),
            (
                MeetingKind.AGM,
                f"Annual general meeting {now:%Y}",
                now + 5 * day,
                MeetingState.VOTING_OPEN,
            ),
            (
                MeetingKind.EGM,
                "Extraordinary general meeting on the catalogue",
                now + 30 * day,
                MeetingState.NOTICED,
            ),
            (
                MeetingKind.EGM,
                "Extraordinary general meeting (draft)",
                now + 75 * day,
                MeetingState.DRAFT,
            ),
        ]

    def roll_of(
        self, day: date, cutoff: datetime, class_id: int | None
    ) -> list[tuple[int, int, bool]]:
        """(member index, class id, primary) for everyone on the register that day."""
        entries = []
        for idx, m in enumerate(self.members):
            if m.admitted_at >= cutoff or (m.ceased_at and m.ceased_at < cutoff):
                continue
            if m.lapsed_at and m.lapsed_at < cutoff:
                continue
            held = [
                c
                for c, start, end in m.classes
                if start <= day
                and (end is None or end > day)
                and (class_id is None or c == class_id)
            ]
            if not held:
                continue
            primary = m.primary_class_id if m.primary_class_id in held else held[0]
            entries.extend((idx, c, c == primary) for c in held)
        return entries

    def seed_meetings(self, stage: _Stage) -> None:
        self.closed_resolutions: list[int] = []
        self.counted_elections: list[int] = []
        self.declared: dict[int, date] = {}
        specs = self.meeting_specs()
        rolls = {}
        total_pairs = 0
        for n, (kind, _title, starts, state) in enumerate(specs):
            if state is MeetingState.DRAFT:
                continue
            record = self.zone_day(starts) - timedelta(days=32)
            cutoff = datetime.combine(
                record + timedelta(days=1), datetime.min.time(), self.zone
            ).astimezone(UTC)
            cutoff = min(cutoff, self.now)
            class_id = self.classes["artist"].id if kind is MeetingKind.CLASS else None
            rolls[n] = (record, cutoff, self.roll_of(record, cutoff, class_id))
            if state in (
                MeetingState.MINUTES_PUBLISHED,
                MeetingState.VOTING_CLOSED,
                MeetingState.VOTING_OPEN,
            ):
                voters = sum(1 for e in rolls[n][2] if e[2])
                total_pairs += voters * (
                    1
                    if kind is MeetingKind.CLASS
                    else len(self.AGM_RESOLUTIONS)
                    if kind is MeetingKind.AGM
                    else len(self.EGM_RESOLUTIONS)
                )
        turnout = min(0.9, 2 * self.n / max(1, total_pairs))
        self.report.out(f"  (turnout {turnout:.1%} of {total_pairs:,} voter-resolutions)")
        tables: dict[type[Base], list[dict[str, Any]]] = defaultdict(list)
        for n, spec in enumerate(specs):
            self.seed_meeting(tables, spec, rolls.get(n), turnout, minutes=n)
        for model in (
            Meeting,
            RollEntry,
            RollClass,
            Resolution,
            Election,
            Candidate,
            ProxyAppointment,
            ProxyDirection,
            ProxyRanking,
            Participation,
            TurnoutCount,
            Ballot,
            ElectionParticipation,
            RankedBallot,
            Attendance,
            Document,
            DocumentVersion,
            MeetingMinutes,
        ):
            bulk(self.engine, model, tables[model], stage, self.report)

    def seed_meeting(
        self,
        tables: dict[type[Base], list[dict[str, Any]]],
        spec: tuple[MeetingKind, str, datetime, MeetingState],
        roll: tuple[date, datetime, list[tuple[int, int, bool]]] | None,
        turnout: float,
        *,
        minutes: int,
    ) -> None:
        dice, staff = self.dice, self.staff_id
        kind, title, starts, state = spec
        day = timedelta(days=1)
        meeting_id = self.next_id(Meeting)
        closed = state in (MeetingState.MINUTES_PUBLISHED, MeetingState.VOTING_CLOSED)
        voting = closed or state is MeetingState.VOTING_OPEN
        class_id = self.classes["artist"].id if kind is MeetingKind.CLASS else None
        record, cutoff, entries = roll or (self.zone_day(starts) - 32 * day, None, [])
        notice = starts - 30 * day
        if voting and closed:
            opens, closes = starts - 7 * day, starts
        else:
            opens = self.now - 2 * day
            closes = datetime.combine(
                self.zone_day(starts) + day, datetime.min.time(), self.zone
            ).astimezone(UTC)
        tables[Meeting].append(
            {
                "id": meeting_id,
                "kind": kind,
                "class_id": class_id,
                "title": title,
                "starts_at": starts,
                "place": "Liberty Hall, Dublin",
                "online_url": "https://meet.example/general",
                "record_date": record,
                "state": state,
                "created_at": starts - 60 * day,
                "created_by_id": staff,
                "notice_sent_at": None if state is MeetingState.DRAFT else notice,
                "notice_clear_days": None if state is MeetingState.DRAFT else 29,
                "roll_as_of": cutoff,
                "roll_frozen_at": notice if cutoff else None,
                "voting_opened_at": opens if voting else None,
                "voting_closed_at": closes if closed else None,
                "minutes_published_at": starts + 30 * day
                if state is MeetingState.MINUTES_PUBLISHED
                else None,
            }
        )
        if state is not MeetingState.DRAFT:
            self.event(
                notice, staff, "meeting.noticed", "meeting", meeting_id, f"Notice of {title} sent"
            )
            self.event(
                notice,
                staff,
                "meeting.roll_frozen",
                "meeting",
                meeting_id,
                f"Voter roll frozen as of {record.isoformat()}",
            )
        member_ids = [m.id for m in self.members]
        for idx, c, primary in entries:
            tables[RollEntry].append(
                {
                    "id": self.next_id(RollEntry),
                    "meeting_id": meeting_id,
                    "member_id": member_ids[idx],
                    "class_id": c,
                    "weight": self.weights[c],
                    "is_primary": primary,
                }
            )
        for c in sorted({c for _, c, _ in entries}):  # the roll's counts, as freezing keeps them
            tables[RollClass].append(
                {
                    "id": self.next_id(RollClass),
                    "meeting_id": meeting_id,
                    "class_id": c,
                    "weight": self.weights[c],
                    "voters": sum(1 for _, k, primary in entries if k == c and primary),
                    "members": sum(1 for _, k, _ in entries if k == c),
                }
            )
        # resolutions
        specs = (
            ((f"{self.class_by_id[class_id].name} class rules", ResolutionKind.CLASS, False),)
            if kind is MeetingKind.CLASS
            else self.AGM_RESOLUTIONS
            if kind is MeetingKind.AGM
            else self.EGM_RESOLUTIONS
        )
        resolutions = []
        for number, (name, rkind, secret) in enumerate(specs, 1):
            rid = self.next_id(Resolution)
            rstate = (
                ResolutionState.CLOSED
                if closed
                else ResolutionState.OPEN
                if voting
                else ResolutionState.DRAFT
            )
            tables[Resolution].append(
                {
                    "id": rid,
                    "meeting_id": meeting_id,
                    "number": number,
                    "title": name,
                    "text": f"WHEREAS {self.dice.sentence(10)}\n\nRESOLVED that {name.lower()}.",
                    "kind": rkind,
                    "class_id": class_id if rkind is ResolutionKind.CLASS else None,
                    "secret": secret,
                    "opens_at": opens if voting else None,
                    "closes_at": closes if voting else None,
                    "state": rstate,
                    "rules": self.rules[rkind] if voting else None,
                    "opened_at": opens if voting else None,
                    "closed_at": closes if closed else None,
                }
            )
            resolutions.append((rid, rkind, secret))
            if state is MeetingState.VOTING_OPEN:
                self.report.facts["open_meeting_id"] = meeting_id
                self.report.facts.setdefault("open_resolution_ids", []).append(rid)
            if closed:
                self.closed_resolutions.append(rid)
        if state is MeetingState.MINUTES_PUBLISHED:
            self.minutes(tables, meeting_id, title, starts + 30 * day)
        if not entries:
            return
        primary_class = {idx: c for idx, c, primary in entries if primary}
        share = turnout * (1.0 if closed else 0.6)
        voters = [idx for idx in primary_class if voting and dice.random() < share]
        voted = set(voters)
        channel = {
            idx: (
                Channel.ONLINE
                if kind is MeetingKind.CLASS
                else dice.choice_of({Channel.ONLINE: 90, Channel.IN_ROOM: 6, Channel.POSTAL: 4})
            )
            for idx in voters
        }
        for idx in voters:
            if channel[idx] is Channel.IN_ROOM:
                tables[Attendance].append(
                    {
                        "id": self.next_id(Attendance),
                        "meeting_id": meeting_id,
                        "member_id": member_ids[idx],
                        "class_id": primary_class[idx],
                        "recorded_by_id": staff,
                        "recorded_at": starts,
                    }
                )
        # proxies: about 1 % of the roll appoint one (to a member who votes, or the chair)
        appointments: dict[int, tuple[int, ProxyKind, dict[int, Choice | None]]] = {}
        held: dict[int, int] = defaultdict(int)
        cap = self.settings.proxies_per_holder
        holders = [idx for idx in voters if channel[idx] is Channel.ONLINE]
        for idx in primary_class:
            if idx in voted or dice.random() >= 0.01 or state is MeetingState.DRAFT:
                continue
            to_chair = not holders or dice.random() < 0.1
            holder = None if to_chair else dice.choice(holders)
            if holder is not None and held[holder] >= cap:
                continue
            if holder is not None:
                held[holder] += 1
            pkind = ProxyKind.DIRECTED if dice.random() < 0.6 else ProxyKind.DISCRETIONARY
            appointed = dice.between(notice, notice + 20 * day)
            if dice.random() < 0.1:  # an earlier proxy, revoked for this one
                tables[ProxyAppointment].append(
                    {
                        "id": self.next_id(ProxyAppointment),
                        "meeting_id": meeting_id,
                        "grantor_id": member_ids[idx],
                        "holder_id": None,
                        "to_chair": True,
                        "kind": ProxyKind.DISCRETIONARY,
                        "state": ProxyState.REVOKED,
                        "appointed_at": appointed - day,
                        "revoked_at": appointed,
                        "source": ProxySource.ONLINE,
                    }
                )
            pid = self.next_id(ProxyAppointment)
            paper = dice.random() < 0.15
            accepted = closed or dice.random() < 0.7
            tables[ProxyAppointment].append(
                {
                    "id": pid,
                    "meeting_id": meeting_id,
                    "grantor_id": member_ids[idx],
                    "holder_id": None if holder is None else member_ids[holder],
                    "to_chair": holder is None,
                    "kind": pkind,
                    "state": ProxyState.ACCEPTED if accepted else ProxyState.APPOINTED,
                    "appointed_at": appointed,
                    "accepted_at": appointed + 3 * day if accepted else None,
                    "source": ProxySource.PAPER if paper else ProxySource.ONLINE,
                    "recorded_by_id": staff if paper else None,
                }
            )
            directions = {}
            for rid, _rkind, _secret in resolutions:
                choice = (
                    dice.choice_of({Choice.FOR: 6, Choice.AGAINST: 3, Choice.ABSTAIN: 1})
                    if pkind is ProxyKind.DIRECTED
                    else None
                )
                directions[rid] = choice
                tables[ProxyDirection].append(
                    {
                        "id": self.next_id(ProxyDirection),
                        "appointment_id": pid,
                        "resolution_id": rid,
                        "choice": choice,
                    }
                )
            appointments[idx] = (pid, pkind, directions)
        if not voting:
            return
        cast_by_proxy = [idx for idx in appointments if closed or dice.random() < 0.5]
        by_class: dict[int, list[int]] = defaultdict(list)
        for idx, c, _primary in entries:
            by_class[c].append(idx)
        for rid, rkind, secret in resolutions:
            odds = {
                Choice.FOR: dice.uniform(0.45, 0.8),
                Choice.AGAINST: dice.uniform(0.1, 0.4),
                Choice.ABSTAIN: dice.uniform(0.02, 0.1),
            }
            if rkind is ResolutionKind.CLASS:
                who = [
                    (idx, class_id)
                    for idx in by_class[class_id]
                    if idx in voted or idx in appointments
                ]
            else:
                who = [(idx, primary_class[idx]) for idx in (*voters, *cast_by_proxy)]
            receipts: set[str] = set()
            turnout: dict[int, int] = defaultdict(int)  # kept as the votes are: TurnoutCount
            for idx, c in who:
                proxy = appointments.get(idx)
                if proxy is not None and idx not in cast_by_proxy:
                    continue
                turnout[c] += 1
                choice = proxy[2][rid] if proxy and proxy[2][rid] else dice.choice_of(odds)
                receipt = unique(dice.receipt, receipts)
                via = Channel.ONLINE if proxy else channel[idx]
                tables[Participation].append(
                    {
                        "id": self.next_id(Participation),
                        "resolution_id": rid,
                        "member_id": member_ids[idx],
                        "class_id": c,
                        "cast_at": dice.between(opens, min(closes, self.now)),
                        "choice": None if secret else choice,
                        "receipt": None if secret else receipt,
                        "proxy_id": proxy[0] if proxy else None,
                        "channel": via,
                    }
                )
                if secret:
                    tables[Ballot].append(
                        {
                            "id": dice.hex(),
                            "resolution_id": rid,
                            "class_id": c,
                            "choice": choice,
                            "receipt": receipt,
                            "channel": via,
                            "voter_tag": None
                            if closed
                            else ballots.voter_tag(rid, member_ids[idx]),
                        }
                    )
                if dice.random() < 0.3:
                    self.event(
                        dice.between(opens, min(closes, self.now)),
                        self.members[idx].user_id,
                        "vote.cast",
                        "resolution",
                        rid,
                        f"Vote cast on resolution {rid}",
                    )
            tables[TurnoutCount] += [
                {"resolution_id": rid, "class_id": c, "voted": n} for c, n in turnout.items()
            ]
        if kind is MeetingKind.AGM:
            self.elections(
                tables,
                meeting_id,
                starts,
                state,
                opens,
                closes,
                entries,
                primary_class,
                voters,
                cast_by_proxy,
                appointments,
            )

    def elections(
        self,
        tables: dict[type[Base], list[dict[str, Any]]],
        meeting_id: int,
        starts: datetime,
        state: MeetingState,
        opens: datetime,
        closes: datetime,
        entries: list[tuple[int, int, bool]],
        primary_class: dict[int, int],
        voters: list[int],
        cast_by_proxy: list[int],
        appointments: dict[int, Any],
    ) -> None:
        """An election for each class with seats, its candidates and ranked ballots."""
        dice, staff, day = self.dice, self.staff_id, timedelta(days=1)
        member_ids = [m.id for m in self.members]
        closed = state is not MeetingState.VOTING_OPEN
        for member_class in self.classes.values():
            pool = [idx for idx, c in primary_class.items() if c == member_class.id]
            seats = min(member_class.board_seats, dice.choice((1, 2)))
            if seats < 1 or len(pool) < seats + 3:
                continue
            eid = self.next_id(Election)
            secret = not (closed and member_class.code == "worker")  # one open election
            tables[Election].append(
                {
                    "id": eid,
                    "meeting_id": meeting_id,
                    "class_id": member_class.id,
                    "seats": seats,
                    "nominations_open_at": starts - 60 * day,
                    "nominations_close_at": starts - 40 * day,
                    "secret": secret,
                    "state": ElectionState.DECLARED if closed else ElectionState.VOTING_OPEN,
                    "voting_opens_at": opens,
                    "voting_closes_at": closes,
                    "tie_break_seed": dice.hex(),
                    "seed_published_at": opens,
                    "created_at": starts - 70 * day,
                    "created_by_id": staff,
                    "nominations_opened_at": starts - 60 * day,
                    "nominations_closed_at": starts - 40 * day,
                    "confirmed_at": starts - 38 * day,
                    "voting_opened_at": opens,
                    "counted_at": closes if closed else None,
                    "declared_at": closes + timedelta(hours=2) if closed else None,
                }
            )
            if closed:
                self.counted_elections.append(eid)
                self.declared[eid] = self.zone_day(starts)
            nominees = dice.sample(pool, min(len(pool) - 1, dice.randint(seats + 1, seats + 3)))
            candidate_ids, popularity = [], {}
            for k, idx in enumerate(nominees):
                cid = self.next_id(Candidate)
                seconder = dice.choice([p for p in pool[:50] if p != idx] or [nominees[k - 1]])
                withdrawn = (
                    k == len(nominees) - 1 and len(nominees) > seats + 1 and dice.random() < 0.3
                )
                tables[Candidate].append(
                    {
                        "id": cid,
                        "election_id": eid,
                        "member_id": member_ids[idx],
                        "nominated_by_id": member_ids[idx],
                        "nominated_at": starts - 55 * day,
                        "accepted_at": starts - 55 * day,
                        "seconded_by_id": member_ids[seconder],
                        "seconded_at": starts - 50 * day,
                        "statement": dice.sentence(30),
                        "state": CandidateState.WITHDRAWN
                        if withdrawn
                        else CandidateState.CONFIRMED,
                        "decided_at": None if withdrawn else starts - 38 * day,
                        "decided_by_id": None if withdrawn else staff,
                        "withdrawn_at": starts - 45 * day if withdrawn else None,
                    }
                )
                if not withdrawn:
                    candidate_ids.append(cid)
                    popularity[cid] = dice.uniform(0.5, 3)
            for grantor, (pid, pkind, _directions) in appointments.items():
                if primary_class.get(grantor) == member_class.id:
                    tables[ProxyRanking].append(
                        {
                            "id": self.next_id(ProxyRanking),
                            "appointment_id": pid,
                            "election_id": eid,
                            "ranking": self.ranking(candidate_ids, popularity)
                            if pkind is ProxyKind.DIRECTED
                            else None,
                        }
                    )
            receipts: set[str] = set()
            for idx in (*voters, *cast_by_proxy):
                if primary_class[idx] != member_class.id:
                    continue
                ranking, receipt = (
                    self.ranking(candidate_ids, popularity),
                    unique(dice.receipt, receipts),
                )
                proxy = appointments.get(idx)
                tables[ElectionParticipation].append(
                    {
                        "id": self.next_id(ElectionParticipation),
                        "election_id": eid,
                        "member_id": member_ids[idx],
                        "cast_at": dice.between(opens, min(closes, self.now)),
                        "ranking": None if secret else ranking,
                        "receipt": None if secret else receipt,
                        "proxy_id": proxy[0] if proxy else None,
                        "channel": Channel.ONLINE,
                    }
                )
                if secret:
                    tables[RankedBallot].append(
                        {
                            "id": dice.hex(),
                            "election_id": eid,
                            "ranking": ranking,
                            "receipt": receipt,
                            "channel": Channel.ONLINE,
                            "voter_tag": None
                            if closed
                            else election_ballots.voter_tag(eid, member_ids[idx]),
                        }
                    )

    def ranking(self, candidates: list[int], popularity: dict[int, float]) -> str:
        """A voter's ranking: candidates in an order their popularity makes likely."""
        order = sorted(
            candidates, key=lambda c: self.dice.random() ** (1 / popularity[c]), reverse=True
        )
        return ",".join(str(c) for c in order[: self.dice.randint(1, len(order))])

    def minutes(
        self,
        tables: dict[type[Base], list[dict[str, Any]]],
        meeting_id: int,
        title: str,
        at: datetime,
    ) -> None:
        """The published minutes: a Minutes document in the library and the draft it came
        from."""
        doc_id, staff = self.next_id(Document), self.staff_id
        body = f"# Minutes of the {title}\n\n" + "\n\n".join(
            self.dice.sentence(20) for _ in range(12)
        )
        tables[Document].append(
            {
                "id": doc_id,
                "slug": f"minutes-meeting-{meeting_id}",
                "title": f"Minutes: {title}",
                "summary": f"The minutes of the {title}.",
                "category": DocumentCategory.MINUTES,
                "visibility": Visibility.MEMBERS,
                "approved_by": "",
                "is_rulebook": False,
                "created_at": at,
            }
        )
        tables[DocumentVersion].append(
            {
                "id": self.next_id(DocumentVersion),
                "document_id": doc_id,
                "number": 1,
                "format": VersionFormat.MARKDOWN,
                "body": body,
                "body_html": rendered_body(f"Minutes: {title}", body),
                "effective_on": self.zone_day(at),
                "change_note": "Minutes published",
                "published_at": at,
                "published_by_id": staff,
            }
        )
        tables[MeetingMinutes].append(
            {
                "meeting_id": meeting_id,
                "chair": "Aoife Brennan",
                "body": body,
                "saved_at": at,
                "saved_by_id": staff,
                "document_id": doc_id,
            }
        )

    # -- counting, audit, counters, checks ----------------------------------------------------

    def count_votes(self, stage: _Stage) -> None:
        """Count every closed resolution and counted election with the app's own count, and
        store it as closing does; the declared elections' directors go on the board."""
        with self.app.test_request_context("/"), write_session(self.app) as db:
            for resolution in db.scalars(
                select(Resolution).where(Resolution.id.in_(self.closed_resolutions))
            ):
                tally = closing.count_resolution(db, resolution)
                resolution.tally = tally.as_json()
                resolution.result = tally.result
                resolution.votes_for = tally.votes_for
                resolution.votes_against = tally.against
                resolution.abstentions = tally.abstain
                self.event(
                    resolution.closed_at,
                    None,
                    "resolution.closed",
                    "resolution",
                    resolution.id,
                    f"Resolution {resolution.number}: "
                    f"{tally.result.label} (For {tally.votes_for}, Against "
                    f"{tally.against}, Abstain {tally.abstain})",
                )
                stage.rows += 1
            for election in db.scalars(
                select(Election).where(Election.id.in_(self.counted_elections))
            ):
                count = voting.count_election(db, election)
                election.result_json = count.as_json()
                start = self.declared[election.id]
                for candidate_id in count.elected:
                    candidate = db.get(Candidate, candidate_id)
                    db.add(
                        Director(
                            member_id=candidate.member_id,
                            class_id=election.class_id,
                            term_started_on=start,
                            # to the next AGM, which elects to the seats again: the
                            # board never holds more directors than its seats
                            term_ends_on=voting.years_after(start, 1),
                            election_id=election.id,
                            recorded_at=election.declared_at,
                        )
                    )
                stage.rows += 1

    def seed_audit(self, stage: _Stage) -> None:
        """The events gathered while seeding (the app's actions on real targets), thinned or
        topped up with sign-ins to 1,500,000, in time order."""
        dice = self.dice
        want = scaled(self.n, 1_500_000, 100)
        events = self.audit
        if len(events) > want:
            events = dice.sample(events, want)
        while len(events) < want:
            m = self.members[dice.randrange(len(self.members))]
            at = dice.between(m.admitted_at, m.ceased_at or self.now)
            action = dice.choice_of(
                {"user.logged_in": 8, "member.profile_changed": 1, "user.signed_out": 2}
            )
            events.append(
                (
                    at,
                    m.user_id,
                    action,
                    "user",
                    str(m.user_id),
                    f"{action.split('.')[1].replace('_', ' ').capitalize()}: member no. {m.number}",
                )
            )
        events.sort(key=lambda e: e[0])
        ips = [f"203.0.113.{k}" for k in range(1, 255)]
        rows = []
        for at, actor, action, target, target_id, summary in events:
            rows.append(
                {
                    "id": self.next_id(AuditEvent),
                    "at": at,
                    "actor_id": actor,
                    "action": action,
                    "object_type": target,
                    "object_id": target_id,
                    "summary": summary,
                    "ip": dice.choice(ips),
                }
            )
            if len(rows) == BATCH:
                bulk(self.engine, AuditEvent, rows, stage, self.report)
                rows = []
        bulk(self.engine, AuditEvent, rows, stage, self.report)
        self.audit = []

    def advance_counters(self) -> None:
        """Member and certificate numbers and the ledger's sequence continue after the seed;
        on PostgreSQL every id sequence continues after the ids given here."""
        values = {
            MEMBER_NUMBER: self.n,
            CERTIFICATE_COUNTER: self.certificate_number,
            LEDGER_COUNTER: self.ledger_seq,
        }
        with self.app.test_request_context("/"), write_session(self.app) as db:
            for name, value in values.items():
                if value and next_number(db, name) <= value:
                    db.execute(update(Counter).where(Counter.name == name).values(value=value))
        if self.engine.dialect.name == "postgresql":
            with self.engine.begin() as conn:
                for table in Base.metadata.sorted_tables:
                    if (
                        "id" in table.c
                        and table.c.id.autoincrement is not False
                        and str(table.c.id.type) == "INTEGER"
                    ):
                        conn.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                f"(SELECT coalesce(max(id), 0) + 1 FROM {table.name}), false)"
                            )
                        )
            # what autovacuum does soon after a bulk load anyway: timings do not wait on it
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
        # SQLite: no ANALYZE, as the app never runs one, so the planner sees what it would.

    def check_register(self, stage: _Stage) -> bool:
        with self.app.app_context(), database(self.app).session(write=False) as db:
            result = check_register(db)
        stage.rows = result.rows
        for problem in result.problems[:20]:
            self.report.out(f"  PROBLEM: {problem}")
        self.report.out(
            f"  check-register: {'clean' if result.ok else 'PROBLEMS'}, {result.rows:,} rows"
        )
        return result.ok

    def check_votes(self) -> bool:
        with self.app.app_context(), database(self.app).session(write=False) as db:
            resolutions, elections = voting.check_votes(db)
        problems = resolutions.problems + elections.problems
        for problem in problems[:20]:
            self.report.out(f"  PROBLEM: {problem}")
        self.report.out(
            f"  check-votes: {'clean' if not problems else 'PROBLEMS'}, "
            f"{resolutions.checked} resolutions, {elections.checked} elections"
        )
        return not problems

    def table_counts(self) -> dict[str, int]:
        """Every table's rows (those the seed wrote to and the preset's), largest first."""
        with self.engine.connect() as conn:
            counts = {
                table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in Base.metadata.sorted_tables
            }
        return dict(sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: -kv[1]))

    def size(self) -> str:
        """The database's size on disk (SQLite) or as PostgreSQL counts it."""
        with self.engine.connect() as conn:
            if self.engine.dialect.name == "postgresql":
                size = conn.execute(
                    text("SELECT pg_database_size(current_database())")
                ).scalar_one()
            else:
                path = Path(self.engine.url.database or "")
                size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
        return f"database {size / 1e6:,.0f} MB"


def seed(
    app: Flask, members: int, *, seed: int = 16, out: Callable[[str], None] = print
) -> tuple[bool, Report]:
    """Seed ``app``'s empty (migrated) database with ``members`` members and the rest to
    scale; whether check-register and check-votes came out clean, and the report."""
    seeder = Seeder(app, members, seed=seed, out=out)
    # No app context around the whole run: each stage opens and closes its own, so no
    # session kept in it holds a read open (on SQLite that would stop every checkpoint and
    # grow the WAL past the database itself).
    ok = seeder.run()
    return ok, seeder.report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000, help="at least 1")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument(
        "--instance",
        type=Path,
        default=Path("instance-seed"),
        help="the instance folder (SQLite database, secret key)",
    )
    parser.add_argument("--seed", type=int, default=16, help="the random seed")
    args = parser.parse_args(argv)
    if args.members < 1:
        parser.error("--members must be at least 1")
    args.instance.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {"INSTANCE_PATH": str(args.instance.resolve())}
    if args.database_url:
        config["DATABASE_URL"] = args.database_url
    app = create_app(config)
    with app.app_context():
        upgrade(database(app).engine)  # flask init-db
        with write_session(app) as db:
            coop.stored_settings(db)
    ok, _report = seed(app, args.members, seed=args.seed)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
