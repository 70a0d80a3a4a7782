"""pip-audit over requirements.lock (issue 17 §4): 0 known vulnerabilities.

Run by the scan virtualenv's Python (standard library only), which has pip-audit beside
it. Each vulnerability service is tried in turn (OSV, PyPI's JSON API, ecosyste.ms); the
first that knows the locked packages decides. pip-audit says "No known vulnerabilities
found" even when it could look none up (it lists those as skipped), so the skips are
counted here: a run that checked nothing says so loudly and is not a pass.

Exit 0: no vulnerability (or, unless PORTAL_REQUIRE_AUDIT=1, no service could be reached:
the machines this project is built on reach PyPI through a mirror only, and a scan that
always failed there would block every landing); 1: a known vulnerability, or nothing
checked under PORTAL_REQUIRE_AUDIT=1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
PIP_AUDIT = Path(sys.executable).parent / "pip-audit"
SERVICES = ("osv", "pypi", "esms")


def audit(service: str) -> tuple[list[str], list[str], str]:
    """(vulnerabilities found, packages not looked up, pip-audit's complaint if it failed)."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "audit.json"
        run = subprocess.run(
            [str(PIP_AUDIT), "-r", str(LOCK), "--no-deps", "--disable-pip",
             f"--vulnerability-service={service}", "--timeout=20", "--progress-spinner=off",
             "--format=json", f"--output={out}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if not out.exists():
            last = (run.stderr.strip().splitlines() or ["no output"])[-1]
            return [], [], last
        report = json.loads(out.read_text())
    vulnerable, skipped = [], []
    for dependency in report.get("dependencies", []):
        name = f"{dependency['name']}=={dependency.get('version', '?')}"
        if dependency.get("skip_reason"):
            skipped.append(name)
        for vuln in dependency.get("vulns", []):
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            vulnerable.append(f"{name}: {vuln['id']} (fixed in {fixed})")
    return vulnerable, skipped, ""


def main() -> int:
    if not LOCK.exists():
        print(f"pip-audit: {LOCK.name} is missing (make lock)")
        return 1
    locked = [line for line in LOCK.read_text().splitlines() if line and not line.startswith("#")]
    require = os.environ.get("PORTAL_REQUIRE_AUDIT") == "1"
    for service in SERVICES:
        vulnerable, skipped, failure = audit(service)
        if failure:
            print(f"pip-audit: the {service} service could not be asked: {failure[:200]}")
            continue
        if vulnerable:
            print(f"pip-audit ({service}): {len(vulnerable)} known vulnerabilities:")
            for line in vulnerable:
                print(f"    {line}")
            return 1
        if len(skipped) == len(locked):
            print(f"pip-audit: the {service} service knows none of the {len(locked)} packages")
            continue
        checked = len(locked) - len(skipped)
        print(f"pip-audit ({service}): 0 known vulnerabilities in {checked} locked packages")
        if skipped:
            print(f"pip-audit: NOT CHECKED, not found by {service}: {', '.join(skipped)}")
            return 1 if require else 0
        return 0
    print(
        f"pip-audit: vulnerability data unreachable — NOT CHECKED ({len(locked)} locked "
        "packages; tried " + ", ".join(SERVICES) + ")"
    )
    if require:
        print("pip-audit: PORTAL_REQUIRE_AUDIT=1, so this fails the scan")
        return 1
    print("pip-audit: a warning only (PORTAL_REQUIRE_AUDIT=1 makes it fail the scan)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
