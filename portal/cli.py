"""Command-line tasks: ``flask --app portal init-db | create-user | seed-demo | check-pdf |
close-due-votes | check-votes | send-notices | lapse-requisitions | worker | backup |
restore``."""

from __future__ import annotations

import functools
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from . import backup, coop, demo, migrations, tasks, uploads
from .config import public_base_url
from .db import database, write_session
from .errors import PortalError
from .models import Role
from .pdf import pdf_support, render_certificate
from .presets import PRESETS
from .services.accounts import two_factor, users
from .services.documents import renditions
from .services.elections import voting
from .services.meetings import closing, notices, requisitions
from .services.shares import ledger


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or migrate the database schema to the newest version, and say which it did."""
    engine = database().engine
    before = migrations.current_revision(engine)
    migrations.upgrade(engine)
    after = migrations.current_revision(engine)
    with write_session() as db:
        coop.stored_settings(db)
        # PDFs uploaded before their previews were read at upload (revision 0014).
        previews = renditions.backfill_previews(
            db, functools.partial(renditions.read_stored_preview, uploads.uploads_root())
        )
    if previews:
        click.echo(f"Read the text previews of {previews} uploaded PDFs.")
    if before is None:
        click.echo(f"Created the database schema at revision {after} (the newest).")
    elif before != after:
        click.echo(f"Migrated the database schema from revision {before} to {after} (the newest).")
    else:
        click.echo(f"The database schema was already at revision {after} (the newest).")


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--name", prompt="Full name", help="The person's full name.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.MEMBER.value,
    show_default=True,
    help="member, staff or admin.",
)
@click.option("--title", default=None, help='A staff member\'s office, e.g. "Secretary".')
@click.password_option(
    "--password", prompt="Password (at least 12 characters)", help="Asked for when omitted."
)
def create_user_command(email: str, name: str, role: str, title: str | None, password: str) -> None:
    """Create an account (staff and admins are made this way), e-mail already verified."""
    try:
        with write_session() as db:
            user = users.create_user(
                db,
                name=name,
                email=email,
                password=password,
                role=Role(role),
                title=title,
                verified=True,
                rules=users.AccountRules.from_config(current_app.config),
            )
    except PortalError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


@click.command("reset-two-factor")
@with_appcontext
@click.argument("email")
def reset_two_factor_command(email: str) -> None:
    """Take two-factor sign-in off an account whose owner lost their phone and recovery
    codes (check who is asking first); its sessions end, and staff set it up again."""
    try:
        with write_session() as db:
            user = users.find_user_by_email(db, users.normalize_email(email))
            if user is None:
                raise click.ClickException(f"No account uses {email}.")
            two_factor.reset(db, user, actor=None)
    except PortalError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Two-factor sign-in is reset for {user.email}; its sessions are signed out.")


@click.command("demo-code")
def demo_code_command() -> None:
    """Print the sign-in code of the demo's staff and admins now (their shared, public
    demo key; never a real account's)."""
    code, seconds = demo.two_factor_code()
    click.echo(f"{code}  (valid for {seconds} more seconds, then the next one)")


@click.command("seed-demo")
@click.option(
    "--preset",
    type=click.Choice(sorted(PRESETS)),
    default="resonate",
    show_default=True,
    help="The co-op to start: its settings, classes, share types, documents and people.",
)
@with_appcontext
def seed_demo_command(preset: str) -> None:
    """Fill an empty database with a preset's demo co-op; print its demo sign-ins.

    Shares are bought and paid only where certificates can be made (WeasyPrint works).
    A database that holds data already is left alone; the sign-ins printed are those of
    the co-op it holds, if it is a preset's.
    """
    support = pdf_support()
    # Certificates carry absolute verify links, made against the configured public URL.
    with (
        current_app.test_request_context("/", base_url=public_base_url(current_app.config)),
        write_session() as db,
    ):
        render = render_certificate if support.usable else None
        created = demo.seed(db, current_app.config, preset=preset, render=render)
        seeded = PRESETS[preset] if created else demo.seeded_preset(db)
    if created and not support.usable:
        click.echo("No shares were seeded: their certificates are PDFs.", err=True)
    if not created:
        click.echo("The database already holds data: nothing seeded.")
    if seeded is not None:
        click.echo(demo.logins_text(seeded))


def _exit_on_problems(problems: list[str]) -> None:
    """Print each problem a check found, and exit 1 if there was any."""
    for problem in problems:
        click.echo(f"PROBLEM: {problem}", err=True)
    if problems:
        raise click.exceptions.Exit(1)


@click.command("check-register")
@with_appcontext
def check_register_command() -> None:
    """Verify the share ledger's hash chain, and the holdings and day totals kept beside it
    (holdings, ledger_days, class_days); exit 1 on any problem."""
    with database().session(write=False) as db:
        result = ledger.check_register(db)
    _exit_on_problems(result.problems)
    click.echo(
        f"The share register is intact: {result.rows} rows, chain, holdings and day totals check."
    )


