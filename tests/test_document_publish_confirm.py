"""Publishing a version asks for confirmation first, saying what it will do; a PDF is sent
once and the confirmation carries its hash; a confirmation sent twice publishes once."""

from __future__ import annotations

import html
import io
import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.models import Document, DocumentVersion
from portal.uploads import upload_path

from .factories import reading

URL = "/staff/documents/rules/versions"


@pytest.fixture
def rules(make_document):
    """“Rules”, version 1 in effect from 1 January 2026."""
    return make_document(
        "Rules", category="rules", versions=[(date(2026, 1, 1), "# Rules\n\n1. One.", "First")]
    )


def versions(app):
    with reading(app) as db:
        document = db.scalar(select(Document).where(Document.slug == "rules"))
        return [v.number for v in document.versions]


def hidden_fields(page):
    """The confirmation's hidden fields, as a browser would send them back."""
    return {
        name: html.unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([a-z_0-9]+)" value="([^"]*)"', page
        )
        if name != "csrf_token"
    }


def markdown(**changes):
    return {
        "format": "markdown",
        "body": '# Rules\n\n1. One.\n2. Members may "vote" <by> proxy.',
        "effective_on": "2027-01-01",
        "change_note": "Clause 2: proxies",
        **changes,
    }


def test_the_first_post_says_what_publishing_will_do_and_publishes_nothing(app, staff, rules):
    answer = staff.post(URL, data=markdown())
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert (
        "Publishes version 2 of “Rules”, in effect from 1 January 2027, replacing version 1 "
        "from that day." in page
    )
    assert "Clause 2: proxies" in page and "<li>Members may" in page  # the text, rendered
    assert versions(app) == [1]
    carried = hidden_fields(page)
    assert carried["body"] == markdown()["body"]  # quotes and brackets intact
    assert {carried[k] for k in ("format", "effective_on", "change_note")} == {
        "markdown",
        "2027-01-01",
        "Clause 2: proxies",
    }
    assert 'name="confirm" value="yes"' in page and 'name="confirm" value="change"' in page


def test_confirming_publishes_once_however_often_it_is_sent(app, staff, rules):
    carried = hidden_fields(staff.post(URL, data=markdown()).get_data(as_text=True))
    first = staff.post(URL, data={**carried, "confirm": "yes"})
    again = staff.post(URL, data={**carried, "confirm": "yes"})  # a double click
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"] == "/documents/rules/v/2"
    assert versions(app) == [1, 2]
    with reading(app) as db:
        body = db.scalar(select(DocumentVersion.body).where(DocumentVersion.number == 2))
    assert body == markdown()["body"]


def test_a_refused_version_answers_422_without_a_confirmation(app, staff, rules):
    refused = staff.post(URL, data=markdown(change_note=""))
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Say what changed in this version." in page and "Publishes version" not in page
    assert versions(app) == [1]


def test_change_brings_the_form_back_as_sent(staff, rules):
    back = staff.post(URL, data={**markdown(change_note="Typo"), "confirm": "change"})
    assert back.status_code == 200
    page = back.get_data(as_text=True)
    assert 'value="Typo"' in page and 'value="2027-01-01"' in page
    assert "Members may &#34;vote&#34; &lt;by&gt; proxy." in page  # in the textarea


@pytest.mark.pdf
def test_a_pdf_is_sent_once_and_confirmed_by_its_hash(app, staff, rules):
    from portal import pdf

    with app.test_request_context("/"):
        data, _log = pdf.html_to_pdf("<h1>Rules as registered</h1>")
    form = {
        "format": "pdf",
        "file": (io.BytesIO(data), "rules 2027.pdf"),
        "effective_on": "2027-01-01",
        "change_note": "Registered copy",
    }
    answer = staff.post(URL, data=form, content_type="multipart/form-data")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert re.search(r"A PDF file, rules.2027\.pdf \(\d+ KB\)", page)
    carried = hidden_fields(page)
    assert "body" not in carried and len(carried["file_sha256"]) == 64
    assert upload_path(Path(app.instance_path) / "uploads", carried["file_sha256"]).exists()
    assert versions(app) == [1]

    confirmed = staff.post(
        URL, data={**carried, "confirm": "yes"}, content_type="multipart/form-data"
    )  # no file this time
    assert confirmed.status_code == 303
    assert staff.get("/documents/rules/v/2.pdf").data == data
    assert versions(app) == [1, 2]


def test_a_confirmation_naming_no_stored_file_is_refused(app, staff, rules):
    carried = {
        "format": "pdf",
        "file_sha256": "0" * 64,
        "file_name": "rules.pdf",
        "effective_on": "2027-01-01",
        "change_note": "Registered copy",
        "confirm": "yes",
    }
    for sha256 in ("0" * 64, "../../etc/passwd"):
        refused = staff.post(URL, data={**carried, "file_sha256": sha256})
        assert refused.status_code == 422
        assert "no longer on the server: choose it again" in refused.get_data(as_text=True)
    with reading(app) as db:
        assert db.scalar(select(func.count()).select_from(DocumentVersion)) == 1
