"""Shares pages: the member's overview, certificate downloads, public verification."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal import pdf
from portal.models import ApplicationState, Certificate, Member, ShareOrder
from portal.services.shares import orders

from .factories import HTMX, application_of, count, reading, sql_statements, today_iso


def admission_order_of(app, application_id):
    """The order whose payment admits the applicant of this application (detached)."""
    with reading(app) as db:
        return db.scalar(select(ShareOrder).where(ShareOrder.application_id == application_id))


def buy_form(quantity, share_type="supporter"):
    """The buy form as the page sends it, with a key of its own."""
    return {"share_type": share_type, "quantity": quantity, "order_key": orders.new_order_key()}


def payment_of(order, **changes):
    """The payment form staff fill in for ``order``, its amount unless changed, as confirmed."""
    return {
        "amount": f"{order.amount_minor / 100:.2f}",
        "paid_on": today_iso(),
        "method": "bank_transfer",
        "bank_reference": f"TX-{order.payment_reference}",
        "confirm": "yes",
        **changes,
    }


@pytest.fixture
def issued(make_member, make_user, buy):
    """Nora (member no. 1) holds 25 supporter shares on certificate no. 3; Otto is another
    member; and a staff member. The certificate's verification code. (Nos. 1 and 2 are
    Nora's and Otto's membership shares, paid to be admitted.)"""
    owner = make_member(email="owner@example.org", name="Nora Owner")
    make_member(email="other@example.org", name="Otto Other")
    make_user(email="staff@example.org", role="staff")
    return buy(owner, "supporter", 25).code


def test_the_owner_sees_holdings_orders_and_certificates(client, issued):
    client.login("owner@example.org")
    page = client.get("/shares").get_data(as_text=True)
    assert "Supporter share" in page and "€25" in page
    assert "Certificate no. 3" in page and "Certificate no. 1" in page  # and her membership
    assert 'href="/certificates/3.pdf"' in page
    assert "Certificate no. 2" not in page  # Otto's


def test_the_owner_downloads_the_stored_bytes(client, issued):
    client.login("owner@example.org")
    first = client.get("/certificates/3.pdf")
    assert first.status_code == 200
    assert first.mimetype == "application/pdf"
    assert "attachment" in first.headers["Content-Disposition"]
    assert first.data == b"%PDF-1.7 certificate 3"  # as the factory rendered it
    assert client.get("/certificates/3.pdf").data == first.data


def test_a_certificate_downloads_in_one_query_with_its_pdf(app, client, issued):
    client.login("owner@example.org")
    client.get("/certificates/3.pdf")
    with sql_statements(app) as seen:
        assert client.get("/certificates/3.pdf").status_code == 200
    reads = [s for s in seen if "certificates" in s]
    assert len(reads) == 1
    assert "certificates.pdf" in reads[0] and "members.user_id" in reads[0]


def test_a_certificate_has_a_strong_etag_of_its_digest_and_is_kept_privately(app, client, issued):
    client.login("owner@example.org")
    response = client.get("/certificates/3.pdf")
    with reading(app) as db:
        digest = db.scalar(select(Certificate.sha256).where(Certificate.number == 3))
    assert response.headers["ETag"] == f'"{digest}"'  # strong: no W/
    assert response.headers["Cache-Control"] == "private, no-cache"


def test_a_certificate_the_browser_has_already_is_not_sent_again(client, issued):
    client.login("owner@example.org")
    etag = client.get("/certificates/3.pdf").headers["ETag"]
    again = client.get("/certificates/3.pdf", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "private, no-cache"
    other = client.get("/certificates/1.pdf", headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.data.startswith(b"%PDF")


def test_a_tag_does_not_open_another_members_certificate(client, issued):
    client.login("owner@example.org")
    etag = client.get("/certificates/3.pdf").headers["ETag"]
    client.post("/logout")
    client.login("other@example.org")
    assert client.get("/certificates/3.pdf", headers={"If-None-Match": etag}).status_code == 404


def test_another_member_cannot_reach_the_certificate(client, issued):
    client.login("other@example.org")
    for number in (1, 3):  # Nora's membership and supporter shares
        assert client.get(f"/certificates/{number}.pdf").status_code == 404
        assert f"Certificate no. {number}" not in client.get("/shares").get_data(as_text=True)


def test_staff_can_download_any_certificate(client, issued):
    client.login("staff@example.org")
    for number in (1, 2, 3):
        assert client.get(f"/certificates/{number}.pdf").status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(client, issued):
    assert client.get("/certificates/3.pdf").status_code == 303


def test_verify_shows_the_state_and_only_initials(client, issued):
    page = client.get(f"/verify/{issued}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Valid" in text and "25 × Supporter share" in text
    assert "N. O." in text
    assert "Nora Owner" not in text


def test_an_unknown_code_reveals_nothing(client, issued):
    page = client.get("/verify/not-a-real-code")
    assert page.status_code == 404
    assert "No certificate has this code" in page.get_data(as_text=True)


def test_verification_is_rate_limited(app_factory, issued):
    app = app_factory(VERIFY_RATE_LIMIT="2 per minute")
    client = app.test_client()
    assert client.get(f"/verify/{issued}").status_code == 200
    assert client.get("/verify/guess-1").status_code == 404
    assert client.get("/verify/guess-2").status_code == 429


def test_a_member_without_shares_sees_an_empty_overview(client, make_user, app):
    make_user(email="new@example.org")
    client.login("new@example.org")
    assert "Apply to join" in client.get("/shares").get_data(as_text=True)


def test_someone_not_a_member_opening_buy_shares_is_told_why_they_are_sent_to_join(
    client, make_user
):
    make_user(email="new@example.org")
    client.login("new@example.org")
    response = client.get("/shares/buy")
    assert response.status_code == 303 and response.headers["Location"] == "/join"
    page = client.get("/join").get_data(as_text=True)
    assert "Shares are held by members: apply to join the co-op first" in page
    htmx = client.get("/shares/buy", headers=HTMX)
    assert htmx.headers["HX-Redirect"] == "/join"


@pytest.mark.pdf
def test_a_real_certificate_pdf_is_issued_and_downloaded_byte_identical(
    app, coop, make_applicant, pay, sign_in
):
    # The first certificate of all: the membership share whose payment admits Siún.
    siun = make_applicant(email="real@example.org", name="Siún Ní Bhriain", state="awaiting_share")
    order = admission_order_of(app, siun.application_id)
    certificate = pay(order, render=pdf.render_certificate)
    text = PdfReader(io.BytesIO(certificate.pdf)).pages[0].extract_text()
    for expected in (
        "Share Certificate No. 1",
        "Siún Ní Bhriain",
        "Membership share",
        coop.legal_name,
        certificate.code,
    ):
        assert expected.replace(" ", "") in text.replace(" ", "").replace("\n", ""), expected
    assert sign_in("real@example.org").get("/certificates/1.pdf").data == certificate.pdf


@pytest.fixture
def holder(make_member, make_user):
    """Bea, a member holding only the membership share she paid to join (certificate no. 1);
    a cashier (staff); and a nosy member (certificate no. 2)."""
    make_member(email="buyer@example.org", name="Bea Buyer")
    make_user(email="cashier@example.org", role="staff")
    make_member(email="nosy@example.org", name="Nosy Member")


def test_the_buy_form_checks_as_the_member_types(client, holder):
    client.login("buyer@example.org")
    assert "Place order" in client.get("/shares/buy").get_data(as_text=True)
    ok = client.htmx_get("/shares/buy?share_type=supporter&quantity=25")
    text = ok.get_data(as_text=True)
    assert "<html" not in text and "€25" in text and "HX-Request" in ok.headers["Vary"]
    wrong = client.htmx_get("/shares/buy?share_type=supporter&quantity=12").get_data(as_text=True)
    assert "multiples of 5" in wrong


def test_an_order_shows_bank_instructions_to_its_owner_only(app, client, holder):
    client.login("buyer@example.org")
    placed = client.post("/shares/buy", data=buy_form("25", "supporter"))
    assert placed.status_code == 303
    page = client.get(placed.headers["Location"]).get_data(as_text=True)
    assert "IE29AIBK93115212345678" in page and "RVB-" in page and "€25" in page
    nosy = app.test_client()
    nosy.login("nosy@example.org")
    assert nosy.get(placed.headers["Location"]).status_code == 404
    assert nosy.post(placed.headers["Location"] + "/cancel").status_code == 404


def test_a_bad_order_is_refused_with_the_rule(client, holder):
    client.login("buyer@example.org")
    refused = client.post("/shares/buy", data=buy_form("3", "supporter"))
    assert refused.status_code == 422
    assert "at least 5" in refused.get_data(as_text=True)
    assert client.post("/shares/buy", data=buy_form("x", "nope")).status_code == 422


@pytest.mark.pdf
def test_staff_record_a_payment_and_the_certificate_is_issued_once(app, client, holder):
    client.login("buyer@example.org")
    placed = client.post("/shares/buy", data=buy_form("10", "supporter"))
    order_id = int(placed.headers["Location"].rsplit("/", 1)[1])
    staff = app.test_client()
    staff.login("cashier@example.org")
    assert "RVB-" in staff.get("/staff/orders").get_data(as_text=True)
    short = staff.post(
        f"/staff/orders/{order_id}/payment",
        data={
            "amount": "7.50",
            "paid_on": today_iso(),
            "method": "bank_transfer",
            "bank_reference": "TX-1",
        },
    )
    assert short.status_code == 422
    assert "the payment is €2.50 less" in short.get_data(as_text=True)
    paid = {
        "amount": "10.00",
        "paid_on": today_iso(),
        "method": "bank_transfer",
        "bank_reference": "TX-1",
        "confirm": "yes",
    }
    assert staff.post(f"/staff/orders/{order_id}/payment", data=paid).status_code == 303
    assert staff.post(f"/staff/orders/{order_id}/payment", data=paid).status_code == 303
    overview = client.get("/shares").get_data(as_text=True)
    assert "Certificate no. 3" in overview and "Certificate no. 4" not in overview  # once
    download = client.get("/certificates/3.pdf")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")


@pytest.mark.usefixtures("without_weasyprint")
def test_without_weasyprint_a_payment_is_refused_with_a_503_and_nothing_is_recorded(
    app, client, holder
):
    client.login("buyer@example.org")
    placed = client.post("/shares/buy", data=buy_form("10", "supporter"))
    order_id = int(placed.headers["Location"].rsplit("/", 1)[1])
    staff = app.test_client()
    staff.login("cashier@example.org")
    paid = {
        "amount": "10.00",
        "paid_on": today_iso(),
        "method": "bank_transfer",
        "bank_reference": "TX-1",
        "confirm": "yes",
    }
    refused = staff.post(f"/staff/orders/{order_id}/payment", data=paid)
    assert refused.status_code == 503
    assert "PDFs cannot be made on this server just now" in refused.get_data(as_text=True)
    swapped = staff.post(f"/staff/orders/{order_id}/payment", data=paid, headers=HTMX)
    assert swapped.status_code == 503 and swapped.headers["HX-Retarget"] == "#messages"
    assert "RVB-" in staff.get("/staff/orders").get_data(as_text=True)  # still waiting
    assert "Certificate no. 3" not in client.get("/shares").get_data(as_text=True)
    assert count(app, Certificate) == 2  # the two membership shares, paid at admission


@pytest.mark.usefixtures("without_weasyprint")
def test_without_weasyprint_an_admission_payment_is_refused_and_admits_no_one(
    app, make_applicant, make_user, sign_in
):
    ann = make_applicant(name="Ann Approved", state="awaiting_share")
    make_user(email="cashier@example.org", role="staff")
    order = admission_order_of(app, ann.application_id)
    refused = sign_in("cashier@example.org").post(
        f"/staff/orders/{order.id}/payment", data=payment_of(order)
    )
    assert refused.status_code == 503
    # All in one transaction: no member, no number taken, no share, no certificate.
    assert count(app, Member) == count(app, Certificate) == 0
    assert application_of(app, ann.application_id).state is ApplicationState.AWAITING_SHARE
    assert admission_order_of(app, ann.application_id).paid_at is None
    page = sign_in(ann.email).get("/me").get_data(as_text=True)
    assert "pay to become a member" in page and "Member number" not in page


@pytest.mark.pdf
def test_staff_record_an_admission_payment_and_the_applicant_becomes_a_member(
    app, make_applicant, make_member, make_user, sign_in, outbox
):
    make_member(name="Earlier Member")  # member no. 1, certificate no. 1
    ann = make_applicant(name="Ann Approved", state="awaiting_share")
    make_user(email="cashier@example.org", role="staff")
    cashier = sign_in("cashier@example.org")
    order = admission_order_of(app, ann.application_id)
    listed = cashier.get("/staff/orders").get_data(as_text=True)
    assert order.payment_reference in listed and "Ann Approved" in listed
    short = cashier.post(f"/staff/orders/{order.id}/payment", data=payment_of(order, amount="0.50"))
    assert short.status_code == 422 and "0.50 less" in short.get_data(as_text=True)
    assert application_of(app, ann.application_id).state is ApplicationState.AWAITING_SHARE
    assert count(app, Member) == 1

    paid = cashier.post(f"/staff/orders/{order.id}/payment", data=payment_of(order))
    assert paid.status_code == 303
    flash = cashier.get("/staff/orders").get_data(as_text=True)
    assert "Payment recorded: certificate no. 2" in flash and "member no. 2" in flash
    application = application_of(app, ann.application_id)
    assert application.state is ApplicationState.APPROVED
    with reading(app) as db:
        member = db.get(Member, application.member_id)
        assert member.number == 2 and member.name == "Ann Approved"
        assert [c.code for c in member.active_classes] == ["artist"]
    welcome = [m for m in outbox() if m.to == ann.email and m.subject.startswith("Welcome")]
    assert [m.subject for m in welcome] == ["Welcome to Reverb Music Co-op, member no. 2"]
    client = sign_in(ann.email)
    assert client.get("/certificates/2.pdf").data.startswith(b"%PDF")
    assert "Certificate no. 2" in client.get("/shares").get_data(as_text=True)


def test_members_cannot_record_payments(client, holder):
    client.login("buyer@example.org")
    assert client.get("/staff/orders").status_code == 403
    assert client.post("/staff/orders/1/payment", data={}).status_code == 403


def test_a_certificate_number_is_not_a_verification_code(client, issued):
    # Numbers are sequential and guessable; only the random code verifies.
    for guess in ("1", "0001", "certificate-1"):
        page = client.get(f"/verify/{guess}")
        assert page.status_code == 404
        assert "25 × Supporter share" not in page.get_data(as_text=True)


@pytest.mark.pdf
def test_the_admission_payment_message_reads_as_a_sentence(app, make_applicant, make_user, sign_in):
    ann = make_applicant(name="Ann Approved", state="awaiting_share")
    make_user(email="cashier@example.org", role="staff")
    cashier = sign_in("cashier@example.org")
    order = admission_order_of(app, ann.application_id)
    cashier.post(f"/staff/orders/{order.id}/payment", data=payment_of(order))
    flash = cashier.get("/staff/orders").get_data(as_text=True)
    assert "member no. 1" in flash and "issued admitted" not in flash


def test_the_buy_page_leaves_out_a_share_already_held_to_its_maximum(make_member, sign_in):
    make_member(email="full@example.org")  # holds the membership share, paid to join
    page = sign_in("full@example.org").get("/shares/buy").get_data(as_text=True)
    assert 'value="supporter"' in page
    assert 'value="membership"' not in page


def test_verify_shows_the_full_name_only_once_the_member_allows_it(client, issued, outbox):
    client.login("owner@example.org")
    form = {
        "name": "Nora Owner",
        "address_line1": "1 Quay",
        "town": "Cork",
        "country": "Ireland",
        "name_on_verify": "y",
    }
    assert client.post("/me/profile", data=form).status_code == 303
    visitor = client.application.test_client()
    assert "Nora Owner" in visitor.get(f"/verify/{issued}").get_data(as_text=True)
    profile = client.get("/me/profile").get_data(as_text=True)
    assert "showing your name when a certificate is checked" in profile
    del form["name_on_verify"]
    client.post("/me/profile", data=form)
    page = visitor.get(f"/verify/{issued}").get_data(as_text=True)
    assert "Nora Owner" not in page and "N. O." in page
