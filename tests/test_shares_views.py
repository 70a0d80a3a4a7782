"""Shares pages: the member's overview, certificate downloads, public verification."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from portal import pdf

from .factories import HTMX


@pytest.fixture
def issued(make_member, make_user, buy):
    """Nora (member no. 1) holds 25 supporter shares on certificate no. 1; Otto is another
    member; and a staff member. The certificate's verification code."""
    owner = make_member(email="owner@example.org", name="Nora Owner")
    make_member(email="other@example.org", name="Otto Other")
    make_user(email="staff@example.org", role="staff")
    return buy(owner, "supporter", 25).code


def test_the_owner_sees_holdings_orders_and_certificates(client, issued):
    client.login("owner@example.org")
    page = client.get("/shares").get_data(as_text=True)
    assert "Supporter share" in page and "€25" in page
    assert "Certificate no. 1" in page
    assert 'href="/certificates/1.pdf"' in page


def test_the_owner_downloads_the_stored_bytes(client, issued):
    client.login("owner@example.org")
    first = client.get("/certificates/1.pdf")
    assert first.status_code == 200
    assert first.mimetype == "application/pdf"
    assert "attachment" in first.headers["Content-Disposition"]
    assert first.data == b"%PDF-1.7 certificate 1"  # as the factory rendered it
    assert client.get("/certificates/1.pdf").data == first.data


def test_another_member_cannot_reach_the_certificate(client, issued):
    client.login("other@example.org")
    assert client.get("/certificates/1.pdf").status_code == 404
    assert "Certificate no. 1" not in client.get("/shares").get_data(as_text=True)


def test_staff_can_download_any_certificate(client, issued):
    client.login("staff@example.org")
    assert client.get("/certificates/1.pdf").status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(client, issued):
    assert client.get("/certificates/1.pdf").status_code == 303


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
    coop, make_member, buy, sign_in
):
    owner = make_member(email="real@example.org", name="Siún Ní Bhriain")
    certificate = buy(owner, "membership", 1, render=pdf.render_certificate)
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
    """Bea, a member with no shares paid yet; a cashier (staff); and a nosy member."""
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
    placed = client.post("/shares/buy", data={"share_type": "supporter", "quantity": "25"})
    assert placed.status_code == 303
    page = client.get(placed.headers["Location"]).get_data(as_text=True)
    assert "IE29AIBK93115212345678" in page and "RVB-" in page and "€25" in page
    nosy = app.test_client()
    nosy.login("nosy@example.org")
    assert nosy.get(placed.headers["Location"]).status_code == 404
    assert nosy.post(placed.headers["Location"] + "/cancel").status_code == 404


def test_a_bad_order_is_refused_with_the_rule(client, holder):
    client.login("buyer@example.org")
    refused = client.post("/shares/buy", data={"share_type": "supporter", "quantity": "3"})
    assert refused.status_code == 422
    assert "at least 5" in refused.get_data(as_text=True)
    assert (
        client.post("/shares/buy", data={"share_type": "nope", "quantity": "x"}).status_code == 422
    )


@pytest.mark.pdf
def test_staff_record_a_payment_and_the_certificate_is_issued_once(app, client, holder):
    client.login("buyer@example.org")
    placed = client.post("/shares/buy", data={"share_type": "supporter", "quantity": "10"})
    order_id = int(placed.headers["Location"].rsplit("/", 1)[1])
    staff = app.test_client()
    staff.login("cashier@example.org")
    assert "RVB-" in staff.get("/staff/orders").get_data(as_text=True)
    short = staff.post(
        f"/staff/orders/{order_id}/payment",
        data={
            "amount": "7.50",
            "paid_on": "2026-11-02",
            "method": "bank_transfer",
            "bank_reference": "TX-1",
        },
    )
    assert short.status_code == 422
    assert "the payment is €2.50 less" in short.get_data(as_text=True)
    paid = {
        "amount": "10.00",
        "paid_on": "2026-11-02",
        "method": "bank_transfer",
        "bank_reference": "TX-1",
    }
    assert staff.post(f"/staff/orders/{order_id}/payment", data=paid).status_code == 303
    assert staff.post(f"/staff/orders/{order_id}/payment", data=paid).status_code == 303
    overview = client.get("/shares").get_data(as_text=True)
    assert "Certificate no. 1" in overview and "Certificate no. 2" not in overview
    download = client.get("/certificates/1.pdf")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")


@pytest.mark.usefixtures("without_weasyprint")
def test_without_weasyprint_a_payment_is_refused_with_a_503_and_nothing_is_recorded(
    app, client, holder
):
    client.login("buyer@example.org")
    placed = client.post("/shares/buy", data={"share_type": "supporter", "quantity": "10"})
    order_id = int(placed.headers["Location"].rsplit("/", 1)[1])
    staff = app.test_client()
    staff.login("cashier@example.org")
    paid = {
        "amount": "10.00",
        "paid_on": "2026-11-02",
        "method": "bank_transfer",
        "bank_reference": "TX-1",
    }
    refused = staff.post(f"/staff/orders/{order_id}/payment", data=paid)
    assert refused.status_code == 503
    assert "PDFs cannot be made on this server just now" in refused.get_data(as_text=True)
    swapped = staff.post(f"/staff/orders/{order_id}/payment", data=paid, headers=HTMX)
    assert swapped.status_code == 503 and swapped.headers["HX-Retarget"] == "#messages"
    assert "RVB-" in staff.get("/staff/orders").get_data(as_text=True)  # still waiting
    assert "Certificate no. 1" not in client.get("/shares").get_data(as_text=True)


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


def test_the_buy_page_leaves_out_a_share_already_held_to_its_maximum(make_member, sign_in):
    make_member(email="full@example.org", shares={"membership": 1})
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
