"""Paper proxies: an appointment says whether the member made it online or staff recorded
a signed paper form, and which staff member recorded it.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("proxy_appointments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source",
                sa.Enum(
                    "online",
                    "paper",
                    name="proxy_source",
                    native_enum=False,
                    create_constraint=True,
                    length=14,
                ),
                nullable=False,
                server_default="online",
            )
        )
        batch_op.add_column(sa.Column("recorded_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_proxy_appointments_recorded_by_id_users"),
            "users",
            ["recorded_by_id"],
            ["id"],
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_proxy_appointments_paper_recorded"),
            "(source = 'paper') = (recorded_by_id IS NOT NULL)",
        )
    with op.batch_alter_table("proxy_appointments", schema=None) as batch_op:
        batch_op.alter_column("source", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("proxy_appointments", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_proxy_appointments_paper_recorded"), type_="check")
        batch_op.drop_constraint(op.f("ck_proxy_appointments_proxy_source"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_proxy_appointments_recorded_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("recorded_by_id")
        batch_op.drop_column("source")
