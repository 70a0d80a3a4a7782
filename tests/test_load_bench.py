"""The load bench's yardstick (``/_bare``) and a smoke run of ``benchmarks/load.py``."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

from portal.config import ROOT

from .factories import sql_statements


def load_module():
    spec = importlib.util.spec_from_file_location("load_bench", ROOT / "benchmarks" / "load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["load_bench"] = module
    spec.loader.exec_module(module)
    return module


def test_the_bare_route_answers_ok_without_the_database(app, client):
    with sql_statements(app) as statements:
        response = client.get("/_bare")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"
    assert response.mimetype == "text/plain"
    assert statements == []
    # It goes through the same hooks as every page: the security headers are there.
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_bare_route_takes_no_input(client):
    assert client.post("/_bare").status_code in (400, 405)  # no CSRF token, or no POST
    assert client.get("/_bare?x=" + "a" * 5000).get_data(as_text=True) == "ok"


def test_results_sections_are_replaced_by_label_and_others_kept(tmp_path):
    load = load_module()
    results = tmp_path / "RESULTS.md"
    load.write_section(results, "Pages: demo, SQLite (before)", ["| a |", "first"])
    load.write_section(results, "Memory: demo", ["rss"])
    load.write_section(results, "Pages: demo, SQLite (before)", ["second"])
    text = results.read_text()
    assert text.startswith("# Load bench results")
    assert "first" not in text and "second" in text and "rss" in text
    assert text.index("second") < text.index("rss")  # kept in its place
    assert text.count("## Pages: demo, SQLite (before)") == 1


def test_percentiles_of_a_few_timings():
    load = load_module()
    timings = [float(n) for n in range(1, 21)]
    assert load.percentile(timings, 50) == 10
    assert load.percentile(timings, 95) == 19
    assert load.percentile(timings, 99) == 20


NO_WRK = "wrk is not installed (make system-packages)"


@pytest.mark.slow
@pytest.mark.pdf
@pytest.mark.skipif(shutil.which("wrk") is None, reason=NO_WRK)
def test_the_load_bench_measures_pages_against_the_bare_route(tmp_path, monkeypatch):
    """A small seeded co-op (benchmarks/seed_large.py: 100 members, seconds where the demo
    takes a minute) served by gunicorn: signed in as staff and as a member, a page of each
    and the vote driven by wrk for a second, each with its ratio to the bare route."""
    instance = tmp_path / "seeded"
    # Seeded in a process of its own, on SQLite whatever database the suite runs on: never
    # into the suite's own PostgreSQL database, and no engine left open in this process.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PORTAL_INSTANCE_PATH")}
    seed = ROOT / "benchmarks" / "seed_large.py"
    subprocess.run(
        [sys.executable, str(seed), "--members", "100", "--instance", str(instance)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    monkeypatch.delenv("DATABASE_URL", raising=False)
    load = load_module()
    results = tmp_path / "RESULTS.md"
    code = load.main(
        [
            "--instance",
            str(instance),
            "--duration",
            "1",
            "--only",
            "/shares",
            "vote",
            "/staff/orders",
            "--results",
            str(results),
            "--label",
            "smoke",
        ]
    )
    assert code == 0
    text = results.read_text()
    assert "## smoke" in text and "cores" in text and "SQLite" in text
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    bare = "bare route (mean of the runs)"
    assert {"/shares", "vote POST (htmx)", "/staff/orders", bare} <= set(rows)
    for name in ("/shares", "vote POST (htmx)", "/staff/orders"):
        cells = [cell.strip() for cell in rows[name].split("|")[1:-1]]
        assert cells[1] == "200", rows[name]  # answered, not an error page or a redirect
        assert float(cells[3]) > 0 and 0 < float(cells[4]) < 1.5
    assert "Server log" not in text


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_bench_runs_the_load_bench_and_bench_micro_the_older_ones():
    def plan(*args: str) -> str:
        command = ["make", "-n", "-o", ".stamp-install-test", "-o", "static/vendor/htmx.min.js"]
        return subprocess.run(
            [*command, *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout

    assert "benchmarks/load.py --instance /tmp/x" in plan("bench", "BENCH_ARGS=--instance /tmp/x")
    assert "benchmarks/load.py --memory" in plan("bench-memory")
    assert "benchmarks/bench_*.py" in plan("bench-micro")
