"""Hostile input: the refusals the fuzz (tests/security/test_fuzz.py) cannot judge.

The fuzz sends generated values to every route, field and parameter and asks only that no
answer is a server error; here are the inputs whose answer must also be a refusal: ids
past a database integer, payments and versions dated implausibly (issue 12, item 5).
"""

from __future__ import annotations

from datetime import date

import pytest

# An id one past the largest an id column holds (PostgreSQL's 4-byte integer), and 2**63.
PAST_AN_ID = ["2147483648", "9223372036854775808"]


@pytest.mark.parametrize("number", PAST_AN_ID)
def test_an_id_past_any_column_is_looked_up_as_none_not_sent_to_the_database(
    make_member, make_meeting, staff, number
):
    """PostgreSQL refuses an integer past its column's range outright (where SQLite finds
    no row): every id, member number and cursor read from a request is bounded first."""
    make_member(email="ann@example.org")
    meeting = make_meeting()
    assert staff.get(f"/meetings/{number}").status_code == 404
    assert staff.get(f"/staff/meetings/{meeting.id}/resolutions/{number}/room").status_code == 404
    for query in ("q", "after", "before", "member", "actor"):
        for page in ("/staff/members", "/staff/orders", "/staff/audit", "/staff/register"):
            response = staff.get(page, query_string={query: number})
            assert response.status_code in (200, 422), (page, query)
    response = staff.post("/staff/transfers", data={"from_member": number, "to_member": "1"})
    assert response.status_code == 422
    assert (
        staff.post("/staff/applications/approve", data={"application_id": number}).status_code
        == 303
    )


@pytest.mark.parametrize("paid_on", ["0001-01-01", "1900-02-28", "2020-01-01", "2026-W01"])
def test_a_payment_dated_before_its_order_or_implausibly_is_refused(
    make_member, make_order, staff, paid_on
):
    ann = make_member(email="ann@example.org")
    order = make_order(ann, "supporter", 5)
    response = staff.post(
        f"/staff/orders/{order.id}/payment",
        data={"amount": "5", "paid_on": paid_on, "method": "bank_transfer", "confirm": "yes"},
    )
    assert response.status_code == 422
    assert "Enter the date the money moved" in response.get_data(
        as_text=True
    ) or "before the order was placed" in response.get_data(as_text=True)


@pytest.mark.parametrize("effective_on", ["9999-12-31", "2026-W01", "20261206", "1899-12-31"])
def test_a_version_taking_effect_on_an_implausible_day_is_refused(
    make_document, staff, effective_on
):
    document = make_document("Board terms", versions=[(date(2026, 1, 1), "First text.", "New")])
    response = staff.post(
        f"/staff/documents/{document.slug}/versions",
        data={
            "format": "markdown",
            "body": "Second text.",
            "effective_on": effective_on,
            "change_note": "Revised",
            "confirm": "yes",
        },
    )
    assert response.status_code == 422


def test_the_audit_pager_carries_only_its_filters_whatever_the_query_holds(make_member, staff):
    """url_for takes ``_method``, ``_anchor``, ``_external`` as its own: a query key of that
    name carried into a pager link was a server error (found by the fuzz)."""
    make_member(email="ann@example.org")
    response = staff.get(
        "/staff/audit",
        query_string={"after": "5", "_method": "javascript:alert(1)", "_external": "1",
                      "_anchor": "x", "since": "2000-01-01"},
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "before=" in page and "since=2000-01-01" in page
    assert "_method" not in page and "_external" not in page
