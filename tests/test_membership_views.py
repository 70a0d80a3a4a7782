"""Joining and the member's own pages over HTTP: classes, applying, status, profile, export."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from portal.db import write_session
from portal.models import (
    Application,
    ApplicationState,
    AuditEvent,
    Consent,
    Member,
    MemberStatus,
    OrderState,
    Resignation,
    ResignationState,
    ShareOrder,
    User,
)
from portal.services.register.classes import find_class

from .conftest import PASSWORD, link_in
from .factories import (
    HTMX,
    application_form,
    application_of,
    audit_actions,
    count,
    mails_to,
    reading,
)

pytestmark = pytest.mark.usefixtures("coop")


def only_application(app, email):
    """The one application of the account with this e-mail."""
    with reading(app) as db:
        user = db.scalar(select(User).where(User.email == email))
        [application] = db.scalars(select(Application).where(Application.user_id == user.id))
        return application


def subjects_of(outbox, email):
    return [m.subject for m in mails_to(outbox, email)]


def member_of(app, email):
    with reading(app) as db:
        user = db.scalar(select(User).where(User.email == email))
        return db.scalar(select(Member).where(Member.user_id == user.id))


def admission_order_of(app, application_id):
    """The order whose payment admits the applicant of this application (detached)."""
    with reading(app) as db:
        return db.scalar(select(ShareOrder).where(ShareOrder.application_id == application_id))


SHARE_DUE = "Your application is approved: pay your membership share to become a member"


def share_due_mails(outbox, email):
    """The approval mails asking ``email`` to pay."""
    return [m for m in mails_to(outbox, email) if m.subject == SHARE_DUE]


IBAN = "IE29AIBK93115212345678"  # the Reverb co-op's account (the RESONATE preset)


# --- The classes ---------------------------------------------------------------------------


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_the_join_page_lists_the_open_classes_with_what_they_cost(client, make_user, signed_in):
    if signed_in:
        make_user(email="ann@example.org")
        client.login("ann@example.org")
    page = client.get("/join")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in ("Listener", "Artist", "Worker"):
        assert f"<h2>{name}</h2>" in html
    assert "€10 a year" in html  # the listener's annual fee
    assert 'href="/join/listener">Apply as listener</a>' in html
    assert ("To apply you need an account" in html) is not signed_in


def test_the_join_page_tells_a_member_the_classes_they_belong_to(make_member, sign_in):
    ann = make_member(classes=("artist",))
    html = sign_in(ann.email).get("/join").get_data(as_text=True)
    badge = re.search(r'<span class="status status-success">([^<]+)</span>', html).group(1)
    assert "artist" in badge.lower()
    assert "You are a artist member" not in badge, badge  # "an artist"
    assert 'href="/join/listener">Apply as listener</a>' in html


def test_the_landing_pages_links_each_name_one_place(client):
    html = client.get("/").get_data(as_text=True)
    places: dict[str, set[str]] = {}
    for href, text in re.findall(r'<a [^>]*href="([^"]+)"[^>]*>(.*?)</a>', html, re.S):
        places.setdefault(" ".join(re.sub(r"<[^>]+>", " ", text).split()), set()).add(href)
    assert {name: hrefs for name, hrefs in places.items() if len(hrefs) > 1} == {}
    assert places["Join the co-op"] == {"/join"}  # the classes, what each costs, how to apply
    assert places["Create an account"] == {"/signup"}


def terms_of(html, class_name):
    """The terms listed on the class card (or apply page) headed ``class_name``, as pairs."""
    card = html.split(f">{class_name}</", 1)[1] if f">{class_name}</" in html else html
    terms = card.split('<dl class="terms">', 1)[1].split("</dl>", 1)[0]
    return dict(
        (re.sub(r"<[^>]+>", "", dt), " ".join(re.sub(r"<[^>]+>", "", dd).split()))
        for dt, dd in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", terms, re.S)
    )


def test_the_join_page_says_exactly_what_a_newcomer_pays(client):
    html = client.get("/join").get_data(as_text=True)
    artist = terms_of(html, "Artist")
    assert artist["Membership share"] == "1 × €1, paid once"
    assert artist["Annual fee"] == "None"
    assert artist["You pay"] == "€1, once"
    listener = terms_of(html, "Listener")
    assert listener["You pay"] == "€1 once and €10 a year"
    assert "Membership is free" not in html  # beside a share that costs €1


@pytest.mark.parametrize(
    ("paid", "words"),
    [
        (True, "None to buy: the one you hold serves every class you join"),
        (False, "None to buy: the one you have on order serves every class you join"),
    ],
    ids=["paid", "on-order"],
)
def test_a_member_applying_for_a_second_class_is_not_asked_for_another_share(
    make_member, make_applicant, sign_in, paid, words
):
    """A member, or an approved applicant whose share waits for payment (rule 9.1)."""
    ann = make_member(classes=("artist",)) if paid else make_applicant(state="awaiting_share")
    client = sign_in(ann.email)
    listener = terms_of(client.get("/join/listener").get_data(as_text=True), "Listener")
    assert listener["Membership share"] == words
    assert listener["You pay"] == "€10 a year"
    worker = terms_of(client.get("/join").get_data(as_text=True), "Worker")
    assert worker["You pay"] == "Nothing"


def test_a_member_opening_their_own_class_is_told_so_before_typing(app, make_member, sign_in):
    ann = make_member(classes=("artist",))
    client = sign_in(ann.email)
    page = client.get("/join/artist")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "You are already a member of the Artist class." in html
    assert 'action="/join/artist"' not in html and 'name="answer-artist_name"' not in html
    before = audit_actions(app)
    posted = client.post("/join/artist", data=application_form())
    assert posted.status_code == 409
    answer = posted.get_data(as_text=True)
    assert "<h1>Apply as artist</h1>" in answer  # the same page, not a bare error page
    assert "You are already a member of the Artist class." in answer
    assert 'action="/join/artist"' not in answer
    assert audit_actions(app) == before


def test_a_class_closed_for_applications_is_neither_listed_nor_open(app, client, make_user):
    with app.test_request_context("/"), write_session(app) as db:
        find_class(db, "worker").open_for_applications = False
    make_user(email="ann@example.org")
    client.login("ann@example.org")
    assert "<h2>Worker</h2>" not in client.get("/join").get_data(as_text=True)
    assert client.get("/join/worker").status_code == 404


def test_an_unknown_class_is_not_found(client, make_user):
    make_user(email="ann@example.org")
    client.login("ann@example.org")
    assert client.get("/join/astronaut").status_code == 404
    assert client.post("/join/astronaut", data=application_form()).status_code == 404


def test_applying_needs_a_signed_in_account(client):
    page = client.get("/join/artist")
    assert page.status_code == 303
    assert page.headers["Location"] == "/login?next=/join/artist"
    htmx = client.htmx_get("/join/artist")
    assert htmx.status_code == 401
    assert htmx.headers["HX-Redirect"] == "/login?next=/join/artist"
    posted = client.post("/join/artist", data=application_form())
    assert posted.status_code == 303
    assert posted.headers["Location"] == "/login"


def test_an_unverified_account_must_confirm_its_email_before_applying(app, client, make_user):
    make_user(email="new@example.org", verified=False)
    client.login("new@example.org")
    page = client.get("/join/artist")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Confirm your e-mail address first" in html
    assert 'name="answer-artist_name"' not in html
    assert client.post("/join/artist", data=application_form()).status_code == 403
    assert count(app, Application) == 0


# --- Applying ------------------------------------------------------------------------------


def test_an_artist_application_is_submitted_for_review(app, client, make_user, outbox):
    make_user(email="ann@example.org", name="Ann Artist")
    client.login("ann@example.org")
    form = client.get("/join/artist").get_data(as_text=True)
    assert 'name="answer-artist_name"' in form and 'name="answer-release_url"' in form

    response = client.post("/join/artist", data=application_form())
    assert response.status_code == 303
    assert response.headers["Location"] == "/application"

    application = only_application(app, "ann@example.org")
    assert application.state is ApplicationState.SUBMITTED
    assert {a["key"]: a["value"] for a in application.answers} == {
        "artist_name": "The Quays",
        "release_url": "https://music.example/quays",
    }
    assert (application.address_line1, application.town) == ("1 Main Street", "Cork")
    assert application.rulebook_version.startswith("Rules of Reverb")
    assert subjects_of(outbox, "ann@example.org") == ["We have your application to join as Artist"]
    status = client.get("/application").get_data(as_text=True)
    assert "Waiting for review" in status
    join = client.get("/join").get_data(as_text=True)
    assert 'href="/application">See your application</a>' in join
    assert "your application to the Artist class is in" in status


def test_a_saved_draft_keeps_the_answers_for_later(app, client, make_user, outbox):
    make_user(email="ann@example.org")
    client.login("ann@example.org")
    draft = {
        "answer-artist_name": "Half Finished",
        "address_line1": "9 Draft Lane",
        "town": "Galway",
        "action": "save",
    }
    response = client.post("/join/artist", data=draft)
    assert response.status_code == 303
    assert response.headers["Location"] == "/join/artist"
    assert only_application(app, "ann@example.org").state is ApplicationState.DRAFT
    assert outbox() == []

    again = client.get("/join/artist").get_data(as_text=True)
    assert 'value="Half Finished"' in again
    assert 'value="9 Draft Lane"' in again and 'value="Galway"' in again
    assert "Your draft is saved" in again
    assert "Continue the draft" in client.get("/application").get_data(as_text=True)
    assert 'href="/join/artist">Continue your draft</a>' in client.get("/join").get_data(
        as_text=True
    )

    client.post("/join/artist", data=application_form())
    assert only_application(app, "ann@example.org").state is ApplicationState.SUBMITTED


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"answer-artist_name": ""}, "answer-artist_name", "This answer is required."),
        ({"answer-release_url": "my bandcamp"}, "answer-release_url", "starting with https://"),
        ({"answer-artist_name": "A" * 201}, "answer-artist_name", "Use at most 200 characters."),
        ({"address_line1": ""}, "address_line1", "Enter your address."),
        ({"town": "  "}, "town", "Enter your town or city."),
        ({"accept_rules": ""}, "accept_rules", "You must accept the rules"),
    ],
    ids=["missing-answer", "not-a-url", "too-long", "no-address", "no-town", "rules"],
)
def test_bad_input_is_shown_beside_its_field_and_nothing_is_stored(
    app, client, make_user, outbox, changes, field, message
):
    make_user(email="ann@example.org")
    client.login("ann@example.org")
    before = audit_actions(app)
    response = client.post("/join/artist", data=application_form(**changes))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = html.split(f'id="f-{field}-error">', 1)[1].split("</p>", 1)[0]
    assert message in error
    assert re.search(rf'aria-describedby="[^"]*\bf-{field}-error"', html)
    assert 'value="The Quays"' in html or field == "answer-artist_name"  # typed values kept
    assert count(app, Application) == 0
    assert audit_actions(app) == before
    assert outbox() == []


def test_every_problem_is_reported_at_once(app, client, make_user):
    make_user(email="ann@example.org")
    client.login("ann@example.org")
    bad = application_form(country="", accept_rules="")
    bad.update({"answer-artist_name": "", "answer-release_url": "ftp://x"})
    html = client.post("/join/artist", data=bad).get_data(as_text=True)
    assert "Please correct the 4 marked answers below." in html
    for field in ("answer-artist_name", "answer-release_url", "country", "accept_rules"):
        assert f'id="f-{field}-error"' in html
    assert count(app, Application) == 0


def test_a_listener_is_approved_when_they_apply_and_admitted_when_they_pay(
    app, client, make_user, outbox, pay
):
    make_user(email="lee@example.org")
    client.login("lee@example.org")
    assert client.post("/join/listener", data=application_form("listener")).status_code == 303
    application = only_application(app, "lee@example.org")
    assert application.state is ApplicationState.AWAITING_SHARE
    assert member_of(app, "lee@example.org") is None
    order = admission_order_of(app, application.id)
    # The membership share (€1) and the Listener's first annual fee (€10).
    assert (order.quantity, order.fee_minor, order.amount_minor) == (1, 1000, 1100)
    [due] = share_due_mails(outbox, "lee@example.org")
    assert "€11" in due.text and "first annual fee (€10)" in due.text
    assert order.payment_reference in due.text and IBAN in due.text
    assert not any(s.startswith("Welcome") for s in subjects_of(outbox, "lee@example.org"))

    pay(order)
    assert only_application(app, "lee@example.org").state is ApplicationState.APPROVED
    assert member_of(app, "lee@example.org").number == 1
    assert "Welcome to Reverb Music Co-op, member no. 1" in subjects_of(outbox, "lee@example.org")


# --- The applicant's own applications ------------------------------------------------------


def test_an_applicant_sees_only_their_own_applications(app, make_applicant, sign_in):
    ann = make_applicant(name="Ann Applicant")
    bob = make_applicant(name="Bob Applicant", code="worker")
    client = sign_in(ann.email)
    page = client.get("/application").get_data(as_text=True)
    assert f"/application/{ann.application_id}/withdraw" in page
    assert f"/application/{bob.application_id}/withdraw" not in page
    assert "Worker" not in page


def test_an_applicant_sees_their_answers_and_what_happens_next(make_applicant, sign_in):
    ann = make_applicant()
    page = sign_in(ann.email).get("/application").get_data(as_text=True)
    assert f'<h3 id="application-{ann.application_id}-answers">Your answers</h3>' in page
    assert "<dt>Artist or band name</dt><dd>The Quays</dd>" in page
    assert 'href="https://music.example/quays" rel="noopener noreferrer nofollow"' in page
    assert "<dt>Postal address</dt><dd>1 Main Street, Flat 2, Cork, T12 AB34, Ireland</dd>" in page
    assert "<strong>Next:</strong> staff review your answers." in page
    assert "Half of the last" not in page  # no decisions yet: nothing to say how long


def test_the_applicant_is_told_how_long_staff_have_usually_taken(
    make_member, make_applicant, sign_in
):
    for _ in range(3):
        make_member(classes=("artist",))  # three artist applications, decided the same day
    ann = make_applicant()
    page = sign_in(ann.email).get("/application").get_data(as_text=True)
    assert (
        "Half of the last 3 applications to the Artist class were decided within 1 day of "
        "being sent."
    ) in page


def test_a_draft_and_a_withdrawn_application_say_what_comes_next(make_applicant, sign_in):
    ann = make_applicant(state="draft")
    client = sign_in(ann.email)
    assert "<strong>Next:</strong> finish your answers and submit" in client.get(
        "/application"
    ).get_data(as_text=True)
    client.post(f"/application/{ann.application_id}/withdraw")
    assert "You withdrew this application. You can" in client.get("/application").get_data(
        as_text=True
    )


def test_an_applicant_cannot_withdraw_another_persons_application(app, make_applicant, sign_in):
    ann, bob = make_applicant(), make_applicant()
    client = sign_in(ann.email)
    before = audit_actions(app)
    assert client.post(f"/application/{bob.application_id}/withdraw").status_code == 404
    assert client.post("/application/99999/withdraw").status_code == 404
    assert application_of(app, bob.application_id).state is ApplicationState.SUBMITTED
    assert application_of(app, ann.application_id).state is ApplicationState.SUBMITTED
    assert audit_actions(app) == before


def test_an_applicant_withdraws_their_application(app, make_applicant, sign_in):
    ann = make_applicant()
    client = sign_in(ann.email)
    response = client.post(f"/application/{ann.application_id}/withdraw")
    assert response.status_code == 303 and response.headers["Location"] == "/application"
    assert application_of(app, ann.application_id).state is ApplicationState.WITHDRAWN
    assert "Withdrawn" in client.get("/application").get_data(as_text=True)


def test_the_applicant_answers_a_request_for_more_information(
    app, make_applicant, staff, sign_in, outbox
):
    ann = make_applicant()
    question = "Which label released the record?"
    asked = staff.post(f"/staff/applications/{ann.application_id}/ask", data={"reason": question})
    assert asked.status_code == 303
    [mail] = [m for m in outbox() if m.subject == "A question about your application"]
    assert mail.to == ann.email and question in mail.text

    client = sign_in(ann.email)
    status = client.get("/application").get_data(as_text=True)
    assert "More information needed" in status and question in status
    assert "<strong>Next:</strong> answer the question; your application then goes back" in status
    assert 'href="/join/artist">Answer our question</a>' in client.get("/join").get_data(
        as_text=True
    )
    form = client.get("/join/artist").get_data(as_text=True)
    assert question in form and 'name="reply"' in form

    unanswered = client.post("/join/artist", data=application_form())
    assert unanswered.status_code == 422
    assert 'id="f-reply-error"' in unanswered.get_data(as_text=True)
    assert application_of(app, ann.application_id).state is ApplicationState.NEEDS_INFO

    reply = "Self-released on our own label."
    answered = client.post("/join/artist", data=application_form(reply=reply))
    assert answered.status_code == 303
    application = application_of(app, ann.application_id)
    assert application.state is ApplicationState.SUBMITTED
    assert application.applicant_reply == reply
    assert reply in staff.get("/staff/applications").get_data(as_text=True)


def test_approval_tells_the_applicant_what_to_pay_and_makes_no_member(
    app, make_applicant, staff, sign_in, outbox
):
    ann = make_applicant()
    staff.post(f"/staff/applications/{ann.application_id}/approve")
    order = admission_order_of(app, ann.application_id)
    assert (order.quantity, order.fee_minor, order.amount_minor) == (1, 0, 100)
    [due] = share_due_mails(outbox, ann.email)
    assert "€1" in due.text and "1 membership share" in due.text.lower()
    assert order.payment_reference in due.text and IBAN in due.text
    assert not any(m.subject.startswith("Welcome") for m in mails_to(outbox, ann.email))

    client = sign_in(ann.email)
    for path in ("/me", "/application"):
        page = client.get(path).get_data(as_text=True)
        assert "pay to become a member" in page, path
        assert "<strong>€1</strong>" in page and f"<code>{order.payment_reference}</code>" in page
        assert f"<dd>{IBAN}</dd>" in page and "<dd>AIBKIE2D</dd>" in page
        assert "Member number" not in page and "You are member no." not in page
    assert "Approved, share to pay" in client.get("/application").get_data(as_text=True)
    assert member_of(app, ann.email) is None


def test_a_listener_is_shown_the_share_and_the_first_annual_fee(app, make_applicant, sign_in):
    lee = make_applicant(code="listener")  # approved at once: a Listener's admission is automatic
    order = admission_order_of(app, lee.application_id)
    client = sign_in(lee.email)
    for path in ("/me", "/application"):
        page = client.get(path).get_data(as_text=True)
        assert "<strong>€11</strong>" in page, path
        assert "1 membership share (€1)" in page
        assert "first annual fee of the Listener class (€10)" in page
        assert f"<code>{order.payment_reference}</code>" in page


def test_paying_the_share_shows_the_member_number_to_the_applicant(
    app, make_applicant, sign_in, outbox, pay
):
    ann = make_applicant(state="awaiting_share")
    order = admission_order_of(app, ann.application_id)
    certificate = pay(order)

    client = sign_in(ann.email)
    dashboard = client.get("/me").get_data(as_text=True)
    assert 'Member number</dt><dd class="member-number">1</dd>' in dashboard
    assert "Artist (votes here)" in dashboard
    assert "pay to become a member" not in dashboard
    status = client.get("/application").get_data(as_text=True)
    assert "<dt>Member number</dt><dd>1</dd>" in status and "Member" in status
    assert order.payment_reference not in status
    [welcome] = [m for m in mails_to(outbox, ann.email) if m.subject.startswith("Welcome")]
    assert welcome.subject == "Welcome to Reverb Music Co-op, member no. 1"
    assert "Your member number is 1." in welcome.text
    assert f"certificate no. {certificate.number}" in welcome.text
    assert f"/certificates/{certificate.number}.pdf" in welcome.text
    # The welcome names the certificate: no separate certificate mail for it.
    assert not any("certificate" in m.subject.lower() for m in mails_to(outbox, ann.email))


def test_an_approved_applicant_cannot_order_shares(app, make_applicant, sign_in):
    ann = make_applicant(state="awaiting_share")
    client = sign_in(ann.email)
    page = client.get("/shares/buy")
    assert page.status_code in (302, 303) and page.headers["Location"] == "/join"
    response = client.post("/shares/buy", data={"share_type": "supporter", "quantity": "10"})
    assert response.status_code == 404
    with reading(app) as db:
        assert db.scalars(select(ShareOrder.application_id)).all() == [ann.application_id]
    shares = client.get("/shares").get_data(as_text=True)
    assert "pay to become a member" in shares  # what they can pay is their membership share


def test_withdrawing_an_application_awaiting_its_share_cancels_the_order(
    app, make_applicant, sign_in
):
    ann = make_applicant(state="awaiting_share")
    order = admission_order_of(app, ann.application_id)
    client = sign_in(ann.email)
    response = client.post(f"/application/{ann.application_id}/withdraw")
    assert response.status_code == 303
    assert application_of(app, ann.application_id).state is ApplicationState.WITHDRAWN
    assert admission_order_of(app, ann.application_id).state is OrderState.CANCELLED
    for path in ("/me", "/application"):
        page = client.get(path).get_data(as_text=True)
        assert order.payment_reference not in page and "pay to become a member" not in page
    assert member_of(app, ann.email) is None


# --- Several classes -----------------------------------------------------------------------


def test_a_member_joins_a_second_class_and_chooses_where_to_vote(
    app, make_member, staff, sign_in, outbox
):
    ann = make_member(classes=("artist",))
    asked_to_pay = share_due_mails(outbox, ann.email)  # when they were approved as an artist
    client = sign_in(ann.email)
    form = client.get("/join/worker").get_data(as_text=True)
    assert 'value="1 Main Street"' in form  # the register's address, filled in
    assert client.post("/join/worker", data=application_form("worker")).status_code == 303
    with reading(app) as db:
        worker_application = db.scalar(
            select(Application.id).where(
                Application.user_id == ann.user_id, Application.state == "submitted"
            )
        )
    staff.post(f"/staff/applications/{worker_application}/approve")

    member = member_of(app, ann.email)
    assert member.number == ann.number  # one member, one number
    # A member already: admitted to the class at approval, with nothing more to pay.
    assert application_of(app, worker_application).state is ApplicationState.APPROVED
    assert admission_order_of(app, worker_application) is None
    [joined] = [m for m in mails_to(outbox, ann.email) if m.subject.startswith("You are now")]
    assert joined.subject == "You are now in the Worker class"
    assert "nothing more to pay" in joined.text
    assert share_due_mails(outbox, ann.email) == asked_to_pay  # none for the Worker class
    profile = client.get("/me/profile").get_data(as_text=True)
    assert 'name="primary_class" value="worker"' in profile

    response = client.post("/me/profile/primary-class", data={"primary_class": "worker"})
    assert response.status_code == 303
    assert "Worker (votes here)" in client.get("/me").get_data(as_text=True)
    assert "member.primary_class" in audit_actions(app)


def test_a_member_cannot_vote_in_a_class_they_do_not_belong_to(app, make_member, sign_in):
    ann = make_member(classes=("artist",))
    client = sign_in(ann.email)
    refused = client.post("/me/profile/primary-class", data={"primary_class": "listener"})
    assert refused.status_code == 422
    assert "Choose one of your own member classes." in refused.get_data(as_text=True)
    assert client.post("/me/profile/primary-class", data={"primary_class": "x"}).status_code == 404
    assert "Artist (votes here)" in client.get("/me").get_data(as_text=True)


# --- Profile -------------------------------------------------------------------------------


def profile_form(**changes):
    form = {
        "name": "Ann Newname",
        "address_line1": "22 River Road",
        "address_line2": "",
        "town": "Limerick",
        "postcode": "V94 XY12",
        "country": "Ireland",
    }
    form.update(changes)
    return form


def test_a_member_updates_their_name_and_address(app, make_member, sign_in):
    ann = make_member()
    client = sign_in(ann.email)
    response = client.post("/me/profile", data=profile_form())
    assert response.status_code == 303 and response.headers["Location"] == "/me/profile"
    member = member_of(app, ann.email)
    assert (member.name, member.address_line1, member.town) == (
        "Ann Newname",
        "22 River Road",
        "Limerick",
    )
    page = client.get("/me/profile").get_data(as_text=True)
    assert 'value="22 River Road"' in page and "Your profile is saved." in page
    with reading(app) as db:
        event = db.scalar(select(AuditEvent).where(AuditEvent.action == "member.profile_changed"))
        assert "address_line1" in event.summary and "town" in event.summary


def test_a_profile_without_a_town_is_refused_and_nothing_changes(app, make_member, sign_in):
    ann = make_member()
    client = sign_in(ann.email)
    response = client.post("/me/profile", data=profile_form(town=""))
    assert response.status_code == 422
    assert 'id="f-town-error">Enter your town or city.' in response.get_data(as_text=True)
    assert member_of(app, ann.email).town == "Cork"
    assert member_of(app, ann.email).name == ann.name


def test_the_news_opt_in_is_recorded_as_consent_history(app, make_member, sign_in):
    ann = make_member()
    client = sign_in(ann.email)
    client.post("/me/profile", data=profile_form(news_opt_in="y"))
    assert member_of(app, ann.email).news_opt_in is True
    assert count(app, Consent, Consent.user_id == ann.user_id, Consent.granted.is_(True)) == 1
    assert "agreed to the co-op’s news by e-mail" in client.get("/me/profile").get_data(
        as_text=True
    )

    client.post("/me/profile", data=profile_form())
    assert member_of(app, ann.email).news_opt_in is False
    page = client.get("/me/profile").get_data(as_text=True)
    assert (
        "withdrew consent for the co-op’s news by e-mail" in page
        and "agreed to the co-op’s news by e-mail" in page
    )


def test_an_email_change_takes_effect_only_when_the_new_address_confirms_it(
    app, make_member, sign_in, outbox
):
    ann = make_member(email="ann@example.org")
    client = sign_in("ann@example.org")
    response = client.post(
        "/me/profile/email", data={"email": "Ann@New.example", "current": PASSWORD}
    )
    assert response.status_code == 303
    [verify] = [m for m in outbox() if m.to == "ann@new.example"]
    assert verify.subject == "Confirm your e-mail address"
    with reading(app) as db:
        user = db.get(User, ann.user_id)
        assert (user.email, user.pending_email) == ("ann@example.org", "ann@new.example")
    assert "ann@new.example</strong> is waiting" in client.get("/me/profile").get_data(as_text=True)

    confirmed = client.post(link_in(verify, "/verify-email/"))
    assert confirmed.status_code == 303
    with reading(app) as db:
        user = db.get(User, ann.user_id)
        assert (user.email, user.pending_email) == ("ann@new.example", None)
    assert "Your e-mail address was changed" in subjects_of(outbox, "ann@example.org")
    assert sign_in("ann@new.example")  # the new address signs in


def test_an_invalid_new_email_is_refused(app, make_member, sign_in):
    ann = make_member()
    client = sign_in(ann.email)
    response = client.post(
        "/me/profile/email", data={"email": "not an address", "current": PASSWORD}
    )
    assert response.status_code == 422
    assert 'id="f-email-error"' in response.get_data(as_text=True)
    with reading(app) as db:
        assert db.get(User, ann.user_id).pending_email is None


# --- Export --------------------------------------------------------------------------------


def test_the_export_holds_the_signed_in_persons_data_only(
    app, make_member, make_applicant, sign_in
):
    ann = make_member(email="ann@example.org")
    bob = make_member(email="bob@example.org")
    make_applicant(email="bob@example.org", code="worker")
    response = sign_in("ann@example.org").get("/me/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="my-data.json"'
    body = response.get_data(as_text=True)
    data = json.loads(body)
    assert data["account"]["email"] == "ann@example.org"
    assert data["member"]["number"] == ann.number
    assert data["member"]["classes"][0]["class"] == "Artist"
    assert [a["class"] for a in data["applications"]] == ["Artist"]
    assert data["applications"][0]["answers"][0]["value"] == "The Quays"
    # States in the words the portal shows them in, not their stored codes.
    assert data["member"]["status"] == "Active"
    assert [c["status"] for c in data["member"]["status_history"]] == ["Active"]
    assert data["applications"][0]["state"] == "Approved"
    assert "bob@example.org" not in body and bob.name not in body


# --- Resigning -----------------------------------------------------------------------------


def test_a_member_asks_to_resign_and_sees_it_pending(app, make_member, sign_in):
    ann = make_member()
    client = sign_in(ann.email)
    assert "Ask to resign" in client.get("/me/resign").get_data(as_text=True)
    response = client.post("/me/resign", data={"reason": "Moving abroad", "action": "resign"})
    assert response.status_code == 303 and response.headers["Location"] == "/me"
    with reading(app) as db:
        resignation = db.scalar(select(Resignation).where(Resignation.member_id == ann.id))
        assert resignation.state is ResignationState.PENDING
        assert resignation.reason == "Moving abroad"
    dashboard = client.get("/me").get_data(as_text=True)
    assert "You asked to resign on" in dashboard
    assert member_of(app, ann.email).status is MemberStatus.ACTIVE
    again = client.post("/me/resign", data={"reason": "again"})
    assert again.status_code == 409


def test_a_member_withdraws_their_resignation_before_it_is_confirmed(app, make_member, sign_in):
    ann = make_member()
    client = sign_in(ann.email)
    client.post("/me/resign", data={"reason": ""})
    assert "I have changed my mind" in client.get("/me/resign").get_data(as_text=True)
    response = client.post("/me/resign", data={"action": "withdraw"})
    assert response.status_code == 303
    with reading(app) as db:
        resignation = db.scalar(select(Resignation).where(Resignation.member_id == ann.id))
        assert resignation.state is ResignationState.WITHDRAWN
    dashboard = client.get("/me").get_data(as_text=True)
    assert "You asked to resign" not in dashboard and "Resign from the co-op" in dashboard
    assert client.post("/me/resign", data={"action": "withdraw"}).status_code == 404


def test_someone_who_is_not_a_member_has_nothing_to_resign(client, make_user):
    make_user(email="ann@example.org")
    client.login("ann@example.org")
    assert client.get("/me/resign").status_code == 404
    assert client.post("/me/resign", data={"reason": "x"}).status_code == 404


def test_the_members_pages_ask_a_signed_out_visitor_to_sign_in(client):
    for path in ("/me", "/me/profile", "/me/export", "/me/resign", "/application"):
        plain = client.get(path)
        assert plain.status_code == 303 and plain.headers["Location"].startswith("/login")
        htmx = client.get(path, headers=HTMX)
        assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")
