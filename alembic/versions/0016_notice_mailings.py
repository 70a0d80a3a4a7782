"""Notice mailings: a mailing per noticed meeting and a delivery row per recipient.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_mailings",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_batch_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_notice_mailings_document_id_documents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_notice_mailings_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("meeting_id", name=op.f("pk_notice_mailings")),
    )
    op.create_table(
        "notice_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "sending",
                "sent",
                "failed",
                name="delivery_state",
                native_enum=False,
                create_constraint=True,
                length=15,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.CheckConstraint(
            "(state = 'sent') = (sent_at IS NOT NULL)",
            name=op.f("ck_notice_deliveries_sent_has_time"),
        ),
        sa.CheckConstraint(
            "attempts >= 0", name=op.f("ck_notice_deliveries_attempts_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["notice_mailings.meeting_id"],
            name=op.f("fk_notice_deliveries_meeting_id_notice_mailings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_notice_deliveries_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_deliveries")),
        sa.UniqueConstraint("meeting_id", "member_id", name="uq_notice_deliveries_member"),
    )
    op.create_index(
        "ix_notice_deliveries_batch", "notice_deliveries", ["meeting_id", "state", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_notice_deliveries_batch", table_name="notice_deliveries")
    op.drop_table("notice_deliveries")
    op.drop_table("notice_mailings")
