"""WeasyPrint is optional at import: the app loads without it, and says what is missing.

WeasyPrint loads Pango from the system when it is imported. The portal imports it on the
first PDF only (portal.pdf.engine), so a machine without Pango serves every page but the
PDFs, which answer 503 (tests in test_shares_views and test_share_register).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import pdf
from portal.db import database
from portal.models import (
    Application,
    ApplicationState,
    Certificate,
    LedgerEntry,
    Member,
    OrderState,
    ShareOrder,
    User,
)

from . import requirements

APP = """
import sys, warnings
warnings.simplefilter("error")  # as pytest's filterwarnings = error
from portal import create_app, pdf
app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": "sqlite://",
                  "INSTANCE_PATH": sys.argv[1]})
"""

# cffi refuses to load any Pango library, as on a machine without libpango-1.0-0.
NO_PANGO = """
import cffi.api
real_dlopen = cffi.api.FFI.dlopen
def dlopen(self, name, flags=0):
    if "pango" in str(name):
        raise OSError(f"cannot load library {name!r}: no such file")
    return real_dlopen(self, name, flags)
cffi.api.FFI.dlopen = dlopen
"""


def run_python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_building_the_app_imports_no_weasyprint(tmp_path):
    done = run_python(APP + "print(sorted(m for m in sys.modules if 'weasyprint' in m))", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_without_pango_the_app_loads_and_pdfs_are_unavailable_naming_the_packages(tmp_path):
    code = (
        NO_PANGO
        + APP
        + """
support = pdf.pdf_support()
print(support.usable)
try:
    pdf.engine()
except pdf.PDFUnavailable as error:
    print("unavailable:", error)
"""
    )
    done = run_python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # Only our lines: WeasyPrint's own paragraph about missing libraries is kept out.
    assert lines[0] == "False" and len(lines) == 2, done.stdout
    assert "libpango-1.0-0 libpangoft2-1.0-0" in lines[1]
    assert "make system-packages" in lines[1]
    # Logged once, on stderr, though asked for twice.
    assert done.stderr.count("PDFs cannot be made on this server") == 1, done.stderr


@pytest.mark.pdf
def test_weasyprint_subsets_fonts_with_harfbuzz():
    """Without libharfbuzz-subset0 PDFs are made, but several times slower: skipped, or a
    failure under PORTAL_REQUIRE_SYSTEM=1, so CI runs on the packages a server needs."""
    support = pdf.pdf_support()
    if support.slow:
        requirements.missing(support.problem)
    assert support.usable and not support.problem


@pytest.mark.usefixtures("without_weasyprint")
def test_seed_demo_without_weasyprint_seeds_no_shares_and_says_why(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "No shares were seeded: their certificates are PDFs." in result.output
    assert "listener@reverb.example" in result.output
    with database(app).session(write=False) as db:
        assert db.scalar(select(func.count()).select_from(Certificate)) == 0
        assert db.scalar(select(func.count()).select_from(LedgerEntry)) == 0
        # Membership begins when the membership share is paid (rule 8.1): with no share
        # paid no one is a member yet. The demo's members are approved, each with the
        # admission order whose payment would admit them.
        assert db.scalar(select(func.count()).select_from(Member)) == 0
        waiting = db.scalars(
            select(Application).where(Application.state == ApplicationState.AWAITING_SHARE)
        ).all()
        assert waiting
        listener = db.scalar(select(User).where(User.email == "listener@reverb.example"))
        assert listener.id in {application.user_id for application in waiting}
        unpaid = db.scalars(select(ShareOrder).where(ShareOrder.member_id.is_(None))).all()
        assert {order.state for order in unpaid} == {OrderState.PENDING_PAYMENT}
        assert {order.application.user_id for order in unpaid} == {
            application.user_id for application in waiting
        }


@pytest.mark.usefixtures("without_weasyprint")
def test_check_pdf_fails_when_pdfs_cannot_be_made(runner):
    result = runner.invoke(args=["check-pdf"])
    assert result.exit_code == 1
    assert "PDFs: cannot be made on this server." in result.output


@pytest.mark.pdf
def test_check_pdf_says_whether_pdfs_are_made_fast(runner):
    result = runner.invoke(args=["check-pdf"])
    assert result.exit_code == 0
    slow = pdf.pdf_support().slow
    assert ("made, but slowly" in result.output) is slow
