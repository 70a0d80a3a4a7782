"""Staff pages: who may see them, the audit log's filters and pages (the outbox:
test_outbox_views.py)."""

from __future__ import annotations

from datetime import timedelta

from portal.db import database
from portal.models import AuditEvent, utcnow


def add_events(app, n, action="test.thing", **fields):
    with database(app).session(write=True) as session, session.begin():
        for i in range(n):
            session.add(
                AuditEvent(
                    action=action,
                    object_type="thing",
                    object_id=str(i),
                    summary=f"event {i}",
                    **fields,
                )
            )


def test_members_cannot_reach_staff_pages(client, make_user):
    make_user(email="m@example.org")
    client.login("m@example.org")
    for path in ("/staff", "/staff/audit", "/staff/outbox"):
        assert client.get(path).status_code == 403


def test_staff_see_the_dashboard_and_audit_log(client, make_user):
    make_user(email="s@example.org", role="staff")
    client.login("s@example.org")
    dashboard = client.get("/staff")
    assert dashboard.status_code == 200
    assert "Recent activity" in dashboard.get_data(as_text=True)
    log = client.get("/staff/audit").get_data(as_text=True)
    assert "user.logged_in" in log


def test_a_staff_account_that_is_not_a_member_is_not_asked_to_join(staff):
    page = staff.get("/me").get_data(as_text=True)
    assert "You are not a member yet" not in page
    assert "This is a staff account: it is not on the register of members" in page
    assert 'href="/staff">Go to the staff pages</a>' in page
    assert ">My account</a>" in page and "My membership" not in page  # menu and title agree
    assert "<title>My account ·" in page


def test_a_member_still_finds_my_membership(make_member, sign_in):
    page = sign_in(make_member().email).get("/me").get_data(as_text=True)
    assert ">My membership</a>" in page and "This is a staff account" not in page


def test_the_audit_log_filters_by_action_actor_object_and_date(app, client, make_user):
    make_user(email="s@example.org", role="staff", name="Sorcha Staff")
    make_user(email="other@example.org", name="Other Person")
    add_events(app, 3, action="thing.made")
    add_events(app, 2, action="thing.old", at=utcnow() - timedelta(days=40))
    client.login("s@example.org")

    by_action = client.htmx_get("/staff/audit?action=thing.made").get_data(as_text=True)
    assert by_action.count("<code>thing.made</code>") == 3
    assert "user.created" not in by_action

    by_actor = client.htmx_get("/staff/audit?actor=sorcha").get_data(as_text=True)
    assert "Sorcha Staff" in by_actor and "Other Person" not in by_actor

    by_object = client.htmx_get("/staff/audit?object_type=thing").get_data(as_text=True)
    assert "Showing 1–5 of 5 events" in by_object

    since = (utcnow() - timedelta(days=7)).date().isoformat()
    recent = client.htmx_get(f"/staff/audit?object_type=thing&since={since}")
    assert "of 3 events" in recent.get_data(as_text=True)
    until = (utcnow() - timedelta(days=30)).date().isoformat()
    old = client.htmx_get(f"/staff/audit?until={until}").get_data(as_text=True)
    assert "of 2 events" in old and "thing.old" in old


def test_the_audit_log_is_paginated_and_keeps_the_filter_in_the_links(app, client, make_user):
    make_user(email="s@example.org", role="staff")
    add_events(app, 120, action="bulk.event")
    client.login("s@example.org")
    first = client.get("/staff/audit?action=bulk.event").get_data(as_text=True)
    assert "Showing 1–50 of 120 events" in first
    assert "page=2" in first and "action=bulk.event" in first
    third = client.htmx_get("/staff/audit?action=bulk.event&page=3").get_data(as_text=True)
    assert "Showing 101–120 of 120 events" in third
    assert "Older" not in third and "Newer" in third
