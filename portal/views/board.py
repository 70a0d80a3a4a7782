"""The board of directors: who sits for each class, and until when (issue 15 §1)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from ..db import get_db
from ..services.elections import board, nominations
from .access import current_member

bp = Blueprint("board", __name__, url_prefix="/board")


@bp.get("")
@login_required
def board_page() -> str:
    """The current directors by class, with their terms and the seats each class has, and
    the elections taking nominations now."""
    if current_member() is None and not current_user.is_staff:
        abort(403)
    db = get_db()
    return render_template(
        "board/board.html",
        classes=board.current_board(db),
        nominating=nominations.elections_taking_nominations(db),
    )
