"""The demo co-op of a preset: its settings, documents, people and a lived-in register.

Every word of the co-op comes from its preset (``portal/presets/``) and its documents
(``portal/seed_documents/<preset>/``). Seeding goes through the same services as the app
(apply, approve, pay, resign…), so the demo data obeys every rule and leaves the same
audit trail as real use would.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyotp
from sqlalchemy.orm import Session

from . import coop
from .models import (
    Choice,
    Election,
    Meeting,
    MeetingKind,
    MemberStatus,
    ProxyAppointment,
    ProxyKind,
    ResolutionKind,
    Role,
    User,
    utcnow,
)
from .models.base import told_at
from .presets import PRESETS, Demo, DemoPerson, MeetingPreset, Preset
from .services import settings
from .services.accounts import two_factor, users
from .services.documents import publishing
from .services.elections import ballots as election_ballots
from .services.elections import board, nominations
from .services.elections import voting as election_voting
from .services.meetings import (
    ballots,
    lifecycle,
    minutes,
    proposals,
    proxies,
    requisitions,
)
from .services.membership import applications, leaving, review
from .services.membership.applications import ApplicationInput
from .services.register import classes, members
from .services.shares import orders, payments, share_types, withdrawals
from .services.shares.certificates import CertificateRenderer

# The two-factor key of every demo staff member and admin: public, like their passwords, so
# a person trying the demo can make codes (README, "Trying it"). Never a real account's.
DEMO_TWO_FACTOR_SECRET = "REVERBDEMOSTAFFKEYISPUBLICFAKEAA"  # noqa: S105 (public demo data)


def _apply(
    db: Session, demo: Demo, user: User, code: str, answers: Mapping[str, str], town: str
) -> Any:
    member_class = classes.find_class(db, code)
    assert member_class is not None, code
    application = applications.start_application(db, user, member_class)
    given = ApplicationInput(
        answers=dict(answers or demo.answers.get(code, {})),
        address={
            "address_line1": f"{len(user.name) + 3} Main Street",
            "town": town,
            "country": demo.country,
        },
        accept_rules=True,
    )
    return applications.submit_application(db, application, given, actor=user)


def _join(
    db: Session, demo: Demo, user: User, codes: tuple[str, ...], staff: User, town: str
) -> None:
    """Apply to each class; staff approve (the membership share is paid later, or not)."""
    for code in codes:
        application = _apply(db, demo, user, code, {}, town)
        if application.can_approve:
            review.approve_application(db, application, actor=staff)


def _member(db: Session, email: str) -> Any:
    return members.member_for_user(db, users.find_user_by_email(db, email))


def _vote_in_last_class(db: Session, person: DemoPerson) -> None:
    """A member of several classes votes in the last they joined (their primary class)."""
    member = _member(db, person.email)
    if member is not None and len(person.classes) > 1:
        member_class = classes.find_class(db, person.classes[-1])
        members.set_primary_class(db, member, member_class, actor=member.user)


def _payment(amount_minor: int, demo: Demo, db: Session, reference: str) -> payments.Payment:
    """A bank transfer as the co-op's statement shows it: "<bank> <reference>"."""
    return payments.Payment(
        amount_minor=amount_minor,
        paid_on=coop.today(db),
        method="bank_transfer",
        reference=f"{demo.bank} {reference}",
    )


def _pay(db: Session, demo: Demo, order: Any, staff: User, render: CertificateRenderer) -> None:
    payment = _payment(order.amount_minor, demo, db, order.payment_reference)
    payments.settle_order(db, order, payment, actor=staff, render=render)


def _buy(
    db: Session,
    demo: Demo,
    email: str,
    quantity: int,
    staff: User,
    render: CertificateRenderer | None,
) -> Any:
    """A member orders investment shares; returns them (render=None leaves it unpaid)."""
    member = _member(db, email)
    investment = share_types.find_type(db, demo.investment)
    order = orders.place_order(db, member, investment, quantity, actor=member.user)
    if render is not None:
        _pay(db, demo, order, staff, render)
    return member


