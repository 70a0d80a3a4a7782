"""Rendered documents: a Markdown version keeps its HTML, made once when it is published.

``document_versions`` gains ``body_html``, filled for every Markdown version that exists
by the app's own renderer (``services.documents.publishing.rendered_body``, imported here
as ``env.py`` imports the models: the HTML must be what publishing makes today). The rows
may never change (a trigger refuses UPDATE and DELETE), so the backfill sets the triggers
aside for its one UPDATE per version and puts them back; SQLite adds the CHECK constraint
only by copying the table, which drops its triggers: they are made again after it (as
0017 does).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

CHECK = "html_with_markdown"
BATCH = 200


def _sqlite_immutability(create: bool) -> None:
    """The SQLite triggers that keep published versions unchanged (as 0007 made them)."""
    for event in ("UPDATE", "DELETE"):
        if create:
            op.execute(
                f"CREATE TRIGGER document_versions_no_{event.lower()} BEFORE {event} "
                "ON document_versions BEGIN SELECT RAISE(ABORT, "
                "'published document versions cannot be changed or deleted'); END"
            )
        else:
            op.execute(f"DROP TRIGGER document_versions_no_{event.lower()}")


def _postgresql_immutability(enable: bool) -> None:
    verb = "ENABLE" if enable else "DISABLE"
    op.execute(f"ALTER TABLE document_versions {verb} TRIGGER document_versions_immutable")


def _backfill() -> None:
    """Render every Markdown version's body as publishing does, a batch at a time."""
    from portal.services.documents.publishing import rendered_body

    bind = op.get_bind()
    versions = sa.table(
        "document_versions",
        sa.column("id", sa.Integer()),
        sa.column("document_id", sa.Integer()),
        sa.column("body", sa.Text()),
        sa.column("body_html", sa.Text()),
    )
    documents = sa.table("documents", sa.column("id", sa.Integer()), sa.column("title"))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(versions.c.id, versions.c.body, documents.c.title)
            .join(documents, documents.c.id == versions.c.document_id)
            .where(versions.c.body.is_not(None), versions.c.id > last)
            .order_by(versions.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            versions.update()
            .where(versions.c.id == sa.bindparam("version_id"))
            .values(body_html=sa.bindparam("html")),
            [{"version_id": row.id, "html": rendered_body(row.title, row.body)} for row in rows],
        )
        last = rows[-1].id


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _sqlite_immutability(create=False)
    else:
        _postgresql_immutability(enable=False)
    op.add_column("document_versions", sa.Column("body_html", sa.Text(), nullable=True))
    _backfill()
    with op.batch_alter_table("document_versions", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f(f"ck_document_versions_{CHECK}"),
            "(format = 'markdown' AND body_html IS NOT NULL) OR "
            "(format = 'pdf' AND body_html IS NULL)",
        )
    if sqlite:
        _sqlite_immutability(create=True)
    else:
        _postgresql_immutability(enable=True)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _sqlite_immutability(create=False)
    with op.batch_alter_table("document_versions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_document_versions_{CHECK}"), type_="check")
        batch_op.drop_column("body_html")
    if sqlite:
        _sqlite_immutability(create=True)
