"""Members' own motions: the call for resolutions with a proposal awaiting a seconder and
one seconded, requisitions and one collecting signatures, and the staff's pages for them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import portal.coop
from portal.models import Meeting, Member
from portal.services.meetings import proposals, requisitions

from .crawl import Site, state


def _call_with_proposals(site: Site) -> int:
    """A draft meeting with an open call, one proposal seconded and one awaiting a seconder
    (put by members other than the crawl's own, so its member may second it)."""
    meeting_ref = site.make.meeting(state="draft", days=60, resolutions=())
    ann = site.make.member(classes=["listener"], name="Ann Proposer")
    bob = site.make.member(classes=["listener"], name="Bob Seconder")
    with site.make.session() as db:
        actor = site.make._reviewer(db)
        today = portal.coop.today(db)
        meeting = db.get(Meeting, meeting_ref.id)
        call = proposals.CallInput(today, today + timedelta(days=5))
        proposals.set_call(db, meeting, call, actor=actor)
        first = proposals.submit_proposal(
            db,
            meeting,
            db.get(Member, ann.id),
            proposals.ProposalInput(
                "Pay artists within 30 days",
                "RESOLVED that artists are paid within 30 days of each stream.",
                "Artists wait too long.",
            ),
            actor=actor,
        )
        proposals.second_proposal(db, first, db.get(Member, bob.id), actor=actor)
        proposals.submit_proposal(
            db,
            meeting,
            db.get(Member, bob.id),
            proposals.ProposalInput(
                "Publish the accounts monthly", "RESOLVED that the accounts …", "Openness."
            ),
            actor=actor,
        )
    return meeting_ref.id


@state("member", "staff")
def call_for_resolutions(site: Site) -> Any:
    return site.goto(f"/meetings/{_call_with_proposals(site)}/proposals")


@state("staff", "admin")
def staff_call_for_resolutions(site: Site) -> Any:
    return site.goto(f"/staff/meetings/{_call_with_proposals(site)}/proposals")


def _requisition(site: Site) -> int:
    workers = [site.make.member(classes=["worker"], name=f"Worker {i}") for i in range(12)]
    with site.make.session() as db:
        actor = site.make._reviewer(db)
        given = requisitions.RequisitionInput(
            kind=requisitions.KINDS[1],
            member_class=db.get(Member, workers[0].id).primary_class,
            purpose="Discuss the workers' pay scale.",
            resolutions="RESOLVED that the pay scale is published.",
        )
        requisition = requisitions.start_requisition(
            db, db.get(Member, workers[0].id), given, actor=actor
        )
        return requisition.id


@state("member", "staff")
def requisitions_list(site: Site) -> Any:
    _requisition(site)
    return site.goto("/meetings/requisitions")


@state("member", "staff")
def requisition_collecting(site: Site) -> Any:
    return site.goto(f"/meetings/requisitions/{_requisition(site)}")


@state("staff", "admin")
def staff_requisition(site: Site) -> Any:
    return site.goto(f"/staff/requisitions/{_requisition(site)}")
