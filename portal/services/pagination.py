"""One page of a query's results, for every paginated list in the portal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
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
