"""The document library's rules: visibility in the query, current versions, immutability."""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from portal.errors import InvalidInput, InvalidState
from portal.models import DocumentCategory, Role, Visibility
from portal.services import accounts, documents

from ..share_fixtures import add_member

TODAY = date(2026, 11, 29)
ON_POSTGRES = bool(os.environ.get("DATABASE_URL"))


def person(db, email, role=Role.MEMBER):
    return accounts.create_user(
        db,
        name=email.split("@")[0].title(),
        email=email,
        password="correct-horse-battery-staple-42",
        role=role,
        verified=True,
    )


@pytest.fixture
def people(db, coop):
    staff = person(db, "staff@example.org", Role.STAFF)
    member = person(db, "member@example.org")
    add_member(db, 1, "Member", user=member)
    applicant = person(db, "applicant@example.org")  # signed up, not a member
    return staff, member, applicant


def add(db, staff, title, visibility, category="policies", versions=((date(2026, 1, 1), "v1"),)):
    document = documents.create_document(
        db,
        title=title,
        category=category,
        visibility=visibility,
        summary="",
        approved_by="",
        actor=staff,
    )
    for effective_on, body in versions:
        documents.publish_markdown(
            db, document, body=body, effective_on=effective_on, change_note="c", actor=staff
        )
    return document


@pytest.fixture
def shelf(db, people):
    staff = people[0]
    return {
        v: add(db, staff, f"A {v} paper", v, versions=((date(2026, 1, 1), f"text for {v}"),))
        for v in ("public", "members", "staff")
    }


def titles(entries):
    return {e.document.title for e in entries}


def test_each_reader_sees_only_what_they_may(db, people, shelf):
    staff, member, applicant = people
    everyone = {"A public paper"}
    assert titles(documents.library(db, None, today=TODAY)) == everyone
    assert titles(documents.library(db, applicant, today=TODAY)) == everyone
    assert titles(documents.library(db, member, today=TODAY)) == everyone | {"A members paper"}
    assert len(documents.library(db, staff, today=TODAY)) == 3


def test_search_never_finds_what_the_reader_may_not_see(db, people, shelf):
    _, member, _ = people
    assert titles(documents.library(db, member, today=TODAY, query="text for staff")) == set()
    assert titles(documents.library(db, member, today=TODAY, query="text for members")) == {
        "A members paper"
    }
    assert documents.document_for(db, shelf["staff"].slug, member) is None
    assert documents.document_for(db, shelf["members"].slug, None) is None


def test_search_treats_wildcards_as_text(db, people, shelf):
    assert documents.library(db, people[0], today=TODAY, query="%") == []
    assert documents.library(db, people[0], today=TODAY, query="_") == []


def test_a_ceased_member_reads_as_the_public(db, people, shelf):
    from portal.services import members

    staff, member, _ = people
    record = members.member_for_user(db, member)
    members.cease_member(db, record, actor=staff, note="Left")
    assert titles(documents.library(db, member, today=TODAY)) == {"A public paper"}


def test_the_current_version_is_the_newest_in_effect(db, people):
    staff = people[0]
    document = add(
        db,
        staff,
        "Rules",
        "public",
        category="rules",
        versions=(
            (date(2024, 1, 1), "one"),
            (date(2025, 6, 1), "two"),
            (TODAY + timedelta(days=30), "three, not yet"),
        ),
    )
    assert documents.current_version(document, TODAY).body == "two"
    assert documents.upcoming_version(document, TODAY).body == "three, not yet"
    assert documents.current_version(document, TODAY + timedelta(days=30)).body == "three, not yet"
    assert documents.current_version(document, date(2023, 12, 31)) is None


def test_a_version_published_later_with_an_earlier_date_still_counts_by_date(db, people):
    staff = people[0]
    document = add(db, staff, "Policy", "public", versions=((date(2026, 5, 1), "may"),))
    documents.publish_markdown(
        db, document, body="march", effective_on=date(2026, 3, 1), change_note="c", actor=staff
    )
    assert documents.current_version(document, TODAY).body == "may"


@pytest.mark.parametrize(
    "statement", ["UPDATE document_versions SET body = 'x'", "DELETE FROM document_versions"]
)
def test_a_published_version_cannot_be_changed_at_the_database(db, people, statement):
    add(db, people[0], "Fixed", "public")
    savepoint = db.begin_nested()
    with pytest.raises(DatabaseError, match="cannot be changed or deleted"):
        db.execute(text(statement))
    savepoint.rollback()


def test_publishing_needs_a_date_a_note_and_text(db, people):
    staff = people[0]
    document = add(db, staff, "Notes", "public", versions=())
    for kwargs, message in (
        ({"effective_on": None}, "takes effect"),
        ({"change_note": " "}, "what changed"),
        ({"body": "  "}, "text"),
    ):
        values = {"body": "x", "effective_on": TODAY, "change_note": "n", **kwargs}
        with pytest.raises(InvalidInput, match=message):
            documents.publish_markdown(db, document, actor=staff, **values)
    assert document.versions == []


def test_titles_become_unique_slugs(db, people):
    staff = people[0]
    document = add(db, staff, "Standing Orders (2026) – Général", "members")
    assert document.slug == "standing-orders-2026-general"
    with pytest.raises(InvalidInput, match="exists already"):
        add(db, staff, "Standing orders (2026) – général", "members")


def test_an_archived_document_leaves_the_library_but_keeps_its_link(db, people, shelf):
    staff, member, _ = people
    documents.archive_document(db, shelf["members"], actor=staff)
    assert "A members paper" not in titles(documents.library(db, member, today=TODAY))
    assert documents.document_for(db, shelf["members"].slug, member) is not None
    with pytest.raises(InvalidState):
        documents.publish_markdown(
            db, shelf["members"], body="x", effective_on=TODAY, change_note="n", actor=staff
        )


def test_one_rulebook_at_a_time_and_it_must_be_public_rules(db, people):
    staff = people[0]
    first = add(db, staff, "Rules 1", "public", category="rules")
    second = add(db, staff, "Rules 2", "public", category="rules")
    documents.mark_rulebook(db, first, actor=staff)
    documents.mark_rulebook(db, second, actor=staff)
    assert not first.is_rulebook and second.is_rulebook
    assert documents.current_rulebook(db, TODAY)[0] is second
    with pytest.raises(InvalidInput, match="public"):
        documents.mark_rulebook(
            db, add(db, staff, "Secret rules", "staff", category="rules"), actor=staff
        )
    with pytest.raises(InvalidInput, match="Rules"):
        documents.mark_rulebook(db, add(db, staff, "A policy", "public"), actor=staff)


def test_new_since_lists_only_readable_versions_after_the_time(db, people, shelf):
    from portal.models import utcnow

    member = people[1]
    assert {d.title for d, _ in documents.new_since(db, member, None)} == {
        "A public paper",
        "A members paper",
    }
    assert documents.new_since(db, member, utcnow()) == []


def test_visibility_enum_covers_the_three_audiences():
    assert {v.value for v in Visibility} == {"public", "members", "staff"}
    assert DocumentCategory("minutes") is DocumentCategory.MINUTES