def _seed_shares(db: Session, demo: Demo, staff: User, render: CertificateRenderer) -> None:
    """Investment shares and withdrawals: a lived-in register.

    The holder holds the membership share and 25 investment shares on two certificates,
    has asked to withdraw 5 and has an order for 10 more awaiting payment. The chair
    bought 50 and withdrew 20, so one certificate is superseded.
    """
    investment = share_types.find_type(db, demo.investment)

    holder = _buy(db, demo, demo.holder, 25, staff, render)
    withdrawals.request_withdrawal(
        db, holder, investment, 5, reason=demo.withdrawal_reason, actor=holder.user
    )
    _buy(db, demo, demo.holder, 10, staff, None)

    chair = _buy(db, demo, demo.chair, 50, staff, render)
    withdrawal = withdrawals.request_withdrawal(
        db, chair, investment, 20, reason="", actor=chair.user
    )
    withdrawals.approve_withdrawal(db, withdrawal, decision_reference=demo.decision, actor=staff)
    withdrawals.record_repayment(
        db,
        withdrawal,
        _payment(withdrawal.amount_minor, demo, db, "OUT-0917"),
        actor=staff,
        render=render,
    )
    for email, quantity in demo.purchases:
        _buy(db, demo, email, quantity, staff, render)


DOCUMENTS = Path(__file__).parent / "seed_documents"


def _table_rows(index: Path) -> list[list[str]]:
    """The body rows of the Markdown tables in ``index``, as lists of cells."""
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in index.read_text().splitlines()
        if line.startswith("| ") and not line.startswith(("| File |", "| Slug |"))
    ]


def seed_documents(db: Session, folder: Path, staff: User) -> None:
    """The library from the preset's ``index.md``: its documents, then one row per version."""
    rows = _table_rows(folder / "index.md")
    about = {row[0]: (row[1], row[2]) for row in rows if len(row) == 3}
    made: dict[str, Any] = {}
    for file_name, slug, _number, title, category, visibility, effective, note in (
        row for row in rows if len(row) == 8
    ):
        if slug not in made:
            summary, approved_by = about[slug]
            made[slug] = publishing.create_document(
                db,
                title=title,
                slug=slug,
                category=category.lower(),
                visibility=visibility,
                summary=summary,
                approved_by=approved_by,
                actor=staff,
            )
        publishing.publish_markdown(
            db,
            made[slug],
            body=(folder / file_name).read_text(),
            effective_on=date.fromisoformat(effective),
            change_note=note,
            actor=staff,
        )
    publishing.mark_rulebook(db, made["rules"], actor=staff)


def _extra_email(demo: Demo, n: int, kind: str = "member") -> str:
    return f"{kind}{n + 1}@{demo.domain}"


@dataclass(frozen=True)
class _Story:
    """The demo's dates: days in the co-op's zone (``CoopSettings.timezone``). A demo with
    no past (no ``Demo.founded_on``) is told at the real time."""

    demo: Demo
    zone: ZoneInfo

    @property
    def today(self) -> date:
        return datetime.now(self.zone).date()

    def instant(self, day: date, clock_time: time) -> datetime:
        """``clock_time`` on ``day`` in the co-op's zone, in UTC."""
        return datetime.combine(day, clock_time, self.zone).astimezone(UTC)

    def on(self, day: date, clock_time: time = time(10)) -> AbstractContextManager[None]:
        """Time stands at ``clock_time`` on ``day`` while the block runs."""
        if self.demo.founded_on is None:
            return nullcontext()
        return told_at(self.instant(day, clock_time))


def seed(
    db: Session,
    config: Mapping[str, Any],
    preset: str = "resonate",
    *,
    render: CertificateRenderer | None = None,
) -> bool:
    """Create the preset's demo co-op in an empty database; False if it holds data already.

    With ``render`` (the certificate renderer), shares are bought and paid too: only a
    paid membership share makes a member, so only then are the preset's meetings held.
    A preset with a past (``Demo.founded_on``) tells it in order: the founding members
    join that day, its meetings are held on their dates, and what happened since (shares
    bought, members lapsed or gone, applications) comes last.
    """
    if users.count_users(db):
        return False
    chosen = PRESETS[preset]
    demo = chosen.demo
    story = _Story(demo, ZoneInfo(chosen.settings["timezone"]))
    today = story.today
    with story.on(demo.founded_on or today):
        staff = _found(db, chosen)
        if render is not None:
            _pay_membership(db, demo, staff, render)
    if render is not None:
        past = sorted((m for m in demo.meetings if m.held_on), key=lambda m: m.held_on or today)
        for meeting in past:
            _hold_meeting(db, story, meeting, staff)
        # Coming meetings with a call for resolutions or elections were drafted some weeks
        # ahead.
        coming = [
            (m, _draft_meeting(db, story, m, staff) if _drafted_early(m) else None)
            for m in demo.meetings
            if m.held_on is None
        ]
        # A month ago: after the past meetings, before the record date of a coming one.
        with story.on(max(today - timedelta(days=30), demo.founded_on or today)):
            _seed_shares(db, demo, staff, render)
            _seed_fates(db, demo, staff)
        _seed_newcomers(db, story, staff, render)
        for preset_meeting, drafted in coming:
            meeting = drafted or _draft_meeting(db, story, preset_meeting, staff)
            _run_meeting(db, story, preset_meeting, meeting, staff)
    _seed_applicants(db, demo, staff)
    return True


