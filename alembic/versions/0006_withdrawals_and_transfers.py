"""Share withdrawals (board decision, repayment) and transfers between members.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "share_transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_member_id", sa.Integer(), nullable=False),
        sa.Column("to_member_id", sa.Integer(), nullable=False),
        sa.Column("share_type_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("decision_reference", sa.String(length=120), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "from_member_id <> to_member_id", name=op.f("ck_share_transfers_different_members")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_share_transfers_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["from_member_id"],
            ["members.id"],
            name=op.f("fk_share_transfers_from_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_share_transfers_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["share_type_id"],
            ["share_types.id"],
            name=op.f("fk_share_transfers_share_type_id_share_types"),
        ),
        sa.ForeignKeyConstraint(
            ["to_member_id"], ["members.id"], name=op.f("fk_share_transfers_to_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_transfers")),
    )
    with op.batch_alter_table("share_transfers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_share_transfers_from_member_id"), ["from_member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_share_transfers_to_member_id"), ["to_member_id"], unique=False
        )

    op.create_table(
        "share_withdrawals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("share_type_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "requested",
                "approved",
                "repaid",
                "rejected",
                "cancelled",
                name="withdrawal_state",
                native_enum=False,
                create_constraint=True,
                length=17,
            ),
            nullable=False,
        ),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decision_reference", sa.String(length=120), nullable=False),
        sa.Column("decision_note", sa.String(length=500), nullable=False),
        sa.Column("repaid_on", sa.Date(), nullable=True),
        sa.Column("repayment_method", sa.String(length=30), nullable=True),
        sa.Column("repayment_reference", sa.String(length=120), nullable=True),
        sa.Column("repaid_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_share_withdrawals_amount_positive")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_share_withdrawals_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_share_withdrawals_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_share_withdrawals_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["repaid_by_id"],
            ["users.id"],
            name=op.f("fk_share_withdrawals_repaid_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_share_withdrawals_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["share_type_id"],
            ["share_types.id"],
            name=op.f("fk_share_withdrawals_share_type_id_share_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_withdrawals")),
    )
    with op.batch_alter_table("share_withdrawals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_share_withdrawals_member_id"), ["member_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("share_withdrawals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_withdrawals_member_id"))

    op.drop_table("share_withdrawals")
    with op.batch_alter_table("share_transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_transfers_to_member_id"))
        batch_op.drop_index(batch_op.f("ix_share_transfers_from_member_id"))

    op.drop_table("share_transfers")
