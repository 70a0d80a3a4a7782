"""Backups of the database, taken while the portal runs, and their restore.

A backup is one consistent snapshot: SQLite's online backup API copies every page in one
step under one read transaction (WAL lets writers go on meanwhile); PostgreSQL's
``pg_dump`` reads every table in one repeatable-read transaction. A copy of the database
file taken while it is written is not a backup: it may hold half a transaction.

The password of a PostgreSQL URL reaches ``pg_dump``, ``pg_restore`` and ``psql`` through
the environment (``PGPASSWORD``), never their command line, which other users of the
machine can read (``ps``) and which would end up in logs.

A restore replaces everything the database holds. It refuses a backup whose schema this
release of the portal does not know (taken by a newer release), and a database whose
schema it does not know, and migrates a restored older schema up to the newest.

What lives outside the database is not in a backup: ``instance/secret_key`` (unless
``SECRET_KEY`` is set) and ``instance/uploads/`` (README, "Backups").
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import Engine, make_url, text
from sqlalchemy.engine import URL

from . import migrations


class BackupError(RuntimeError):
    """A backup or restore that could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class Restored:
    """What a restore did: the backup's schema revision, and the one it was migrated to."""

    revision: str | None
    migrated_to: str | None


def is_sqlite(engine: Engine) -> bool:
    """Whether the engine is SQLite's (else PostgreSQL's)."""
    return engine.dialect.name == "sqlite"


# -- taking a backup ----------------------------------------------------------------------------


def backup(engine: Engine, path: Path) -> None:
    """Write a consistent snapshot of the database to ``path`` (replaced only when done)."""
    with _written_in_place(path) as partial:
        if is_sqlite(engine):
            source = sqlite3.connect(_sqlite_file(engine), timeout=30)
            try:
                backup_sqlite(source, partial)
            finally:
                source.close()
        else:
            backup_postgresql(engine, partial)


def backup_sqlite(source: sqlite3.Connection, path: Path) -> None:
    """Copy ``source`` to a new SQLite file at ``path``.

    Every page is copied in one step (``pages=-1``), which reads one snapshot; copied a few
    pages at a time, the copy would restart whenever another connection writes. When
    ``source`` has a read transaction open, the copy is of that transaction's snapshot
    (SQLite's backup.c reads through the source's open transaction).
    """
    target = sqlite3.connect(path)
    try:
        source.backup(target, pages=-1)
        # One file, readable without its -wal beside it.
        target.execute("PRAGMA journal_mode=DELETE")
        problem = target.execute("PRAGMA quick_check").fetchone()[0]
        if problem != "ok":
            raise BackupError(f"The backup's copy failed SQLite's check: {problem}")
    finally:
        target.close()


def backup_postgresql(engine: Engine, path: Path, *, snapshot: str | None = None) -> None:
    """Dump the database with ``pg_dump --format=custom`` to ``path``.

    ``snapshot`` names a snapshot exported by ``pg_export_snapshot()`` in a transaction
    still open: the dump then reads exactly what that transaction reads.
    """
    args = [_pg_program(engine, "pg_dump"), "--format=custom", "--no-owner", "--file", str(path)]
    if snapshot is not None:
        args.append(f"--snapshot={snapshot}")
    _run(args, engine.url)


# -- restoring one ------------------------------------------------------------------------------


def backup_revision(engine: Engine, path: Path) -> str | None:
    """The schema revision (Alembic's) the backup at ``path`` was taken at."""
    if not path.is_file():
        raise BackupError(f"There is no backup at {path}.")
    if is_sqlite(engine):
        try:
            with _sqlite_read(path) as conn:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} is not a SQLite backup of the portal ({exc}).") from exc
        return row[0] if row else None
    script = _run(
        [
            _pg_program(engine, "pg_restore"),
            "--data-only",
            "--table=alembic_version",
            "--file=-",
            str(path),
        ],
        engine.url,
        what="read the backup",
    )
    # The data is a COPY block: "COPY public.alembic_version (version_num) FROM stdin;",
    # the rows, then "\.".
    match = re.search(r"^COPY [^\n]*alembic_version[^\n]*\n(.*?)^\\\.$", script, re.M | re.S)
    rows = match.group(1).split() if match else []
    return rows[0] if rows else None


def restore(engine: Engine, path: Path) -> Restored:
    """Replace the database's contents with the backup at ``path``, then migrate it to the
    newest schema this release knows; refuse a backup or database from a newer release."""
    revision = backup_revision(engine, path)
    _refuse_unknown(revision, f"The backup at {path}")
    _refuse_unknown(migrations.current_revision(engine), "The database")
    if is_sqlite(engine):
        restore_sqlite(engine, path)
    else:
        restore_postgresql(engine, path)
    engine.dispose()  # pooled connections may hold the replaced database's schema cached
    migrations.upgrade(engine)
    after = migrations.current_revision(engine)
    return Restored(revision, after if after != revision else None)


def restore_sqlite(engine: Engine, path: Path) -> None:
    """Copy the backup over the live database through SQLite's backup API.

    The API writes under the database's own lock, so another process that has it open
    sees the restored database, never a file swapped under its feet.
    """
    with _sqlite_read(path) as source:
        problem = source.execute("PRAGMA quick_check").fetchone()[0]
        if problem != "ok":
            raise BackupError(f"The backup at {path} is damaged (nothing changed): {problem}")
        target = sqlite3.connect(_sqlite_file(engine), timeout=30)
        try:
            source.backup(target, pages=-1)
        finally:
            target.close()


