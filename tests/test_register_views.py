"""The register of members over HTTP: search, a member's page, CSV, resignation, anonymising."""

from __future__ import annotations

import csv
import gc
import io
import re
import warnings
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from portal.db import database
from portal.models import Application, AuditEvent, Member, MemberStatus, User, utcnow

from .conftest import PASSWORD, link_in
from .factories import HTMX, audit_actions, is_page, is_partial, reading


@dataclass(frozen=True)
class Download:
    """The register CSV as fetched: its rows, the response, and whether it was streamed."""

    rows: list[list[str]]
    response: Any
    streamed: bool


@pytest.fixture
def download_register(staff):
    """Fetch /staff/members.csv as staff.

    The view leaks the database session it streams from (see
    test_the_csv_download_gives_its_database_connection_back), which on PostgreSQL
    would block the next test's TRUNCATE; collecting it afterwards gives it back.
    """

    def download() -> Download:
        response = staff.get("/staff/members.csv")
        streamed = response.is_streamed  # reading the body turns it into a list
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        response.close()
        return Download(rows, response, streamed)

    yield download
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc.collect()


def stored_member(app, member_id):
    with reading(app) as db:
        return db.get(Member, member_id)


def rows_of(html):
    """The member names listed in a results table, in order."""
    return re.findall(r'<th scope="row"><a href="/staff/members/\d+">([^<]+)</a></th>', html)


# --- Searching -----------------------------------------------------------------------------


def test_the_register_searches_by_name_email_and_number(make_member, staff):
    aoife = make_member(name="Aoife Byrne", email="aoife@music.example")
    make_member(name="Brian Kelly", email="brian@example.org")
    make_member(name="Cara Byrne", email="cara@example.org")

    page = staff.get("/staff/members")
    assert page.status_code == 200 and is_page(page)
    assert rows_of(page.get_data(as_text=True)) == ["Aoife Byrne", "Brian Kelly", "Cara Byrne"]

    by_name = staff.get("/staff/members?q=byrne").get_data(as_text=True)
    assert rows_of(by_name) == ["Aoife Byrne", "Cara Byrne"]
    by_email = staff.htmx_get("/staff/members?q=AOIFE@mus")
    assert is_partial(by_email)
    assert rows_of(by_email.get_data(as_text=True)) == ["Aoife Byrne"]
    by_number = staff.htmx_get(f"/staff/members?q=%23{aoife.number}").get_data(as_text=True)
    assert rows_of(by_number) == ["Aoife Byrne"]
    nobody = staff.htmx_get("/staff/members?q=zzz").get_data(as_text=True)
    assert "No members match." in nobody
    # The start of a name or its later words, of an e-mail, never the middle of one.
    assert rows_of(staff.get("/staff/members?q=aoi").get_data(as_text=True)) == ["Aoife Byrne"]
    assert rows_of(staff.get("/staff/members?q=yrne").get_data(as_text=True)) == []
    assert rows_of(staff.get("/staff/members?q=music.example").get_data(as_text=True)) == []


def test_the_register_filters_by_class_and_status(app, make_member, staff, cease):
    make_member(name="Ann Artist", classes=("artist",))
    make_member(name="Walt Worker", classes=("worker",))
    both = make_member(name="Bea Both", classes=("artist", "worker"))
    gone = make_member(name="Gus Gone", classes=("artist",))
    cease(gone)

    for get in (staff.get, staff.htmx_get):
        artists = get("/staff/members?class=artist").get_data(as_text=True)
        assert rows_of(artists) == ["Ann Artist", "Bea Both", "Gus Gone"]
    workers = staff.htmx_get("/staff/members?class=worker").get_data(as_text=True)
    assert rows_of(workers) == ["Walt Worker", "Bea Both"]
    ceased = staff.htmx_get("/staff/members?status=ceased").get_data(as_text=True)
    assert rows_of(ceased) == ["Gus Gone"]
    active_artists = staff.get("/staff/members?class=artist&status=active").get_data(as_text=True)
    assert rows_of(active_artists) == ["Ann Artist", "Bea Both"]
    assert '<option value="active" selected>' in active_artists
    assert both.number == 3


def test_the_register_search_answers_htmx_with_the_results_only(make_member, staff):
    make_member(name="Ann Artist")
    response = staff.htmx_get("/staff/members?q=ann")
    assert response.status_code == 200 and is_partial(response)
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="register-results"')
    assert "Register of members" not in body  # no page heading, no filter form


