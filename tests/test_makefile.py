"""`make run`: the port it serves on (PORT=…), the address it prints, and the public address
it seeds and serves with, so the demo certificates' QR links point at the running portal."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess

import pytest

from portal.config import ROOT

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def make_run(tmp_path, *args: str, dry_run: bool = False) -> subprocess.CompletedProcess[str]:
    """``make run`` with ``args``, its set-up steps taken as done and its instance in tmp_path."""
    env = {k: v for k, v in os.environ.items() if k != "PORT" and not k.startswith("PORTAL_")}
    env["PORTAL_INSTANCE_PATH"] = str(tmp_path)  # never the checkout's own instance/
    command = [MAKE, "--no-print-directory", "-s", "-o", ".stamp-install"]
    command += ["-o", "static/vendor/htmx.min.js", *(["-n"] if dry_run else []), "run", *args]
    # In a session of its own, so that a `make run` which went on to serve is stopped whole.
    with subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        text=True,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def test_make_run_serves_on_the_port_asked_for_and_says_where(tmp_path):
    plan = make_run(tmp_path, "PORT=8123", dry_run=True).stdout
    assert "--port 8123" in plan and "--port 5000" not in plan
    assert 'echo "Serving the portal on http://127.0.0.1:8123 (Ctrl-C to stop)"' in plan
    assert "staff read it at http://127.0.0.1:8123/staff/outbox" in plan
    # The seed (certificates' QR links, mail) and the server use the address served.
    assert "export PORTAL_PUBLIC_BASE_URL=http://127.0.0.1:8123;" in plan
    assert plan.index("PORTAL_PUBLIC_BASE_URL") < plan.index("seed-demo")


def test_make_run_serves_on_port_5000_by_default(tmp_path):
    plan = make_run(tmp_path, dry_run=True).stdout
    assert "--port 5000" in plan
    assert "export PORTAL_PUBLIC_BASE_URL=http://127.0.0.1:5000;" in plan


@pytest.mark.parametrize("port", ["abc", "", "0", "65536", "80 80", "8000;true"])
def test_make_run_refuses_a_port_that_is_not_one(tmp_path, port):
    result = make_run(tmp_path, f"PORT={port}")
    assert result.returncode == 2
    assert "PORT must be a number from 1 to 65535" in result.stderr
    assert not any(tmp_path.iterdir())  # stopped before the database


def test_make_run_says_when_the_port_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = make_run(tmp_path, f"PORT={port}")
    assert result.returncode == 2
    assert f"Port {port} is in use: choose another, e.g. make run PORT=8000" in result.stderr
    assert not any(tmp_path.iterdir())
