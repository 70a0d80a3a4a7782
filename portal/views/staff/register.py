"""The register of shares for staff: as of any date, by share type and class; CSV and PDF.

A small register's PDF is made in the request; a larger one is asked for with a POST and
rendered in the background (``services.shares.register_exports``), its progress polled.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, abort, request, stream_with_context, url_for
from flask_login import current_user

from ... import coop, htmx, pdf
from ...db import get_db, transaction
from ...errors import InvalidInput
from ...file_names import content_disposition
from ...models import ExportState, RegisterExport
from ...services.register import classes
from ...services.shares import register_exports, share_register, share_types
from ...services.shares.share_register import RegisterFilter
from ..access import get_or_404
from ..downloads import attachment, streamed_csv
from ..paging import cursor

bp = Blueprint("register", __name__)

PAGE_SIZE = 50


# htmx stops polling when a poll is answered with this status.
STOP_POLLING = 286


def _filter_args() -> dict[str, str]:
    """The filter as the form sent it (bounded; checked by the service)."""
    values = request.form if request.method == "POST" else request.args
    return {name: values.get(name, "")[:40] for name in ("as_of", "type", "class")}


def _read_filter(args: dict[str, str]) -> RegisterFilter:
    return share_register.register_filter(
        get_db(), as_of=args["as_of"], type_code=args["type"], class_code=args["class"]
    )


def _register_page(args: dict[str, str], error: InvalidInput | None) -> Response:
    """The register page with ``args``' filters (422 with ``error`` when they are refused)."""
    db = get_db()
    form = {
        "filters": args,
        "types": share_types.list_share_types(db),
        "classes": classes.list_classes(db),
        "today": coop.today(),
        "exports": register_exports.recent_exports(db),
        "in_request_holders": register_exports.IN_REQUEST_HOLDERS,
    }
    if error is None:
        try:
            flt = _read_filter(args)
        except InvalidInput as exc:
            error = exc
    if error is not None:
        return htmx.render(
            "staff/register/register.html",
            "staff/register/_results.html",
            status=422,
            error=error,
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


@bp.get("/register")
def register() -> Response:
    """The share register as of a date, its totals and chart, and a page of holders by
    member number (``?after=``/``?before=`` a member number); htmx swaps the results as
    the filters change."""
    return _register_page(_filter_args(), None)


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
    """A small register's PDF with the page's filters, made at once (totals, page numbers);
    a larger one is made in the background: back to the page, which offers it."""
    db = get_db()
    flt = _read_filter(_filter_args())
    try:
        document = register_exports.render_register_pdf(db, flt)
    except pdf.PDFRenderTimeout:
        abort(503, "The register is too long to render as a PDF in time; download the CSV.")
    if document is None:
        return htmx.flash_and_redirect(
            "This register is too long to make as a PDF at once: make it in the background.",
            url_for("staff.register.register", **flt.args),
            "info",
        )
    return attachment(
        document, f"register-of-shares-{flt.as_of.isoformat()}.pdf", mimetype="application/pdf"
    )


@bp.post("/register/exports")
def request_export() -> Response:
    """Queue the register's PDF with the form's filters (the one already queued with the
    same filters, if any); htmx gets the list of exports, a plain post goes to its page."""
    args = _filter_args()
    try:
        with transaction() as db:
            export = register_exports.request_export(db, _read_filter(args), actor=current_user)
    except InvalidInput as exc:
        return _register_page(args, exc)
    if htmx.is_htmx():
        return htmx.partial(
            "staff/register/_exports.html", exports=register_exports.recent_exports(get_db())
        )
    return htmx.redirect(url_for("staff.register.export", export_id=export.id))


@bp.get("/register/exports/<int:export_id>")
def export(export_id: int) -> Response:
    """An export's state and progress; for htmx its partial, which polls itself until the
    PDF is ready or failed (then 286 stops the polling)."""
    item = get_or_404(RegisterExport, export_id)
    status = STOP_POLLING if htmx.is_htmx() and item.state.is_final else 200
    return htmx.render(
        "staff/register/export.html", "staff/register/_export.html", status=status, export=item
    )


@bp.get("/register/exports/<int:export_id>.pdf")
def export_file(export_id: int) -> Response:
    """A ready export's PDF, streamed from its stored parts."""
    item = get_or_404(RegisterExport, export_id)
    if item.state is not ExportState.READY:
        abort(404)

    def parts() -> Iterator[bytes]:
        yield from register_exports.export_parts(get_db(), item)

    response = Response(stream_with_context(parts()), mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(item.file_name)
    response.headers["Content-Length"] = str(item.size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
