"""The minutes of a meeting: drafted by staff from the meeting once voting has closed,
previewed as they type, published to the library with a confirmation, downloaded as a PDF;
and a passed resolution named as approving the new version of the document it amends."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal import coop
from portal.models import (
    AuditEvent,
    Document,
    DocumentCategory,
    DocumentVersion,
    Meeting,
    MeetingKind,
    MeetingMinutes,
    MeetingState,
    Resolution,
    Visibility,
)
from portal.services.meetings import minutes

from .factories import HTMX, audit_actions, count, is_page, is_partial, reading
from .test_document_pdf import page_texts
from .test_meetings_views import THREE

# The meeting's notice is a document too (in the notices category): count the minutes.
MINUTES = Document.category == DocumentCategory.MINUTES


@pytest.fixture
def voters(make_member):
    """Four members on the roll: two listeners, an artist and a worker (quorum is 3)."""
    return {
        "ann": make_member(email="ann@example.org", name="Ann Listener", classes=["listener"]),
        "bob": make_member(email="bob@example.org", name="Bob Artist", classes=["artist"]),
        "cat": make_member(email="cat@example.org", name="Cat Listener", classes=["listener"]),
        "dan": make_member(email="dan@example.org", name="Dan Worker", classes=["worker"]),
    }


@pytest.fixture
def closed_meeting(voters, make_meeting, factories):
    """Voting closed: resolution 1 passed, 2 (special) not passed, 3 (secret) not quorate.
    Dan never voted."""
    meeting = make_meeting(resolutions=THREE)
    factories.vote(meeting, voters["ann"], "for", "for", "for")
    factories.vote(meeting, voters["bob"], "for", "against")
    factories.vote(meeting, voters["cat"], "against", "against")
    factories.close_meeting(meeting)
    return meeting


def minutes_url(meeting, action=""):
    return f"/staff/meetings/{meeting.id}/minutes{action}"


def meeting_state(app, meeting):
    with reading(app) as db:
        return db.get(Meeting, meeting.id).state


def confirm(staff, meeting, chair="Jo Chair", body=None):
    """Publish the minutes with the draft as pre-filled (or ``body``), confirmed."""
    if body is None:
        page = staff.get(minutes_url(meeting)).get_data(as_text=True)
        body = page.split('name="body"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
        body = body.replace("&#39;", "'").replace("&amp;", "&").replace("&lt;", "<")
    return staff.post(
        minutes_url(meeting, "/publish"), data={"chair": chair, "body": body, "confirm": "yes"}
    )


# -- the draft ---------------------------------------------------------------------------


def test_the_draft_is_prefilled_with_every_resolution_and_its_result(staff, closed_meeting):
    response = staff.get(minutes_url(closed_meeting))
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Resolution 1: Approve the minutes of 2025" in body
    assert "Resolution 2: Adopt class-weighted voting" in body
    assert "Resolution 3: Elect the chair" in body
    assert "**Result: Passed.** For 2, Against 1, Abstain 0" in body
    assert "**Result: Not passed.** For 1, Against 2, Abstain 0" in body
    assert "**Result: Not quorate.** For 1, Against 0, Abstain 0" in body
    # the threshold that applied, and the quorum
    assert "For at least 2/3 (66.7 %)" in body
    assert "3 of 4 on the roll had to take part" in body
    assert "## Agenda and discussion" in body and "_Record the discussion here._" in body


def test_attendance_and_turnout_are_counted_per_class(app, closed_meeting):
    with reading(app) as db:
        meeting = db.get(Meeting, closed_meeting.id)
        rows = {c.name: (c.roll, c.took_part, c.turnout) for c in minutes.attendance(db, meeting)}
    assert rows == {
        "Listener": (2, 2, "100.0 %"),
        "Artist": (1, 1, "100.0 %"),
        "Worker": (1, 0, "0.0 %"),
    }


def test_the_draft_shows_attendance_and_the_meeting_in_the_coops_zone(app, staff, closed_meeting):
    body = staff.get(minutes_url(closed_meeting)).get_data(as_text=True)
    assert "4 members were on the voter roll" in body and "3 of them (75.0 %)" in body
    assert "| Worker | 1 | 0 | 0.0 % |" in body
    with reading(app) as db:
        meeting = db.get(Meeting, closed_meeting.id)
        local = coop.clock(db).local(meeting.starts_at)
    # the particulars head the preview: the day and time where the co-op is
    assert f"{local:%H:%M} (Europe/Dublin)" in body
    assert "The Guildhall, Cork" in body


@pytest.mark.parametrize(
    ("place", "url", "reads"),
    [
        ("The Guildhall", "", "**Place:** The Guildhall\\"),
        ("", "https://Meet.example.org/AGM", "**Place:** Online at <https://Meet.example.org/AGM>"),
        ("Hall", "https://m.example.org", "**Place:** Hall, and online at <https://m.example.org>"),
    ],
)
def test_the_particulars_give_the_place_and_the_start_in_the_coops_zone(place, url, reads):
    meeting = SimpleNamespace(
        kind=MeetingKind.AGM,
        member_class=None,
        starts_at=datetime(2026, 9, 26, 18, 0, tzinfo=UTC),  # 19:00 in Dublin (summer time)
        place=place,
        online_url=url,
    )
    text = minutes.particulars(meeting, "Jo Chair", coop.Clock.named("Europe/Dublin"))
    assert "**Date:** Saturday 26 September 2026, 19:00 (Europe/Dublin)" in text
    assert reads in text
    assert text.endswith("**Chair:** Jo Chair")


def test_the_draft_is_saved_and_can_be_edited_again(app, staff, closed_meeting):
    response = staff.post(minutes_url(closed_meeting), data={"chair": "Jo", "body": "First."})
    assert response.status_code == 303
    staff.post(minutes_url(closed_meeting), data={"chair": "Jo Chair", "body": "Second."})
    page = staff.get(minutes_url(closed_meeting)).get_data(as_text=True)
    assert "Second." in page and 'value="Jo Chair"' in page
    with reading(app) as db:
        saved = db.get(MeetingMinutes, closed_meeting.id)
        assert (saved.chair, saved.body, saved.document_id) == ("Jo Chair", "Second.", None)
    assert meeting_state(app, closed_meeting) is MeetingState.VOTING_CLOSED


def test_an_empty_draft_is_refused_with_422(app, staff, closed_meeting):
    response = staff.post(minutes_url(closed_meeting), data={"chair": "Jo", "body": "  "})
    assert response.status_code == 422
    assert "Write the minutes." in response.get_data(as_text=True)
    assert count(app, MeetingMinutes) == 0


# -- the preview -------------------------------------------------------------------------


def test_the_htmx_preview_is_the_sanitised_minutes_and_writes_nothing(app, staff, closed_meeting):
    before = count(app, AuditEvent)
    response = staff.post(
        minutes_url(closed_meeting, "/preview"),
        data={"chair": "Jo <b>Chair</b>", "body": "## Discussion\n\n<script>alert(1)</script>"},
        headers=HTMX,
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and is_partial(response)
    assert body.lstrip().startswith('<div id="minutes-preview"')
    assert 'data-hx-target="this"' in body
    assert "<h2>Discussion</h2>" in body
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert "Jo &lt;b&gt;Chair&lt;/b&gt;" in body
    assert count(app, MeetingMinutes) == 0 and count(app, AuditEvent) == before


def test_the_plain_preview_answers_the_page_with_the_text_sent(app, staff, closed_meeting):
    response = staff.post(
        minutes_url(closed_meeting, "/preview"), data={"chair": "Jo", "body": "Typed **here**."}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and is_page(response)
    assert "Typed <strong>here</strong>." in body and "Typed **here**." in body
    assert count(app, MeetingMinutes) == 0


# -- publishing --------------------------------------------------------------------------


def test_publishing_asks_for_confirmation_first_and_writes_nothing(app, staff, closed_meeting):
    response = staff.post(
        minutes_url(closed_meeting, "/publish"), data={"chair": "Jo Chair", "body": "Minutes."}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Publish the minutes?" in body and "Minutes category" in body
    assert 'name="confirm" value="yes"' in body
    assert count(app, Document, MINUTES) == 0 and count(app, MeetingMinutes) == 0
    assert meeting_state(app, closed_meeting) is MeetingState.VOTING_CLOSED


def test_change_on_the_confirmation_goes_back_to_the_editor_as_sent(staff, closed_meeting):
    response = staff.post(
        minutes_url(closed_meeting, "/publish"),
        data={"chair": "Jo Chair", "body": "Kept as typed.", "confirm": "change"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Kept as typed." in body and 'value="Jo Chair"' in body


def test_publishing_makes_a_minutes_document_moves_the_meeting_and_audits(
    app, staff, closed_meeting
):
    response = confirm(staff, closed_meeting)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/staff/meetings/{closed_meeting.id}")
    with reading(app) as db:
        meeting = db.get(Meeting, closed_meeting.id)
        assert meeting.state is MeetingState.MINUTES_PUBLISHED
        assert meeting.minutes_published_at is not None
        saved = db.get(MeetingMinutes, meeting.id)
        document = db.get(Document, saved.document_id)
        assert document.category is DocumentCategory.MINUTES
        assert document.visibility is Visibility.MEMBERS
        assert document.title.startswith("Minutes: Annual general meeting, ")
        (version,) = document.versions
        assert version.body.startswith("**Meeting:** Annual general meeting")
        assert "**Chair:** Jo Chair" in version.body
        assert "Resolution 3: Elect the chair" in version.body
    actions = audit_actions(app)
    assert actions[-1] == "meeting.minutes_published"
    assert {"document.created", "document.published"} <= set(actions)


def test_published_minutes_are_in_the_library_for_members(
    app, voters, sign_in, staff, closed_meeting
):
    confirm(staff, closed_meeting)
    library = sign_in(voters["dan"].email).get("/documents?category=minutes")
    assert "Minutes: Annual general meeting" in library.get_data(as_text=True)


def test_publishing_twice_is_refused_with_409_and_writes_nothing(app, staff, closed_meeting):
    confirm(staff, closed_meeting)
    audited = count(app, AuditEvent)
    response = confirm(staff, closed_meeting, body="Another text.")
    assert response.status_code == 409
    assert "published already" in response.get_data(as_text=True)
    assert (
        count(app, Document, MINUTES) == 1
        and count(app, DocumentVersion, DocumentVersion.document.has(MINUTES)) == 1
    )
    assert count(app, AuditEvent) == audited
    with reading(app) as db:
        assert "Another text." not in db.get(MeetingMinutes, closed_meeting.id).body


@pytest.mark.parametrize("action", ["", "/publish"])
def test_minutes_before_voting_closes_are_refused_with_409(
    app, voters, staff, make_meeting, action
):
    meeting = make_meeting(resolutions=THREE)  # voting open
    data = {"chair": "Jo", "body": "Too soon.", "confirm": "yes"}
    response = staff.post(minutes_url(meeting, action), data=data)
    assert response.status_code == 409
    assert "written once voting has closed" in response.get_data(as_text=True)
    assert count(app, MeetingMinutes) == 0 and count(app, Document, MINUTES) == 0
    assert meeting_state(app, meeting) is MeetingState.VOTING_OPEN


def test_the_minutes_page_before_voting_closes_says_why_with_409(staff, voters, make_meeting):
    response = staff.get(minutes_url(make_meeting(resolutions=THREE, state="noticed")))
    assert response.status_code == 409
    assert "written once voting has closed" in response.get_data(as_text=True)


def test_publishing_without_a_chair_is_refused_with_422(app, staff, closed_meeting):
    for step in ("", "yes"):
        response = staff.post(
            minutes_url(closed_meeting, "/publish"),
            data={"chair": " ", "body": "Minutes.", "confirm": step},
        )
        assert response.status_code == 422
        assert "Name the chair" in response.get_data(as_text=True)
    assert count(app, Document, MINUTES) == 0
    assert meeting_state(app, closed_meeting) is MeetingState.VOTING_CLOSED


def test_the_staff_meeting_page_leads_to_the_minutes(staff, closed_meeting):
    page = staff.get(f"/staff/meetings/{closed_meeting.id}").get_data(as_text=True)
    assert minutes_url(closed_meeting) in page and "Write the minutes" in page
    confirm(staff, closed_meeting)
    page = staff.get(f"/staff/meetings/{closed_meeting.id}").get_data(as_text=True)
    assert f"/meetings/{closed_meeting.id}/minutes.pdf" in page


# -- who may --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "action"),
    [("get", ""), ("post", ""), ("post", "/preview"), ("post", "/publish")],
)
def test_members_get_403_on_the_staff_minutes_routes(
    app, voters, sign_in, closed_meeting, method, action
):
    client = sign_in(voters["ann"].email)
    data = {"chair": "Ann", "body": "Mine.", "confirm": "yes"}
    response = getattr(client, method)(minutes_url(closed_meeting, action), data=data)
    assert response.status_code == 403
    assert count(app, MeetingMinutes) == 0


def test_members_get_the_minutes_pdf_only_once_published(
    app, voters, sign_in, staff, closed_meeting
):
    member = sign_in(voters["dan"].email)
    pdf_url = f"/meetings/{closed_meeting.id}/minutes.pdf"
    assert member.get(pdf_url).status_code == 404
    page = member.get(f"/meetings/{closed_meeting.id}").get_data(as_text=True)
    assert pdf_url not in page
    confirm(staff, closed_meeting)
    for path in (f"/meetings/{closed_meeting.id}", f"/meetings/{closed_meeting.id}/results"):
        assert pdf_url in member.get(path).get_data(as_text=True)


@pytest.mark.pdf
def test_the_minutes_pdf_names_each_resolution_and_its_result(
    app, voters, sign_in, staff, closed_meeting
):
    confirm(staff, closed_meeting)
    response = sign_in(voters["dan"].email).get(f"/meetings/{closed_meeting.id}/minutes.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = " ".join(page_texts(response.data))
    assert "Minutes: Annual general meeting" in text
    assert "Chair: Jo Chair" in text
    for line in (
        "Resolution 1: Approve the minutes of 2025",
        "Result: Passed. For 2, Against 1, Abstain 0",
        "Resolution 2: Adopt class-weighted voting",
        "Result: Not passed. For 1, Against 2, Abstain 0",
        "Resolution 3: Elect the chair",
        "Result: Not quorate. For 1, Against 0, Abstain 0",
    ):
        assert line in text, line
    # staff download the same kept PDF
    again = staff.get(f"/meetings/{closed_meeting.id}/minutes.pdf")
    assert again.status_code == 200 and again.data == response.data


# -- the document a resolution amends ---------------------------------------------------------


@pytest.fixture
def amending_meeting(voters, make_document, make_meeting, factories):
    """Standing orders, amended by resolution 1 (passed); resolution 2 also amends them
    but failed."""
    make_document(
        "Standing Orders",
        slug="standing-orders",
        category="rules",
        visibility="members",
        versions=[(date(2025, 1, 1), "1.1 The chair keeps order.", "As adopted")],
    )
    meeting = make_meeting(
        resolutions=(
            {"title": "Amend the standing orders", "amends": "standing-orders"},
            {"title": "Amend them again", "amends": "standing-orders"},
        )
    )
    for name, choices in (("ann", "fa"), ("bob", "fa"), ("cat", "fa")):
        factories.vote(meeting, voters[name], *("for" if c == "f" else "against" for c in choices))
    factories.close_meeting(meeting)
    return meeting


def publish_amended(staff, **fields):
    return staff.post(
        "/staff/documents/standing-orders/versions",
        data={
            "format": "markdown",
            "body": "1.1 The chair keeps order and a timer.",
            "effective_on": "2026-01-01",
            "change_note": "Speeches are timed",
            "confirm": "yes",
            **fields,
        },
    )


def test_the_new_version_offers_only_passed_resolutions_amending_the_document(
    app, staff, amending_meeting
):
    page = staff.get("/staff/documents/standing-orders").get_data(as_text=True)
    passed, failed = amending_meeting.resolution_ids
    assert f'<option value="{passed}">Amend the standing orders: resolution 1 at the' in page
    assert f'<option value="{failed}">' not in page


def test_an_amended_document_shows_the_resolution_that_approved_it(
    app, voters, sign_in, staff, amending_meeting
):
    passed = amending_meeting.resolution_ids[0]
    assert publish_amended(staff, approved_by_resolution=str(passed)).status_code == 303
    with reading(app) as db:
        version = db.scalar(select(DocumentVersion).where(DocumentVersion.number == 2))
        assert version.approved_by_resolution_id == passed
        day = coop.clock(db).local(db.get(Resolution, passed).meeting.starts_at)
    page = sign_in(voters["dan"].email).get("/documents/standing-orders").get_data(as_text=True)
    expected = f"Approved by resolution 1 at the Annual general meeting of {day:%-d %B %Y}."
    assert expected in page


@pytest.mark.parametrize("which", ["failed", "unknown", "other meeting's"])
def test_a_version_cannot_name_a_resolution_that_did_not_pass_or_amend_it(
    app, staff, amending_meeting, make_meeting, voters, which
):
    other = make_meeting(title="Another meeting", resolutions=({"title": "Unrelated"},))
    named = {
        "failed": amending_meeting.resolution_ids[1],
        "unknown": 999_999,
        "other meeting's": other.resolution_ids[0],
    }[which]
    response = publish_amended(staff, approved_by_resolution=str(named))
    assert response.status_code == 422
    assert "passed resolution that amends this document" in response.get_data(as_text=True)
    assert count(app, DocumentVersion, DocumentVersion.number == 2) == 0  # not published


def test_the_resolution_form_names_the_document_it_amends(
    app, voters, staff, make_document, make_meeting
):
    make_document("Standing Orders", slug="standing-orders")
    meeting = make_meeting(resolutions=({"title": "Amend them"},), state="draft")
    rid = meeting.resolution_ids[0]
    form = {"title": "Amend them", "text": "RESOLVED that …", "kind": "ordinary"}
    url = f"/staff/meetings/{meeting.id}/resolutions/{rid}"
    assert staff.post(url, data={**form, "amends": "standing-orders"}).status_code == 303
    with reading(app) as db:
        assert db.get(Resolution, rid).amends_document.slug == "standing-orders"
    refused = staff.post(url, data={**form, "amends": "no-such-document"})
    assert refused.status_code == 422
    assert "Choose a document from the library" in refused.get_data(as_text=True)
