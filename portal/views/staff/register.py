"""The register of shares for staff: as of any date, by share type and class; CSV and PDF."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from ... import coop, htmx, pdf
from ...db import get_db
from ...errors import InvalidInput
from ...models import utcnow
from ...services.register import classes
from ...services.shares import share_register, share_types
from ...services.shares.share_register import RegisterFilter
from ...templating import local_time
from ..downloads import attachment, streamed_csv
from ..paging import cursor

bp = Blueprint("register", __name__)

PAGE_SIZE = 50


def _filter_args() -> dict[str, str]:
    """The filter as the form sent it (bounded; checked by the service)."""
    return {name: request.args.get(name, "")[:40] for name in ("as_of", "type", "class")}


def _read_filter(args: dict[str, str]) -> RegisterFilter:
    return share_register.register_filter(
        get_db(), as_of=args["as_of"], type_code=args["type"], class_code=args["class"]
    )


@bp.get("/register")
def register() -> Response:
    """The share register as of a date, its totals and chart, and a page of holders by
    member number (``?after=``/``?before=`` a member number); htmx swaps the results as
    the filters change."""
    db = get_db()
    args = _filter_args()
    form = {
        "filters": args,
        "types": share_types.list_share_types(db),
        "classes": classes.list_classes(db),
        "today": coop.today(),
    }
    try:
        flt = _read_filter(args)
    except InvalidInput as exc:
        return htmx.render(
            "staff/register/register.html",
            "staff/register/_results.html",
            status=422,
            error=exc,
            **form,
        )
    return htmx.render(
        "staff/register/register.html",
        "staff/register/_results.html",
        error=None,
        register=share_register.register_totals(db, flt),
        history=share_register.capital_history(db, flt),
        page=share_register.holder_page(
            db, flt, after=cursor("after"), before=cursor("before"), per_page=PAGE_SIZE
        ),
        query=flt.args,
        **form,
    )


@bp.get("/register.csv")
def export_csv() -> Response:
    """The share register with the page's filters, as a streamed CSV."""
    flt = _read_filter(_filter_args())
    currency = coop.settings().currency
    return streamed_csv(
        f"register-of-shares-{flt.as_of.isoformat()}.csv",
        share_register.CSV_COLUMNS,
        lambda db: share_register.csv_rows(db, flt, currency),
    )


@bp.get("/register.pdf")
def export_pdf() -> Response:
    """The share register with the page's filters, as a PDF with totals and page numbers."""
    db = get_db()
    flt = _read_filter(_filter_args())
    try:
        document = pdf.render_pdf(
            "register.html",
            coop=coop.settings(),
            register=share_register.register(db, flt),
            printed=local_time(utcnow()),
        )
    except pdf.PDFRenderTimeout:
        abort(503, "The register is too long to render as a PDF in time; download the CSV.")
    return attachment(
        document, f"register-of-shares-{flt.as_of.isoformat()}.pdf", mimetype="application/pdf"
    )
