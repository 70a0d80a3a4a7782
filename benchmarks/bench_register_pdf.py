"""The register's PDF made in the background (issue 16 §4): the job's time and peak memory.

    PORTAL_INSTANCE_PATH=/tmp/copy-of-100k .venv/bin/python benchmarks/bench_register_pdf.py
        [--chunks N]

Runs ``services.shares.register_exports.render_export`` in this process on an export of
today's whole register, as the worker would, against the co-op in ``PORTAL_INSTANCE_PATH``
(or ``DATABASE_URL``): a copy of one grown by ``seed_large.py``, migrated (``flask init-db``);
it writes an export row. ``--chunks N`` stops after N chunks (and prints the rate), for a
quick figure. Prints seconds (wall and CPU), holders, pages, MB of PDF, and the process's
peak RSS in MB.

The figures are printed, never asserted. Measured on this 2-core machine (shared with four
other jobs, so wall time is 4-5 times CPU time) on a copy of the 100,000-member co-op, first
10 chunks (``--chunks 10``): 10,299 holders (20,000 rows) in 155.9 s CPU (15.1 ms a holder,
WeasyPrint almost all of it: reading a chunk is 0.05 s), 723 s wall; peak RSS 402 MB, and
394 MB after 2 chunks: flat, one chunk's layout at a time. The join of 50 such chunks
(2,750 pages, 12.1 MB) took 3.5 s CPU and raised the peak by 6 MB. So the whole register
(100,000 holders, about 97 chunks, about 5,300 pages and 24 MB) takes about 25 minutes of
CPU in the worker, in about 400 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from portal import create_app
from portal.db import write_session
from portal.models import ExportState, RegisterExport, Role, User
from portal.services.shares import register_exports, share_register


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=0, help="stop after this many chunks")
    options = parser.parse_args()
    if not (os.environ.get("PORTAL_INSTANCE_PATH") or os.environ.get("DATABASE_URL")):
        print("skipped: needs a grown co-op in PORTAL_INSTANCE_PATH or DATABASE_URL (docstring)")
        return
    app = create_app({"TASK_QUEUE": "immediate"})
    with app.test_request_context("/"):
        with write_session(app) as db:
            staff = db.scalar(select(User).where(User.role == Role.STAFF).limit(1))
            flt = share_register.register_filter(db)
            export = RegisterExport(requested_by=staff, as_of=flt.as_of)
            db.add(export)
            db.flush()
            export_id = export.id
        rss_before = peak_rss_mb()
        if options.chunks:
            real = register_exports._render_chunk
            done = {"n": 0}

            def limited(opener, ident):  # type: ignore[no-untyped-def]
                if done["n"] >= options.chunks:
                    raise SystemExit(0)
                done["n"] += 1
                return real(opener, ident)

            register_exports._render_chunk = limited  # type: ignore[assignment]
        wall, cpu = time.perf_counter(), time.process_time()
        with contextlib.suppress(SystemExit):
            register_exports.render_export(export_id)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        with write_session(app) as db:
            export = db.get(RegisterExport, export_id)
            assert export is not None
            state, done_holders, total = export.state, export.holders_done, export.holders_total
            pages, size, error = export.pages, export.size, export.error
            if state is not ExportState.READY:
                db.delete(export)  # a partial run leaves nothing behind
    print(f"state: {state.value}{f' ({error})' if error else ''}")
    print(f"holders: {done_holders:,} of {total or 0:,}")
    per_holder = cpu / max(done_holders, 1) * 1000
    print(f"job: {wall:.1f} s wall, {cpu:.1f} s CPU ({per_holder:.2f} ms CPU a holder)")
    if pages:
        print(f"pdf: {pages:,} pages, {(size or 0) / 1048576:.1f} MB")
    print(f"peak RSS: {peak_rss_mb():.0f} MB (before the job: {rss_before:.0f} MB)")


if __name__ == "__main__":
    main()
