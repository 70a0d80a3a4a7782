"""The document library over HTTP: who reads what (every role, visibility and URL),
versions and changes, publishing with a live preview, archive and the rulebook."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.models import Application, Document, DocumentVersion

from .factories import HTMX, is_page, is_partial, reading

pytestmark = pytest.mark.usefixtures("coop")

VISIBILITIES = ("public", "members", "staff")


@pytest.fixture
def shelf(make_document):
    """One document per visibility, each with two Markdown versions and a unique word."""
    for visibility in VISIBILITIES:
        make_document(
            f"The {visibility} paper",
            visibility=visibility,
            versions=[
                (
                    effective_on,
                    f"# The {visibility} paper\n\nClause {n}: zebra{visibility} text.",
                    f"Change {n}",
                )
                for n, effective_on in enumerate((date(2025, 1, 1), date(2026, 1, 1)), start=1)
            ],
        )


def urls(visibility):
    slug = f"the-{visibility}-paper"
    return [
        f"/documents/{slug}",
        f"/documents/{slug}/v/1",
        f"/documents/{slug}/v/2.pdf",
        f"/documents/{slug}/changes?from=1&to=2",
    ]


def reader(role, app, make_user, make_member, sign_in):
    if role == "anonymous":
        return app.test_client()
    if role == "applicant":
        make_user(email="applicant@example.org")
        return sign_in("applicant@example.org")
    if role == "member":
        return sign_in(make_member(email="reader@example.org").email)
    make_user(email="boss@example.org", role="staff")
    return sign_in("boss@example.org")


MAY_READ = {
    "anonymous": {"public"},
    "applicant": {"public"},
    "member": {"public", "members"},
    "staff": {"public", "members", "staff"},
}


@pytest.mark.pdf
@pytest.mark.parametrize("role", list(MAY_READ))
def test_each_role_reaches_exactly_what_it_may_read(
    app, shelf, make_user, make_member, sign_in, role
):
    client = reader(role, app, make_user, make_member, sign_in)
    library = client.get("/documents").get_data(as_text=True)
    for visibility in VISIBILITIES:
        allowed = visibility in MAY_READ[role]
        assert (f"The {visibility} paper" in library) is allowed, visibility
        found = client.get(f"/documents?q=zebra{visibility}").get_data(as_text=True)
        assert (f"The {visibility} paper" in found) is allowed, visibility
        for url in urls(visibility):
            response = client.get(url)
            assert response.status_code == (200 if allowed else 404), (url, role)
            if not allowed:
                assert f"zebra{visibility}" not in response.get_data(as_text=True)


def test_the_library_filters_by_category_and_answers_htmx_with_the_results(app, shelf):
    client = app.test_client()
    page = client.get("/documents?category=policies")
    assert is_page(page) and "The public paper" in page.get_data(as_text=True)
    partial = client.get("/documents?q=zebrapublic", headers=HTMX)
    assert is_partial(partial) and 'id="document-results"' in partial.get_data(as_text=True)
    assert "The public paper" not in client.get("/documents?category=minutes").get_data(
        as_text=True
    )
    assert client.get("/documents?category=nonsense").status_code == 200


def test_a_document_shows_the_version_in_effect_and_its_history(app, shelf):
    page = app.test_client().get("/documents/the-public-paper").get_data(as_text=True)
    assert "Clause 2: zebrapublic" in page and "Version 2" in page
    assert "Change 1" in page and "Change 2" in page
    old = app.test_client().get("/documents/the-public-paper/v/1").get_data(as_text=True)
    assert "Clause 1" in old and "earlier version" in old
    assert app.test_client().get("/documents/the-public-paper/v/9").status_code == 404


def test_the_changes_page_shows_the_difference(app, shelf):
    page = app.test_client().get("/documents/the-public-paper/changes?from=1&to=2")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<del" in text and "<ins" in text
    bad = app.test_client().get("/documents/the-public-paper/changes?from=1&to=7")
    assert bad.status_code == 422


@pytest.mark.pdf
def test_a_markdown_version_downloads_as_a_pdf(app, shelf):
    from pypdf import PdfReader

    response = app.test_client().get("/documents/the-public-paper/v/2.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "zebrapublic" in text and "ersion 2" in text


def publish_form(**changes):
    """A new Markdown version, as staff confirm it."""
    form = {
        "format": "markdown",
        "body": "# Rules\n\n1. Be kind.",
        "effective_on": date.today().isoformat(),
        "change_note": "First version",
        "confirm": "yes",
    }
    form.update(changes)
    return form


def test_staff_create_a_document_and_publish_versions(app, staff):
    created = staff.post(
        "/staff/documents",
        data={"title": "Code of Conduct", "category": "policies", "visibility": "members"},
    )
    assert created.status_code == 303
    assert created.headers["Location"] == "/staff/documents/code-of-conduct"
    published = staff.post("/staff/documents/code-of-conduct/versions", data=publish_form())
    assert published.status_code == 303
    assert published.headers["Location"] == "/documents/code-of-conduct/v/1"
    future = (date.today() + timedelta(days=10)).isoformat()
    staff.post(
        "/staff/documents/code-of-conduct/versions",
        data=publish_form(
            body="# Rules\n\n1. Be very kind.", effective_on=future, change_note="Kinder"
        ),
    )
    page = staff.get("/documents/code-of-conduct").get_data(as_text=True)
    assert "Be kind." in page and "takes effect on" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"change_note": ""}, "what changed"),
        ({"effective_on": "soon"}, "takes effect"),
        ({"body": "   "}, "text"),
        ({"format": "pdf"}, "file"),
    ],
)
def test_bad_versions_are_refused_and_nothing_is_published(app, staff, shelf, changes, message):
    response = staff.post(
        "/staff/documents/the-public-paper/versions", data=publish_form(**changes)
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True).lower()
    with reading(app) as db:
        document = db.scalar(select(Document).where(Document.slug == "the-public-paper"))
        assert len(document.versions) == 2


def test_the_preview_renders_inert_markdown_and_writes_nothing(app, staff):
    hostile = (
        "<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n"
        '<img src=x onerror="alert(1)">\n\n![t](http://tracker.example/p.png)\n\n**bold**'
    )
    response = staff.post("/staff/documents/preview", data={"body": hostile}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<strong>bold</strong>" in html
    assert "<script" not in html and "<img" not in html  # shown as text, or dropped
    assert 'href="javascript' not in html and "tracker.example" not in html


@pytest.mark.pdf
def test_a_pdf_version_is_uploaded_and_served_byte_identical(app, staff, shelf):
    from portal import pdf

    with app.test_request_context("/"):
        data, _log = pdf.html_to_pdf("<h1>Annual accounts</h1>")
    response = staff.post(
        "/staff/documents/the-members-paper/versions",
        data={
            "format": "pdf",
            "file": (io.BytesIO(data), "accounts 2025.pdf"),
            "effective_on": date.today().isoformat(),
            "change_note": "Signed accounts",
            "confirm": "yes",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    download = staff.get("/documents/the-members-paper/v/3.pdf")
    assert download.status_code == 200 and download.data == data
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in download.headers["Content-Disposition"]
    page = staff.get("/documents/the-members-paper/v/3").get_data(as_text=True)
    assert "Preview" in page and "Annual accounts" in page  # the text of its first pages


def test_members_cannot_publish(app, shelf, make_member, sign_in):
    member = sign_in(make_member(email="m@example.org").email)
    assert member.get("/staff/documents").status_code == 403
    assert (
        member.post("/staff/documents/the-public-paper/versions", data=publish_form()).status_code
        == 403
    )
    assert member.post("/staff/documents/preview", data={"body": "x"}).status_code == 403


def test_archiving_hides_a_document_from_the_library_but_not_its_link(app, staff, shelf):
    assert staff.post("/staff/documents/the-public-paper/archive").status_code == 303
    visitor = app.test_client()
    assert "The public paper" not in visitor.get("/documents").get_data(as_text=True)
    assert visitor.get("/documents/the-public-paper").status_code == 200
    staff.post("/staff/documents/the-public-paper/archive")  # restore
    assert "The public paper" in visitor.get("/documents").get_data(as_text=True)


def test_applicants_accept_the_rulebook_version_in_the_library(app, staff, make_member):
    staff.post(
        "/staff/documents",
        data={"title": "Rules of the Society", "category": "rules", "visibility": "public"},
    )
    staff.post(
        "/staff/documents/rules-of-the-society/versions",
        data=publish_form(effective_on=(date.today() - timedelta(days=1)).isoformat()),
    )
    assert staff.post("/staff/documents/rules-of-the-society/rulebook").status_code == 303
    member = make_member(email="joiner@example.org")
    with reading(app) as db:
        application = db.scalar(select(Application).where(Application.user_id == member.user_id))
        version = db.get(DocumentVersion, application.rulebook_version_id)
        assert version.number == 1
        assert application.rulebook_version == "Rules of the Society, version 1"


def test_the_dashboard_lists_new_documents_and_says_when_the_rules_changed(
    app, staff, make_member, sign_in
):
    for effective_on in ("2024-01-01", "2026-01-01"):
        if effective_on == "2024-01-01":
            staff.post(
                "/staff/documents",
                data={"title": "Rules", "category": "rules", "visibility": "public"},
            )
        staff.post(
            "/staff/documents/rules/versions",
            data=publish_form(
                body=f"Rules in force from {effective_on}", effective_on=effective_on
            ),
        )
    staff.post("/staff/documents/rules/rulebook")
    joiner = make_member(email="early@example.org", admitted_on=date(2025, 3, 1))  # under v1
    client = sign_in(joiner.email)
    page = client.get("/me").get_data(as_text=True)
    assert "The rules have changed since you joined" in page
    assert "/documents/rules/changes?from=1&amp;to=2" in page
    assert "Rules</a>, version 2" in page
    # Dated as the library dates the rules, not by the day the version was loaded.
    assert 'version 2 <span class="muted">(in effect since 1 January 2026)</span>' in page


def test_staff_change_who_may_read_a_document(app, staff, shelf):
    form = {"summary": "Now for everyone", "category": "policies", "visibility": "public"}
    response = staff.post("/staff/documents/the-staff-paper/details", data=form)
    assert response.status_code == 303
    assert app.test_client().get("/documents/the-staff-paper").status_code == 200
    bad = staff.post("/staff/documents/the-staff-paper/details", data={**form, "visibility": "x"})
    assert bad.status_code == 422 and "Choose who may read it" in bad.get_data(as_text=True)


def test_the_rulebook_stays_public(app, staff):
    staff.post(
        "/staff/documents", data={"title": "Rules", "category": "rules", "visibility": "public"}
    )
    staff.post("/staff/documents/rules/versions", data=publish_form())
    staff.post("/staff/documents/rules/rulebook")
    response = staff.post(
        "/staff/documents/rules/details", data={"category": "rules", "visibility": "members"}
    )
    assert response.status_code == 422
    assert app.test_client().get("/documents/rules").status_code == 200
