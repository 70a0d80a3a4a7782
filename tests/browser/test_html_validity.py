"""Every page, as each role sees it, is valid HTML according to the Nu checker.

The HTML is what the axe crawl already fetched in this session; a crawl that has not run
(this test alone, or on another xdist worker) is done here.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .pages import CRAWLS, Site, Visited, crawl_pages, visits_for


@pytest.mark.pdf  # the anonymous and member crawls show real share certificates
def test_every_page_is_valid_html(
    vnu: list[str],
    site_for: Callable[[str], Site],
    crawled: dict[str, list[Visited]],
    tmp_path: Path,
) -> None:
    pages: dict[str, str] = {}  # file name -> "crawl: page (url)"
    for crawl in CRAWLS:
        seen = crawled.get(crawl) or crawl_pages(site_for(crawl), crawl)
        for visited in seen:
            path = tmp_path / f"{visited.slug}.html"
            path.write_text(visited.html, encoding="utf-8")
            pages[path.name] = f"{crawl}: {visited.name} ({visited.url})"
    assert len(pages) == sum(len(visits_for(crawl)) for crawl in CRAWLS), "two pages share a file"

    # One run over every file: starting the JVM is the slow part.
    result = subprocess.run(
        [*vnu, "--errors-only", "--format", "json", *(str(tmp_path / name) for name in pages)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    messages = json.loads(result.stderr)["messages"] if result.stderr.strip() else []
    errors = [
        f"{pages.get(Path(m.get('url', '?')).name, m.get('url'))}, line {m.get('lastLine', '?')}: "
        f"{m.get('message')}\n    {m.get('extract', '').strip()}"
        for m in messages
    ]
    assert not errors, f"the Nu checker found {len(errors)} error(s):\n" + "\n".join(errors)
    assert result.returncode == 0, f"the Nu checker failed:\n{result.stdout}\n{result.stderr}"
