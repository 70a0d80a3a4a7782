"""Proxies for staff and on paper (issue 14 §1): the chair's proxies on the staff pages,
the printed proxy form, staff recording a received form; and three fixes around them."""

from __future__ import annotations

import html
import io
from datetime import timedelta

import pytest
import time_machine
from pypdf import PdfReader
from sqlalchemy import func, select

from portal import coop as coop_module
from portal.models import (
    AuditEvent,
    Choice,
    Meeting,
    Participation,
    ProposalCall,
    ProxyAppointment,
    ProxySource,
)
from portal.services.meetings import proxies, staff_proxies

from . import test_member_motions, test_proxy_views
from .factories import HTMX, is_partial, reading

ann = test_proxy_views.ann
hal = test_proxy_views.hal


@pytest.fixture
def meeting(ann, hal, make_meeting):
    return make_meeting(
        resolutions=(
            {"title": "Approve the minutes"},
            {"title": "Elect the board", "secret": True},
        )
    )


# -- (a) the call for resolutions is shown and entered by its last day --------------------


def test_the_call_form_shows_the_last_day_and_saving_it_again_keeps_it(
    app, staff, sign_in, ann, make_meeting
):
    draft = make_meeting(state="draft", days=60, resolutions=())
    assert test_member_motions.open_call(staff, draft, app, closes=5).status_code == 303
    first_day = test_member_motions._today(app)
    last = first_day + timedelta(days=5)
    page = staff.get(f"/staff/meetings/{draft.id}/proposals").get_data(as_text=True)
    assert f'name="closes_on" type="date" value="{last.isoformat()}"' in page
    assert f"to the end of {last:%-d %B %Y}" in page
    with reading(app) as db:
        first = db.scalar(select(ProposalCall.closes_at))
    # Saving the form as shown moves nothing.
    again = staff.post(
        f"/staff/meetings/{draft.id}/proposals/call",
        data={"opens_on": first_day.isoformat(), "closes_on": last.isoformat()},
    )
    assert again.status_code == 303
    with reading(app) as db:
        assert db.scalar(select(ProposalCall.closes_at)) == first
    member_page = sign_in(ann.email).get(f"/meetings/{draft.id}/proposals")
    assert f"to the end of {last:%-d %B %Y}" in member_page.get_data(as_text=True)


# -- (b) a plain cast from the ballot page comes back to the ballot page ------------------


def test_a_plain_cast_from_the_ballot_page_returns_to_it(sign_in, factories, ann, hal, meeting):
    first, _ = meeting.resolution_ids
    appointment_id = factories.proxy(meeting, ann, hal, "against", None, accept=True)
    client = sign_in(hal.email)
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert f'name="next" value="/meetings/{meeting.id}"' in page
    base = f"/meetings/{meeting.id}/proxy/{appointment_id}/resolutions/{first}/vote"
    back = client.post(base, data={"choice": "against", "next": f"/meetings/{meeting.id}"})
    assert back.status_code == 303
    assert back.headers["Location"] == f"/meetings/{meeting.id}#proxy-{appointment_id}"


def test_a_plain_cast_never_redirects_off_the_site(sign_in, factories, ann, hal, meeting):
    first, _ = meeting.resolution_ids
    appointment_id = factories.proxy(meeting, ann, hal, "against", None, accept=True)
    base = f"/meetings/{meeting.id}/proxy/{appointment_id}/resolutions/{first}/vote"
    away = sign_in(hal.email).post(base, data={"choice": "against", "next": "//evil.example"})
    assert away.headers["Location"] == f"/meetings/{meeting.id}/proxy#proxy-{appointment_id}"


# -- (c) the choice the holder made is shown ----------------------------------------------


def test_the_holders_choice_on_an_open_resolution_is_shown_to_holder_and_grantor(
    sign_in, factories, ann, hal, meeting
):
    first, _ = meeting.resolution_ids
    appointment_id = factories.proxy(meeting, ann, hal, None, None, accept=True)
    client = sign_in(hal.email)
    base = f"/meetings/{meeting.id}/proxy/{appointment_id}/resolutions/{first}/vote"
    cast = client.post(base, data={"choice": "abstain"}, headers=HTMX)
    assert cast.status_code == 200 and is_partial(cast)
    assert "— cast</span> <span" in cast.get_data(as_text=True)
    page = client.get(f"/meetings/{meeting.id}/proxy").get_data(as_text=True)
    assert "Approve the minutes: you decide" in " ".join(page.split())
    assert '— cast</span> <span class="status' in page and ">Abstain</span>" in page
    grantor = sign_in(ann.email).get(f"/meetings/{meeting.id}/proxy").get_data(as_text=True)
    assert "the holder decides · cast" in grantor and ">Abstain</span>" in grantor


