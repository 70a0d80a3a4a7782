"""Markdown for governance documents: rendered by markdown-it-py, then sanitised by nh3.

Documents are written by staff, but a staff account can be phished, and a document is
read by every member and printed to PDF: so raw HTML is escaped by the parser, and the
HTML it produces is cleaned to a small allow-list. Images are removed (a document that
loads a remote image tracks its readers, and a PDF render would fetch it); links keep
only http, https and mailto, and get ``rel="noopener noreferrer nofollow"``.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True})
_PARSER.enable(["table", "strikethrough", "smartquotes"])  # no "replacements": (c) is a clause

ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},
}  # no style attributes: the CSP forbids inline styles, so column alignment is dropped


def render_markdown(source: str) -> Markup:
    """Markdown source as safe HTML for a page or a PDF."""
    html = _PARSER.render(source)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(clean)  # noqa: S704 (sanitised above)
