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
    with op.batch_alter_table("members") as batch_op:
        batch_op.add_column(
            sa.Column("name_on_verify", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("members") as batch_op:
        batch_op.alter_column("name_on_verify", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("members") as batch_op:
        batch_op.drop_column("name_on_verify")
