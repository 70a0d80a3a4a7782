"""The notice of a meeting: mailed to each member on the roll exactly once (even when the
mailing stops and is resumed), published in the library's notices category, its progress
polled by staff."""

from __future__ import annotations

import smtplib
from collections import Counter
from datetime import timedelta
from email import policy
from email.parser import BytesParser
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

import portal.coop
from portal import tasks
from portal.db import write_session
from portal.mail import deliver, outbox_path
from portal.models import (
    DeliveryState,
    Document,
    DocumentCategory,
    Meeting,
    MeetingKind,
    NoticeDelivery,
    NoticeMailing,
    ResolutionKind,
    Visibility,
    utcnow,
)
from portal.services.meetings import lifecycle, notices

from .factories import HTMX, count, reading

NOTICE = "Notice of the"
AGENDA = (
    {"title": "Approve the minutes of 2025"},
    {"title": "Adopt class-weighted voting", "kind": "special"},
    {"title": "Elect the chair", "secret": True},
)


@pytest.fixture
def app(app_factory, request, tmp_path):
    """The app; with ``held_queue``, jobs wait in a queue that no worker reads (as when
    the worker is not running), so the tests send the notices themselves."""
    if "held_queue" in request.fixturenames:
        return app_factory(TASK_QUEUE=f"sqlite:///{tmp_path / 'tasks.sqlite3'}")
    return app_factory()


@pytest.fixture
def held_queue(app):
    assert not tasks.is_immediate()


@pytest.fixture
def members(make_member):
    """Five members in three classes, and a sixth who has ceased (not on the roll)."""
    made = [
        make_member(email="ann@example.org", name="Ann Listener", classes=["listener"]),
        make_member(email="bob@example.org", name="Bob Artist", classes=["artist"]),
        make_member(email="cat@example.org", name="Cat Worker", classes=["worker"]),
        make_member(email="dan@example.org", name="Dan Listener", classes=["listener"]),
        make_member(email="eve@example.org", name="Eve Artist", classes=["artist"]),
    ]
    return made


@pytest.fixture
def ceased(make_member, cease):
    gone = make_member(email="gus@example.org", name="Gus Gone", classes=["listener"])
    cease(gone)
    return gone


def notices_in(outbox):
    return [m for m in outbox() if m.subject.startswith(NOTICE)]


def recipients(outbox):
    return Counter(m.to for m in notices_in(outbox))


def send_notice(staff, meeting, **form):
    return staff.post(f"/staff/meetings/{meeting.id}/notice", data=form)


def states(app, meeting):
    with reading(app) as db:
        rows = db.scalars(
            select(NoticeDelivery.state).where(NoticeDelivery.meeting_id == meeting.id)
        )
        return Counter(rows)


def opener(app, *, fail_on: int | None = None):
    """Committing write sessions for the sender; the ``fail_on``-th one raises on entry
    (the sender stops there, as a crashed worker would)."""
    calls = Counter()

    def open_session():
        calls["n"] += 1
        if calls["n"] == fail_on:
            raise RuntimeError("the worker stopped")
        return write_session(app)

    return open_session


# -- every member once ----------------------------------------------------------------------


def test_each_member_on_the_roll_gets_the_notice_exactly_once(
    app, staff, members, ceased, outbox, make_meeting
):
    meeting = make_meeting(state="draft", resolutions=AGENDA)
    response = send_notice(staff, meeting)
    assert response.status_code == 303
    assert recipients(outbox) == Counter({m.email: 1 for m in members})
    assert ceased.email not in recipients(outbox)
    assert states(app, meeting) == Counter({DeliveryState.SENT: 5})
    with reading(app) as db:
        assert db.get(NoticeMailing, meeting.id).finished_at is not None


