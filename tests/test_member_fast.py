"""Member pages at 100,000 members (issue 16 §5, second round): the admission dues are
found from the person's own applications, not by walking every waiting order."""

from __future__ import annotations

from sqlalchemy import event

from portal.db import database


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
