"""Markdown for governance documents: rendered by markdown-it-py, then sanitised by nh3.

Documents are written by staff, but a staff account can be phished, and a document is
read by every member and printed to PDF: so raw HTML is escaped by the parser, and the
HTML it produces is cleaned to a small allow-list. Images are removed (a document that
loads a remote image tracks its readers, and a PDF render would fetch it); links keep
only http, https and mailto, and get ``rel="noopener noreferrer nofollow"``.
"""

from __future__ import annotations

import re
from collections import Counter
from html import unescape

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

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


TABLE_OPEN = '<div class="prose-table" tabindex="0" role="region" aria-label="{}"><table>'
# A heading, whose words name the tables after it, or a table (the sanitised HTML's tags
# carry no attributes).
HEADING_OR_TABLE = re.compile(r"<h[1-6]>(.*?)</h[1-6]>|<table>", re.S)
TAG = re.compile(r"<[^>]*>")


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
    # nh3 has just sanitised it; _in_named_regions adds only our own fixed markup.
    return Markup(_in_named_regions(clean))  # noqa: S704  # nosec B704


def _in_named_regions(html: str) -> str:
    """Each table in a scrolling region that keyboard users can reach (WCAG 2.1.1), named
    by the heading it falls under, so no two regions of a page share a name.

    Markdown tables have no caption: "Table: 7. Classes of membership"; a second table under
    one heading is "(2)"; a table before any heading is "Table".
    """
    names = []
    heading = ""
    for found in HEADING_OR_TABLE.finditer(html):
        if found[0] != "<table>":
            heading = " ".join(unescape(TAG.sub("", found[1])).split())
        else:
            names.append(f"Table: {heading}" if heading else "Table")
    labels = iter(_numbered(names))
    html = HEADING_OR_TABLE.sub(
        lambda found: (
            found[0] if found[0] != "<table>" else TABLE_OPEN.format(escape(next(labels)))
        ),
        html,
    )
    return html.replace("</table>", "</table></div>")


def _numbered(names: list[str]) -> list[str]:
    """The names, each repeated one numbered in order: "Table: Fees (1)", "Table: Fees (2)"."""
    total = Counter(names)
    seen: Counter[str] = Counter()
    numbered = []
    for name in names:
        seen[name] += 1
        numbered.append(name if total[name] == 1 else f"{name} ({seen[name]})")
    return numbered


_LINK = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.S)
_BLOCK_END = re.compile(r"</(?:p|h[1-6]|ul|ol|blockquote|pre|table)>|<hr\s*/?>")
_LINE_END = re.compile(r"</(?:li|tr)>|<br\s*/?>")
_BLANK_RUNS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def render_plain(source: str) -> str:
    """Markdown source as plain text for a text e-mail: rendered and sanitised as
    :func:`render_markdown`, then its tags dropped (a link keeps its address in brackets,
    list items start with a dash, blocks are separated by a blank line)."""
    html = str(render_markdown(source)).replace(">\n", ">")  # the renderer's own line ends
    html = _LINK.sub(
        lambda found: (
            found[2] if TAG.sub("", found[2]) == unescape(found[1]) else f"{found[2]} ({found[1]})"
        ),
        html,
    )
    html = html.replace("<li>", "- ")
    html = _LINE_END.sub("\n", _BLOCK_END.sub("\n\n", html))
    text = unescape(TAG.sub("", html))
    lines = "\n".join(line.strip() for line in text.splitlines())
    return _BLANK_RUNS.sub("\n\n", lines).strip()