def test_the_notice_mail_has_the_meeting_agenda_papers_resolutions_and_a_link(
    app, staff, members, outbox, make_meeting, make_document
):
    paper = make_document("Annual report 2025", visibility="members", category="reports")
    meeting = make_meeting(state="draft", resolutions=AGENDA)
    staff.post(
        f"/staff/meetings/{meeting.id}/agenda",
        data={"title": "Annual report and accounts", "document": paper.slug},
    )
    send_notice(staff, meeting)
    [message] = [m for m in notices_in(outbox) if m.to == "ann@example.org"]
    text = message.text
    assert "Dear Ann Listener" in text
    assert "Annual general meeting" in text and "The Guildhall, Cork" in text
    assert "Europe/Dublin time" in text
    assert "Annual report and accounts" in text
    assert f"/documents/{paper.slug}" in text
    assert "Adopt class-weighted voting (Special resolution)" in text
    assert "Elect the chair (Ordinary resolution, secret ballot)" in text
    assert f"http://localhost/meetings/{meeting.id}" in text
    with reading(app) as db:
        starts = db.get(Meeting, meeting.id).starts_at
    local = starts.astimezone(ZoneInfo("Europe/Dublin"))
    assert local.strftime("%-d %B %Y at %H:%M") in text


def test_the_notice_mail_has_an_html_alternative(app, staff, members, make_meeting):
    meeting = make_meeting(state="draft", resolutions=AGENDA)
    send_notice(staff, meeting)
    parsed = [
        BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        for path in outbox_path(app).glob("*.eml")
    ]
    notice = next(p for p in parsed if str(p["Subject"]).startswith(NOTICE))
    html = notice.get_body(preferencelist=("html",)).get_content()
    assert "<h2" in html and "Agenda" in html and "Adopt class-weighted voting" in html
    assert f"/meetings/{meeting.id}" in html


def test_the_short_notice_reason_is_printed_in_the_mail_and_the_document(
    app, staff, members, outbox, make_meeting
):
    meeting = make_meeting(state="draft", days=5)
    send_notice(staff, meeting, short_notice_reason="The grant deadline is on the 20th")
    message = notices_in(outbox)[0]
    assert "SHORT NOTICE" in message.text
    assert "The grant deadline is on the 20th" in message.text
    with reading(app) as db:
        document = notices.notice_document(db, db.get(Meeting, meeting.id))
        assert "## Short notice" in document.versions[-1].body
        assert "The grant deadline is on the 20th" in document.versions[-1].body


# -- the published notice -------------------------------------------------------------------


def test_the_notice_is_published_in_the_notices_category_with_its_agenda(
    app, staff, members, make_meeting, sign_in
):
    meeting = make_meeting(state="draft", resolutions=AGENDA)
    send_notice(staff, meeting)
    with reading(app) as db:
        document = notices.notice_document(db, db.get(Meeting, meeting.id))
        assert document.category is DocumentCategory.NOTICES
        assert document.visibility is Visibility.MEMBERS
        body = document.versions[-1].body
        slug = document.slug
    assert "## Agenda" in body and "Resolutions" in body
    assert "### Resolution 2: Adopt class-weighted voting" in body
    assert "*Special resolution*" in body
    assert "RESOLVED that adopt class-weighted voting." in body
    ann = sign_in("ann@example.org")
    assert f"/documents/{slug}" in ann.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    page = ann.get(f"/documents/{slug}")
    assert page.status_code == 200
    assert "Adopt class-weighted voting" in page.get_data(as_text=True)
    library = ann.get("/documents?category=notices").get_data(as_text=True)
    assert "Notice of the Annual general meeting" in library


def test_a_title_cannot_format_the_published_notice(db, make_member, make_meeting):
    make_member()
    ref = make_meeting(title="AGM *2026* [draft](javascript:alert(1))", state="noticed")
    body = notices.notice_markdown(db, db.get(Meeting, ref.id))
    assert "AGM \\*2026\\* \\[draft\\](javascript:alert(1))" in body


# -- interrupted and resumed ----------------------------------------------------------------


def test_an_interrupted_mailing_resumed_sends_the_rest_and_nobody_twice(
    app, held_queue, staff, members, outbox, make_meeting
):
    meeting = make_meeting(state="draft")
    send_notice(staff, meeting)
    assert recipients(outbox) == Counter()  # queued, not yet sent
    with app.app_context(), pytest.raises(RuntimeError, match="the worker stopped"):
        # claim 1, record 1, then the claim of the second batch fails
        notices.send_pending(meeting.id, open_session=opener(app, fail_on=3), batch_size=2)
    assert sum(recipients(outbox).values()) == 2
    assert states(app, meeting) == Counter({DeliveryState.SENT: 2, DeliveryState.PENDING: 3})
    with app.app_context():
        run = notices.send_pending(meeting.id, batch_size=2)
    assert (run.batches, run.sent, run.failed) == (2, 3, 0)
    assert recipients(outbox) == Counter({m.email: 1 for m in members})
    with app.app_context():
        assert notices.send_pending(meeting.id, batch_size=2).sent == 0  # nothing left


