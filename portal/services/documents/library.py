"""The document library as readers see it: who may read what, search, current versions.

Visibility is enforced in every query here (DESIGN.md §2), never only in a template: a
visitor reads public documents, a member public and members' ones, staff everything.
Which version is current is derived from effective dates: the newest version whose date
has come, so a version published ahead of its date leaves the current one in force.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import Session, defer, joinedload, selectinload
from sqlalchemy.orm.interfaces import ORMOption

from ... import coop
from ...models import (
    Document,
    DocumentCategory,
    DocumentVersion,
    Member,
    MemberStatus,
    Resolution,
    User,
    Visibility,
)
from ..pagination import KeyPage, keyset_page


def readable_by(db: Session, user: User | None) -> set[Visibility]:
    """The visibilities ``user`` may read: staff all; active members public and members'."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {Visibility.PUBLIC}
    if user.is_staff:
        return set(Visibility)
    is_member = db.scalar(
        select(exists().where(Member.user_id == user.id, Member.status != MemberStatus.CEASED))
    )
    return {Visibility.PUBLIC, Visibility.MEMBERS} if is_member else {Visibility.PUBLIC}


def _readable(
    db: Session, user: User | None, versions: ORMOption | None = None
) -> Select[tuple[Document]]:
    """The documents ``user`` may read, their versions loaded by ``versions`` (all of each
    version unless told)."""
    return (
        select(Document)
        .options(versions or selectinload(Document.versions))
        .where(Document.visibility.in_(readable_by(db, user)))
    )


# The library lists versions by number and date: their text stays in the database.
WITHOUT_TEXT = (
    selectinload(Document.versions).defer(DocumentVersion.body).defer(DocumentVersion.body_html)
)
# A document's page shows who published each version and the resolution that approved it.
WITH_PUBLISHERS = selectinload(Document.versions).options(
    joinedload(DocumentVersion.published_by),
    joinedload(DocumentVersion.approved_by_resolution).joinedload(Resolution.meeting),
)


def current_version(document: Document, today: date) -> DocumentVersion | None:
    """The version in force on ``today``: the newest whose effective date has come."""
    in_force = [v for v in document.versions if v.effective_on <= today]
    return max(in_force, key=lambda v: (v.effective_on, v.number), default=None)


def upcoming_version(document: Document, today: date) -> DocumentVersion | None:
    """A version published to take effect later, if any."""
    later = [v for v in document.versions if v.effective_on > today]
    return min(later, key=lambda v: (v.effective_on, v.number), default=None)


@dataclass(frozen=True)
class LibraryEntry:
    document: Document
    current: DocumentVersion | None
    upcoming: DocumentVersion | None


def search(
    db: Session,
    user: User | None,
    *,
    today: date,
    query: str = "",
    category: DocumentCategory | None = None,
) -> list[LibraryEntry]:
    """The documents ``user`` may read, not archived, matching the search, by category."""
    statement = _matching(db, user, query, category)
    return _entries(db.scalars(statement.order_by(Document.title)).all(), today)


def _matching(
    db: Session, user: User | None, query: str, category: DocumentCategory | None
) -> Select[tuple[Document]]:
    """The documents ``user`` may read, not archived, in ``category`` (if given) whose
    title, summary or text contains ``query`` (if given), their versions without text."""
    return select(Document).options(WITHOUT_TEXT).where(*_filters(db, user, query, category))


def _filters(
    db: Session, user: User | None, query: str, category: DocumentCategory | None
) -> list[ColumnElement[bool]]:
    """The conditions of :func:`_matching`."""
    conditions = [
        Document.visibility.in_(readable_by(db, user)),
        Document.archived_at.is_(None),
    ]
    if category is not None:
        conditions.append(Document.category == category)
    words = query.strip()[:100]
    if words:
        pattern = f"%{_escape_like(words)}%"
        conditions.append(
            or_(
                Document.title.ilike(pattern, escape="\\"),
                Document.summary.ilike(pattern, escape="\\"),
                exists().where(
                    DocumentVersion.document_id == Document.id,
                    DocumentVersion.body.ilike(pattern, escape="\\"),
                ),
            )
        )
    return conditions


def _entries(documents: Sequence[Document], today: date) -> list[LibraryEntry]:
    return [
        LibraryEntry(d, current_version(d, today), upcoming_version(d, today)) for d in documents
    ]


# The library's first page shows this many documents of each category, by title; the rest
# are a category's own pages ("All 38 policies").
FRONT_PER_CATEGORY = 6
# A category's page, or a search's, lists this many documents at a time.
LIBRARY_PAGE = 20


@dataclass(frozen=True)
class LibraryFront:
    """The library's first page: the first few documents of each category ``user`` may
    read, and how many there are in each."""

    entries: list[LibraryEntry]
    counts: dict[DocumentCategory, int]

    def of(self, category: DocumentCategory) -> list[LibraryEntry]:
        """The entries shown for ``category``."""
        return [e for e in self.entries if e.document.category is category]


