"""WeasyPrint's part of :mod:`portal.pdf`: the only module that imports WeasyPrint.

Import it through :func:`portal.pdf.engine`, never directly: importing WeasyPrint loads
Pango and HarfBuzz from the system, which fails (OSError) on a machine without them and
warns without HarfBuzz's subsetting library, and ``portal.pdf`` turns both into a clear
status instead of an error at import.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import CSS, HTML
from weasyprint.text import ffi
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError, path2url

# One font configuration for every render: it halves render time and stops memory
# growing across renders (DESIGN.md §6). Documents use system fonts only, no @font-face.
FONT_CONFIG = FontConfiguration()

# Without HarfBuzz's subsetting library WeasyPrint subsets fonts with fontTools: slowly.
SUBSETS_FONTS = ffi.harfbuzz_subset is not None

# A template's own <style> element, written by us: Jinja escapes every value put into a
# template, so a member's name cannot open one.
STYLE_ELEMENT = re.compile(r"<style>(.*?)</style>", re.DOTALL)
# A stylesheet that names other files fetches them when it is parsed.
NAMES_FILES = re.compile(r"url\(|@import", re.IGNORECASE)

__all__ = [
    "SUBSETS_FONTS",
    "FetchLog",
    "StaticFetcher",
    "URLFetchingError",
    "path2url",
    "write_pdf",
]


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


def write_pdf(html: str, fetcher: StaticFetcher) -> bytes:
    """Render an HTML document to PDF bytes (run in ``portal.pdf``'s worker thread).

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