def test_the_holders_secret_choice_shows_only_in_their_receipt(
    sign_in, factories, ann, hal, meeting
):
    _, secret = meeting.resolution_ids
    appointment_id = factories.proxy(meeting, ann, hal, None, None, accept=True)
    client = sign_in(hal.email)
    base = f"/meetings/{meeting.id}/proxy/{appointment_id}/resolutions/{secret}/vote"
    cast = client.post(base, data={"choice": "against"}, headers=HTMX).get_data(as_text=True)
    assert ">Against</span>" in cast and "Receipt <code>" in cast
    page = client.get(f"/meetings/{meeting.id}/proxy").get_data(as_text=True)
    assert (
        "— cast (secret ballot)" in page
        and ">Against</span>" not in page.split("Proxies you hold")[1]
    )
    grantor = sign_in(ann.email).get(f"/meetings/{meeting.id}/proxy").get_data(as_text=True)
    assert "the holder decides · cast" not in grantor


# -- the printed proxy form ----------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    return " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages
    )


def test_the_printed_proxy_form_names_the_member_meeting_resolutions_and_deadline(
    app, sign_in, ann, meeting
):
    client = sign_in(ann.email)
    assert f'href="/meetings/{meeting.id}/proxy/form.pdf"' in client.get(
        f"/meetings/{meeting.id}/proxy"
    ).get_data(as_text=True)
    response = client.get(f"/meetings/{meeting.id}/proxy/form.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    with reading(app) as db:
        settings = coop_module.settings(db)
        due = coop_module.clock(db).local(proxies.deadline(db, db.get(Meeting, meeting.id)))
        name, address, mail_to = settings.legal_name, settings.address, settings.contact_email
    assert name in text and "Proxy form" in text and "Annual general meeting" in text
    assert f"I, Ann Listener, member no. {ann.number}, appoint as my proxy" in text
    assert "the chair of the meeting" in text
    assert "1. Approve the minutes" in text and "2. Elect the board (secret ballot)" in text
    assert "FOR AGAINST ABSTAIN HOLDER DECIDES" in text.upper()
    assert f"arrives by {due:%A %-d %B %Y, %H:%M}" in text and "48 hours before" in text
    assert "Signature" in text and "Date" in text
    assert " ".join(address.split()) in text and mail_to in text


def test_the_proxy_form_is_refused_to_a_member_off_the_roll(sign_in, meeting, make_member):
    late = make_member(email="late@example.org", classes=["listener"])  # after the notice
    response = sign_in(late.email).get(f"/meetings/{meeting.id}/proxy/form.pdf")
    assert response.status_code == 403


def test_staff_get_no_proxy_form(staff, meeting):
    assert staff.get(f"/meetings/{meeting.id}/proxy/form.pdf").status_code == 403


# -- the chair's proxies -------------------------------------------------------------------


@pytest.fixture
def chair_proxies(factories, ann, hal, meeting):
    """Ann's proxy to the chair: For on the open resolution, Against on the secret one.
    Hal's: the chair decides both."""
    return (
        factories.proxy(meeting, ann, None, "for", "against"),
        factories.proxy(meeting, hal, None, None, None),
    )


def test_members_cannot_see_the_chairs_proxies(sign_in, ann, meeting):
    client = sign_in(ann.email)
    assert client.get(f"/staff/meetings/{meeting.id}/proxies").status_code == 403
    assert client.get(f"/staff/meetings/{meeting.id}/proxies/new").status_code == 403


def test_the_chairs_page_counts_proxies_and_links_from_the_meeting(
    staff, factories, ann, hal, meeting, chair_proxies
):
    meeting_page = staff.get(f"/staff/meetings/{meeting.id}").get_data(as_text=True)
    assert f'href="/staff/meetings/{meeting.id}/proxies"' in meeting_page
    page = staff.get(f"/staff/meetings/{meeting.id}/proxies").get_data(as_text=True)
    assert "<dt>Accepted</dt><dd>2</dd>" in page and "<dt>Revoked</dt><dd>0</dd>" in page
    assert "Ann Listener (no. 1)" in page and "Hal Holder (no. 2)" in page


def test_the_chairs_page_never_shows_a_secret_direction_beside_a_name(
    staff, meeting, chair_proxies
):
    ann_proxy, _ = chair_proxies
    page = staff.get(f"/staff/meetings/{meeting.id}/proxies").get_data(as_text=True)
    card = page.split(f'id="chair-proxy-{ann_proxy}"')[1].split("</article>")[0]
    assert "Cast For as directed" in card  # the open resolution's direction
    assert "directed (secret ballot)" in card and "Against" not in card
    assert "1 directed proxy not yet cast" in page and "Cast 1 as directed" in page


def test_the_chair_casts_open_directed_and_own_choices(
    app, staff, factories, meeting, chair_proxies
):
    ann_proxy, hal_proxy = chair_proxies
    first, secret = meeting.resolution_ids
    base = f"/staff/meetings/{meeting.id}/proxies"
    directed = staff.post(f"{base}/{ann_proxy}/resolutions/{first}/vote", data={"choice": "for"})
    assert directed.status_code == 303
    own = staff.post(f"{base}/{hal_proxy}/resolutions/{secret}/vote", data={"choice": "against"})
    assert own.status_code == 303
    page = staff.get(base).get_data(as_text=True)
    hal_card = page.split(f'id="chair-proxy-{hal_proxy}"')[1].split("</article>")[0]
    assert "Against</span>" not in hal_card.split("Elect the board")[1]  # secret: cast only
    with reading(app) as db:
        assert (
            db.scalar(
                select(func.count())
                .select_from(Participation)
                .where(Participation.proxy_id.is_not(None))
            )
            == 2
        )


def test_a_directed_secret_chair_proxy_is_cast_only_with_the_others(
    app, staff, meeting, chair_proxies
):
    ann_proxy, _ = chair_proxies
    _, secret = meeting.resolution_ids
    base = f"/staff/meetings/{meeting.id}/proxies"
    alone = staff.post(f"{base}/{ann_proxy}/resolutions/{secret}/vote", data={"choice": "for"})
    assert alone.status_code == 409
    assert "cast together" in alone.get_data(as_text=True)
    assert "Against" not in alone.get_data(as_text=True).split("Proxies held by the chair")[0]
    together = staff.post(f"{base}/resolutions/{secret}/cast-directed")
    assert together.status_code == 303
    with reading(app) as db:
        assert (
            db.scalar(
                select(func.count())
                .select_from(Participation)
                .where(Participation.resolution_id == secret)
            )
            == 1
        )


def test_the_chairs_proxies_are_paged_by_key(app, staff, factories, make_member):
    grantors = [make_member(email=f"p{n}@example.org", classes=["listener"]) for n in range(3)]
    meeting = factories.meeting()
    ids = [factories.proxy(meeting, g, None) for g in grantors]
    base = f"/staff/meetings/{meeting.id}/proxies"
    with reading(app) as db:
        first = staff_proxies.chair_proxies(db, db.get(Meeting, meeting.id), per_page=2)
        assert [r.appointment.id for r in first.rows] == ids[:2] and first.next_after == ids[1]
        rest = staff_proxies.chair_proxies(
            db, db.get(Meeting, meeting.id), after=first.next_after, per_page=2
        )
        assert [r.appointment.id for r in rest.rows] == ids[2:] and rest.next_after is None
    assert (
        staff.get(f"{base}?after={ids[0]}")
        .get_data(as_text=True)
        .count('class="card" id="chair-proxy-')
        == 2
    )


# -- staff record a paper form --------------------------------------------------------------


def said(response) -> str:
    """The page's text as a reader sees it (entities unescaped)."""
    return html.unescape(response.get_data(as_text=True))


def record(staff, meeting, **fields):
    first, secret = meeting.resolution_ids
    data = {"kind": "directed", f"direction-{first}": "for", f"direction-{secret}": "holder"}
    return staff.post(f"/staff/meetings/{meeting.id}/proxies/new", data={**data, **fields})


def test_staff_record_a_paper_form_with_its_source_recorder_and_audit(
    app, staff, ann, hal, meeting
):
    assert staff.get(f"/staff/meetings/{meeting.id}/proxies/new").status_code == 200
    response = record(staff, meeting, member="Ann", holder=str(hal.number))
    assert response.status_code == 303
    with reading(app) as db:
        made = db.scalar(select(ProxyAppointment))
        assert made.source is ProxySource.PAPER and made.recorded_by_id is not None
        assert made.grantor_id == ann.id and made.holder_id == hal.id
        assert [d.choice for d in sorted(made.directions, key=lambda d: d.resolution_id)] == [
            Choice.FOR,
            None,
        ]
        event = db.scalar(select(AuditEvent).where(AuditEvent.action == "proxy.recorded_paper"))
        assert event is not None and "paper form" in event.summary


def test_a_paper_form_naming_no_proxy_makes_the_chair_the_proxy(app, staff, ann, meeting):
    form = said(staff.get(f"/staff/meetings/{meeting.id}/proxies/new"))
    assert "Left blank on the form, the chair is their proxy" in form
    assert record(staff, meeting, member=str(ann.number), holder="  ").status_code == 303
    with reading(app) as db:
        made = db.scalar(select(ProxyAppointment))
        assert made.grantor_id == ann.id and made.to_chair and made.holder_id is None


def test_a_paper_form_after_the_deadline_is_refused(app, staff, sign_in, ann, hal, meeting):
    with reading(app) as db:
        deadline = proxies.deadline(db, db.get(Meeting, meeting.id))
    with time_machine.travel(deadline + timedelta(minutes=1), tick=False):
        late_staff = sign_in("staff@example.org")  # a fresh session, weeks later
        response = record(late_staff, meeting, member=str(ann.number), holder="chair")
    assert response.status_code == 409 and "that time has passed" in response.get_data(as_text=True)


def test_a_paper_form_over_the_holders_cap_is_refused(app, staff, factories, ann, hal, meeting):
    with factories.session() as db:
        coop_module.settings(db).proxies_per_holder = 0
    response = record(staff, meeting, member=str(ann.number), holder=str(hal.number))
    assert response.status_code == 409 and "already holds 0 proxies" in said(response)


def test_a_paper_form_from_a_member_off_the_roll_is_refused(staff, meeting, make_member):
    late = make_member(email="late@example.org", name="Lee Late", classes=["listener"])
    response = record(staff, meeting, member=str(late.number), holder="chair")
    assert response.status_code == 422 and "not on this meeting's voter roll" in said(response)


def test_a_paper_form_naming_a_holder_off_the_roll_is_refused(staff, ann, meeting, make_member):
    late = make_member(email="late@example.org", name="Lee Late", classes=["listener"])
    response = record(staff, meeting, member=str(ann.number), holder=str(late.number))
    assert response.status_code == 422 and "Lee Late is not on this meeting's voter roll" in said(
        response
    )


def test_a_second_proxy_for_one_member_is_refused(staff, factories, ann, hal, meeting):
    factories.proxy(meeting, ann, hal)
    response = record(staff, meeting, member=str(ann.number), holder="chair")
    assert response.status_code == 409
    assert "already has a proxy for this meeting: Hal Holder, online" in said(response)


def test_a_name_matching_several_members_asks_for_the_number(staff, meeting, make_member):
    response = record(staff, meeting, member="l", holder="chair")
    assert response.status_code == 422 and "Enter the member number" in said(response)
    assert 'value="l"' in response.get_data(as_text=True)  # the form keeps what was sent


def test_members_cannot_record_paper_forms(sign_in, ann, meeting):
    response = record(sign_in(ann.email), meeting, member=str(ann.number), holder="chair")
    assert response.status_code == 403


def test_a_grantor_who_voted_before_appointing_the_chair_is_shown_as_voted(
    staff, factories, ann, meeting
):
    factories.vote(meeting, ann, "for")
    appointment_id = factories.proxy(meeting, ann, None, "against", "for")
    page = staff.get(f"/staff/meetings/{meeting.id}/proxies").get_data(as_text=True)
    card = page.split(f'id="chair-proxy-{appointment_id}"')[1].split("</article>")[0]
    first = card.split("<li>")[1]
    assert "the member voted themselves" in first and "Cast Against" not in first