def library_front(
    db: Session, user: User | None, *, today: date, per_category: int | None = None
) -> LibraryFront:
    """The first ``per_category`` documents of each category by title, in one query (a
    window numbers each category's rows), their versions in another, and the counts by
    category in a third: the same few statements however big the library grows."""
    readable = _filters(db, user, "", None)
    numbered = (
        select(
            Document.id,
            func.row_number()
            .over(partition_by=Document.category, order_by=(Document.title, Document.id))
            .label("place"),
        )
        .where(*readable)
        .subquery()
    )
    documents = db.scalars(
        select(Document)
        .options(WITHOUT_TEXT)
        .join(numbered, numbered.c.id == Document.id)
        .where(numbered.c.place <= (per_category or FRONT_PER_CATEGORY))
        .order_by(Document.title, Document.id)
    ).all()
    counted = select(Document.category, func.count()).where(*readable).group_by(Document.category)
    counts = {category: count for category, count in db.execute(counted)}
    return LibraryFront(_entries(documents, today), counts)


def library_page(
    db: Session,
    user: User | None,
    *,
    today: date,
    query: str = "",
    category: DocumentCategory | None = None,
    after: int | None = None,
    before: int | None = None,
    per_page: int | None = None,
) -> KeyPage:
    """One page of a category or a search, by title (paged by key: the title and the id),
    its items :class:`LibraryEntry`."""
    page = keyset_page(
        db,
        _matching(db, user, query, category),
        (Document.title, Document.id),
        after=after,
        before=before,
        per_page=per_page or LIBRARY_PAGE,
    )
    return replace(page, items=_entries(page.items, today))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def document_for(db: Session, slug: str, user: User | None) -> Document | None:
    """The document with this slug if ``user`` may read it (archived ones too: links in old
    minutes keep working); None otherwise, so that a hidden document looks like no document."""
    return db.scalar(_readable(db, user, WITH_PUBLISHERS).where(Document.slug == slug[:80]))


def version_of(document: Document, number: int) -> DocumentVersion | None:
    """The document's version with this number, if any."""
    return next((v for v in document.versions if v.number == number), None)


def staff_documents(db: Session) -> list[Document]:
    """Every document, archived too, for the staff's publishing page."""
    return list(
        db.scalars(
            select(Document)
            .options(selectinload(Document.versions))
            .order_by(Document.archived_at.is_not(None), Document.category, Document.title)
        )
    )


@dataclass(frozen=True)
class DatedVersion:
    """A version with the date that matters to a reader and the words that say what it is:
    "in effect since 13 January 2026" for rules, "approved 20 June 2026" for minutes."""

    document: Document
    version: DocumentVersion
    phrase: str
    day: date


def dated(document: Document, version: DocumentVersion, today: date) -> DatedVersion:
    """The version dated as its category is read, never by the day it was loaded.

    Every date is the version's effective date, which staff set when they publish it: for
    rules and policies the day it came into force (or will); for minutes the day they were
    approved as the record of their meeting (the title names the meeting: the portal keeps
    no meeting date beside them); for reports and notices the day they bear. A version
    published ahead of its date "takes effect on" it.
    """
    day = version.effective_on
    if day > today:
        phrase = "takes effect on"
    elif document.category in (DocumentCategory.RULES, DocumentCategory.POLICIES):
        phrase = "in effect since"
    elif document.category is DocumentCategory.MINUTES:
        phrase = "approved"
    else:
        phrase = "dated"
    return DatedVersion(document, version, phrase, day)


def new_since(
    db: Session, user: User, since: datetime | None, *, limit: int = 5
) -> list[DatedVersion]:
    """Versions published since ``since`` (or the latest ones) that ``user`` may read,
    each dated as a reader wants it (:func:`dated`, on the co-op's today)."""
    statement = (
        select(Document, DocumentVersion)
        .join(DocumentVersion, DocumentVersion.document_id == Document.id)
        .where(
            Document.visibility.in_(readable_by(db, user)),
            Document.archived_at.is_(None),
        )
        .options(defer(DocumentVersion.body), defer(DocumentVersion.body_html))
        .order_by(DocumentVersion.published_at.desc())
        .limit(limit)
    )
    if since is not None:
        statement = statement.where(DocumentVersion.published_at > since)
    today = coop.today(db)
    return [dated(d, v, today) for d, v in db.execute(statement)]


@dataclass(frozen=True)
class LibraryNews:
    """What a member's dashboard shows of the library: the versions published since their
    last visit, else the latest few."""

    new: list[DatedVersion]
    latest: list[DatedVersion]


def news_for(
    db: Session, user: User, since: datetime | None, *, new: int = 5, latest: int = 3
) -> LibraryNews:
    """The newest versions ``user`` may read, in one query: those published since ``since``
    (at most ``new``; all of them when ``since`` is None) and the ``latest`` few."""
    newest = new_since(db, user, None, limit=max(new, latest))
    fresh = [d for d in newest if since is None or d.version.published_at > since]
    return LibraryNews(fresh[:new], newest[:latest])


def current_rulebook(db: Session, today: date) -> tuple[Document, DocumentVersion] | None:
    """The rulebook and its version in force today, if the library has one."""
    document = db.scalar(
        select(Document).options(selectinload(Document.versions)).where(Document.is_rulebook)
    )
    version = current_version(document, today) if document is not None else None
    return (document, version) if version is not None else None


@dataclass(frozen=True)
class RulesChange:
    """The rulebook changed after the member joined: the version then and the one now."""

    document: Document
    joined: DocumentVersion | None
    current: DocumentVersion


def rules_changed_since(db: Session, joined_on: date, today: date) -> RulesChange | None:
    """How the rulebook changed since ``joined_on``, or None if it has not."""
    rulebook = current_rulebook(db, today)
    if rulebook is None or rulebook[1].effective_on <= joined_on:
        return None
    document, version = rulebook
    return RulesChange(document, current_version(document, joined_on), version)
