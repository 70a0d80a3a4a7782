"""Staff find orders, and a member's order is placed once: indexes for paging orders by
state and age and for an order's certificate; the buy form's key, unique per member.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_share_orders_state_created", "share_orders", ["state", "created_at", "id"])
    op.create_index("ix_share_orders_created", "share_orders", ["created_at", "id"])
    op.create_index("ix_certificates_order_id", "certificates", ["order_id"])
    # A plain ADD COLUMN and a unique index: a batch (table copy) would drop ``share_orders``,
    # which SQLite refuses while certificates' foreign keys point at its rows.
    op.add_column("share_orders", sa.Column("order_key", sa.String(length=64), nullable=True))
    op.create_index(
        "uq_share_orders_member_order_key",
        "share_orders",
        ["member_id", "order_key"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_share_orders_member_order_key", table_name="share_orders")
    with op.batch_alter_table("share_orders") as batch_op:
        batch_op.drop_column("order_key")
    op.drop_index("ix_certificates_order_id", table_name="certificates")
    op.drop_index("ix_share_orders_created", table_name="share_orders")
    op.drop_index("ix_share_orders_state_created", table_name="share_orders")
