"""A staff account may carry the title of its office ("Secretary"), shown for its role.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch (table copy) would drop ``users``, which SQLite refuses
    # while other tables' foreign keys point at its rows.
    op.add_column("users", sa.Column("title", sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("title")
