"""A Markdown version keeps its rendered HTML from the day it is published: the document's
page shows it and never renders the Markdown again (issue 16 §5)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from portal import markup
from portal.migrations import upgrade
from portal.models import DocumentVersion
from portal.services.documents import publishing

from .factories import reading
from .test_migrations import _insert, empty_engine  # noqa: F401 (a fixture)

SOURCE = "# Standing orders\n\n## Speaking\n\n1.1 Each member speaks *once*.\n\n<b>raw</b>"


def test_a_published_version_keeps_its_html_without_the_title(app, make_document):
    make_document("Standing orders", versions=[(date(2026, 1, 1), SOURCE, "First")])
    with reading(app) as db:
        version = db.scalar(select(DocumentVersion))
    assert version.body_html == str(
        markup.render_markdown(markup.without_title(SOURCE, "Standing orders"))
    )
    assert "<h1>" not in version.body_html  # the title heading, printed by the page already
    assert "<em>once</em>" in version.body_html and "<b>" not in version.body_html


def test_the_document_page_never_renders_markdown(client, make_document, monkeypatch):
    make_document("Standing orders", versions=[(date(2026, 1, 1), SOURCE, "First")])

    def refuse(_source):
        raise AssertionError("rendered on a reader's request")

    monkeypatch.setattr(markup, "render_markdown", refuse)
    monkeypatch.setattr(publishing, "render_markdown", refuse)
    for url in ("/documents/standing-orders", "/documents/standing-orders/v/1"):
        page = client.get(url).get_data(as_text=True)
        assert "<h2>Speaking</h2>" in page and "<em>once</em>" in page


def test_the_migration_renders_the_versions_that_exist_and_keeps_them_immutable(
    empty_engine,  # noqa: F811
):
    upgrade(empty_engine, "0023")
    with empty_engine.begin() as conn:
        _insert(
            conn,
            "documents",
            id=1,
            slug="standing-orders",
            title="Standing orders",
            summary="",
            category="rules",
            visibility="public",
            approved_by="",
            is_rulebook=False,
            created_at="2026-01-01 00:00:00",
        )
        for number, body in ((1, SOURCE), (2, None)):
            _insert(
                conn,
                "document_versions",
                id=number,
                document_id=1,
                number=number,
                format="markdown" if body else "pdf",
                body=body,
                file_sha256=None if body else "a" * 64,
                effective_on="2026-01-01",
                change_note="First",
                published_at="2026-01-01 00:00:00",
            )
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        rows = conn.execute(text("SELECT id, body_html FROM document_versions ORDER BY id")).all()
    assert rows == [(1, publishing.rendered_body("Standing orders", SOURCE)), (2, None)]
    with pytest.raises(DatabaseError), empty_engine.begin() as conn:
        conn.execute(text("UPDATE document_versions SET change_note = 'x' WHERE id = 1"))
