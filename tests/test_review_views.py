"""Staff review of applications over HTTP: the queue, approve, ask, reject, bulk, two people."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal.models import Application, ApplicationState, Member, OrderState, ShareOrder
from portal.services import pagination

from .factories import (
    HTMX,
    application_of,
    audit_actions,
    count,
    is_page,
    is_partial,
    mails_to,
    reading,
)

SHARE_DUE = "Your application is approved: pay your membership share to become a member"


def number_of(app, application_id):
    with reading(app) as db:
        application = db.get(Application, application_id)
        return db.get(Member, application.member_id).number


def admission_order_of(app, application_id):
    """The order whose payment admits the applicant of this application (detached)."""
    with reading(app) as db:
        return db.scalar(select(ShareOrder).where(ShareOrder.application_id == application_id))


def share_due_mails(outbox, email):
    """The mails asking ``email`` to pay the membership share."""
    return [m for m in mails_to(outbox, email) if SHARE_DUE in m.subject]


# --- The queue -----------------------------------------------------------------------------


def test_the_queue_lists_the_applications_awaiting_a_decision(make_applicant, staff):
    waiting = make_applicant(name="Wendy Waiting")
    asked = make_applicant(name="Quentin Queried", state="needs_info")
    draft = make_applicant(name="Dora Draft", state="draft")
    rejected = make_applicant(name="Rex Rejected", state="rejected")
    unpaid = make_applicant(name="Una Unpaid", state="awaiting_share")  # decided: not open

    page = staff.get("/staff/applications")
    assert page.status_code == 200 and is_page(page)
    html = page.get_data(as_text=True)
    assert '<option value="open" selected>' in html
    assert f'id="application-{waiting.application_id}"' in html
    assert f'id="application-{asked.application_id}"' in html
    assert "Dora Draft" not in html and "Rex Rejected" not in html and "Una Unpaid" not in html
    assert "2 applications" in html
    assert f'id="application-{unpaid.application_id}"' not in html
    assert f'id="application-{draft.application_id}"' not in html
    assert f'id="application-{rejected.application_id}"' not in html

    partial = staff.htmx_get("/staff/applications")
    assert partial.status_code == 200 and is_partial(partial)
    body = partial.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="review-results"')
    assert "Wendy Waiting" in body and "Dora Draft" not in body


def test_the_queue_filters_by_class(make_applicant, staff):
    make_applicant(name="Arty Artist", code="artist")
    make_applicant(name="Wally Worker", code="worker")
    for get in (staff.get, staff.htmx_get):
        html = get("/staff/applications?class=artist").get_data(as_text=True)
        assert "Arty Artist" in html and "Wally Worker" not in html
        assert ">1 application</p>" in html
    page = staff.get("/staff/applications?class=worker").get_data(as_text=True)
    assert '<option value="worker" selected>' in page


def test_the_queue_filters_by_state(make_applicant, staff):
    make_applicant(name="Wendy Waiting")
    make_applicant(name="Rex Rejected", state="rejected")
    for get in (staff.get, staff.htmx_get):
        html = get("/staff/applications?state=rejected").get_data(as_text=True)
        assert "Rex Rejected" in html and "Wendy Waiting" not in html
        assert "We could not find the release." in html  # the reason given
    everything = staff.htmx_get("/staff/applications?state=").get_data(as_text=True)
    assert "Rex Rejected" in everything and "Wendy Waiting" in everything
    tampered = staff.htmx_get("/staff/applications?state=draft").get_data(as_text=True)
    assert "Wendy Waiting" in tampered and "Rex Rejected" not in tampered  # back to "open"


def test_the_queue_lists_the_approved_applicants_yet_to_pay_and_how_long_they_waited(
    app, make_applicant, staff
):
    now = datetime.now(UTC)
    with time_machine.travel(now - timedelta(days=3), tick=False):
        slow = make_applicant(name="Sam Slow", state="awaiting_share")
    with time_machine.travel(now - timedelta(days=1), tick=False):
        late = make_applicant(name="Lou Late", state="awaiting_share")
    prompt = make_applicant(name="Pat Prompt", state="awaiting_share")
    make_applicant(name="Wendy Waiting")
    page = staff.get("/staff/applications").get_data(as_text=True)
    assert '<option value="awaiting_share">Approved, share to pay</option>' in page
    for get in (staff.get, staff.htmx_get):
        html = get("/staff/applications?state=awaiting_share").get_data(as_text=True)
        assert "3 applications" in html and "Wendy Waiting" not in html
        for applicant, waited in ((slow, "3 days ago"), (late, "1 day ago"), (prompt, "today")):
            row = html.split(f'id="application-{applicant.application_id}"', 1)[1]
            row = row.split("</tbody>", 1)[0]
            reference = admission_order_of(app, applicant.application_id).payment_reference
            note = f'share unpaid <span class="nowrap">(<code>{reference}</code>)</span>'
            assert f"Approved {waited}; {note}" in row
            assert "Approved, share to pay" in row and "Remind to pay" in row
            assert f"/staff/applications/{applicant.application_id}/approve" not in row
    chosen = staff.get("/staff/applications?state=awaiting_share").get_data(as_text=True)
    assert '<option value="awaiting_share" selected>' in chosen


def test_the_queue_pages_keep_the_state_filter(make_applicant, staff):
    """Paging through "All but drafts" stays on that filter (it is the empty choice)."""
    for n in range(14):
        make_applicant(name=f"Person Artist{n}", email=f"p{n}@example.org")
        make_applicant(email=f"p{n}@example.org", code="worker")
    make_applicant(name="Rex Rejected", state="rejected")
    first = staff.get("/staff/applications?state=").get_data(as_text=True)
    assert "29 applications" in first and first.count('class="review-row"') == 25
    next_link = re.search(r'<a href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = staff.htmx_get(next_link).get_data(as_text=True)
    assert "29 applications" in second and second.count('class="review-row"') == 4
    assert "Rex Rejected" in second and 'rel="next"' not in second and 'rel="prev"' in second


# --- Deciding ------------------------------------------------------------------------------


def test_approving_asks_for_the_membership_share_and_returns_to_the_queue(
    app, make_applicant, staff, outbox, pay
):
    ann = make_applicant(name="Ann Artist")
    response = staff.post(f"/staff/applications/{ann.application_id}/approve")
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/applications"
    assert application_of(app, ann.application_id).state is ApplicationState.AWAITING_SHARE
    assert application_of(app, ann.application_id).member_id is None
    assert count(app, Member) == 0
    order = admission_order_of(app, ann.application_id)
    assert (order.state, order.member_id, order.amount_minor) == (
        OrderState.PENDING_PAYMENT,
        None,
        100,
    )
    [due] = share_due_mails(outbox, ann.email)
    assert order.payment_reference in due.text and "€1" in due.text
    assert not any(m.subject.startswith("Welcome") for m in mails_to(outbox, ann.email))
    queue = staff.get("/staff/applications").get_data(as_text=True)
    assert (
        "Approved: Ann Artist becomes a member when the membership share is paid; "
        "the payment details are on their way." in queue
    )
    assert "No applications match." in queue  # decided: no longer awaiting a decision

    pay(order)  # staff record the payment: now a member, and welcomed
    assert application_of(app, ann.application_id).state is ApplicationState.APPROVED
    assert number_of(app, ann.application_id) == 1
    subjects = [m.subject for m in mails_to(outbox, ann.email)]
    assert "Welcome to Reverb Music Co-op, member no. 1" in subjects


def test_a_decision_never_sends_staff_off_the_site(make_applicant, staff):
    ann = make_applicant()
    url = f"/staff/applications/{ann.application_id}/approve"
    response = staff.post(url, data={"next": "https://evil.example/queue"})
    assert response.headers["Location"] == "/staff/applications"


def test_approving_with_htmx_answers_the_row_in_place(app, make_applicant, staff):
    ann = make_applicant(name="Ann Artist")
    response = staff.post(f"/staff/applications/{ann.application_id}/approve", headers=HTMX)
    assert response.status_code == 200 and is_partial(response)
    row = response.get_data(as_text=True)
    assert row.lstrip().startswith(f'<tbody id="application-{ann.application_id}"')
    assert '<span class="status status-warning">Approved, share to pay</span>' in row
    reference = admission_order_of(app, ann.application_id).payment_reference
    assert (
        f'Approved today; share unpaid <span class="nowrap">(<code>{reference}</code>)</span>'
        in row
    )
    assert "Member no." not in row
    assert "Approved: Ann Artist becomes a member when the membership share is paid" in row
    assert f"/staff/applications/{ann.application_id}/approve" not in row  # decided
    assert f"/staff/applications/{ann.application_id}/remind" in row
    assert application_of(app, ann.application_id).state is ApplicationState.AWAITING_SHARE


def test_approving_someone_who_is_a_member_already_admits_them_to_the_class_at_once(
    app, make_member, make_applicant, staff, outbox
):
    ann = make_member(name="Ann Artist")
    further = make_applicant(email=ann.email, code="worker")
    response = staff.post(f"/staff/applications/{further.application_id}/approve", headers=HTMX)
    assert response.status_code == 200
    row = response.get_data(as_text=True)
    assert '<span class="status status-success">Approved</span>' in row
    assert f"Member no. {ann.number}" in row
    assert f"Approved: Ann Artist, member no. {ann.number}, joins the class." in row
    assert application_of(app, further.application_id).state is ApplicationState.APPROVED
    assert admission_order_of(app, further.application_id) is None  # nothing more to pay
    assert count(app, Member) == 1
    newest = mails_to(outbox, ann.email)[0]
    assert newest.subject == "You are now in the Worker class"


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_staff_remind_an_approved_applicant_to_pay(app, make_applicant, staff, outbox, headers):
    ann = make_applicant(name="Ann Artist", state="awaiting_share")
    reference = admission_order_of(app, ann.application_id).payment_reference
    assert len(share_due_mails(outbox, ann.email)) == 1  # at approval
    url = f"/staff/applications/{ann.application_id}/remind"
    response = staff.post(url, headers=headers)
    if headers:
        assert response.status_code == 200 and is_partial(response)
        row = response.get_data(as_text=True)
        assert row.lstrip().startswith(f'<tbody id="application-{ann.application_id}"')
        assert "Sent Ann Artist the payment details again." in row
    else:
        assert response.status_code == 303
        assert response.headers["Location"] == "/staff/applications"
        queue = staff.get("/staff/applications").get_data(as_text=True)
        assert "Sent Ann Artist the payment details again." in queue
    reminder, at_approval = share_due_mails(outbox, ann.email)  # newest first
    assert at_approval.subject.strip() == SHARE_DUE
    assert reminder.subject.strip() == f"Reminder: {SHARE_DUE}"
    assert "We have not yet received the payment" in reminder.text
    assert reference in reminder.text and "€1" in reminder.text
    assert "application.reminded" in audit_actions(app)
    assert application_of(app, ann.application_id).state is ApplicationState.AWAITING_SHARE


def test_only_an_applicant_yet_to_pay_can_be_reminded(
    app, make_applicant, make_member, staff, outbox
):
    draft = make_applicant(state="draft")
    submitted = make_applicant()
    member = make_member()
    with reading(app) as db:
        admitted = db.scalar(select(Application.id).where(Application.member_id == member.id))
    sent = len(outbox())
    for application_id in (draft.application_id, 9999):
        assert staff.post(f"/staff/applications/{application_id}/remind").status_code == 404
    for application_id in (submitted.application_id, admitted):
        response = staff.post(f"/staff/applications/{application_id}/remind", headers=HTMX)
        assert response.status_code == 409
        assert "awaiting its share" in response.get_data(as_text=True)
    assert len(outbox()) == sent
    assert "application.reminded" not in audit_actions(app)


def test_a_rejection_without_a_reason_is_refused_in_place(app, make_applicant, staff, outbox):
    ann = make_applicant()
    sent = len(outbox())
    response = staff.post(
        f"/staff/applications/{ann.application_id}/reject", data={"reason": "  "}, headers=HTMX
    )
    assert response.status_code == 422 and is_partial(response)
    row = response.get_data(as_text=True)
    assert row.lstrip().startswith(f'<tbody id="application-{ann.application_id}"')
    assert '<div class="alert alert-error" role="alert">Write the reason for the applicant.' in row
    assert "<details open>" in row
    application = application_of(app, ann.application_id)
    assert application.state is ApplicationState.SUBMITTED and application.reason is None
    assert "application.rejected" not in audit_actions(app)
    assert len(outbox()) == sent


def test_a_rejection_without_a_reason_and_without_javascript_says_so(app, make_applicant, staff):
    ann = make_applicant()
    response = staff.post(f"/staff/applications/{ann.application_id}/reject", data={"reason": ""})
    assert response.status_code == 422  # the queue again, with the message
    assert "Write the reason for the applicant." in response.get_data(as_text=True)
    assert application_of(app, ann.application_id).state is ApplicationState.SUBMITTED


def test_a_rejection_tells_the_applicant_why(app, make_applicant, staff, sign_in, outbox):
    ann = make_applicant()
    reason = "We could not find a release under that name."
    response = staff.post(
        f"/staff/applications/{ann.application_id}/reject", data={"reason": reason}, headers=HTMX
    )
    assert response.status_code == 200
    assert '<span class="status status-danger">Not accepted</span>' in response.get_data(
        as_text=True
    )
    application = application_of(app, ann.application_id)
    assert application.state is ApplicationState.REJECTED and application.reason == reason
    [mail] = mails_to(outbox, ann.email)[:1]
    assert mail.subject == "Your application to the Artist class"
    assert reason in mail.text
    status = sign_in(ann.email).get("/application").get_data(as_text=True)
    assert "Not accepted" in status and reason in status


def test_asking_for_information_with_htmx_updates_the_row(app, make_applicant, staff):
    ann = make_applicant()
    response = staff.post(
        f"/staff/applications/{ann.application_id}/ask",
        data={"reason": "Which label?"},
        headers=HTMX,
    )
    assert response.status_code == 200 and is_partial(response)
    row = response.get_data(as_text=True)
    assert "More information needed" in row and "Which label?" in row
    assert application_of(app, ann.application_id).state is ApplicationState.NEEDS_INFO


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_an_application_cannot_be_approved_twice(app, make_applicant, staff, headers):
    ann = make_applicant()
    url = f"/staff/applications/{ann.application_id}/approve"
    staff.post(url)
    again = staff.post(url, headers=headers)
    assert again.status_code == 409
    assert "it cannot be approved" in again.get_data(as_text=True)
    with reading(app) as db:
        assert db.scalars(select(ShareOrder.application_id)).all() == [ann.application_id]
    assert count(app, Member) == 0  # a member once the share is paid


def test_drafts_and_unknown_applications_are_not_found(make_applicant, staff):
    draft = make_applicant(state="draft")
    for action in ("approve", "ask", "reject"):
        assert staff.post(f"/staff/applications/{draft.application_id}/{action}").status_code == 404
        assert staff.post(f"/staff/applications/9999/{action}").status_code == 404


def test_staff_cannot_approve_their_own_application(app, make_user, make_applicant, sign_in):
    make_user(email="staff@example.org", role="staff")
    own = make_applicant(email="staff@example.org")
    response = sign_in("staff@example.org").post(
        f"/staff/applications/{own.application_id}/approve"
    )
    assert response.status_code == 403
    assert application_of(app, own.application_id).state is ApplicationState.SUBMITTED


# --- Several at once -----------------------------------------------------------------------


def test_staff_approve_several_applications_in_one_go(app, make_applicant, staff, outbox):
    chosen = [make_applicant() for _ in range(3)]
    left = make_applicant()
    ids = [str(a.application_id) for a in chosen]
    response = staff.post(
        "/staff/applications/approve",
        data={"application_id": ids, "next": "/staff/applications?class=artist"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/applications?class=artist"
    for applicant in chosen:
        state = application_of(app, applicant.application_id).state
        assert state is ApplicationState.AWAITING_SHARE
        assert admission_order_of(app, applicant.application_id) is not None
        assert len(share_due_mails(outbox, applicant.email)) == 1
    assert application_of(app, left.application_id).state is ApplicationState.SUBMITTED
    assert admission_order_of(app, left.application_id) is None
    assert count(app, Member) == 0
    assert (
        "Approved 3 applications. 3 will be members once their membership share is paid."
        in staff.get("/staff/applications").get_data(as_text=True)
    )
    assert not any(m.subject.startswith("Welcome") for m in outbox())


def test_a_bulk_approval_is_all_or_nothing(app, make_applicant, staff, outbox):
    fresh, decided = make_applicant(), make_applicant(state="rejected")
    response = staff.post(
        "/staff/applications/approve",
        data={"application_id": [str(fresh.application_id), str(decided.application_id)]},
    )
    assert response.status_code == 303
    assert application_of(app, fresh.application_id).state is ApplicationState.SUBMITTED
    assert count(app, Member) == 0 and count(app, ShareOrder) == 0
    assert not any(m.subject.startswith("Welcome") for m in outbox())
    assert share_due_mails(outbox, fresh.email) == []
    assert (
        "Nothing was approved: This application is not accepted; it cannot be approved."
        in staff.get("/staff/applications").get_data(as_text=True)
    )


def test_a_bulk_approval_needs_a_selection(staff):
    response = staff.post("/staff/applications/approve", data={"application_id": ["x"]})
    assert response.status_code == 303
    assert "Select at least one application" in staff.get("/staff/applications").get_data(
        as_text=True
    )


# --- The two-person rule -------------------------------------------------------------------


@pytest.fixture
def two_person_rule(admin):
    """An admin has turned the two-person rule on."""
    response = admin.post("/staff/settings/two_person_approval", data={"value": "true"})
    assert response.status_code == 303


@pytest.mark.usefixtures("two_person_rule")
def test_the_two_person_rule_needs_a_second_staff_member(app, make_user, make_applicant, sign_in):
    make_user(email="first@example.org", role="staff", name="Fiona First")
    make_user(email="second@example.org", role="staff", name="Sean Second")
    ann = make_applicant()
    url = f"/staff/applications/{ann.application_id}/approve"
    first = sign_in("first@example.org")
    assert "The two-person rule is on" in first.get("/staff/applications").get_data(as_text=True)

    once = first.post(url, headers=HTMX)
    assert once.status_code == 200
    row = once.get_data(as_text=True)
    assert "Being approved" in row and "First approval: Fiona First" in row
    assert "Confirm approval" in row
    assert application_of(app, ann.application_id).state is ApplicationState.AWAITING_SECOND
    assert count(app, Member) == 0

    assert first.post(url).status_code == 403  # the same person cannot confirm
    assert application_of(app, ann.application_id).state is ApplicationState.AWAITING_SECOND

    assert admission_order_of(app, ann.application_id) is None  # nothing to pay yet

    confirmed = sign_in("second@example.org").post(url, headers=HTMX)
    assert confirmed.status_code == 200
    row = confirmed.get_data(as_text=True)
    assert "Approved, share to pay" in row and "Remind to pay" in row
    assert application_of(app, ann.application_id).state is ApplicationState.AWAITING_SHARE
    assert admission_order_of(app, ann.application_id) is not None
    assert count(app, Member) == 0


def first_approvals_in_bulk(app, make_user, make_applicant, sign_in):
    """One staff member approves two applications at once under the two-person rule; the
    queue they see next."""
    make_user(email="first@example.org", role="staff")
    chosen = [make_applicant(), make_applicant()]
    first = sign_in("first@example.org")
    first.post(
        "/staff/applications/approve",
        data={"application_id": [str(a.application_id) for a in chosen]},
    )
    for applicant in chosen:
        state = application_of(app, applicant.application_id).state
        assert state is ApplicationState.AWAITING_SECOND
    assert count(app, ShareOrder) == 0  # nothing to pay before the second approval
    return first.get("/staff/applications").get_data(as_text=True)


@pytest.mark.usefixtures("two_person_rule")
def test_a_bulk_approval_under_the_two_person_rule_says_a_second_is_needed(
    app, make_user, make_applicant, sign_in
):
    queue = first_approvals_in_bulk(app, make_user, make_applicant, sign_in)
    assert "2 await a second staff member&#39;s confirmation." in queue
    assert "membership share is paid" not in queue


@pytest.mark.usefixtures("two_person_rule")
def test_a_bulk_first_approval_does_not_claim_the_applications_approved(
    app, make_user, make_applicant, sign_in
):
    queue = first_approvals_in_bulk(app, make_user, make_applicant, sign_in)
    assert "Approved 2 applications." not in queue


# --- Who may review ------------------------------------------------------------------------

REVIEW_REQUESTS = [
    ("GET", "/staff/applications"),
    ("POST", "/staff/applications/{id}/approve"),
    ("POST", "/staff/applications/{id}/ask"),
    ("POST", "/staff/applications/{id}/reject"),
    ("POST", "/staff/applications/approve"),
    ("POST", "/staff/applications/{id}/remind"),
]


@pytest.mark.parametrize(("method", "path"), REVIEW_REQUESTS)
def test_a_member_cannot_reach_the_review_pages(
    app, make_member, make_applicant, sign_in, method, path
):
    ann = make_applicant()
    client = sign_in(make_member().email)
    url = path.format(id=ann.application_id)
    data = {"reason": "x", "application_id": str(ann.application_id)}
    response = client.get(url) if method == "GET" else client.post(url, data=data)
    assert response.status_code == 403
    assert application_of(app, ann.application_id).state is ApplicationState.SUBMITTED


@pytest.mark.parametrize(("method", "path"), REVIEW_REQUESTS)
def test_a_signed_out_visitor_is_sent_to_sign_in_from_the_review_pages(
    client, make_applicant, method, path
):
    url = path.format(id=make_applicant().application_id)
    send = client.get if method == "GET" else client.post
    plain = send(url)
    assert plain.status_code == 303 and plain.headers["Location"].startswith("/login")
    htmx = send(url, headers=HTMX)
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")


def test_the_dashboard_says_more_than_the_bound_it_counted_to(make_applicant, staff, monkeypatch):
    for n in range(3):
        make_applicant(name=f"Wendy Waiting{n}", email=f"w{n}@example.org")
    assert "<p>3 awaiting a decision." in staff.get("/staff").get_data(as_text=True)
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 2)  # a big co-op's queue, in small
    page = staff.get("/staff").get_data(as_text=True)
    assert "<p>More than 2 awaiting a decision." in page
    queue = staff.get("/staff/applications").get_data(as_text=True)
    assert "More than 2 applications" in queue
