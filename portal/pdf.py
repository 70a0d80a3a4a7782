"""PDF documents: templates under templates/pdf/ rendered by WeasyPrint, offline and bounded.

WeasyPrint fetches any URL or ``file:`` path a document names unless told otherwise
(DESIGN.md §6), so every render goes through :class:`StaticFetcher`, which reads files
under the app's ``static/`` folder and nothing else. WeasyPrint has no time limit of its
own, so the render runs in a worker thread that the caller waits for at most
``PDF_RENDER_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import mimetypes
import re
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeoutError
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import segno
from flask import current_app, render_template, url_for
from markupsafe import Markup
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError, path2url

DEFAULT_RENDER_TIMEOUT_SECONDS = 20

# One font configuration for every render: it halves render time and stops memory
# growing across renders (DESIGN.md §6). Documents use system fonts only, no @font-face.
FONT_CONFIG = FontConfiguration()

# A template's own <style> element, written by us: Jinja escapes every value put into a
# template, so a member's name cannot open one.
STYLE_ELEMENT = re.compile(r"<style>(.*?)</style>", re.DOTALL)
# A stylesheet that names other files fetches them when it is parsed.
NAMES_FILES = re.compile(r"url\(|@import", re.IGNORECASE)


class PDFRenderTimeout(RuntimeError):
    """WeasyPrint did not finish the document within the configured time."""


@dataclass
class FetchLog:
    """The URLs a render asked for: those served from ``static/`` and those refused."""

    served: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    @property
    def requested(self) -> list[str]:
        return [*self.served, *self.refused]


class StaticFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that reads files under one folder and refuses all else.

    ``data:`` URIs are allowed (they carry their bytes and fetch nothing). Every other
    URL — http(s), ftp, ``file:`` outside the folder, ``..`` or a symlink leading out —
    raises :class:`URLFetchingError`, so WeasyPrint skips the resource, and is logged.
    """

    def __init__(self, root: str | Path, log: FetchLog | None = None) -> None:
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False)
        self.root = Path(root).resolve()
        self.log = log if log is not None else FetchLog()

    @property
    def base_url(self) -> str:
        """The folder as a file URL, so relative references (``img/logo.svg``) resolve in it."""
        return path2url(str(self.root) + "/")

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        """Serve ``url`` if it is a data URI or a file inside the folder; refuse it otherwise."""
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            self.log.served.append(url[:64])
            return super().fetch(url, headers)
        path = self.local_path(url) if scheme == "file" else None
        if path is None:
            self.log.refused.append(url)
            raise URLFetchingError(f"refused (only static/ files are served): {url}")
        self.log.served.append(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            path2url(str(path)), path.read_bytes(), {"Content-Type": content_type}
        )

    def local_path(self, url: str) -> Path | None:
        """The regular file inside the folder that a ``file:`` URL names, or None."""
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            return None
        try:
            # resolve() removes "..", including percent-encoded ones, and follows symlinks,
            # so a link pointing out of the folder is judged by where it leads.
            path = Path(unquote(parts.path)).resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            return None
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path


def render_pdf(template: str, **context: object) -> bytes:
    """Render ``templates/pdf/<template>`` to PDF bytes (needs an app or request context)."""
    data, _log = render_pdf_with_log(template, **context)
    return data


def render_pdf_with_log(template: str, **context: object) -> tuple[bytes, FetchLog]:
    """Render ``templates/pdf/<template>``; also return what the document tried to fetch."""
    return html_to_pdf(render_template(f"pdf/{template}", **context))


def html_to_pdf(html: str) -> tuple[bytes, FetchLog]:
    """Turn an HTML document into PDF bytes with the static-only fetcher and the time limit.

    The render runs in a daemon thread; on timeout the caller gets :class:`PDFRenderTimeout`
    at once, but the thread cannot be killed: it runs on until WeasyPrint returns, and its
    result is dropped. The limit protects the request, not the CPU.
    """
    fetcher = StaticFetcher(current_app.static_folder or "static")
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


def _write_pdf(html: str, fetcher: StaticFetcher) -> bytes:
    """WeasyPrint's part of the work, run in the worker thread.

    Parsing a template's ``<style>`` is a tenth of a render, and its text is the same
    every time, so each one that names no other file is parsed once and handed to
    WeasyPrint ready. It then counts as a user stylesheet, which ranks below the
    document's own styles; our templates have no others, so nothing changes. One that
    names files stays in the document, so each render fetches them through ``fetcher``
    and its log.
    """
    sheets: list[CSS] = []

    def parsed_once(match: re.Match[str]) -> str:
        if NAMES_FILES.search(match[1]):
            return match[0]
        sheets.append(_stylesheet(match[1]))
        return ""

    document = HTML(
        string=STYLE_ELEMENT.sub(parsed_once, html),
        base_url=fetcher.base_url,
        url_fetcher=fetcher,
    )
    return document.write_pdf(stylesheets=sheets, font_config=FONT_CONFIG)


@lru_cache(maxsize=16)
def _stylesheet(css: str) -> CSS:
    """The parsed stylesheet of a ``<style>`` element's text that names no other file."""
    refuse_all = URLFetcher(allowed_protocols=set())  # in case NAMES_FILES missed one
    return CSS(string=css, url_fetcher=refuse_all, font_config=FONT_CONFIG)


def qr_svg(data: str) -> Markup:
    """An inline SVG QR code for ``data``, sized by CSS (it has a viewBox, no width)."""
    code = segno.make(data, error="m")
    return Markup(code.svg_inline(scale=1, border=0, omitsize=True, dark="#1f2a36"))  # noqa: S704


def render_certificate(certificate: Any, coop: Any) -> bytes:
    """The PDF of a share certificate, as issued (rendered once and stored)."""
    verify_url = url_for("shares.verify", code=certificate.code, _external=True)
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
    from .markup import render_markdown, without_title

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
    return Markup(html)  # noqa: S704 (sanitised HTML; only our own fixed markup is added)
