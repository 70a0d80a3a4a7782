"""check-register's speed: seconds of CPU and wall, and rows per second, on an existing
instance (issue 16's target: at most 10 s at 1,000,000 ledger rows).

Run on a copy of a large co-op, e.g. the one ``benchmarks/seed_large.py`` makes:
``PORTAL_INSTANCE_PATH=/tmp/copy-100k .venv/bin/python benchmarks/bench_check_register.py``
(``--runs 3`` to repeat, ``--profile`` to print where the time goes). CPU is the
process's own (SQLite's work included): the steadier figure on a shared machine. Reads
only; prints figures and the check's outcome, and asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app
from portal.db import database
from portal.services.shares import ledger


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if not (os.environ.get("PORTAL_INSTANCE_PATH") or os.environ.get("DATABASE_URL")):
        print("skipped: needs a grown co-op in PORTAL_INSTANCE_PATH or DATABASE_URL (docstring)")
        return 0
    app = create_app()
    cpu, wall = [], []
    for run in range(args.runs):
        with app.app_context(), database(app).session(write=False) as db:
            profile = cProfile.Profile() if args.profile else None
            started_cpu, started = time.process_time(), time.perf_counter()
            if profile:
                profile.enable()
            result = ledger.check_register(db)
            if profile:
                profile.disable()
            cpu.append(time.process_time() - started_cpu)
            wall.append(time.perf_counter() - started)
        print(
            f"run {run + 1}: {result.rows:,} rows, {len(result.problems)} problems;"
            f" CPU {cpu[-1]:.1f} s ({result.rows / cpu[-1]:,.0f} rows/s),"
            f" wall {wall[-1]:.1f} s ({result.rows / wall[-1]:,.0f} rows/s)",
            flush=True,
        )
        if profile:
            pstats.Stats(profile).sort_stats("tottime").print_stats(15)
    if args.runs > 1:
        print(f"median: CPU {statistics.median(cpu):.1f} s, wall {statistics.median(wall):.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
