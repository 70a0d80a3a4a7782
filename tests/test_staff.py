"""Staff pages: who may see them, the audit log's filters and pages (the outbox:
test_outbox_views.py)."""

from __future__ import annotations

import re
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


def count_of(html):
    """What the results say they hold ("5 events", "More than 1,000 events")."""
    return re.search(r'results-count">\s*([^<]*?)\s*<', html).group(1)


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
    sorcha = make_user(email="s@example.org", role="staff", name="Sorcha Staff")
    make_user(email="other@example.org", name="Other Person")
    add_events(app, 3, action="thing.made")
    add_events(app, 2, action="thing.old", at=utcnow() - timedelta(days=40))
    client.login("s@example.org")

    by_action = client.htmx_get("/staff/audit?action=thing.made").get_data(as_text=True)
    assert by_action.count("<code>thing.made</code>") == 3
    assert "user.created" not in by_action

    by_actor = client.htmx_get(f"/staff/audit?actor={sorcha.id}").get_data(as_text=True)
    assert "Sorcha Staff" in by_actor and "Other Person" not in by_actor
    page = client.get("/staff/audit").get_data(as_text=True)
    # The choices: the staff (not every account) and the actions and objects that occur.
    assert f'<option value="{sorcha.id}">Sorcha Staff (s@example.org)</option>' in page
    assert "other@example.org" not in page.split('id="actor"', 1)[1].split("</select>", 1)[0]
    assert '<option value="thing.made">' in page and '<option value="thing.old">' in page
    assert '<option value="thing">' in page
    assert client.get("/staff/audit?actor=sorcha").status_code == 200  # not an id: anyone

    by_object = client.htmx_get("/staff/audit?object_type=thing").get_data(as_text=True)
    assert count_of(by_object) == "5 events"

    since = (utcnow() - timedelta(days=7)).date().isoformat()
    recent = client.htmx_get(f"/staff/audit?object_type=thing&since={since}")
    assert count_of(recent.get_data(as_text=True)) == "3 events"
    until = (utcnow() - timedelta(days=30)).date().isoformat()
    old = client.htmx_get(f"/staff/audit?until={until}").get_data(as_text=True)
    assert count_of(old) == "2 events" and "thing.old" in old


def test_the_audit_log_is_paginated_and_keeps_the_filter_in_the_links(app, client, make_user):
    make_user(email="s@example.org", role="staff")
    add_events(app, 120, action="bulk.event")
    client.login("s@example.org")
    first = client.get("/staff/audit?action=bulk.event").get_data(as_text=True)
    assert "120 events" in first and first.count("<code>bulk.event</code>") == 50
    older = re.search(r'<a href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "after=" in older and "action=bulk.event" in older
    second = client.htmx_get(older).get_data(as_text=True)
    older = re.search(r'<a href="([^"]+)" rel="next"', second).group(1).replace("&amp;", "&")
    third = client.htmx_get(older).get_data(as_text=True)
    assert third.count("<code>bulk.event</code>") == 20
    assert "Older" not in third and "Newer" in third
    newer = re.search(r'<a href="([^"]+)" rel="prev"', third).group(1).replace("&amp;", "&")
    assert client.htmx_get(newer).get_data(as_text=True) == second
    shown = [re.findall(r"event (\d+)<", page) for page in (first, second, third)]
    assert sorted(int(n) for page in shown for n in page) == list(range(120))  # none twice


def test_a_cursor_that_is_not_one_shows_the_first_page(app, client, make_user):
    make_user(email="s@example.org", role="staff")
    add_events(app, 60, action="bulk.event")
    client.login("s@example.org")
    first = client.htmx_get("/staff/audit?action=bulk.event").get_data(as_text=True)
    for bad in ("abc", "-5", "99999999999999999999", "987654", ""):
        for name in ("after", "before"):
            for path in (
                "/staff/audit?action=bulk.event&",
                "/staff/members?",
                "/staff/applications?",
            ):
                response = client.get(f"{path}{name}={bad}")
                assert response.status_code == 200, (path, name, bad)
        shown = client.htmx_get(f"/staff/audit?action=bulk.event&after={bad}")
        assert shown.get_data(as_text=True) == first
