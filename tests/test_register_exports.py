"""The register's PDF made in the background: chunks joined and numbered, progress, a
job run twice or stopped and run again, failures kept; and the pages staff follow it on."""

from __future__ import annotations

import io
import re
import threading
import time

import pytest
from pypdf import PdfReader
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from portal import tasks
from portal.db import write_session
from portal.migrations import downgrade, upgrade
from portal.models import ExportState, RegisterExport, RegisterExportPart, Role, User
from portal.services.shares import register_exports, share_register
from tests.factories import audit_actions, count, is_page, is_partial, reading
from tests.test_migrations import empty_engine  # noqa: F401 (a fixture)

HTMX = {"HX-Request": "true"}


@pytest.fixture
def seven_holders(make_member):
    """Seven members, each holding the membership share they were admitted with."""
    return [make_member(name=f"Holder {n}", classes=("listener",)) for n in range(1, 8)]


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of three rows, and every register too long to be made in the request."""
    monkeypatch.setattr(register_exports, "CHUNK_ROWS", 3)
    monkeypatch.setattr(register_exports, "IN_REQUEST_HOLDERS", 1)


@pytest.fixture
def no_worker(monkeypatch):
    """Queued exports stay queued: nothing runs the job."""
    monkeypatch.setitem(tasks._jobs, register_exports.JOB, lambda export_id: None)


def page_texts(data: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


def the_export(app, export_id: int) -> RegisterExport:
    with reading(app) as db:
        export = db.get(RegisterExport, export_id)
        assert export is not None
        db.expunge(export)
        return export


def run(app, export_id: int) -> None:
    """Run the job as the worker does, in a context of its own."""
    with app.test_request_context("/"):
        register_exports.render_export(export_id)


def ask(staff, **form: str) -> int:
    """Ask for the register's PDF as a plain form post; the new export's id."""
    response = staff.post("/staff/register/exports", data=form)
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    match = re.fullmatch(r".*/staff/register/exports/(\d+)", response.headers["Location"])
    assert match is not None
    return int(match[1])


def test_a_large_register_is_rendered_in_chunks_joined_and_numbered_across_them(
    app, staff, seven_holders, small_chunks
):
    export_id = ask(staff)
    export = the_export(app, export_id)
    assert export.state is ExportState.READY
    assert (export.chunks_done, export.holders_done, export.holders_total) == (3, 7, 7)
    response = staff.get(f"/staff/register/exports/{export_id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert 'filename="register-of-shares-' in response.headers["Content-Disposition"]
    assert int(response.headers["Content-Length"]) == export.size == len(response.data)
    pages = page_texts(response.data)
    assert len(pages) == export.pages == 3  # a chunk of three holders fits one page
    for number, page in enumerate(pages, 1):
        assert f"Page {number} of 3" in page
    assert "Totals by share type" in pages[0] and "HOLDERS 7" in pages[0]
    assert "Totals by share type" not in pages[1]
    assert "Total (7 holders)" in pages[2] and "Total (" not in pages[1]
    names = re.findall(r"Holder \d", " ".join(pages))
    assert names == [f"Holder {n}" for n in range(1, 8)]
    # Later chunks carry the society's name in their running header.
    assert "Reverb Music Co-operative Society Ltd Register of shares as of" in pages[1]
    with reading(app) as db:  # only the finished file is kept, in parts
        parts = db.query(RegisterExportPart).filter_by(export_id=export_id).all()
        assert parts and all(part.final for part in parts)
    assert audit_actions(app)[-2:] == ["register_export.rendering", "register_export.ready"]


def test_a_small_register_is_still_made_in_the_request(staff, seven_holders):
    response = staff.get("/staff/register.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages = page_texts(response.data)
    assert "Page 1 of 1" in pages[0] and "Total (7 holders)" in pages[-1]


def test_a_register_too_long_for_the_request_is_offered_in_the_background(
    staff, seven_holders, small_chunks
):
    response = staff.get("/staff/register.pdf")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/staff/register?as_of=")
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "make it in the background" in page
    assert 'action="/staff/register/exports"' in page and "Make the PDF" in page


def test_progress_is_kept_after_each_chunk(app, staff, seven_holders, small_chunks, monkeypatch):
    seen: list[tuple[int, int]] = []
    render = register_exports._render

    def watched(html: str) -> bytes:
        with reading(app) as db:
            export = db.scalars(db.query(RegisterExport).statement).one()
            seen.append((export.chunks_done, export.holders_done))
            assert export.state is ExportState.RENDERING and export.holders_total == 7
        return render(html)

    monkeypatch.setattr(register_exports, "_render", watched)
    ask(staff)
    assert seen == [(0, 0), (1, 3), (2, 6)]


def test_a_job_run_again_after_it_finished_changes_nothing(app, staff, seven_holders, small_chunks):
    export_id = ask(staff)
    before = the_export(app, export_id)
    events = audit_actions(app)
    run(app, export_id)
    after = the_export(app, export_id)
    assert (after.state, after.pages, after.size) == (ExportState.READY, before.pages, before.size)
    assert audit_actions(app) == events


def test_two_runs_at_once_keep_each_chunk_once(
    app, staff, seven_holders, small_chunks, no_worker, monkeypatch
):
    export_id = ask(staff)
    render = register_exports._render
    calls: list[str] = []

    def racing(html: str) -> bytes:
        calls.append(html)
        if len(calls) == 1:  # while the first run renders its first chunk, a second runs whole
            run(app, export_id)
        return render(html)

    monkeypatch.setattr(register_exports, "_render", racing)
    run(app, export_id)
    export = the_export(app, export_id)
    assert export.state is ExportState.READY and export.chunks_done == 3
    assert len(calls) == 4  # the first run's first chunk was rendered, and then dropped
    data = b"".join(p for p in staff.get(f"/staff/register/exports/{export_id}.pdf").response)
    pages = page_texts(data)
    assert len(pages) == 3 and "Page 3 of 3" in pages[2]
    assert re.findall(r"Holder \d", " ".join(pages)) == [f"Holder {n}" for n in range(1, 8)]


def test_a_stopped_job_resumes_at_the_next_chunk(
    app, staff, seven_holders, small_chunks, no_worker, monkeypatch
):
    export_id = ask(staff)
    render = register_exports._render
    calls: list[str] = []

    def stopping(html: str) -> bytes:
        calls.append(html)
        if len(calls) == 2:
            raise SystemExit("the worker was stopped")
        return render(html)

    monkeypatch.setattr(register_exports, "_render", stopping)
    with pytest.raises(SystemExit):
        run(app, export_id)
    stopped = the_export(app, export_id)
    assert (stopped.state, stopped.chunks_done, stopped.holders_done) == (
        ExportState.RENDERING,
        1,
        3,
    )
    run(app, export_id)
    assert len(calls) == 4  # the first chunk was not rendered again
    export = the_export(app, export_id)
    assert export.state is ExportState.READY and export.pages == 3


def test_a_stalled_export_is_resumed_by_the_sweep(
    app, staff, seven_holders, small_chunks, no_worker, monkeypatch
):
    export_id = ask(staff)
    with app.test_request_context("/"):
        assert register_exports.resume_stalled() == []  # asked for just now: not stalled
        monkeypatch.setattr(register_exports, "STALLED_AFTER", -register_exports.STALLED_AFTER)
        assert register_exports.resume_stalled() == [export_id]
    assert the_export(app, export_id).state is ExportState.READY


def test_a_failed_render_is_marked_failed_with_its_message(
    app, staff, seven_holders, small_chunks, monkeypatch
):
    def broken(html: str) -> bytes:
        raise RuntimeError("the fonts are gone")

    monkeypatch.setattr(register_exports, "_render", broken)
    export_id = ask(staff)
    export = the_export(app, export_id)
    assert export.state is ExportState.FAILED and export.finished_at is not None
    assert export.error == "RuntimeError: the fonts are gone"
    assert count(app, RegisterExportPart) == 0
    page = staff.get(f"/staff/register/exports/{export_id}").get_data(as_text=True)
    assert "Failed" in page and "the fonts are gone" in page
    assert staff.get(f"/staff/register/exports/{export_id}.pdf").status_code == 404


def test_asking_again_while_one_is_unfinished_returns_that_one(
    app, staff, seven_holders, no_worker
):
    first = ask(staff, as_of="", type="", **{"class": ""})
    assert ask(staff) == first
    assert count(app, RegisterExport) == 1
    other = ask(staff, type="supporter")
    assert other != first and count(app, RegisterExport) == 2


# -- the pages ------------------------------------------------------------------------------


def test_the_export_page_polls_while_unfinished_and_stops_when_ready(
    app, staff, seven_holders, no_worker
):
    export_id = ask(staff)
    page = staff.get(f"/staff/register/exports/{export_id}")
    assert page.status_code == 200 and is_page(page)
    body = page.get_data(as_text=True)
    assert "<progress" in body and 'data-hx-trigger="every 2s"' in body and "Waiting" in body
    partial = staff.get(f"/staff/register/exports/{export_id}", headers=HTMX)
    assert partial.status_code == 200 and is_partial(partial)
    assert 'data-hx-trigger="every 2s"' in partial.get_data(as_text=True)
    run(app, export_id)
    done = staff.get(f"/staff/register/exports/{export_id}", headers=HTMX)
    assert done.status_code == 286 and is_partial(done)
    body = done.get_data(as_text=True)
    assert "every 2s" not in body and f"/staff/register/exports/{export_id}.pdf" in body
    assert "Ready" in body


def test_an_htmx_request_answers_the_list_of_exports(app, staff, seven_holders, no_worker):
    response = staff.post("/staff/register/exports", data={}, headers=HTMX)
    assert response.status_code == 200 and is_partial(response)
    body = response.get_data(as_text=True)
    assert 'id="register-pdf-exports"' in body and "Waiting" in body
    assert count(app, RegisterExport) == 1


def test_the_register_page_lists_the_recent_exports(app, staff, seven_holders, small_chunks):
    for _ in range(register_exports.RECENT_EXPORTS + 2):
        ask(staff)  # each is finished at once, so the next is a new one
    body = staff.get("/staff/register").get_data(as_text=True)
    assert body.count('class="register-pdf-export"') == register_exports.RECENT_EXPORTS


def test_asking_needs_the_csrf_token(app, staff, seven_holders):
    assert staff.post("/staff/register/exports", data={}, csrf=False).status_code == 400
    assert count(app, RegisterExport) == 0


def test_a_bad_filter_is_refused_with_the_form(app, staff, seven_holders):
    response = staff.post("/staff/register/exports", data={"as_of": "2999-01-01"})
    assert response.status_code == 422
    assert "future date" in response.get_data(as_text=True)
    response = staff.post("/staff/register/exports", data={"type": "nonesuch"})
    assert response.status_code == 422
    assert count(app, RegisterExport) == 0


def test_unknown_unready_and_huge_ids_are_not_found(staff, seven_holders, no_worker):
    export_id = ask(staff)
    assert staff.get(f"/staff/register/exports/{export_id}.pdf").status_code == 404  # queued
    for url in (
        "/staff/register/exports/999",
        "/staff/register/exports/999.pdf",
        f"/staff/register/exports/{10**30}",
        f"/staff/register/exports/{10**30}.pdf",
        "/staff/register/exports/abc",
    ):
        assert staff.get(url).status_code == 404, url


def test_members_cannot_ask_for_or_see_exports(app, staff, seven_holders, sign_in, no_worker):
    export_id = ask(staff)
    member = sign_in(seven_holders[0].email)
    for url in (f"/staff/register/exports/{export_id}", f"/staff/register/exports/{export_id}.pdf"):
        assert member.get(url).status_code in (403, 404)
    assert member.post("/staff/register/exports", data={}).status_code in (403, 404)
    assert count(app, RegisterExport) == 1


def test_migration_0027_adds_the_export_tables_and_removes_them(empty_engine):  # noqa: F811
    upgrade(empty_engine, "0026")
    assert "register_exports" not in inspect(empty_engine).get_table_names()
    upgrade(empty_engine, "0027")
    with empty_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO register_exports (id, as_of, state, holders_done, chunks_done, "
                "created_at) VALUES (1, '2026-07-01', 'queued', 0, 0, '2026-07-01 10:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO register_export_parts (export_id, final, number, data) "
                "VALUES (1, false, 0, :data)"
            ),
            {"data": b"%PDF-1.7"},
        )
    with pytest.raises(IntegrityError), empty_engine.begin() as conn:  # ready, with no file
        conn.execute(text("UPDATE register_exports SET state = 'ready' WHERE id = 1"))
    downgrade(empty_engine, "0026")
    tables = inspect(empty_engine).get_table_names()
    assert "register_exports" not in tables and "register_export_parts" not in tables


def test_two_asks_at_once_for_the_same_filters_make_one_export(
    app, staff, seven_holders, small_chunks, no_worker
):
    """The first ask holds its transaction open a moment after making its export; the
    second, sent meanwhile, waits its turn and is given the same export, not a second."""
    made = threading.Event()
    ids: dict[str, int] = {}
    errors: list[BaseException] = []

    def ask_directly(name: str, hold: float) -> None:
        try:
            with app.test_request_context("/"), write_session(app) as db:
                actor = db.scalars(select(User).where(User.role == Role.STAFF)).first()
                flt = share_register.register_filter(db)
                ids[name] = register_exports.request_export(db, flt, actor=actor).id
                made.set()
                time.sleep(hold)
        except BaseException as exc:
            errors.append(exc)

    first = threading.Thread(target=ask_directly, args=("first", 0.5))
    first.start()
    assert made.wait(10)
    second = threading.Thread(target=ask_directly, args=("second", 0))
    second.start()
    first.join(20)
    second.join(20)
    assert errors == []
    assert ids["first"] == ids["second"]
    assert count(app, RegisterExport) == 1
