"""Document-PDF figures (issue 12, item 8): downloads of a public Markdown version's PDF
per second, before (rendered on every request, as the view used to) and after (rendered
once, then the kept bytes), beside a bare Flask route measured in the same run.

Run with `make bench` (or `.venv/bin/python benchmarks/bench_documents.py`). Uses a
temporary SQLite database, or PostgreSQL when DATABASE_URL is set. Prints figures only.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_foundation import PASSWORD, build_app

from portal import coop, pdf
from portal.db import write_session
from portal.models import Document, Role
from portal.services.accounts import users
from portal.services.documents import publishing

RULES = Path(__file__).resolve().parent.parent / "portal" / "seed_documents" / "rulebook-v3.md"
URL = "/documents/rules/v/1.pdf"


def seed(app) -> None:
    with app.test_request_context("/"), write_session(app) as db:
        coop.stored_settings(db)
        staff = users.create_user(
            db,
            name="Bench Staff",
            email="staff@bench.example",
            password=PASSWORD,
            role=Role.STAFF,
            verified=True,
        )
        document = publishing.create_document(
            db,
            title="Rules",
            category="rules",
            visibility="public",
            summary="",
            approved_by="",
            actor=staff,
        )
        publishing.publish_markdown(
            db,
            document,
            body=RULES.read_text(),
            effective_on=date(2025, 1, 1),
            change_note="Adopted",
            actor=staff,
        )


def rate(get, seconds: float = 3.0) -> tuple[float, float]:
    """Requests per second over about ``seconds``, and the CPU ms each took."""
    count, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds or count < 3:
        get()
        count += 1
    wall = time.perf_counter() - start
    return count / wall, (time.process_time() - cpu) * 1000 / count


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(Path(folder))
        app.add_url_rule("/bare", "bare", lambda: "ok")
        seed(app)
        client = app.test_client()
        bare, bare_cpu = rate(lambda: client.get("/bare"))

        def render_every_time() -> None:  # what GET …/v/1.pdf did before issue 12, item 8
            with app.test_request_context(URL), write_session(app) as db:
                document = db.query(Document).one()
                pdf.render_document(document, document.versions[0], coop.settings(db))

        before, before_cpu = rate(render_every_time, seconds=5)
        first = time.perf_counter()
        assert client.get(URL).status_code == 200  # the one render, then kept
        first_ms = (time.perf_counter() - first) * 1000
        after, after_cpu = rate(lambda: client.get(URL))
    print(f"bare Flask route:                 {bare:8.1f} req/s  {bare_cpu:7.2f} ms CPU each")
    print(f"document PDF, rendered each time: {before:8.1f} req/s  {before_cpu:7.2f} ms CPU each")
    print(f"document PDF, first download:     {first_ms:8.1f} ms (renders and keeps it)")
    print(f"document PDF, kept:               {after:8.1f} req/s  {after_cpu:7.2f} ms CPU each")
    print(f"kept vs rendered: {after / before:.0f}x; kept vs bare route: {after / bare:.0%}")


if __name__ == "__main__":
    main()
