"""Write requirements.lock: every package a deployment installs, at the version pip picks
today (``make lock``).

pip resolves the portal's dependencies (and the ``redis`` extra a production queue uses)
without installing anything (``--dry-run --ignore-installed --report``), in the scan
virtualenv, so the app's own virtualenv is neither read nor changed. The test tools are
left out: they never run on a server. pip-audit reads this file (scripts/scan/audit.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        report_path = Path(scratch) / "report.json"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run",
             "--ignore-installed", "--report", str(report_path), f"{ROOT}[redis]"],
            check=True, cwd=ROOT,
        )  # fmt: skip
        report = json.loads(report_path.read_text())
    pins = sorted(
        f"{item['metadata']['name'].lower()}=={item['metadata']['version']}"
        for item in report["install"]
        if item["metadata"]["name"].lower() != "portal"
    )
    python = ".".join(map(str, sys.version_info[:2]))
    LOCK.write_text(
        "# The portal's dependencies as resolved for Python "
        f"{python} (make lock; scripts/scan/lock.py).\n"
        "# pip-audit checks them in make scan.\n" + "\n".join(pins) + "\n"
    )
    print(f"{LOCK.name}: {len(pins)} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
