"""The register by member class: ``class_days`` (each class's net change per day in the
co-op's zone, per share type, in shares held by its members, holders and members holding
any share), kept beside the ledger by ``ledger.append`` and by the services that begin or
end a class membership, and filled here from the rows and memberships that exist by the
app's own ``services.register.class_days.rebuild`` (imported as ``env.py`` imports the
models: the days must be what the app keeps). ``ledger_days`` is filled again in time
order (``ledger.append`` now keeps it so when a row is dated before a later day's rows).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06
"""

from __future__ import annotations

import os

import sqlalchemy as sa

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "class_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("share_type_id", sa.Integer(), nullable=False),
        sa.Column("net_quantity", sa.Integer(), nullable=False),
        sa.Column("net_holders", sa.Integer(), nullable=False),
        sa.Column("net_members", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"], ["member_classes.id"], name=op.f("fk_class_days_class_id_member_classes")
        ),
        sa.ForeignKeyConstraint(
            ["share_type_id"],
            ["share_types.id"],
            name=op.f("fk_class_days_share_type_id_share_types"),
        ),
        sa.PrimaryKeyConstraint("day", "class_id", "share_type_id", name=op.f("pk_class_days")),
    )
    from portal.coop import Clock
    from portal.services.register import class_days
    from portal.services.shares import ledger

    bind = op.get_bind()
    zone = bind.execute(sa.text("SELECT timezone FROM coop_settings WHERE id = 1")).scalar()
    clock = Clock.named(zone or os.environ.get("COOP_TIMEZONE") or "Europe/Dublin")
    ledger.rebuild_ledger_days(bind, clock)
    class_days.rebuild(bind, clock)


def downgrade() -> None:
    op.drop_table("class_days")
