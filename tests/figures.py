"""The figures the security and reliability tests produce (requests checked, inputs fuzzed,
crash rounds survived), kept in ``build/figures/`` for SECURITY.md: a worker's output under
pytest-xdist is not shown, and a figure should come from the last run, not from memory.

``scripts/security-figures`` prints them.
"""

from __future__ import annotations

import os

from portal.config import ROOT

FOLDER = ROOT / "build" / "figures"


def record(name: str, line: str) -> None:
    """Keep ``line`` as the figure ``name`` of this run, one file per database."""
    database = "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"
    FOLDER.mkdir(parents=True, exist_ok=True)
    (FOLDER / f"{name}.{database}.txt").write_text(line + "\n")
