"""Every page, as each role sees it, fits a phone: nothing makes it wider than the screen,
and staff tables show every column (as cards) instead of scrolling sideways.

A page wider than its viewport slides sideways under the reader's thumb. Wide content
belongs in a scroll wrapper (``.table-wrap``) or wraps; the classic escape is an
absolutely positioned child (a visually hidden label) whose containing block lies outside
the wrapper, so the wrapper's overflow never clips it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from .pages import CRAWLS, Site, crawl_pages

PHONE = {"width": 390, "height": 844}

# The element that reaches furthest right without an ancestor that clips it, and the
# widths to compare. An ancestor clips a descendant only if it lies on the descendant's
# chain of containing blocks: an absolutely positioned element skips static ancestors,
# a fixed one everything up to the viewport (unless a transform or filter holds it).
WIDEST_UNCLIPPED = """
() => {
  const root = document.documentElement;
  const holdsFixed = (style) =>
    style.transform !== "none" || style.filter !== "none" || style.perspective !== "none"
    || style.contain.includes("paint") || style.willChange.includes("transform");
  const clipped = (element) => {
    let position = getComputedStyle(element).position;
    if (position === "fixed") return true;  // it scrolls with nothing: not the page's width
    for (let node = element.parentElement; node && node !== root && node !== document.body;
         node = node.parentElement) {
      const style = getComputedStyle(node);
      const containing =
        position === "absolute" ? style.position !== "static" || holdsFixed(style)
        : position === "fixed" ? holdsFixed(style)
        : true;
      if (!containing) continue;
      if (style.overflowX !== "visible") return true;
      position = style.position;
    }
    return false;
  };
  const describe = (element) => {
    const id = element.id ? `#${element.id}` : "";
    const classes = [...element.classList].map((name) => `.${name}`).join("");
    const path = [];
    for (let node = element; node && node !== document.body; node = node.parentElement) {
      path.unshift(node.tagName.toLowerCase() + (node.id ? `#${node.id}` : "")
        + [...node.classList].map((name) => `.${name}`).join(""));
    }
    const text = (element.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 60);
    return `<${element.tagName.toLowerCase()}${id}${classes}> "${text}" in ${path.join(" > ")}`;
  };
  let widest = null;
  let right = 0;
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    const edge = box.right + window.scrollX;
    // Ties go to the later element: the innermost of nested boxes that end together.
    if (edge >= right && !clipped(element)) {
      right = edge;
      widest = element;
    }
  }
  return {
    scrollWidth: root.scrollWidth,
    viewport: window.innerWidth,
    right: Math.round(right),
    widest: widest ? describe(widest) : null,
  };
}
"""


# Tables on staff pages whose columns run off the side of their scroll wrapper.
SIDEWAYS_TABLES = """
() => [...document.querySelectorAll(".table-wrap")]
  .filter((wrap) => wrap.getClientRects().length && wrap.scrollWidth > wrap.clientWidth + 1)
  .map((wrap) => `${wrap.getAttribute("aria-label") || wrap.className} (${wrap.scrollWidth} px `
    + `of columns in ${wrap.clientWidth} px)`)
"""


def too_wide(page: Any) -> str | None:
    """What makes ``page`` wider than its viewport, or None when it fits."""
    found = page.evaluate(WIDEST_UNCLIPPED)
    if found["scrollWidth"] <= found["viewport"]:
        return None
    return (
        f"{found['scrollWidth']} px wide in a {found['viewport']} px viewport; the widest "
        f"unclipped element ends at {found['right']} px: {found['widest']}"
    )


@pytest.mark.pdf  # the anonymous and member crawls show real share certificates
@pytest.mark.parametrize("crawl", CRAWLS)
def test_every_page_fits_a_phone(crawl: str, site_for: Callable[..., Site]) -> None:
    site = site_for(crawl, viewport=PHONE)
    failures = []
    for visited in crawl_pages(site, crawl):
        problem = too_wide(site.page)
        if problem:
            failures.append(f"{visited.name} ({visited.url}): {problem}")
        # Staff read their tables as cards on a phone: none hides columns off to the side.
        if urlsplit(visited.url).path.startswith("/staff"):
            for table in site.page.evaluate(SIDEWAYS_TABLES):
                failures.append(f"{visited.name} ({visited.url}): {table} scrolls sideways")
    assert not failures, (
        f"{len(failures)} problem(s) on the {crawl} crawl's pages on a {PHONE['width']} px "
        "phone:\n" + "\n".join(failures)
    )


# A table wider than the phone in a scroll wrapper, with a visually hidden label in its last
# cell: without a positioned wrapper the label's containing block is the page.
ESCAPING_LABEL = """<!doctype html><meta name="viewport" content="width=device-width">
<style>body {{ margin: 0 }} .wrap {{ overflow-x: auto; {position} }}
td {{ white-space: nowrap }}
.hidden {{ position: absolute; width: 1px; height: 1px; overflow: hidden }}</style>
<div class="wrap"><table><tr>
  <td>{cells}</td><td><span class="hidden">Actions</span></td>
</tr></table></div>
"""


@pytest.mark.parametrize(("position", "fits"), [("", False), ("position: relative", True)])
def test_the_check_names_a_label_escaping_its_scroll_wrapper(
    page: Any, position: str, fits: bool
) -> None:
    page.set_viewport_size(PHONE)
    page.set_content(ESCAPING_LABEL.format(position=position, cells="wide " * 100))
    problem = too_wide(page)
    if fits:
        assert problem is None
    else:
        assert problem is not None
        assert '<span.hidden> "Actions" in div.wrap > table > tbody > tr > td > span' in problem
