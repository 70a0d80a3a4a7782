"""One page of a query's results, for every paginated list in the portal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Page:
    """One page of results and what is needed to link to the others."""

    items: list[Any]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.number - 1) * self.size + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.number * self.size)


def paginate(db: Session, query: Select[Any], *, page: int, per_page: int) -> Page:
    """Run ``query`` (already ordered) for one page; a page past the end gives the last."""
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    number = _page_number(page, total, per_page)
    items = db.scalars(query.limit(per_page).offset((number - 1) * per_page)).unique().all()
    return Page(items=list(items), number=number, size=per_page, total=total)


def paginate_list(items: Sequence[Any], *, page: int, per_page: int) -> Page:
    """One page of a list already in memory; a page past the end gives the last."""
    total = len(items)
    number = _page_number(page, total, per_page)
    start = (number - 1) * per_page
    return Page(
        items=list(items[start : start + per_page]), number=number, size=per_page, total=total
    )


def _page_number(page: int, total: int, per_page: int) -> int:
    """``page`` kept between the first page and the last."""
    return min(max(1, page), max(1, -(-total // per_page)))


# Rows a keyset page counts at most; past it the page says "more than" (a count of every
# row of a big table would cost a scan of them all on each page).
COUNT_LIMIT = 1000


@dataclass(frozen=True)
class KeyPage:
    """One page of a list paged by key, and the ids the pages either side start from.

    Paged by an ordered key ending in the row's id rather than by offset: the cost of a
    page does not grow with how far into the list it is, and rows arriving meanwhile are
    neither skipped nor repeated.
    """

    items: list[Any]
    total: int  # counted up to COUNT_LIMIT + 1: see ``more_than``
    previous_before: int | None  # the first row's id, when there are rows before it
    next_after: int | None  # the last row's id, when there are rows after it

    @property
    def more_than(self) -> int | None:
        """The bound the count stopped at, when there are more rows than it."""
        return COUNT_LIMIT if self.total > COUNT_LIMIT else None


def keyset_page(
    db: Session,
    query: Select[Any],
    key: Sequence[Any],
    *,
    after: int | None = None,
    before: int | None = None,
    per_page: int,
    descending: bool = False,
) -> KeyPage:
    """The page of ``query`` (not yet ordered) after the row with id ``after`` (or before
    ``before``), ordered by ``key`` (columns of one entity, its id last).

    A cursor naming no row gives the first page; one past the end gives the first page too.
    The total is counted up to ``COUNT_LIMIT`` + 1 rows: a bounded cost whatever the table.
    """
    ident = key[-1]
    backwards = before is not None
    named = before if backwards else after
    cursor = None if named is None else db.execute(select(*key).where(ident == named)).first()
    row = tuple_(*key)

    def beyond(values: Any, *, towards_end: bool) -> Any:
        # Towards the end of the list: larger keys ascending, smaller ones descending.
        return row > tuple(values) if towards_end != descending else row < tuple(values)

    def ordered(*, reverse: bool) -> Select[Any]:
        down = descending != reverse
        return query.order_by(*(c.desc() if down else c.asc() for c in key))

    if cursor is None:
        items = _rows(db, ordered(reverse=False), per_page + 1)
        has_previous, has_next = False, len(items) > per_page
        items = items[:per_page]
    elif backwards:
        items = _rows(
            db, ordered(reverse=True).where(beyond(cursor, towards_end=False)), per_page + 1
        )
        has_previous, has_next = len(items) > per_page, True
        items = items[:per_page][::-1]
    else:
        items = _rows(
            db, ordered(reverse=False).where(beyond(cursor, towards_end=True)), per_page + 1
        )
        has_previous, has_next = True, len(items) > per_page
        items = items[:per_page]
    if not items and cursor is not None:
        return keyset_page(db, query, key, per_page=per_page, descending=descending)
    if not has_previous and not has_next:
        total = len(items)  # all there is: no need to count
    else:
        bounded = query.with_only_columns(ident).limit(COUNT_LIMIT + 1).subquery()
        total = db.scalar(select(func.count()).select_from(bounded)) or 0
    return KeyPage(
        items=items,
        total=total,
        previous_before=items[0].id if has_previous and items else None,
        next_after=items[-1].id if has_next and items else None,
    )


def _rows(db: Session, query: Select[Any], limit: int) -> list[Any]:
    return list(db.scalars(query.limit(limit)).unique().all())
