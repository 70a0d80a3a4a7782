"""The pages a member opens most do their work in a few SQL statements, however many
orders, certificates, withdrawals, documents and votes they have (issue 16 §5)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import sql_statements

# The most statements each page may run for a signed-in member: the session and its user,
# the member with their classes, the co-op's settings, and the page's own few queries.
# (Issue 16 round 2: the session, its user and the settings are one statement.)
CEILINGS = {
    "/me": 12,
    "/shares": 10,
    "/documents": 6,
    "/documents/rules": 5,
    "/meetings/{meeting}": 25,  # two per resolution: see issue 16 part C report
}

TWO_RESOLUTIONS = ({"title": "Approve the accounts"}, {"title": "Elect the auditor"})


def statements_of(app, client, url):
    """The statements a GET of ``url`` runs, once the client has opened it before."""
    client.get(url)
    with sql_statements(app) as seen:
        response = client.get(url)
    assert response.status_code == 200, url
    return seen


@pytest.fixture
def ann(make_member, make_document, make_meeting, sign_in):
    """Ann, a member with a few supporter shares; the rules, with one version; an open
    meeting with two resolutions. Returns her client and the meeting."""
    member = make_member(email="ann@example.org", name="Ann Byrne", shares={"supporter": 5})
    make_document(
        "Rules",
        slug="rules",
        visibility="members",
        versions=[(date(2026, 1, 1), "# Rules\n\n1.1 The name is Ann's Co-op.", "First")],
    )
    meeting = make_meeting(resolutions=TWO_RESOLUTIONS)
    return member, sign_in(member.email), meeting


def grow(factories, make_document, make_order, member, meeting):
    """Give Ann much more: orders, certificates, a withdrawal, documents, versions, votes."""
    for _ in range(4):
        factories.buy(member, "supporter", 5)
        make_order(member, "supporter", 5)
    factories.withdrawal(member, 5)
    for n in range(4):
        make_document(
            f"Policy {n}",
            visibility="members",
            versions=[(date(2026, 1, d), f"Text {d}", f"Edition {d}") for d in (1, 2, 3)],
        )
    make_document(
        "Rules again",
        slug="rules-2",
        versions=[(date(2026, 1, d), f"1.{d} Clause", "Edition") for d in (1, 2, 3)],
    )
    factories.vote(meeting, member, "for", "against")


def test_member_pages_run_a_few_statements_however_much_the_member_has(
    app, ann, factories, make_document, make_order
):
    member, client, meeting = ann
    urls = {key: key.format(meeting=meeting.id) for key in CEILINGS}
    before = {key: len(statements_of(app, client, url)) for key, url in urls.items()}
    grow(factories, make_document, make_order, member, meeting)
    after = {key: len(statements_of(app, client, url)) for key, url in urls.items()}
    assert after == before
    assert all(before[key] <= CEILINGS[key] for key in CEILINGS), before


def test_shares_reads_the_holdings_in_one_grouped_query(app, ann, factories):
    member, client, _meeting = ann
    factories.withdrawal(member, 5)
    seen = statements_of(app, client, "/shares")
    sums = [s for s in seen if "sum(" in s]
    assert len(sums) == 1  # not one per share type, nor one for each type's withdrawals
    assert "JOIN share_ledger" in sums[0] and "GROUP BY share_types.id" in sums[0]