def _found(db: Session, chosen: Preset) -> User:
    """The co-op's settings, people, library and founding members; its acting staff."""
    demo = chosen.demo
    settings.apply_preset(db, chosen)
    people = {
        person.email: users.create_user(
            db,
            name=person.name,
            email=person.email,
            password=person.password,
            role=person.role,
            title=person.title,
            verified=True,
        )
        for person in demo.people
    }
    for user in people.values():
        if user.is_staff:  # the staff pages need two-factor sign-in
            db.flush()
            two_factor.enrol_with_secret(db, user, DEMO_TWO_FACTOR_SECRET)
    staff = people[demo.acting_staff.email]
    seed_documents(db, DOCUMENTS / chosen.name, staff)  # first: applicants accept the rules
    for person in demo.people:
        if person.classes:
            _join(db, demo, people[person.email], person.classes, staff, person.town)
    for n, extra in enumerate(demo.extra_members):
        user = users.create_user(
            db,
            name=extra.name,
            email=_extra_email(demo, n),
            password=demo.extra_password,
            verified=True,
        )
        _join(db, demo, user, (extra.class_code,), staff, extra.town)
    return staff


def _pay_membership(db: Session, demo: Demo, staff: User, render: CertificateRenderer) -> None:
    """Membership shares paid (but some), which admits their applicants; each member of
    several classes then votes in the last they joined."""
    unpaid = {
        _extra_email(demo, n)
        for n, extra in enumerate(demo.extra_members)
        if extra.fate == "unpaid"
    }
    for order in orders.pending_orders(db):
        payer = order.member.user if order.member else order.application.user
        if payer is None or payer.email not in unpaid:
            _pay(db, demo, order, staff, render)  # a membership share paid admits its applicant
    for person in demo.people:
        _vote_in_last_class(db, person)


def _seed_fates(db: Session, demo: Demo, staff: User) -> None:
    """Members who lapsed or resigned since they joined."""
    for n, extra in enumerate(demo.extra_members):
        member = _member(db, _extra_email(demo, n))
        if extra.fate == "lapsed":
            leaving.set_status(db, member, MemberStatus.LAPSED, demo.lapse_note, actor=staff)
        elif extra.fate == "ceased":
            resignation = leaving.request_resignation(
                db, member, demo.resignation_note, actor=member.user
            )
            leaving.confirm_resignation(db, resignation, actor=staff)


def _seed_newcomers(db: Session, story: _Story, staff: User, render: CertificateRenderer) -> None:
    """Members who joined lately, 20 days ago (after a coming meeting's record date), and
    the requisitions started since, each signer signing a day after the last."""
    demo = story.demo
    if not demo.newcomers and not demo.requisitions:
        return
    joined_on = story.today - timedelta(days=20)
    with story.on(joined_on):
        emails = set()
        for n, newcomer in enumerate(demo.newcomers):
            email = _extra_email(demo, len(demo.extra_members) + n)
            user = users.create_user(
                db, name=newcomer.name, email=email, password=demo.extra_password, verified=True
            )
            _join(db, demo, user, (newcomer.class_code,), staff, newcomer.town)
            emails.add(email)
        for order in orders.pending_orders(db):
            if order.application is not None and order.application.user.email in emails:
                _pay(db, demo, order, staff, render)  # their membership share admits them
    for spec in demo.requisitions:
        member_class = classes.find_class(db, spec.class_code) if spec.class_code else None
        kind = MeetingKind.CLASS if member_class is not None else MeetingKind.EGM
        given = requisitions.RequisitionInput(kind, member_class, spec.purpose, spec.resolutions)
        with story.on(joined_on + timedelta(days=1)):
            starter = _member(db, spec.signers[0])
            requisition = requisitions.start_requisition(db, starter, given, actor=starter.user)
        for n, email in enumerate(spec.signers[1:]):
            with story.on(joined_on + timedelta(days=2 + n)):
                signer = _member(db, email)
                requisitions.sign_requisition(db, requisition, signer, actor=signer.user)


