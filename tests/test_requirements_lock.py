"""`requirements.lock`, which `make scan` audits, pins every dependency the portal runs with:
a dependency added to pyproject.toml without `make lock` would go unaudited."""

from __future__ import annotations

import re
import tomllib

from portal.config import ROOT


def _name(requirement: str) -> str:
    """A requirement's distribution name, normalised as PyPI does (PEP 503)."""
    name = re.match(r"[A-Za-z0-9._-]+", requirement.strip()).group(0)
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_audited_lock_pins_every_runtime_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["redis"]}
    lines = (ROOT / "requirements.lock").read_text().splitlines()
    pinned = {
        _name(line): line.split("==", 1)[1]
        for line in lines
        if line.strip() and not line.startswith("#")
    }
    assert sorted(wanted - set(pinned)) == [], "run `make lock` and commit requirements.lock"
    assert all(re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version) for version in pinned.values())
