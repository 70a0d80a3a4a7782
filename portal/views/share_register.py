"""The register of shares for staff: as of any date, by share type and class; CSV and PDF."""

from __future__ import annotations

from flask import Blueprint, Response, abort, make_response, request

from .. import htmx, pdf
from ..db import get_db
from ..errors import InvalidInput
from ..models import utcnow
from ..services import holdings, settings, share_register
from ..services.pagination import paginate_list
from ..services.share_register import RegisterFilter
from ..templating import current_coop, local_time
from .access import staff_required
from .register import streamed_csv

bp = Blueprint("share_register", __name__, url_prefix="/staff")

PAGE_SIZE = 50


def _filter_args() -> dict[str, str]:
    """The filter as the form sent it (bounded; checked by the service)."""
    return {name: request.args.get(name, "")[:40] for name in ("as_of", "type", "class")}


def _read_filter(args: dict[str, str]) -> RegisterFilter:
    return share_register.register_filter(
        get_db(),
        as_of=args["as_of"],
        type_code=args["type"],
        class_code=args["class"],
        tz=current_coop().timezone,
    )


@bp.get("/register")
@staff_required
def register() -> Response:
    """The share register as of a date; htmx swaps the results as the filters change."""
    db = get_db()
    args = _filter_args()
    form = {
        "filters": args,
        "types": holdings.share_types(db),
        "classes": settings.list_classes(db),
        "today": share_register.today(current_coop().timezone),
    }
    try:
        flt = _read_filter(args)
    except InvalidInput as exc:
        return htmx.render(
            "share_register/register.html",
            "share_register/_results.html",
            status=422,
            error=exc,
            **form,
        )
    result = share_register.register(db, flt)
    return htmx.render(
        "share_register/register.html",
        "share_register/_results.html",
        error=None,
        register=result,
        history=share_register.capital_history(db, flt),
        page=paginate_list(
            result.rows, page=request.args.get("page", 1, type=int), per_page=PAGE_SIZE
        ),
        query=flt.args,
        **form,
    )


@bp.get("/register.csv")
@staff_required
def export_csv() -> Response:
    """The share register with the page's filters, as a streamed CSV."""
    flt = _read_filter(_filter_args())
    currency = current_coop().currency
    return streamed_csv(
        f"register-of-shares-{flt.as_of.isoformat()}.csv",
        share_register.CSV_COLUMNS,
        lambda db: share_register.csv_rows(db, flt, currency),
    )


@bp.get("/register.pdf")
@staff_required
def export_pdf() -> Response:
    """The share register with the page's filters, as a PDF with totals and page numbers."""
    db = get_db()
    flt = _read_filter(_filter_args())
    try:
        document = pdf.render_pdf(
            "register.html",
            coop=current_coop(),
            register=share_register.register(db, flt),
            printed=local_time(utcnow()),
        )
    except pdf.PDFRenderTimeout:
        abort(503, "The register is too long to render as a PDF in time; download the CSV.")
    response = make_response(document)
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="register-of-shares-{flt.as_of.isoformat()}.pdf"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