def _seed_applicants(db: Session, demo: Demo, staff: User) -> None:
    """Applications waiting for review, made lately; staff asked one applicant a question."""
    for person in demo.people:
        if person.applies_to:
            user = users.find_user_by_email(db, person.email)
            _apply(db, demo, user, person.applies_to, person.answers, person.town)
    for n, applicant in enumerate(demo.extra_applicants):
        user = users.create_user(
            db,
            name=applicant.name,
            email=_extra_email(demo, n, "applicant"),
            password=demo.extra_password,
            verified=True,
        )
        application = _apply(
            db, demo, user, applicant.class_code, applicant.answers, applicant.town
        )
        if applicant.question:
            review.ask_for_information(db, application, applicant.question, actor=staff)


CHOICES = {"F": "for", "A": "against", "X": "abstain"}  # as ``ResolutionPreset.votes``


def _hold_meeting(db: Session, story: _Story, preset: MeetingPreset, staff: User) -> Meeting:
    """A general meeting told day by day through the app's services (``MeetingPreset``)."""
    return _run_meeting(db, story, preset, _draft_meeting(db, story, preset, staff), staff)


def _drafted_early(preset: MeetingPreset) -> bool:
    """A meeting taking members' proposals or nominations is drafted 50 days ahead."""
    return bool(preset.proposals or preset.elections)


def _draft_meeting(db: Session, story: _Story, preset: MeetingPreset, staff: User) -> Meeting:
    """The meeting created with the board's resolutions; with members' proposals or board
    elections, 50 days ahead with a call for resolutions, in which they are proposed and
    seconded, and the elections' nominations (``_demo_elections``)."""
    held_on = _held_on(story, preset)
    starts_at = story.instant(held_on, time(11))
    drafted_on = held_on - timedelta(days=50 if _drafted_early(preset) else 22)
    with story.on(drafted_on, time(9)):
        given = lifecycle.MeetingInput(
            kind=MeetingKind.AGM,
            title=preset.title,
            starts_at=starts_at,
            record_date=held_on - timedelta(days=29),
            place=preset.place,
            online_url=preset.online_url,
        )
        meeting = lifecycle.create_meeting(db, given, actor=staff)
        for spec in preset.resolutions:
            lifecycle.add_resolution(
                db,
                meeting,
                title=spec.title,
                text=spec.text,
                kind=spec.kind,
                member_class=classes.find_class(db, spec.class_code) if spec.class_code else None,
                secret=spec.secret,
                closes_at=starts_at + timedelta(hours=2),
                actor=staff,
            )
        if preset.proposals:
            call = proposals.CallInput(drafted_on, held_on - timedelta(days=30))
            proposals.set_call(db, meeting, call, actor=staff)
    for n, proposal in enumerate(preset.proposals):
        with story.on(drafted_on + timedelta(days=4 + n)):
            proposer = _member(db, proposal.proposer)
            given_proposal = proposals.ProposalInput(
                proposal.resolution.title, proposal.resolution.text, proposal.reason
            )
            made = proposals.submit_proposal(
                db, meeting, proposer, given_proposal, actor=proposer.user
            )
        with story.on(drafted_on + timedelta(days=6 + n)):
            seconder = _member(db, proposal.seconder)
            proposals.second_proposal(db, made, seconder, actor=seconder.user)
    _demo_elections(db, story, preset, meeting, staff, drafted_on)
    return meeting