def test_a_sender_stopped_while_sending_never_sends_those_again(
    app, held_queue, staff, members, outbox, make_meeting
):
    meeting = make_meeting(state="draft")
    send_notice(staff, meeting)
    sent = []

    def deliver_then_stop(message):
        if len(sent) == 2:
            raise KeyboardInterrupt  # the process is stopped mid-batch
        sent.append(message.to)

    with app.app_context(), pytest.raises(KeyboardInterrupt):
        notices.send_pending(meeting.id, batch_size=2, deliver=deliver_then_stop)
    assert states(app, meeting) == Counter(
        {DeliveryState.SENT: 2, DeliveryState.SENDING: 2, DeliveryState.PENDING: 1}
    )
    with app.app_context():
        run = notices.resume_unfinished(batch_size=2)
    assert run[meeting.id].sent == 1
    assert set(sent).isdisjoint(recipients(outbox))  # the first two are not sent again
    with reading(app) as db:
        progress = notices.mailing_progress(db, db.get(Meeting, meeting.id))
    assert (progress.sent, progress.unconfirmed, progress.pending) == (3, 2, 0)
    page = staff.get(f"/staff/meetings/{meeting.id}/notice").get_data(as_text=True)
    assert "2 notices unconfirmed" in page


def test_a_refused_message_is_failed_then_sent_again_on_resume(
    app, held_queue, staff, members, outbox, make_meeting
):
    meeting = make_meeting(state="draft")
    send_notice(staff, meeting)

    def refuse_bob(message):
        if message.to == "bob@example.org":
            raise smtplib.SMTPRecipientsRefused({message.to: (550, b"mailbox unavailable")})
        deliver(message)

    with app.app_context():
        run = notices.send_pending(meeting.id, deliver=refuse_bob)
    assert (run.sent, run.failed) == (4, 1)
    page = staff.get(f"/staff/meetings/{meeting.id}").get_data(as_text=True)
    assert "4 of 5" in page and "could not be sent" in page and "Resume the mailing" in page
    with reading(app) as db:
        [failed] = db.scalars(
            select(NoticeDelivery).where(NoticeDelivery.state == DeliveryState.FAILED)
        ).all()
        assert "SMTPRecipientsRefused" in failed.error
    response = staff.post(f"/staff/meetings/{meeting.id}/notice/resume")
    assert response.status_code == 303
    with app.app_context():
        notices.send_pending(meeting.id)
    assert recipients(outbox) == Counter({m.email: 1 for m in members})


