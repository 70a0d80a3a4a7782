"""Indexes for staff finding orders: by state and age (paged by key), and an order's
certificate.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_share_orders_state_created", "share_orders", ["state", "created_at", "id"])
    op.create_index("ix_certificates_order_id", "certificates", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_certificates_order_id", table_name="certificates")
    op.drop_index("ix_share_orders_state_created", table_name="share_orders")
