"""Members choose whether a certificate check shows their full name.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch (table copy) would drop ``members``, which SQLite refuses
    # while other tables' foreign keys point at its rows. The default stays for that reason.
    op.add_column(
        "members",
        sa.Column("name_on_verify", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("members") as batch_op:
        batch_op.drop_column("name_on_verify")
