"""Markdown for governance documents: rendered by markdown-it-py, then sanitised by nh3.

Documents are written by staff, but a staff account can be phished, and a document is
read by every member and printed to PDF: so raw HTML is escaped by the parser, and the
HTML it produces is cleaned to a small allow-list. Images are removed (a document that
loads a remote image tracks its readers, and a PDF render would fetch it); links keep
only http, https and mailto, and get ``rel="noopener noreferrer nofollow"``.
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True})
_PARSER.enable(["table", "strikethrough", "smartquotes"])  # no "replacements": (c) is a clause

TITLE_HEADING = re.compile(r"#[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*")

ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},
}  # no style attributes: the CSP forbids inline styles, so column alignment is dropped


TABLE_OPEN = '<div class="prose-table" tabindex="0" role="region" aria-label="Table"><table>'


def without_title(source: str, title: str) -> str:
    """The Markdown without a first line that repeats the title as a heading: the page or
    PDF around it prints the title already."""
    first, _, rest = source.lstrip().partition("\n")
    heading = TITLE_HEADING.fullmatch(first.strip())
    if heading and " ".join(heading[1].split()).casefold() == " ".join(title.split()).casefold():
        return rest
    return source


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
    # A wide table scrolls inside its own region, which keyboard users can reach (WCAG 2.1.1);
    # the sanitised HTML's tables carry no attributes, so the tags match exactly.
    clean = clean.replace("<table>", TABLE_OPEN).replace("</table>", "</table></div>")
    return Markup(clean)  # noqa: S704 (sanitised above)