def test_the_register_is_paginated_and_keeps_the_filter_in_the_links(make_member, staff):
    for n in range(27):
        make_member(name=f"Member Person{n:02d}")
    first = staff.get("/staff/members").get_data(as_text=True)
    assert "27 members" in first and len(rows_of(first)) == 25
    next_link = re.search(r'<a href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")

    second = staff.htmx_get(next_link).get_data(as_text=True)
    assert "27 members" in second
    assert rows_of(second) == ["Member Person25", "Member Person26"]
    back = re.search(r'<a href="([^"]+)" rel="prev"', second).group(1).replace("&amp;", "&")
    assert rows_of(staff.get(back).get_data(as_text=True)) == rows_of(first)

    filtered = staff.get("/staff/members?q=member&class=artist").get_data(as_text=True)
    next_link = re.search(r'<a href="([^"]+)" rel="next"', filtered).group(1)
    assert "after=" in next_link and "q=member" in next_link and "class=artist" in next_link


# --- A member's page -----------------------------------------------------------------------


def test_a_members_page_shows_classes_status_history_and_audit_trail(make_member, staff):
    ann = make_member(name="Ann Both", classes=("artist", "worker"), email="ann@example.org")
    page = staff.get(f"/staff/members/{ann.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'Ann Both <span class="muted">· no. {ann.number}</span>' in html
    assert "<dd>ann@example.org</dd>" in html
    assert "1 Main Street, Flat 2, Cork, T12 AB34, Ireland" in html
    assert "Artist (primary, votes here): from" in html and "Worker: from" in html
    assert "Active — Admitted: Artist" in html  # the status history
    assert "member.admitted" in html and "member.class_added" in html  # the audit trail
    assert "Anonymise this member" not in html  # only for a ceased member


def test_an_unknown_member_is_not_found(staff):
    assert staff.get("/staff/members/999").status_code == 404
    assert staff.post("/staff/members/999/resignation").status_code == 404
    assert staff.post("/staff/members/999/anonymise").status_code == 404


# --- The CSV -------------------------------------------------------------------------------


def test_the_register_downloads_as_a_streamed_csv(app, make_member, download_register, cease):
    ann = make_member(name="Ann Artist", email="ann@example.org", classes=("artist", "worker"))
    gus = make_member(name="Gus Gone", email="gus@example.org", town="Sligo")
    cease(gus)
    download = download_register()
    rows, response = download.rows, download.response
    assert response.status_code == 200
    assert download.streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="register-of-members.csv"'
    )
    assert rows[0] == [
        "member_number",
        "name",
        "address",
        "email",
        "classes",
        "date_admitted",
        "date_ceased",
        "status",
    ]
    today = utcnow().date().isoformat()
    assert rows[1:] == [
        [
            str(ann.number),
            "Ann Artist",
            "1 Main Street, Flat 2, Cork, T12 AB34, Ireland",
            "ann@example.org",
            "Artist; Worker",
            today,
            "",
            "active",
        ],
        [
            str(gus.number),
            "Gus Gone",
            "1 Main Street, Flat 2, Sligo, T12 AB34, Ireland",
            "gus@example.org",
            "Artist",
            today,
            today,
            "ceased",
        ],
    ]


def test_the_csv_download_gives_its_database_connection_back(app, make_member, download_register):
    make_member()
    pool = database(app).engine.pool
    assert pool.checkedout() == 0
    download_register()
    assert pool.checkedout() == 0, "the streamed CSV left a session open (idle in transaction)"


@pytest.mark.parametrize(
    "formula",
    [
        '=HYPERLINK("https://evil.example","Click")',
        '＝HYPERLINK("https://evil.example")',
        "@SUM(1)",
    ],
    ids=["equals", "full-width-equals", "at"],
)
def test_the_csv_defuses_a_name_a_spreadsheet_would_run_as_a_formula(
    make_member, sign_in, download_register, formula
):
    ann = make_member(email="ann@example.org")
    renamed = sign_in(ann.email).post(
        "/me/profile",
        data={"name": formula, "address_line1": "1 Main Street", "town": "Cork", "country": "IE"},
    )
    assert renamed.status_code == 303
    download = download_register()
    name = download.rows[1][1]
    assert formula in name  # kept, but not as a formula
    assert name.startswith("'"), name
    assert "no-store" in download.response.headers["Cache-Control"]


# --- Resignation ---------------------------------------------------------------------------


def test_staff_confirm_a_resignation_and_the_member_ceases(
    app, make_member, staff, sign_in, outbox
):
    ann = make_member(email="ann@example.org")
    member_client = sign_in("ann@example.org")
    member_client.post("/me/resign", data={"reason": "Moving abroad"})
    detail = staff.get(f"/staff/members/{ann.id}").get_data(as_text=True)
    assert "Resignation requested" in detail and "Moving abroad" in detail

    response = staff.post(f"/staff/members/{ann.id}/resignation")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/staff/members/{ann.id}"
    member = stored_member(app, ann.id)
    assert member.status is MemberStatus.CEASED
    assert member.ceased_on == utcnow().date()
    [mail] = [m for m in outbox() if m.subject == "Your resignation is confirmed"]
    assert mail.to == "ann@example.org"
    assert f"no. {ann.number}) ceased on" in mail.text

    dashboard = member_client.get("/me").get_data(as_text=True)
    assert "Ceased" in dashboard and "Resign from the co-op" not in dashboard
    page = staff.get(f"/staff/members/{ann.id}").get_data(as_text=True)
    assert "Ceased — Resigned" in page and "Anonymise this member" in page
    assert staff.post(f"/staff/members/{ann.id}/resignation").status_code == 404  # done


def test_a_resignation_withdrawn_by_the_member_cannot_be_confirmed(
    app, make_member, staff, sign_in
):
    ann = make_member()
    member_client = sign_in(ann.email)
    member_client.post("/me/resign", data={"reason": ""})
    member_client.post("/me/resign", data={"action": "withdraw"})
    assert staff.post(f"/staff/members/{ann.id}/resignation").status_code == 404
    assert stored_member(app, ann.id).status is MemberStatus.ACTIVE


# --- Anonymising ---------------------------------------------------------------------------


def test_a_ceased_member_is_anonymised_keeping_the_register_entry(
    app, make_member, staff, client, download_register, cease
):
    ann = make_member(name="Ann Artist", email="ann@example.org")
    cease(ann)
    response = staff.post(f"/staff/members/{ann.id}/anonymise")
    assert response.status_code == 303
    member = stored_member(app, ann.id)
    assert member.user_id is None and member.anonymised_at is not None
    assert (member.name, member.address_line1, member.town) == (
        "Ann Artist",
        "1 Main Street",
        "Cork",
    )
    with reading(app) as db:
        user = db.get(User, ann.user_id)
        assert user.email != "ann@example.org" and user.email.endswith("@invalid")
        assert user.name == "Former member"
        assert db.scalar(select(AuditEvent).where(AuditEvent.action == "member.anonymised"))
    page = staff.get(f"/staff/members/{ann.id}").get_data(as_text=True)
    assert "Anonymised" in page and "ann@example.org" not in page
    rows = download_register().rows
    assert rows[1][1:4] == ["Ann Artist", "1 Main Street, Flat 2, Cork, T12 AB34, Ireland", ""]
    assert client.login("ann@example.org").status_code == 422  # cannot sign in


def test_an_anonymised_member_leaves_no_pending_email_that_can_bring_the_account_back(
    app, make_member, staff, sign_in, outbox, cease
):
    ann = make_member(email="ann@example.org")
    sign_in("ann@example.org").post(
        "/me/profile/email", data={"email": "ann@new.example", "current": PASSWORD}
    )
    link = link_in(next(m for m in outbox() if m.to == "ann@new.example"), "/verify-email/")
    cease(ann)
    assert staff.post(f"/staff/members/{ann.id}/anonymise").status_code == 303
    staff.post(link)  # the old link, opened after anonymising
    with reading(app) as db:
        user = db.get(User, ann.user_id)
        assert user.email.endswith("@invalid"), user.email
        assert user.pending_email is None


def test_after_the_retention_period_anonymising_removes_the_address_everywhere(
    app, make_member, staff, cease
):
    ann = make_member(name="Ann Artist", admitted_on=date(2004, 5, 1))
    cease(ann, on=date(2010, 3, 1))  # long ago: the register need not keep the entry
    assert staff.post(f"/staff/members/{ann.id}/anonymise").status_code == 303
    member = stored_member(app, ann.id)
    assert (member.name, member.address_line1, member.town) == ("Former member no. 1", "", "")
    with reading(app) as db:
        kept = db.execute(
            select(Application.address_line1, Application.town, Application.postcode).where(
                Application.user_id == ann.user_id
            )
        ).all()
    assert kept == [("", "", "")], "the application still holds the address"


def test_an_active_member_cannot_be_anonymised(app, make_member, staff):
    ann = make_member(email="ann@example.org")
    before = audit_actions(app)
    response = staff.post(f"/staff/members/{ann.id}/anonymise")
    assert response.status_code == 409
    assert "Only a ceased member can be anonymised." in response.get_data(as_text=True)
    member = stored_member(app, ann.id)
    assert member.user_id == ann.user_id and member.anonymised_at is None
    assert audit_actions(app) == before


# --- Who may see the register --------------------------------------------------------------

REGISTER_REQUESTS = [
    ("GET", "/staff/members"),
    ("GET", "/staff/members.csv"),
    ("GET", "/staff/members/{id}"),
    ("POST", "/staff/members/{id}/resignation"),
    ("POST", "/staff/members/{id}/anonymise"),
]


@pytest.mark.parametrize(("method", "path"), REGISTER_REQUESTS)
def test_a_member_cannot_reach_the_register(app, make_member, sign_in, method, path, cease):
    ann = make_member()
    cease(ann)
    client = sign_in(make_member().email)
    url = path.format(id=ann.id)
    response = client.get(url) if method == "GET" else client.post(url)
    assert response.status_code == 403
    assert stored_member(app, ann.id).anonymised_at is None


@pytest.mark.parametrize(("method", "path"), REGISTER_REQUESTS)
def test_a_signed_out_visitor_is_sent_to_sign_in_from_the_register(
    client, make_member, method, path
):
    url = path.format(id=make_member().id)
    send = client.get if method == "GET" else client.post
    plain = send(url)
    assert plain.status_code == 303 and plain.headers["Location"].startswith("/login")
    htmx = send(url, headers=HTMX)
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")
