"""Every page, as each role sees it, passes axe with no violations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .pages import CRAWLS, Site, Visited, crawl_pages


def axe_report(results: Any) -> str:
    """The violations, one block per rule with the offending elements."""
    lines = []
    for violation in results.response["violations"]:
        lines.append(f"  {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"    {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"    - {', '.join(map(str, node['target']))}: {node['html'][:200]}")
            lines.append(f"      {node['failureSummary']}".replace("\n", "\n      "))
    return "\n".join(lines)


@pytest.mark.pdf  # the anonymous and member crawls show real share certificates
@pytest.mark.parametrize("crawl", CRAWLS)
def test_every_page_passes_axe(
    crawl: str, site_for: Callable[[str], Site], crawled: dict[str, list[Visited]]
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    site = site_for(crawl)
    failures = []
    pages = []
    for visited in crawl_pages(site, crawl):
        pages.append(visited)
        results = axe.run(site.page)
        if results.violations_count:
            failures.append(f"{visited.name} ({visited.url}):\n{axe_report(results)}")
    crawled[crawl] = pages  # test_html_validity checks these without crawling again
    assert not failures, (
        f"axe found violations on {len(failures)} page(s) of the {crawl} crawl:\n\n"
        + "\n\n".join(failures)
    )
