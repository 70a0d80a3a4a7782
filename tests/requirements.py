"""What the suite needs from the system beyond pip, checked in one place, one check a part.

``make test`` installs the Debian packages (scripts/system-packages) where it can; where it
cannot (no root, no sudo, not Debian), a test that needs a missing part is skipped with a
reason naming the package, never an error. With ``PORTAL_REQUIRE_SYSTEM=1`` (CI) a missing
part fails the test instead, so CI cannot pass by skipping.

* ``@pytest.mark.pdf``: WeasyPrint makes PDFs (Pango: libpango-1.0-0 libpangoft2-1.0-0).
* ``@pytest.mark.font("zh")``: fontconfig has a font for that language (fonts-wqy-microhei).
* Chromium, Java and the Nu checker: ``tests/browser/conftest.py`` (PORTAL_REQUIRE_BROWSER=1,
  which PORTAL_REQUIRE_SYSTEM=1 implies).

Nothing here needs poppler-utils: the tests read PDFs with pypdf and pypdfium2, from pip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from typing import NoReturn

import pytest

from portal import pdf

REQUIRED = os.environ.get("PORTAL_REQUIRE_SYSTEM") == "1"

# fontconfig's language codes, and the Debian package that covers each.
FONT_PACKAGES = {"zh": "fonts-wqy-microhei"}


def missing(what: str) -> NoReturn:
    """Skip for want of ``what``; fail instead when the system parts are required."""
    if REQUIRED:
        pytest.fail(f"{what} (PORTAL_REQUIRE_SYSTEM=1 requires it)", pytrace=False)
    pytest.skip(what)


def require_weasyprint() -> None:
    """WeasyPrint can make PDFs here (slowly or not; see test_pdf's subsetting test)."""
    support = pdf.pdf_support()
    if not support.usable:
        missing(support.problem)


@cache
def font_covers(language: str) -> bool:
    """Whether fontconfig has a font for ``language`` (Debian's fonts-* packages)."""
    if shutil.which("fc-list") is None:
        return False
    found = subprocess.run(["fc-list", f":lang={language}", "family"], capture_output=True)
    return bool(found.stdout.strip())


def require_font(language: str) -> None:
    if not font_covers(language):
        package = FONT_PACKAGES.get(language, "a fonts-* package covering it")
        missing(f"no font for language {language!r} (install the Debian package {package})")


def check(item: pytest.Item) -> None:
    """Skip (or fail) ``item`` before its fixtures run if a part it is marked with is missing."""
    if item.get_closest_marker("pdf"):
        require_weasyprint()
    for marker in item.iter_markers("font"):
        require_font(*marker.args)
