"""The document library's rules: visibility in the query, current versions, immutability."""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from portal.errors import InvalidInput, InvalidState
from portal.models import DocumentCategory, Visibility, utcnow
from portal.services.documents import library, publishing
from portal.services.membership import leaving
from portal.services.register import members

TODAY = date(2026, 11, 29)
ON_POSTGRES = bool(os.environ.get("DATABASE_URL"))


@pytest.fixture
def people(make_user, make_member):
    """Staff, a member, and an applicant (signed up, not a member)."""
    staff = make_user(email="staff@example.org", role="staff")
    member = make_user(email="member@example.org")
    make_member(email=member.email)
    applicant = make_user(email="applicant@example.org")
    return staff, member, applicant


@pytest.fixture
def add(make_document, people):
    """``add(title, visibility, versions=[(effective_on, text)])``: a document staff publish."""

    def publish(title, visibility, category="policies", versions=((date(2026, 1, 1), "v1"),)):
        return make_document(
            title,
            visibility=visibility,
            category=category,
            versions=[(day, body, "c") for day, body in versions],
            author=people[0].email,
        )

    return publish


@pytest.fixture
def shelf(add):
    return {
        v: add(f"A {v} paper", v, versions=[(date(2026, 1, 1), f"text for {v}")])
        for v in ("public", "members", "staff")
    }


def titles(entries):
    return {e.document.title for e in entries}


def test_each_reader_sees_only_what_they_may(db, people, shelf):
    staff, member, applicant = people
    everyone = {"A public paper"}
    assert titles(library.search(db, None, today=TODAY)) == everyone
    assert titles(library.search(db, applicant, today=TODAY)) == everyone
    assert titles(library.search(db, member, today=TODAY)) == everyone | {"A members paper"}
    assert len(library.search(db, staff, today=TODAY)) == 3


def test_search_never_finds_what_the_reader_may_not_see(db, people, shelf):
    _, member, _ = people
    assert titles(library.search(db, member, today=TODAY, query="text for staff")) == set()
    assert titles(library.search(db, member, today=TODAY, query="text for members")) == {
        "A members paper"
    }
    assert library.document_for(db, shelf["staff"].slug, member) is None
    assert library.document_for(db, shelf["members"].slug, None) is None


def test_search_treats_wildcards_as_text(db, people, shelf):
    assert library.search(db, people[0], today=TODAY, query="%") == []
    assert library.search(db, people[0], today=TODAY, query="_") == []


def test_a_ceased_member_reads_as_the_public(db, people, shelf):
    staff, member, _ = people
    record = members.member_for_user(db, member)
    leaving.cease_member(db, record, actor=staff, note="Left")
    assert titles(library.search(db, member, today=TODAY)) == {"A public paper"}


def test_the_current_version_is_the_newest_in_effect(db, add):
    document = add(
        "Rules",
        "public",
        category="rules",
        versions=(
            (date(2024, 1, 1), "one"),
            (date(2025, 6, 1), "two"),
            (TODAY + timedelta(days=30), "three, not yet"),
        ),
    )
    assert library.current_version(document, TODAY).body == "two"
    assert library.upcoming_version(document, TODAY).body == "three, not yet"
    assert library.current_version(document, TODAY + timedelta(days=30)).body == "three, not yet"
    assert library.current_version(document, date(2023, 12, 31)) is None


def test_a_version_published_later_with_an_earlier_date_still_counts_by_date(db, people, add):
    staff = people[0]
    document = add("Policy", "public", versions=((date(2026, 5, 1), "may"),))
    publishing.publish_markdown(
        db, document, body="march", effective_on=date(2026, 3, 1), change_note="c", actor=staff
    )
    assert library.current_version(document, TODAY).body == "may"


@pytest.mark.parametrize(
    "statement", ["UPDATE document_versions SET body = 'x'", "DELETE FROM document_versions"]
)
def test_a_published_version_cannot_be_changed_at_the_database(db, people, statement, add):
    add("Fixed", "public")
    savepoint = db.begin_nested()
    with pytest.raises(DatabaseError, match="cannot be changed or deleted"):
        db.execute(text(statement))
    savepoint.rollback()


def test_publishing_needs_a_date_a_note_and_text(db, people, add):
    staff = people[0]
    document = add("Notes", "public", versions=())
    for kwargs, message in (
        ({"effective_on": None}, "takes effect"),
        ({"change_note": " "}, "what changed"),
        ({"body": "  "}, "text"),
    ):
        values = {"body": "x", "effective_on": TODAY, "change_note": "n", **kwargs}
        with pytest.raises(InvalidInput, match=message):
            publishing.publish_markdown(db, document, actor=staff, **values)
    assert document.versions == []


def test_titles_become_unique_slugs(db, add):
    document = add("Standing Orders (2026) – Général", "members")
    assert document.slug == "standing-orders-2026-general"
    with pytest.raises(InvalidInput, match="exists already"):
        add("Standing orders (2026) – général", "members")


def test_an_archived_document_leaves_the_library_but_keeps_its_link(db, people, shelf):
    staff, member, _ = people
    publishing.archive_document(db, shelf["members"], actor=staff)
    assert "A members paper" not in titles(library.search(db, member, today=TODAY))
    assert library.document_for(db, shelf["members"].slug, member) is not None
    with pytest.raises(InvalidState):
        publishing.publish_markdown(
            db, shelf["members"], body="x", effective_on=TODAY, change_note="n", actor=staff
        )


def test_one_rulebook_at_a_time_and_it_must_be_public_rules(db, people, add):
    staff = people[0]
    first = add("Rules 1", "public", category="rules")
    second = add("Rules 2", "public", category="rules")
    publishing.mark_rulebook(db, first, actor=staff)
    publishing.mark_rulebook(db, second, actor=staff)
    assert not first.is_rulebook and second.is_rulebook
    assert library.current_rulebook(db, TODAY)[0] is second
    with pytest.raises(InvalidInput, match="public"):
        publishing.mark_rulebook(db, add("Secret rules", "staff", category="rules"), actor=staff)
    with pytest.raises(InvalidInput, match="Rules"):
        publishing.mark_rulebook(db, add("A policy", "public"), actor=staff)


def test_new_since_lists_only_readable_versions_after_the_time(db, people, shelf):
    member = people[1]
    assert titles(library.new_since(db, member, None)) == {"A public paper", "A members paper"}
    assert library.new_since(db, member, utcnow()) == []


@pytest.mark.parametrize(
    ("category", "effective_on", "words"),
    [
        ("rules", date(2026, 1, 13), "in effect since 2026-01-13"),
        ("policies", date(2026, 1, 13), "in effect since 2026-01-13"),
        ("minutes", date(2026, 6, 20), "approved 2026-06-20"),
        ("reports", date(2026, 4, 14), "dated 2026-04-14"),
        ("notices", date(2026, 4, 14), "dated 2026-04-14"),
        ("rules", TODAY + timedelta(days=1), "takes effect on 2026-11-30"),
    ],
)
def test_a_version_is_dated_as_its_category_is_read_not_by_its_upload(
    db, add, category, effective_on, words
):
    document = add("A paper", "public", category=category, versions=[(effective_on, "text")])
    (version,) = document.versions
    entry = library.dated(document, version, TODAY)
    assert f"{entry.phrase} {entry.day.isoformat()}" == words


def test_visibility_enum_covers_the_three_audiences():
    assert {v.value for v in Visibility} == {"public", "members", "staff"}
    assert DocumentCategory("minutes") is DocumentCategory.MINUTES