def _echo_done(names: list[str], *, each: str, noun: str, done: str) -> None:
    """One line per thing a sweep did ("Closed meeting 1, resolution 2: Carried"), then the
    count ("2 resolutions closed and counted.")."""
    for name in names:
        click.echo(f"{each} {name}")
    click.echo(f"{len(names)} {noun}{'' if len(names) == 1 else 's'} {done}.")


@click.command("close-due-votes")
@with_appcontext
def close_due_votes_command() -> None:
    """Close and count every resolution whose voting time has ended (run it from cron)."""
    with write_session() as db:
        closed = closing.close_due_votes(db)
        names = [f"meeting {r.meeting_id}, resolution {r.number}: {r.result.label}" for r in closed]
        counted = voting.close_due_elections(db)
        elections = [f"meeting {e.meeting_id}, {voting.title(e)}" for e in counted]
    _echo_done(names, each="Closed", noun="resolution", done="closed and counted")
    _echo_done(elections, each="Counted", noun="election", done="closed and counted")


@click.command("lapse-requisitions")
@with_appcontext
def lapse_requisitions_command() -> None:
    """Lapse every requisition past its signing deadline short of its threshold (from cron)."""
    with write_session() as db:
        lapsed = requisitions.lapse_due(db)
        names = [f"requisition {r.id}, {requisitions.describe(r).lower()}" for r in lapsed]
    _echo_done(names, each="Lapsed", noun="requisition", done="lapsed")


@click.command("check-votes")
@with_appcontext
def check_votes_command() -> None:
    """Recount every closed resolution and counted election from its votes; exit 1 on any
    difference."""
    with database().session(write=False) as db:
        resolutions, elections = voting.check_votes(db)
    _exit_on_problems(resolutions.problems + elections.problems)
    click.echo(
        "Every stored count matches a recount of the votes: "
        f"{resolutions.checked} resolutions, {elections.checked} elections."
    )


@click.command("send-notices")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 10_000),
    default=notices.BATCH_SIZE,
    show_default=True,
    help="Notices claimed, sent and recorded together.",
)
@with_appcontext
def send_notices_command(batch_size: int) -> None:
    """Send every meeting notice still waiting (resumes a mailing a stopped sender left).

    Each member gets a notice once: one that a sender claimed and then stopped before
    recording is left unconfirmed, never sent again (services.meetings.notices).
    """
    runs = notices.resume_unfinished(batch_size=batch_size)
    for meeting_id, run in runs.items():
        failed = f", {run.failed} failed" if run.failed else ""
        click.echo(f"Meeting {meeting_id}: {run.sent} notices sent{failed}.")
    if not runs:
        click.echo("No notice is waiting to be sent.")


@click.command("worker")
@click.option(
    "--workers",
    type=click.IntRange(1, 32),
    default=2,
    show_default=True,
    help="Tasks run at once (threads).",
)
@with_appcontext
def worker_command(workers: int) -> None:
    """Run queued background tasks (notice mailings) until stopped; ``make run`` starts one."""
    if tasks.is_immediate():
        raise click.ClickException("TASK_QUEUE is immediate: tasks run where they are queued.")
    tasks.run_worker(current_app._get_current_object(), workers=workers)  # type: ignore[attr-defined]


@click.command("check-pdf")
@with_appcontext
def check_pdf_command() -> None:
    """Say whether PDFs can be made here, and fast; exit 1 when they cannot be made.

    A problem is logged as a warning (portal.pdf logs it once, naming the package).
    """
    support = pdf_support()
    if not support.usable:
        click.echo("PDFs: cannot be made on this server.")
        raise click.exceptions.Exit(1)
    click.echo("PDFs: made, but slowly." if support.slow else "PDFs: made, with fonts subset.")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write a consistent snapshot of the database to PATH while the portal runs.

    SQLite: its online backup API; PostgreSQL: pg_dump --format=custom. The instance
    folder's secret key and uploads are not in it: keep them too (README, "Backups").
    """
    try:
        backup.backup(database().engine, path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backed up the database to {path} ({path.stat().st_size:,} bytes).")
    for item in backup.instance_files(Path(current_app.instance_path)):
        click.echo(f"Not in it, keep it as well: {item}")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the database without asking.")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Replace everything the database holds with the backup at PATH (stop the portal first).

    A backup from an older release is migrated to this release's schema; one from a newer
    release is refused.
    """
    engine = database().engine
    if not yes:
        click.confirm(
            f"This replaces everything in the database ({engine.url.render_as_string()}) with "
            f"the backup {path}. Go on?",
            abort=True,
        )
    try:
        restored = backup.restore(engine, path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Restored {path} (schema revision {restored.revision}).")
    if restored.migrated_to:
        click.echo(f"Migrated the restored schema to revision {restored.migrated_to}.")
    click.echo("Check it: flask --app portal check-register && flask --app portal check-votes")


def init_app(app: Flask) -> None:
    """Register the commands."""
    for command in (
        init_db_command,
        create_user_command,
        seed_demo_command,
        demo_code_command,
        reset_two_factor_command,
        check_register_command,
        check_pdf_command,
        close_due_votes_command,
        lapse_requisitions_command,
        check_votes_command,
        send_notices_command,
        worker_command,
        backup_command,
        restore_command,
    ):
        app.cli.add_command(command)
