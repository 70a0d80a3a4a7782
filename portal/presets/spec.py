"""What a preset co-op is made of: its settings, classes, share types and demo people.

Every co-op-specific word lives in a preset (or in its documents under
``portal/seed_documents/<preset>/``): nothing of one co-op is written into the code, so a
co-op started from one preset holds no text of another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..models import AdmissionRule, QuestionKind, ResolutionKind, Role


@dataclass(frozen=True)
class QuestionPreset:
    key: str
    label: str
    kind: QuestionKind = QuestionKind.TEXT
    help: str = ""
    required: bool = True


@dataclass(frozen=True)
class ClassPreset:
    code: str
    name: str
    summary: str
    description: str
    admission_rule: AdmissionRule
    annual_fee_minor: int = 0
    required_shares: int = 1
    board_seats: int = 0
    voting_weight: int = 0
    questions: tuple[QuestionPreset, ...] = ()


@dataclass(frozen=True)
class ShareTypePreset:
    """A share type; ``{par}`` in the description becomes its par value in the currency."""

    code: str
    name: str
    description: str
    par_value_minor: int = 100
    voting: bool = False
    min_quantity: int = 1
    step: int = 1
    max_quantity: int | None = None
    transferable: bool = False
    withdrawable: bool = False
    cancelled_on_ceasing: bool = False


@dataclass(frozen=True)
class DemoPerson:
    """A demo sign-in: who, their password (public by design), and what they show.

    A member joins ``classes`` in order (the last is their primary class); someone with
    ``applies_to`` has applied to that class and waits for review.
    """

    name: str
    email: str
    role: Role
    password: str
    note: str
    classes: tuple[str, ...] = ()
    town: str = ""
    applies_to: str = ""
    answers: Mapping[str, str] = field(default_factory=dict)
    title: str | None = None  # a staff member's office, named in the header


@dataclass(frozen=True)
class ExtraMember:
    """A member signed in by no one, who fills the register.

    ``fate``: "" stays a member; "lapsed", "ceased" (resigned) or "unpaid" (approved, the
    membership share not paid, so not yet a member).
    """

    name: str
    class_code: str
    town: str
    fate: str = ""


@dataclass(frozen=True)
class ExtraApplicant:
    """An applicant signed in by no one; staff asked them ``question`` when it is set."""

    name: str
    class_code: str
    answers: Mapping[str, str]
    town: str
    question: str = ""


@dataclass(frozen=True)
class ResolutionPreset:
    """A resolution put to a demo meeting, and how the meeting's voters voted on it.

    ``votes`` holds one letter per voter of the meeting, in their order: ``F`` for,
    ``A`` against, ``X`` abstain, ``.`` did not vote (or may not: another class's
    resolution).
    """

    title: str
    text: str  # Markdown: WHEREAS … RESOLVED
    votes: str
    kind: ResolutionKind = ResolutionKind.ORDINARY
    class_code: str = ""  # a class resolution's class
    secret: bool = False


@dataclass(frozen=True)
class ProposalPreset:
    """A resolution a member proposed in the meeting's call for resolutions (issue 14 §4):
    ``proposer`` and ``seconder`` are e-mails of members; staff accepted it onto the agenda
    after the board's resolutions, and the voters voted on it as its ``resolution`` says."""

    proposer: str
    seconder: str
    reason: str
    resolution: ResolutionPreset


@dataclass(frozen=True)
class ProxyPreset:
    """A member's proxy at a coming meeting (issue 14 §1), appointed after the notice.

    ``holder``: a member's e-mail, or "" for the chair. ``directions``: one letter per
    resolution (board's, then proposed), as ``ResolutionPreset.votes`` but ``?`` for "the
    holder decides"; "" makes the proxy discretionary. The holder accepted it when
    ``accepted`` (a proxy to the chair stands accepted); ``cast``: one letter per
    resolution that the holder cast before the demo's day, ``.`` for none.
    """

    grantor: str
    holder: str = ""
    directions: str = ""
    accepted: bool = True
    cast: str = ""


@dataclass(frozen=True)
class RequisitionPreset:
    """A requisition for a meeting (issue 14 §5) still collecting signatures: of the class
    ``class_code`` ("" a general meeting); ``signers`` are e-mails of members, the first
    started it, the others signed a day apart."""

    purpose: str
    resolutions: str
    signers: tuple[str, ...]
    class_code: str = ""


@dataclass(frozen=True)
class CandidatePreset:
    """A candidate in a demo election (issue 15): the member's ``email`` and ``statement``
    (Markdown). ``nominator`` is "" for a self-nomination, else the e-mail of the member of
    the class who nominated them (the nominee accepted the next day); ``seconder`` is the
    e-mail of the member of the class who seconded. Staff confirmed every one."""

    email: str
    statement: str
    seconder: str
    nominator: str = ""


