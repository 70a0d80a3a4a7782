"""Register exports: the register of shares as a PDF rendered in the background.

``register_exports`` holds each PDF staff asked for (its filters, state and progress);
``register_export_parts`` its rendered chunks and then the finished file, a megabyte a
row. Both start empty: there is nothing to backfill.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "register_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("share_type_id", sa.Integer(), nullable=True),
        sa.Column("member_class_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "rendering",
                "ready",
                "failed",
                name="export_state",
                native_enum=False,
                create_constraint=True,
                length=17,
            ),
            nullable=False,
        ),
        sa.Column("holders_total", sa.Integer(), nullable=True),
        sa.Column("holders_done", sa.Integer(), nullable=False),
        sa.Column("chunks_done", sa.Integer(), nullable=False),
        sa.Column("resume_after", sa.Integer(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("progressed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "holders_done >= 0 AND chunks_done >= 0",
            name=op.f("ck_register_exports_progress_not_negative"),
        ),
        sa.CheckConstraint(
            "(state = 'ready') = (pages IS NOT NULL AND size IS NOT NULL)",
            name=op.f("ck_register_exports_ready_has_file"),
        ),
        sa.CheckConstraint(
            "(state IN ('ready', 'failed')) = (finished_at IS NOT NULL)",
            name=op.f("ck_register_exports_finished"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_register_exports_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["share_type_id"],
            ["share_types.id"],
            name=op.f("fk_register_exports_share_type_id_share_types"),
        ),
        sa.ForeignKeyConstraint(
            ["member_class_id"],
            ["member_classes.id"],
            name=op.f("fk_register_exports_member_class_id_member_classes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_exports")),
    )
    op.create_index("ix_register_exports_state", "register_exports", ["state", "id"])
    op.create_table(
        "register_export_parts",
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["export_id"],
            ["register_exports.id"],
            name=op.f("fk_register_export_parts_export_id_register_exports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "export_id", "final", "number", name=op.f("pk_register_export_parts")
        ),
    )


def downgrade() -> None:
    op.drop_table("register_export_parts")
    op.drop_index("ix_register_exports_state", table_name="register_exports")
    op.drop_table("register_exports")
