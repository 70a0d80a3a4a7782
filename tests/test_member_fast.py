"""Member pages at 100,000 members (issue 16 §5, second round): the admission dues are
found from the person's own applications, not by walking every waiting order."""

from __future__ import annotations

import re

from sqlalchemy import event

from portal.db import database
from tests.factories import sql_statements


def plans_of(app, client, url, marker):
    """SQLite's query plan (EXPLAIN QUERY PLAN) of each statement of a GET of ``url``
    whose SQL contains ``marker``."""
    seen = []

    def record(_conn, _cursor, statement, parameters, *_args):
        if marker in statement and not statement.startswith("EXPLAIN"):
            seen.append((statement, parameters))

    engine = database(app).engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    with engine.connect() as conn:
        return [
            " | ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
            for sql, params in seen
        ]


def test_the_admission_dues_start_from_the_persons_applications(
    app, make_applicant, make_member, make_order, sign_in
):
    if database(app).engine.dialect.name != "sqlite":
        return  # the plan is SQLite's; PostgreSQL plans by its statistics
    for _ in range(3):  # other people's orders waiting for payment
        make_order(make_member(), "supporter", 5)
    applicant = make_applicant(state="awaiting_share")
    client = sign_in(applicant.email)
    page = client.get("/me").get_data(as_text=True)
    assert "pay to become a member" in page  # the due is shown
    plans = plans_of(app, client, "/me", "JOIN applications")
    dues = [plan for plan in plans if "share_orders" in plan]
    assert dues, plans
    for plan in dues:
        # From the person's applications by their user index, then their orders by theirs:
        # never the index of every order in a state.
        assert "ix_applications_user_id" in plan, plan
        assert "ix_share_orders_application_id" in plan, plan
        assert plan.index("ix_applications_user_id") < plan.index("share_orders USING"), plan


def test_the_library_shows_the_first_few_of_each_category_and_pages_the_rest(
    app, make_member, make_document, sign_in, monkeypatch
):
    from portal.services.documents import library

    monkeypatch.setattr(library, "FRONT_PER_CATEGORY", 2)
    monkeypatch.setattr(library, "LIBRARY_PAGE", 2)
    for title in ("Policy A", "Policy B", "Policy C", "Policy D", "Policy E"):
        make_document(title, category="policies", visibility="members")
    make_document("Rules", category="rules", slug="rules")
    client = sign_in(make_member().email)
    front = client.get("/documents").get_data(as_text=True)
    assert "Policy A" in front and "Policy B" in front and "Policy C" not in front
    assert 'href="/documents?category=policies">All 5 policies' in front
    assert "All 1 rules" not in front  # every rule is shown already
    # A category's own pages, by title, two at a time, linked without JavaScript.
    first = client.get("/documents?category=policies").get_data(as_text=True)
    assert "Policy A" in first and "Policy B" in first and "Policy C" not in first
    assert "5 documents in Policies." in first
    after = re.search(r'href="(/documents\?after=\d+[^"]*)" rel="next"', first).group(1)
    second = client.get(after.replace("&amp;", "&")).get_data(as_text=True)
    assert "Policy C" in second and "Policy D" in second and "Policy A" not in second
    assert 'rel="prev"' in second and 'rel="next"' in second
    # A search is paged the same way; an htmx request gets the results alone.
    found = client.get("/documents?q=policy", headers={"HX-Request": "true"})
    assert "<html" not in found.get_data(as_text=True)
    assert 'rel="next"' in found.get_data(as_text=True)


def test_the_library_front_runs_the_same_statements_however_many_documents(
    app, make_member, make_document, sign_in
):
    make_document("Policy A", category="policies")
    client = sign_in(make_member().email)
    client.get("/documents")
    with sql_statements(app) as before:
        client.get("/documents")
    for n in range(12):
        make_document(f"Report {n}", category="reports", visibility="members")
    with sql_statements(app) as after:
        page = client.get("/documents").get_data(as_text=True)
    assert len(after) == len(before) <= 6
    assert page.count("Report ") == 6 and "All 12 reports" in page


def test_the_shares_page_lists_the_newest_few_and_links_to_all_of_them(
    app, make_member, factories, sign_in, monkeypatch
):
    from portal.services.shares import holdings

    monkeypatch.setattr(holdings, "RECENT", 2)
    member = make_member(shares={"supporter": 5})
    for _ in range(3):  # with the membership and first supporter shares: five of each
        factories.buy(member, "supporter", 5)
    factories.withdrawal(member, 5)
    client = sign_in(member.email)
    page = client.get("/shares").get_data(as_text=True)
    assert page.count("Certificate no.") == 2
    assert 'href="/shares/certificates">All 5 certificates' in page
    assert 'href="/shares/orders">All 5 orders' in page
    assert "All 1 withdrawals" not in page and "Cancel request" in page
    assert "Withdraw shares" in page  # the open request is counted from the listed one
    with sql_statements(app) as before:
        client.get("/shares")
    for _ in range(3):  # more than the page lists already: the page does the same work
        factories.buy(member, "supporter", 5)
    with sql_statements(app) as after:
        client.get("/shares")
    assert len(after) == len(before)
    every = client.get("/shares/certificates").get_data(as_text=True)
    assert every.count("Certificate no.") == 8 and "8 in all." in every
    orders = client.get("/shares/orders?page=2", headers={"HX-Request": "true"})
    assert orders.status_code == 200 and "<html" not in orders.get_data(as_text=True)
    assert client.get("/shares/withdrawals").status_code == 200
    assert client.get("/shares/nonsense").status_code == 404


def test_a_person_who_is_not_a_member_has_no_share_lists(make_applicant, sign_in):
    client = sign_in(make_applicant().email)
    assert client.get("/shares/orders").status_code == 404


def test_a_signed_in_page_sees_a_settings_change_made_elsewhere_at_once(app, make_member, sign_in):
    """The settings row is read with the session record on every request, never kept
    between requests: a change by an admin on another instance shows on the next page."""
    from portal import coop
    from portal.db import write_session

    client = sign_in(make_member().email)
    assert "Renamed Co-op" not in client.get("/me").get_data(as_text=True)
    with write_session(app) as db:
        coop.stored_settings(db).name = "Renamed Co-op"
    assert "Renamed Co-op" in client.get("/me").get_data(as_text=True)
