"""Which page of a list a request asks for (``?page=N``), read once, with bounds."""

from __future__ import annotations

from flask import request

from ..errors import InvalidInput
from ..services.inputs import MAX_INTEGER, read_whole

# More pages than any list will have; a larger number is read as the last page.
MAX_PAGE = 1_000_000


def page_number() -> int:
    """``?page=``, or 1 when it is missing or not a page number (never an error)."""
    try:
        return read_whole(request.args.get("page", "1"), "Page", low=1, high=MAX_PAGE)
    except InvalidInput:
        return 1


# No row's id is larger; a larger cursor is read as none.
MAX_CURSOR = MAX_INTEGER


def cursor(name: str = "after") -> int | None:
    """``?after=`` (or ``name``): the key a page starts after, or None when it is missing
    or not one (never an error: the first page is shown)."""
    try:
        return read_whole(request.args.get(name, ""), "Cursor", low=1, high=MAX_CURSOR)
    except InvalidInput:
        return None