@dataclass(frozen=True)
class ElectionPreset:
    """An election of a class's directors at a coming meeting: ``seats`` up (at most the
    class's board seats less those of directors continuing past the meeting) and its
    ``candidates``, in the order they were nominated."""

    class_code: str
    seats: int
    candidates: tuple[CandidatePreset, ...]
    # Rankings cast when voting opens: (voter's e-mail, the candidates' places in
    # ``candidates`` from 1, first preference first, e.g. "3 1").
    rankings: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DirectorPreset:
    """A director in office before the portal kept the board record, recorded by staff when
    the meeting is drafted: the member's ``email``, the class they sit for, the term's
    first day, and how many years after the meeting's day it ends (0: at the meeting, so
    the seat is up at it)."""

    email: str
    class_code: str
    started_on: date
    years_past_meeting: int = 0


@dataclass(frozen=True)
class MeetingPreset:
    """A general meeting of the demo's story, told through the app's services.

    Held on ``held_on`` (voting closed and counted), or, without it, ``held_in_days``
    after the day the demo is seeded (voting open then). Each is told the same way: the
    record date 29 days before, notice 22 days before (21 clear days), voting open from
    10:00 eight days before until 13:00 on the day, the meeting starting at 11:00 (the
    co-op's time zone). ``voters`` are e-mails of members on its roll.

    A coming meeting with ``proposals`` is drafted 50 days before, with a call for
    resolutions until 30 days before; those proposals are made and seconded in it and
    accepted a week before notice. Its ``proxies`` are appointed after the notice, before
    the voters vote (a grantor who votes themselves revokes their proxy for that vote).

    A coming meeting's ``directors`` (the board in office) are recorded when it is drafted,
    and its ``elections`` take nominations from then until 30 days before it; their
    candidate lists are confirmed before the notice, which prints them. Voting on them
    opens with the meeting's (not seeded here).
    """

    title: str
    place: str
    online_url: str
    voters: tuple[str, ...]
    resolutions: tuple[ResolutionPreset, ...]
    held_on: date | None = None
    held_in_days: int = 6
    # For a meeting held: who chaired it, and what was said under each agenda item (by its
    # title) in the minutes published three weeks later.
    chair: str = ""
    discussion: Mapping[str, str] = field(default_factory=dict)
    proposals: tuple[ProposalPreset, ...] = ()
    proxies: tuple[ProxyPreset, ...] = ()
    directors: tuple[DirectorPreset, ...] = ()
    elections: tuple[ElectionPreset, ...] = ()

    @property
    def all_resolutions(self) -> tuple[ResolutionPreset, ...]:
        """The board's resolutions, then the members' accepted ones, in agenda order."""
        return self.resolutions + tuple(p.resolution for p in self.proposals)


@dataclass(frozen=True)
class Demo:
    """The demo people of a preset co-op and the lived-in register they leave.

    ``holder`` holds 25 of the ``investment`` shares, has asked to withdraw 5 and has 10
    more on order; ``chair`` bought 50 and withdrew 20 (so a certificate is superseded);
    ``purchases`` are further shares bought and paid.

    With ``founded_on`` the register has a past: the demo people join and pay their
    membership shares that day, the ``meetings`` are held in it, and the shares bought,
    members lapsed or gone and applications made come later; without it everything
    happens on the day the demo is seeded, and there are no meetings.

    ``newcomers`` joined lately (20 days before the demo is seeded: after the record date
    of its coming meeting, so they are not on its roll); ``requisitions`` were started the
    day after and are collecting signatures.
    """

    country: str
    bank: str  # how the co-op's bank names itself on a statement: "AIB"
    people: tuple[DemoPerson, ...]
    answers: Mapping[str, Mapping[str, str]]  # what members of each class answered
    extra_members: tuple[ExtraMember, ...]
    extra_applicants: tuple[ExtraApplicant, ...]
    investment: str
    holder: str
    chair: str
    purchases: tuple[tuple[str, int], ...]
    withdrawal_reason: str
    lapse_note: str
    resignation_note: str
    decision: str = "Board minute 2026/09"  # the board's decision on the chair's withdrawal
    founded_on: date | None = None
    meetings: tuple[MeetingPreset, ...] = ()
    newcomers: tuple[ExtraMember, ...] = ()
    requisitions: tuple[RequisitionPreset, ...] = ()
    extra_password: str = "demo-extra-member-password-90"  # noqa: S105 (public demo data)

    @property
    def domain(self) -> str:
        """The demo's e-mail domain: every demo address is at it."""
        return self.people[0].email.split("@", 1)[1]

    def person(self, email: str) -> DemoPerson:
        """The demo person with this address."""
        return next(p for p in self.people if p.email == email)

    @property
    def acting_staff(self) -> DemoPerson:
        """The staff member who reviews, records payments and publishes in the demo."""
        return next(p for p in self.people if p.role is Role.STAFF)


@dataclass(frozen=True)
class Preset:
    """A whole co-op: settings, member classes, share types and (for the demo) its people.

    Its documents are Markdown files under ``portal/seed_documents/<name>/``.
    """

    name: str
    settings: dict[str, Any]
    classes: tuple[ClassPreset, ...]
    share_types: tuple[ShareTypePreset, ...]
    demo: Demo