def test_the_command_sends_every_waiting_notice(
    app, held_queue, runner, staff, members, outbox, make_meeting
):
    meeting = make_meeting(state="draft")
    send_notice(staff, meeting)
    result = runner.invoke(args=["send-notices", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert f"Meeting {meeting.id}: 5 notices sent." in result.output
    assert recipients(outbox) == Counter({m.email: 1 for m in members})
    again = runner.invoke(args=["send-notices"])
    assert "No notice is waiting to be sent." in again.output
    assert sum(recipients(outbox).values()) == 5


def test_a_cancelled_meetings_notice_stops_going_out(
    app, held_queue, staff, members, outbox, make_meeting
):
    meeting = make_meeting(state="draft")
    send_notice(staff, meeting)
    staff.post(f"/staff/meetings/{meeting.id}/cancel", data={"reason": "Venue flooded"})
    with app.app_context():
        assert notices.send_pending(meeting.id).sent == 0
    assert recipients(outbox) == Counter()


# -- who gets it ----------------------------------------------------------------------------


def test_before_the_record_date_active_members_get_it_and_later_admissions_when_the_roll_freezes(
    db, coop, make_member, cease, reviewer
):
    ann = make_member(classes=["listener"])
    gone = make_member(classes=["artist"])
    cease(gone)
    clock = portal.coop.clock(db)
    meeting = lifecycle.create_meeting(
        db,
        lifecycle.MeetingInput(
            kind=MeetingKind.AGM,
            title="AGM 2027",
            starts_at=clock.now() + timedelta(days=30),
            record_date=clock.today() + timedelta(days=3),
            place="The Guildhall, Cork",
        ),
        actor=reviewer,
        standard_agenda=True,
    )
    lifecycle.add_resolution(
        db,
        meeting,
        title="Approve the accounts",
        text="RESOLVED that the accounts are approved.",
        kind=ResolutionKind.ORDINARY,
        member_class=None,
        secret=False,
        actor=reviewer,
    )
    lifecycle.send_notice(db, meeting, actor=reviewer)
    assert not meeting.roll_is_frozen
    assert {d.member_id for d in _deliveries(db, meeting)} == {ann.id}
    start = utcnow()
    with time_machine.travel(start + timedelta(days=2), tick=False):
        bob = make_member(classes=["artist"])  # admitted before the record date
    with time_machine.travel(start + timedelta(days=4), tick=False):
        late = make_member(classes=["artist"])  # after it: not on the roll
        lifecycle.open_voting(db, meeting, actor=reviewer)
    recipients = {d.member_id for d in _deliveries(db, meeting)}
    assert recipients == {ann.id, bob.id} and late.id not in recipients


def _deliveries(db, meeting):
    return db.scalars(select(NoticeDelivery).where(NoticeDelivery.meeting_id == meeting.id)).all()


# -- progress for staff ---------------------------------------------------------------------


def test_progress_polls_while_sending_and_answers_286_when_done(
    app, held_queue, staff, members, make_meeting
):
    meeting = make_meeting(state="draft")
    send_notice(staff, meeting)
    url = f"/staff/meetings/{meeting.id}/notice"
    polling = staff.htmx_get(url)
    body = polling.get_data(as_text=True)
    assert polling.status_code == 200
    assert "<html" not in body and 'data-hx-target="this"' in body
    assert 'data-hx-trigger="every 3s"' in body and "0 of 5" in body
    with app.app_context():
        notices.send_pending(meeting.id)
    done = staff.htmx_get(url)
    assert done.status_code == 286
    assert "5 of 5" in done.get_data(as_text=True)
    assert "data-hx-trigger" not in done.get_data(as_text=True)
    page = staff.get(url)  # without JavaScript: the same figures on a page
    assert page.status_code == 200 and "5 of 5" in page.get_data(as_text=True)
    assert "<html" in page.get_data(as_text=True)


def test_a_stalled_mailing_offers_resume_which_works_without_javascript(
    app, held_queue, staff, members, make_meeting
):
    meeting = make_meeting(state="draft")
    send_notice(staff, meeting)
    url = f"/staff/meetings/{meeting.id}/notice"
    assert "Resume the mailing" not in staff.get(url).get_data(as_text=True)
    with time_machine.travel(utcnow() + notices.STALLED_AFTER + timedelta(seconds=5)):
        page = staff.get(url).get_data(as_text=True)
        assert "has stalled" in page and "Resume the mailing" in page
        plain = staff.post(f"{url}/resume")
        assert plain.status_code == 303 and plain.headers["Location"].endswith(url)
        partial = staff.post(f"{url}/resume", headers=HTMX)
        assert partial.status_code == 200
        assert "The mailing resumed: 5 notices to send." in partial.get_data(as_text=True)
        assert 'data-hx-target="this"' in partial.get_data(as_text=True)


def test_a_meeting_without_a_notice_has_no_progress(staff, make_meeting):
    meeting = make_meeting(state="draft")
    assert staff.get(f"/staff/meetings/{meeting.id}/notice").status_code == 404
    assert staff.post(f"/staff/meetings/{meeting.id}/notice/resume").status_code == 404


def test_members_cannot_see_or_resume_a_mailing(app, members, make_meeting, sign_in):
    meeting = make_meeting(state="noticed")
    ann = sign_in("ann@example.org")
    assert ann.get(f"/staff/meetings/{meeting.id}/notice").status_code == 403
    assert ann.post(f"/staff/meetings/{meeting.id}/notice/resume").status_code == 403


def test_resuming_needs_the_csrf_token(app, staff, members, make_meeting):
    meeting = make_meeting(state="noticed")
    response = staff.post(f"/staff/meetings/{meeting.id}/notice/resume", csrf=False)
    assert response.status_code == 400
    assert count(app, Document) == 1  # only the notice; nothing else changed