def _years_after(day: date, years: int) -> date:
    """The same day ``years`` later (28 February for a 29th with no leap year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _demo_elections(
    db: Session,
    story: _Story,
    preset: MeetingPreset,
    meeting: Meeting,
    staff: User,
    drafted_on: date,
) -> list[Election]:
    """The meeting's board elections, up to their confirmed candidate lists (issue 15).

    The day the meeting is drafted, staff record the board in office (``preset.directors``)
    and put each election on the meeting, nominations open until 30 days before it. Each
    candidate is nominated a day after the last (another member's nominee accepts the
    next day with their statement) and seconded nine days after their nomination; the day
    after nominations close staff confirm every candidate and the list, so the notice
    prints it. Voting on the elections opens with the meeting's, after this.
    """
    held_on = _held_on(story, preset)
    with story.on(drafted_on, time(9, 30)):
        for spec in preset.directors:
            board.record_director(
                db,
                _member(db, spec.email),
                classes.find_class(db, spec.class_code),
                spec.started_on,
                _years_after(held_on, spec.years_past_meeting),
                actor=staff,
            )
        elections = []
        for election_spec in preset.elections:
            window = nominations.ElectionInput(
                election_spec.seats, drafted_on, held_on - timedelta(days=30)
            )
            election = nominations.create_election(
                db, meeting, classes.find_class(db, election_spec.class_code), window, actor=staff
            )
            elections.append(nominations.open_nominations(db, election, actor=staff))
    made = []
    specs = [
        (election, candidate)
        for election, spec in zip(elections, preset.elections, strict=True)
        for candidate in spec.candidates
    ]
    for n, (election, spec) in enumerate(specs):
        nominee = _member(db, spec.email)
        with story.on(drafted_on + timedelta(days=1 + n)):
            if not spec.nominator:
                candidate = nominations.nominate(
                    db, election, nominee, nominee, statement=spec.statement, actor=nominee.user
                )
            else:
                nominator = _member(db, spec.nominator)
                candidate = nominations.nominate(
                    db, election, nominator, nominee, actor=nominator.user
                )
        if spec.nominator:
            with story.on(drafted_on + timedelta(days=2 + n)):
                nominations.accept_nomination(
                    db, candidate, nominee, statement=spec.statement, actor=nominee.user
                )
        made.append((candidate, spec))
    for n, (candidate, spec) in enumerate(made):
        with story.on(drafted_on + timedelta(days=10 + n)):
            seconder = _member(db, spec.seconder)
            nominations.second_nomination(db, candidate, seconder, actor=seconder.user)
    with story.on(held_on - timedelta(days=29)):
        for election in elections:
            nominations.close_nominations(db, election, actor=staff)
            for candidate in nominations.standing_candidates(db, election):
                nominations.confirm_candidate(db, candidate, actor=staff)
            nominations.confirm_candidate_list(db, election, actor=staff)
    return elections


def _held_on(story: _Story, preset: MeetingPreset) -> date:
    return preset.held_on or story.today + timedelta(days=preset.held_in_days)


def _run_meeting(
    db: Session, story: _Story, preset: MeetingPreset, meeting: Meeting, staff: User
) -> Meeting:
    """From notice on: members' proposals accepted the day before notice, notice given,
    proxies appointed, voting opened, the voters' votes cast, and, once past, voting closed
    and counted at its closing time as ``close-due-votes`` would."""
    held_on = _held_on(story, preset)
    # Members' resolutions are voted on in the same window as the board's.
    closes_at = max((r.closes_at for r in meeting.resolutions if r.closes_at), default=None)
    with story.on(held_on - timedelta(days=23)):
        for proposal in proposals.meeting_proposals(db, meeting):
            kind = ResolutionKind.ORDINARY  # as the proposal asks; staff may say otherwise
            proposals.accept_proposal(db, proposal, kind=kind, closes_at=closes_at, actor=staff)
    with story.on(held_on - timedelta(days=22), time(9)):
        lifecycle.send_notice(db, meeting, actor=staff)
    appointed = _appoint_proxies(db, story, preset, meeting, held_on)
    with story.on(held_on - timedelta(days=8)):
        lifecycle.open_voting(db, meeting, actor=staff)
        elections = election_voting.open_elections(db, meeting, actor=staff)
    specs = preset.all_resolutions
    with story.on(held_on - timedelta(days=7), time(20)):
        for n, email in enumerate(preset.voters):
            voter = _member(db, email)
            for resolution, spec in zip(meeting.resolutions, specs, strict=True):
                if spec.votes[n] in CHOICES:
                    ballots.cast_vote(
                        db, resolution, voter, CHOICES[spec.votes[n]], actor=voter.user
                    )
        _cast_rankings(db, preset, elections)
    with story.on(held_on - timedelta(days=7), time(21)):
        for appointment, spec in zip(appointed, preset.proxies, strict=True):
            holder = appointment.holder
            for resolution, letter in zip(meeting.resolutions, spec.cast, strict=False):
                if letter in CHOICES and holder is not None:
                    proxies.cast_proxy(
                        db,
                        appointment,
                        resolution,
                        CHOICES[letter],
                        holder=holder,
                        actor=holder.user,
                    )
    if preset.held_on is not None:
        closes_at = max(r.closes_at for r in meeting.resolutions if r.closes_at is not None)
        with told_at(closes_at + timedelta(minutes=1)):
            election_voting.close_if_due(db, meeting)
        # The secretary writes up the minutes three weeks later, from the meeting's own
        # figures (as the staff page pre-fills them), and publishes them to members.
        with story.on(held_on + timedelta(days=21), time(10)):
            body = _minutes_body(minutes.prefilled_body(db, meeting), preset.discussion)
            minutes.publish_minutes(db, meeting, chair=preset.chair, body=body, actor=staff)
    return meeting


def _cast_rankings(db: Session, preset: MeetingPreset, elections: list[Election]) -> None:
    """Each election's demo rankings (``ElectionPreset.rankings``), cast by the voters."""
    by_class = {election.member_class.code: election for election in elections}
    for spec in preset.elections:
        election = by_class[spec.class_code]
        # Nominated in the preset's order, a day apart.
        candidates = nominations.election_candidates(db, election)
        for email, order in spec.rankings:
            voter = _member(db, email)
            ranking = [candidates[int(place) - 1].id for place in order.split()]
            election_ballots.cast_ranking(db, election, voter, ranking, actor=voter.user)


