"""PDF documents: templates under templates/pdf/ rendered by WeasyPrint, offline and bounded.

WeasyPrint fetches any URL or ``file:`` path a document names unless told otherwise
(DESIGN.md §6), so every render goes through :class:`StaticFetcher`, which reads files
under the app's ``static/`` folder and nothing else. WeasyPrint has no time limit of its
own, so the render runs in a worker thread that the caller waits for at most
``PDF_RENDER_TIMEOUT_SECONDS``.

WeasyPrint needs Pango from the system, and HarfBuzz's subsetting library to be fast, so
it is imported on first use (:func:`engine`), never when the app is: without Pango the
portal still serves, a PDF route answers 503 (:class:`PDFUnavailable`) and the problem is
logged once; without the subsetting library PDFs are made slowly, also logged once.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import threading
import warnings
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeoutError
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

import segno
from flask import current_app, render_template
from markupsafe import Markup

from .links import public_url
from .markup import render_markdown, without_title

if TYPE_CHECKING:
    from .pdf_render import FetchLog

log = logging.getLogger(__name__)

DEFAULT_RENDER_TIMEOUT_SECONDS = 20

# The Debian packages behind each problem (scripts/system-packages installs them all).
PANGO_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0"
SUBSET_PACKAGE = "libharfbuzz-subset0"


class PDFRenderTimeout(RuntimeError):
    """WeasyPrint did not finish the document within the configured time."""


class PDFUnavailable(RuntimeError):
    """WeasyPrint cannot work on this machine (answered with a 503 page)."""


@dataclass(frozen=True)
class PDFSupport:
    """Whether WeasyPrint can make PDFs here, and whether it makes them fast."""

    usable: bool
    slow: bool = False
    problem: str = ""  # what is wrong and which package mends it; "" when all is well


_lock = threading.Lock()
_loaded: tuple[ModuleType | None, PDFSupport] | None = None


def pdf_support() -> PDFSupport:
    """Import WeasyPrint once (if not yet done) and say whether PDFs can be made."""
    return _load()[1]


def engine() -> ModuleType:
    """:mod:`portal.pdf_render`, WeasyPrint's part; :class:`PDFUnavailable` if it cannot load."""
    module, support = _load()
    if module is None:
        raise PDFUnavailable(support.problem)
    return module


def _load() -> tuple[ModuleType | None, PDFSupport]:
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = _import_weasyprint()
            if _loaded[1].problem:
                log.warning("%s", _loaded[1].problem)
        return _loaded


def _import_weasyprint() -> tuple[ModuleType | None, PDFSupport]:
    """Import :mod:`portal.pdf_render`, turning WeasyPrint's complaints into a status.

    Without Pango, WeasyPrint prints a paragraph to stdout and raises OSError; it is kept
    out of the output (our own line is logged instead). Without HarfBuzz's subsetting
    library it warns with a DeprecationWarning that a future version will need it: that
    one warning alone is ignored here, where it is raised, and reported as "slow" instead
    (``SUBSETS_FONTS``); every other warning goes on to the caller's filters.
    """
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.filterwarnings(
            "ignore", message="HarfBuzz-Subset will be required", category=DeprecationWarning
        )
        try:
            from . import pdf_render
        except OSError as error:  # a system library WeasyPrint loads is missing
            return None, PDFSupport(
                usable=False,
                problem="PDFs cannot be made on this server: WeasyPrint cannot load Pango "
                f"({error}); install the Debian packages {PANGO_PACKAGES} "
                "(make system-packages) and restart.",
            )
        except ImportError as error:
            return None, PDFSupport(
                usable=False,
                problem=f"PDFs cannot be made on this server: {error} "
                "(install the package: pip install -e .).",
            )
    if not pdf_render.SUBSETS_FONTS:
        return pdf_render, PDFSupport(
            usable=True,
            slow=True,
            problem="PDFs will be slow: WeasyPrint found no HarfBuzz subsetting library and "
            f"subsets fonts with fontTools instead; install the Debian package {SUBSET_PACKAGE} "
            "(make system-packages) and restart.",
        )
    return pdf_render, PDFSupport(usable=True)


