"""Bank details in each country's form, and the co-op's own payment-reference prefix.

A co-op's account is written as its banks write it: IBAN and BIC in the euro area,
institution, transit and account numbers in Canada, routing (ABA) and account numbers in
the US (``payment_form``). Orders' references start with the co-op's prefix. Existing
databases were all made when every reference began ``RVB`` and every account was an IBAN:
they keep both.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# name, length, the value existing rows take
COLUMNS = (
    ("bank_name", 120, ""),
    ("bank_institution", 3, ""),
    ("bank_transit", 5, ""),
    ("bank_routing", 9, ""),
    ("bank_account_number", 17, ""),
    ("reference_prefix", 6, "RVB"),
)
PAYMENT_FORMS = ("iban", "canada", "us")


def upgrade() -> None:
    with op.batch_alter_table("coop_settings") as batch_op:
        for name, length, existing in COLUMNS:
            batch_op.add_column(
                sa.Column(name, sa.String(length=length), nullable=False, server_default=existing)
            )
        batch_op.add_column(
            sa.Column(
                "payment_form",
                sa.Enum(
                    *PAYMENT_FORMS,
                    name="payment_form",
                    native_enum=False,
                    create_constraint=True,
                    length=14,
                ),
                nullable=False,
                server_default="iban",
            )
        )
    with op.batch_alter_table("coop_settings") as batch_op:
        for name, _, _ in COLUMNS:
            batch_op.alter_column(name, server_default=None)
        batch_op.alter_column("payment_form", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("coop_settings") as batch_op:
        batch_op.drop_constraint(op.f("ck_coop_settings_payment_form"), type_="check")
        batch_op.drop_column("payment_form")
        for name, _, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