def _appoint_proxies(
    db: Session, story: _Story, preset: MeetingPreset, meeting: Meeting, held_on: date
) -> list[ProxyAppointment]:
    """The meeting's proxies appointed a fortnight before it (each by its grantor), and
    accepted by their holders two days later where they did."""
    appointed = []
    with story.on(held_on - timedelta(days=14)):
        for spec in preset.proxies:
            grantor = _member(db, spec.grantor)
            kind = ProxyKind.DIRECTED if spec.directions else ProxyKind.DISCRETIONARY
            directions = {
                r.id: Choice(CHOICES[letter]) if letter in CHOICES else None
                for r, letter in zip(
                    meeting.resolutions,
                    spec.directions or "?" * len(meeting.resolutions),
                    strict=True,
                )
            }
            appointment = proxies.appoint_proxy(
                db,
                meeting,
                grantor,
                holder=_member(db, spec.holder) if spec.holder else None,  # "": the chair
                kind=kind,
                directions=directions,
                actor=grantor.user,
            )
            appointed.append(appointment)
    with story.on(held_on - timedelta(days=12)):
        for appointment, spec in zip(appointed, preset.proxies, strict=True):
            holder = appointment.holder
            if spec.accepted and holder is not None:
                proxies.answer_proxy(db, appointment, holder, accept=True, actor=holder.user)
    return appointed


def _minutes_body(body: str, discussion: Mapping[str, str]) -> str:
    """The pre-filled minutes with what was said under each agenda item (by its title) and
    at the close; items with nothing said lose their placeholder."""
    for title, said in discussion.items():
        if title == "Close":
            body = body.replace(minutes.CLOSING, said)
            continue
        heading = re.compile(rf"(### \d+\. {re.escape(title)}\n\n){re.escape(minutes.DISCUSSION)}")
        body = heading.sub(lambda found, said=said: found.group(1) + said, body)
    return body.replace(f"{minutes.DISCUSSION}\n\n", "")


def seeded_preset(db: Session) -> Preset | None:
    """The preset whose co-op this database holds (by its legal name), if any."""
    legal_name = coop.settings(db).legal_name
    return next((p for p in PRESETS.values() if p.settings["legal_name"] == legal_name), None)


def logins_text(preset: Preset) -> str:
    """The demo sign-ins of ``preset``'s co-op, for the terminal."""
    people = preset.demo.people
    lines = [f"Demo sign-ins for {preset.settings['legal_name']}:"]
    width = max(len(p.email) for p in people)
    for person in people:
        lines.append(f"  {person.email:<{width}}  {person.password:<28} {person.note}")
    if any(person.role is not Role.MEMBER for person in people):
        lines += [
            "Staff and admins also type a code (two-factor sign-in). Get the current one with",
            "  .venv/bin/flask --app portal demo-code",
            f"or add the demo key {DEMO_TWO_FACTOR_SECRET} to an authenticator app",
            f"(or: oathtool --totp -b {DEMO_TWO_FACTOR_SECRET}).",
        ]
    return "\n".join(lines)


def two_factor_code() -> tuple[str, int]:
    """The demo staff's sign-in code now, and the seconds it has left."""
    totp = pyotp.TOTP(DEMO_TWO_FACTOR_SECRET)
    now = utcnow()
    return totp.at(now), int(totp.interval - now.timestamp() % totp.interval)
