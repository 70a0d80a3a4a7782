"""Bank details for share payments and the signatories' names.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = (
    ("first_signatory_name", 120),
    ("second_signatory_name", 120),
    ("bank_account_name", 120),
    ("bank_iban", 34),
    ("bank_bic", 11),
)


def upgrade() -> None:
    with op.batch_alter_table("coop_settings") as batch_op:
        for name, length in COLUMNS:
            batch_op.add_column(
                sa.Column(name, sa.String(length=length), nullable=False, server_default="")
            )
    with op.batch_alter_table("coop_settings") as batch_op:
        for name, _ in COLUMNS:
            batch_op.alter_column(name, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("coop_settings") as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
