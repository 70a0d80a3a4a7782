"""What publishing a version will do, said before it is done; a version sent twice is
published once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, DocumentVersion
from portal.services.documents import library, publishing


@pytest.fixture
def rules(make_document):
    """“Rules” in two versions: in effect from 1 Jan 2025 and from 13 Jan 2026."""
    return make_document(
        "Rules",
        category="rules",
        versions=[
            (date(2025, 1, 1), "# Rules\n\n1. One.", "As registered"),
            (date(2026, 1, 13), "# Rules\n\n1. One.\n2. Two.", "Clause 2"),
        ],
    )


def preview_of(db, slug, effective_on, body="# Rules\n\nNew."):
    document = library.document_for(db, slug, None)
    version = publishing.markdown_version(
        db, document, body=body, effective_on=effective_on, change_note="Clause 3"
    )
    return publishing.preview_version(document, version)


def test_the_preview_names_the_version_it_replaces_from_its_date(db, rules):
    preview = preview_of(db, "rules", date(2027, 1, 1))
    assert preview.summary == (
        "Publishes version 3 of “Rules”, in effect from 1 January 2027, "
        "replacing version 2 from that day."
    )


def test_a_version_dated_before_the_current_one_is_in_force_only_until_then(db, rules):
    preview = preview_of(db, "rules", date(2025, 6, 1))
    assert preview.summary == (
        "Publishes version 3 of “Rules”, in effect from 1 June 2025, replacing version 1 "
        "from that day; version 2 takes its place on 13 January 2026."
    )


def test_a_first_version_replaces_nothing(db, make_document):
    make_document("Handbook", versions=())
    assert preview_of(db, "handbook", date(2026, 3, 1)).summary == (
        "Publishes version 1 of “Handbook”, in effect from 1 March 2026."
    )


def test_a_preview_writes_nothing(db, rules):
    events = db.scalar(select(func.count()).select_from(AuditEvent))
    preview_of(db, "rules", date(2027, 1, 1))
    db.flush()
    assert db.scalar(select(func.count()).select_from(DocumentVersion)) == 2
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_the_same_version_sent_twice_is_published_once(db, rules, reviewer):
    document = library.document_for(db, "rules", None)

    def send(**changes):
        values = {"body": "# Rules\r\n\r\nNew.", "effective_on": date(2027, 1, 1)}
        values.update(changes)
        return publishing.publish_markdown(
            db, document, change_note="Clause 3", actor=reviewer, **values
        )

    first, again = send(), send()
    assert first is again and first.number == 3
    assert [v.number for v in document.versions] == [1, 2, 3]
    published = select(func.count()).where(AuditEvent.action == "document.published")
    assert db.scalar(published) == 3  # two from the fixture, one now
    assert send(effective_on=date(2027, 2, 1)).number == 4  # a new date is a new version
