"""Meeting minutes: staff's draft and the document it becomes; the resolution that
approved a document version.

``document_versions`` gains ``approved_by_resolution_id``. Its rows may never change (a
trigger refuses UPDATE and DELETE), and SQLite adds a column with a foreign key only by
copying the table, which drops the triggers: so on SQLite they are made again after it.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

FK_NAME = "fk_document_versions_approved_by_resolution_id_resolutions"


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


def upgrade() -> None:
    op.create_table(
        "meeting_minutes",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("chair", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_by_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_meeting_minutes_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_minutes_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["saved_by_id"],
            ["users.id"],
            name=op.f("fk_meeting_minutes_saved_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("meeting_id", name=op.f("pk_meeting_minutes")),
        sa.UniqueConstraint("document_id", name=op.f("uq_meeting_minutes_document_id")),
    )

    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _sqlite_immutability(create=False)
    with op.batch_alter_table("document_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approved_by_resolution_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f(FK_NAME), "resolutions", ["approved_by_resolution_id"], ["id"]
        )
    if sqlite:
        _sqlite_immutability(create=True)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _sqlite_immutability(create=False)
    with op.batch_alter_table("document_versions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(FK_NAME), type_="foreignkey")
        batch_op.drop_column("approved_by_resolution_id")
    if sqlite:
        _sqlite_immutability(create=True)

    op.drop_table("meeting_minutes")
