"""Shares: share types and the append-only share ledger (the register of shares).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "share_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("par_value_minor", sa.Integer(), nullable=False),
        sa.Column("voting", sa.Boolean(), nullable=False),
        sa.Column("min_quantity", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("max_quantity", sa.Integer(), nullable=True),
        sa.Column("transferable", sa.Boolean(), nullable=False),
        sa.Column("withdrawable", sa.Boolean(), nullable=False),
        sa.Column("cancelled_on_ceasing", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "max_quantity IS NULL OR max_quantity >= min_quantity",
            name=op.f("ck_share_types_max_above_min"),
        ),
        sa.CheckConstraint(
            "min_quantity >= 1 AND step >= 1", name=op.f("ck_share_types_quantities_positive")
        ),
        sa.CheckConstraint("par_value_minor > 0", name=op.f("ck_share_types_par_value_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_types")),
        sa.UniqueConstraint("code", name=op.f("uq_share_types_code")),
    )
    op.create_table(
        "share_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "issue",
                "redeem",
                "transfer_in",
                "transfer_out",
                "cancel",
                name="ledger_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("share_type_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_share_ledger_quantity_positive")),
        sa.CheckConstraint(
            "unit_price_minor >= 0", name=op.f("ck_share_ledger_unit_price_positive")
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_share_ledger_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_share_ledger_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["share_type_id"],
            ["share_types.id"],
            name=op.f("fk_share_ledger_share_type_id_share_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_ledger")),
        sa.UniqueConstraint("hash", name=op.f("uq_share_ledger_hash")),
        sa.UniqueConstraint("seq", name=op.f("uq_share_ledger_seq")),
    )
    with op.batch_alter_table("share_ledger", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_share_ledger_at"), ["at"], unique=False)
        batch_op.create_index(
            "ix_share_ledger_member_type", ["member_id", "share_type_id"], unique=False
        )

    # The register is append-only: the database itself refuses to change a row.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION share_ledger_is_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'share ledger rows cannot be changed or deleted'; END "
            "$$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER share_ledger_append_only BEFORE UPDATE OR DELETE ON share_ledger "
            "FOR EACH ROW EXECUTE FUNCTION share_ledger_is_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER share_ledger_no_{event.lower()} BEFORE {event} ON share_ledger "
                "BEGIN SELECT RAISE(ABORT, 'share ledger rows cannot be changed or deleted'); "
                "END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER share_ledger_append_only ON share_ledger")
        op.execute("DROP FUNCTION share_ledger_is_append_only()")
    else:
        op.execute("DROP TRIGGER share_ledger_no_update")
        op.execute("DROP TRIGGER share_ledger_no_delete")
    with op.batch_alter_table("share_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_share_ledger_member_type")
        batch_op.drop_index(batch_op.f("ix_share_ledger_at"))

    op.drop_table("share_ledger")
    op.drop_table("share_types")
