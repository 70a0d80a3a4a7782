"""The staff board page (issue 15 §1): the board by class, directors already in office
recorded by member number, class and term, and a term ended early on resignation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal import coop as coop_module
from portal.errors import InvalidInput, InvalidState
from portal.models import AuditEvent, Director, MemberClass
from portal.services.elections import board

from .factories import HTMX, reading


def find_class(db, code):
    return db.scalar(select(MemberClass).where(MemberClass.code == code))


def today(app) -> date:
    with reading(app) as db:
        return coop_module.today(db)


@pytest.fixture
def artists(coop, make_member):
    """Four artists, members for a year: directors whose terms started before today."""
    joined = coop_module.Clock.named("Europe/Dublin").today() - timedelta(days=365)
    return [
        make_member(
            name=f"{name} Artist",
            email=f"{name.lower()}@example.org",
            classes=["artist"],
            admitted_on=joined,
        )
        for name in ("Ada", "Bea", "Cy", "Dee")
    ]


def form(member, start, end, code="artist"):
    return {
        "member_number": str(member.number),
        "class_code": code,
        "term_started_on": start.isoformat(),
        "term_ends_on": end.isoformat(),
    }


def directors(app):
    with reading(app) as db:
        return [
            (d.member_id, d.member_class.code, d.term_started_on, d.term_ends_on)
            for d in db.scalars(select(Director).order_by(Director.id))
        ]


def test_staff_record_a_director_in_office_and_see_the_board(app, staff, artists):
    day = today(app)
    ada = artists[0]
    response = staff.post(
        "/staff/board", data=form(ada, day - timedelta(days=200), day + timedelta(days=500))
    )
    assert response.status_code == 303
    assert directors(app) == [
        (ada.id, "artist", day - timedelta(days=200), day + timedelta(days=500))
    ]
    page = staff.get("/staff/board").get_data(as_text=True)
    assert "Ada Artist" in page and "recorded by staff" in page
    assert "3 seats, 2 vacant." in page
    with reading(app) as db:
        assert db.scalar(select(AuditEvent.action).where(AuditEvent.object_type == "director")) == (
            "director.recorded"
        )


def test_the_dashboard_links_the_board_page(staff):
    assert "/staff/board" in staff.get("/staff").get_data(as_text=True)


def test_recording_answers_htmx_with_a_redirect(app, staff, artists):
    day = today(app)
    response = staff.post(
        "/staff/board", data=form(artists[0], day, day + timedelta(days=30)), headers=HTMX
    )
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/staff/board"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"member_number": "999"}, "There is no member number 999."),
        ({"member_number": "x1"}, "Member number"),
        ({"class_code": "nope"}, "Choose a class with board seats."),
        ({"term_started_on": "2026-02-30"}, "Term starts"),
        ({"term_ends_on": "yesterday"}, "Term ends"),
    ],
)
def test_bad_input_answers_422_with_the_form_and_message(app, staff, artists, change, message):
    day = today(app)
    data = form(artists[0], day, day + timedelta(days=30)) | change
    response = staff.post("/staff/board", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and "Record the director" in page
    assert directors(app) == []


def test_a_term_must_end_after_it_starts(app, staff, artists):
    day = today(app)
    response = staff.post("/staff/board", data=form(artists[0], day, day))
    assert response.status_code == 422
    assert "The term must end after it starts." in response.get_data(as_text=True)


def test_no_more_directors_than_the_class_has_seats(app, staff, artists):
    day = today(app)
    for artist in artists[:3]:
        assert (
            staff.post("/staff/board", data=form(artist, day, day + timedelta(days=90))).status_code
            == 303
        )
    response = staff.post("/staff/board", data=form(artists[3], day, day + timedelta(days=90)))
    assert response.status_code == 422
    assert "all taken" in response.get_data(as_text=True)


def test_a_member_holds_one_seat_at_a_time(app, staff, artists):
    day = today(app)
    staff.post("/staff/board", data=form(artists[0], day, day + timedelta(days=90)))
    again = staff.post(
        "/staff/board", data=form(artists[0], day + timedelta(days=30), day + timedelta(days=400))
    )
    assert again.status_code == 422
    assert "one seat at a time" in again.get_data(as_text=True)


def test_a_member_of_another_class_does_not_sit_for_it(app, staff, artists, make_member):
    lee = make_member(name="Lee Listener", email="lee@example.org", classes=["listener"])
    day = today(app)
    response = staff.post("/staff/board", data=form(lee, day, day + timedelta(days=90)))
    assert response.status_code == 422
    assert "not in the Artist class" in response.get_data(as_text=True)
    assert directors(app) == []


def test_staff_end_a_term_early_on_resignation(app, staff, artists):
    day = today(app)
    ada = artists[0]
    staff.post("/staff/board", data=form(ada, day - timedelta(days=100), day + timedelta(days=300)))
    [(director_id,)] = [(d,) for d in _ids(app)]
    bad = staff.post(f"/staff/board/directors/{director_id}/end", data={"last_day": "soon"})
    assert bad.status_code == 422 and "Last day in office" in bad.get_data(as_text=True)
    late = (day + timedelta(days=301)).isoformat()
    refused = staff.post(f"/staff/board/directors/{director_id}/end", data={"last_day": late})
    assert refused.status_code == 422
    assert "before it would end" in refused.get_data(as_text=True)
    done = staff.post(
        f"/staff/board/directors/{director_id}/end",
        data={"last_day": (day - timedelta(days=1)).isoformat(), "reason": "Resigned"},
    )
    assert done.status_code == 303
    assert directors(app)[0][3] == day - timedelta(days=1)
    page = staff.get("/staff/board").get_data(as_text=True)
    assert 'id="director-' not in page  # no longer sitting today
    with reading(app) as db:
        summary = db.scalar(
            select(AuditEvent.summary).where(AuditEvent.action == "director.term_ended")
        )
    assert summary.endswith(": Resigned")


def _ids(app):
    with reading(app) as db:
        return list(db.scalars(select(Director.id)))


def test_an_ended_term_cannot_end_again(db, coop, make_member, reviewer):
    day = coop_module.today(db)
    member = make_member(classes=["artist"], admitted_on=day - timedelta(days=100)).load(db)
    director = board.record_director(
        db,
        member,
        find_class(db, "artist"),
        day - timedelta(days=90),
        day + timedelta(days=90),
        actor=reviewer,
    )
    with pytest.raises(InvalidInput, match="after the term started"):
        board.end_term(db, director, day - timedelta(days=95), actor=reviewer)
    board.end_term(db, director, day - timedelta(days=2), actor=reviewer)
    with pytest.raises(InvalidState, match="already ended"):
        board.end_term(db, director, day - timedelta(days=10), actor=reviewer)


def test_members_cannot_see_or_change_the_staff_board(app, artists, sign_in):
    ada = sign_in("ada@example.org")
    assert ada.get("/staff/board").status_code == 403
    assert (
        ada.post(
            "/staff/board", data=form(artists[0], date(2026, 1, 1), date(2027, 1, 1))
        ).status_code
        == 403
    )
    assert directors(app) == []