def restore_postgresql(engine: Engine, path: Path) -> None:
    """Drop the schema and load the dump in one transaction: all of it, or nothing.

    ``pg_restore --clean`` would drop only what the dump holds, leaving a table that a
    later migration made; so the schema is emptied first, in the same ``psql`` transaction
    that loads the dump, committed only once all of it loaded (a failure anywhere, or a
    truncated backup, leaves the database as it was).
    """
    restore_args = [_pg_program(engine, "pg_restore"), "--no-owner", "--file=-", str(path)]
    psql_args = [
        _pg_program(engine, "psql"),
        "--no-psqlrc",
        "--quiet",
        "--set=ON_ERROR_STOP=1",
        "--file=-",
    ]
    env = pg_environment(engine.url)
    with (
        tempfile.TemporaryFile() as dump_errors,
        tempfile.TemporaryFile() as psql_errors,
        subprocess.Popen(  # noqa: S603 (a fixed program; the URL travels in the environment)
            psql_args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_errors, env=env
        ) as psql,
        subprocess.Popen(  # noqa: S603
            restore_args, stdout=subprocess.PIPE, stderr=dump_errors, env=env
        ) as dump,
    ):
        assert psql.stdin is not None and dump.stdout is not None
        try:
            psql.stdin.write(b"BEGIN;\nDROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n")
            shutil.copyfileobj(dump.stdout, psql.stdin)
            # Committed only when the whole dump was read: a backup that breaks off part way
            # ends psql's input inside the transaction, which the server then rolls back.
            if dump.wait() == 0:
                psql.stdin.write(b"COMMIT;\n")
            psql.stdin.close()
        except BrokenPipeError:  # psql stopped at an error (its message says which)
            dump.kill()
        psql.wait()
        dump.wait()
        if dump.returncode != 0 and psql.returncode == 0:
            raise BackupError(f"Could not read the backup: {_tail(_read(dump_errors))}")
        if psql.returncode != 0:
            raise BackupError(
                f"Could not restore the backup (nothing changed): {_tail(_read(psql_errors))}"
            )


def _read(file: IO[bytes]) -> bytes:
    file.seek(0)
    return file.read()


def _refuse_unknown(revision: str | None, whose: str) -> None:
    """Refuse a schema revision this release's migrations do not know (a newer release's)."""
    if revision is not None and not migrations.is_known_revision(revision):
        raise BackupError(
            f"{whose} has schema revision {revision}, which this release of the portal does "
            "not know: it comes from a newer release. Restore with that release."
        )


# -- PostgreSQL's programs ----------------------------------------------------------------------


def pg_environment(url: URL) -> dict[str, str]:
    """The libpq environment naming ``url``'s server, database, user and password."""
    env = dict(os.environ)
    values = {
        "PGHOST": url.host,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
        "PGSSLMODE": url.query.get("sslmode"),
        "PGSSLROOTCERT": url.query.get("sslrootcert"),
        "PGOPTIONS": url.query.get("options"),
    }
    for name, value in values.items():
        if isinstance(value, str) and value:
            env[name] = value
    return env


def _pg_program(engine: Engine, name: str) -> str:
    """``name`` from the server's major version (an older pg_dump refuses a newer server),
    else the one on the PATH (Debian's wrapper picks the newest installed)."""
    with engine.connect() as conn:
        major = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    for folder in (os.environ.get("PORTAL_PG_BIN"), f"/usr/lib/postgresql/{major}/bin"):
        if folder and (Path(folder) / name).is_file():
            return str(Path(folder) / name)
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed: install PostgreSQL's client programs "
            f"(Debian: postgresql-client-{major})."
        )
    return found


def _run(args: list[str], url: URL, *, what: str = "back up the database") -> str:
    """Run a PostgreSQL program against ``url``; its standard output."""
    done = subprocess.run(  # noqa: S603 (a fixed program; the URL travels in the environment)
        args, env=pg_environment(url), capture_output=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"Could not {what}: {_tail(done.stderr)}")
    return done.stdout.decode(errors="replace")


def _tail(errors: bytes) -> str:
    return errors.decode(errors="replace").strip()[-500:] or "no message"


# -- files --------------------------------------------------------------------------------------


def _sqlite_file(engine: Engine) -> str:
    database = make_url(str(engine.url)).database
    if not database or database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    return database


@contextmanager
def _sqlite_read(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the SQLite file at ``path``."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def _written_in_place(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path``, renamed to it once the block succeeds, so ``path``
    never holds half a backup."""
    path = path.resolve()
    if path.is_dir():
        raise BackupError(f"{path} is a folder: name the backup's file.")
    if not path.parent.is_dir():
        raise BackupError(f"There is no folder {path.parent}.")
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    partial = Path(name)
    partial.unlink()
    try:
        yield partial
        os.chmod(partial, 0o600)  # it holds every member's personal data
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def instance_files(instance_path: Path) -> list[Path]:
    """What the instance folder holds that a database backup does not and that must be kept."""
    found = [instance_path / "secret_key", instance_path / "uploads"]
    return [item for item in found if item.exists()]