def __getattr__(name: str) -> Any:
    """``pdf.StaticFetcher`` and ``pdf.FetchLog``, which live beside WeasyPrint."""
    if name in ("StaticFetcher", "FetchLog"):
        return getattr(engine(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def render_pdf(template: str, **context: object) -> bytes:
    """Render ``templates/pdf/<template>`` to PDF bytes (needs an app or request context)."""
    data, _log = render_pdf_with_log(template, **context)
    return data


def render_pdf_with_log(template: str, **context: object) -> tuple[bytes, FetchLog]:
    """Render ``templates/pdf/<template>``; also return what the document tried to fetch."""
    return html_to_pdf(render_template(f"pdf/{template}", **context))


def html_to_pdf(html: str) -> tuple[bytes, FetchLog]:
    """Turn an HTML document into PDF bytes with the static-only fetcher and the time limit.

    Raises :class:`PDFUnavailable` at once when WeasyPrint cannot work here. The render
    runs in a daemon thread; on timeout the caller gets :class:`PDFRenderTimeout` at once,
    but the thread cannot be killed: it runs on until WeasyPrint returns, and its result
    is dropped. The limit protects the request, not the CPU.
    """
    fetcher = engine().StaticFetcher(current_app.static_folder or "static")
    timeout = float(
        current_app.config.get("PDF_RENDER_TIMEOUT_SECONDS", DEFAULT_RENDER_TIMEOUT_SECONDS)
    )
    future: Future[bytes] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(_write_pdf(html, fetcher))
        except BaseException as error:  # handed to the waiting caller
            future.set_exception(error)

    # A daemon thread, unlike a ThreadPoolExecutor worker, never holds up process exit.
    threading.Thread(target=run, name="pdf-render", daemon=True).start()
    try:
        data = future.result(timeout=timeout)
    except FutureTimeoutError:
        raise PDFRenderTimeout(f"the PDF took longer than {timeout:g} s to render") from None
    return data, fetcher.log


def _write_pdf(html: str, fetcher: Any) -> bytes:
    """WeasyPrint's part of the work, run in the worker thread (a seam for tests)."""
    return engine().write_pdf(html, fetcher)


def qr_svg(data: str) -> Markup:
    """An inline SVG QR code for ``data``, sized by CSS (it has a viewBox, no width)."""
    code = segno.make(data, error="m")
    # segno writes the SVG itself; ``data`` only sets which modules are dark.
    svg = code.svg_inline(scale=1, border=0, omitsize=True, dark="#1f2a36")
    return Markup(svg)  # noqa: S704  # nosec B704


def render_certificate(certificate: Any, coop: Any) -> bytes:
    """The PDF of a share certificate, as issued (rendered once and stored)."""
    verify_url = public_url("shares.verify", code=certificate.code)
    return render_pdf(
        "certificate.html",
        coop=coop,
        certificate=certificate,
        member=certificate.member,
        share_type=certificate.share_type,
        amount_minor=certificate.quantity * certificate.share_type.par_value_minor,
        verify_url=verify_url,
        signatories=[
            (coop.first_signatory_title, coop.first_signatory_name),
            (coop.second_signatory_title, coop.second_signatory_name),
        ],
        qr=qr_svg(verify_url),
    )


# A numbered clause ("<p>15.3 No member…") and a lettered item ("<li>(a) to run…") as
# render_markdown writes them: marked so that the PDF hangs the number or letter in the
# margin of the text, as printed rules do.
CLAUSE_NUMBER = re.compile(r"<p>(\d{1,3}(?:\.\d{1,3})+)\s+")
ITEM_LABEL = re.compile(r"<li>(\s*<p>)?(\((?:[a-z]{1,4}|\d{1,3})\))\s+")


def render_document(document: Any, version: Any, coop: Any) -> bytes:
    """The PDF of one Markdown version of a governance document."""
    if version.body is None:
        raise ValueError("Only a Markdown version is rendered; an uploaded PDF is served as it is.")
    body = render_markdown(without_title(version.body, document.title))
    return render_pdf(
        "document.html",
        coop=coop,
        document=document,
        version=version,
        body=_mark_clauses(body),
    )


def _mark_clauses(body: Markup) -> Markup:
    """Sanitised HTML with clause numbers and item letters wrapped for the PDF's layout."""
    html = CLAUSE_NUMBER.sub(r'<p class="clause"><span class="clause-number">\1</span> ', str(body))
    html = ITEM_LABEL.sub(r'<li class="lettered">\1<span class="item-label">\2</span> ', html)
    # Sanitised HTML (render_markdown); the substitutions add only our own fixed markup.
    return Markup(html)  # noqa: S704  # nosec B704
