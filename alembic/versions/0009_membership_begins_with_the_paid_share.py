"""Membership begins when the membership share is paid (rule 8.1).

An approved application waits in ``awaiting_share`` for its admission order: an order that
names the application (the member is set when it is paid) for the membership share and
the class's first annual fee (``fee_minor``).

Existing data is migrated honestly: someone admitted under the old flow whose membership
share was never paid, and who holds nothing and did nothing else as a member, was not a
member by the rules; they go back to an approved application awaiting that payment, with
the same order. Their member number stays retired (numbers are never reused).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OLD_STATES = (
    "draft",
    "submitted",
    "needs_info",
    "awaiting_second",
    "approved",
    "rejected",
    "withdrawn",
)
NEW_STATES = (*OLD_STATES[:4], "awaiting_share", *OLD_STATES[4:])
OLD_OPEN = "state IN ('draft', 'submitted', 'needs_info', 'awaiting_second')"
NEW_OPEN = "state IN ('draft', 'submitted', 'needs_info', 'awaiting_second', 'awaiting_share')"


def _states(states: tuple[str, ...]) -> str:
    return "state IN ({})".format(", ".join(f"'{s}'" for s in states))


def _open_index(where: str) -> None:
    op.create_index(
        "uq_applications_open",
        "applications",
        ["user_id", "class_id"],
        unique=True,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    op.drop_index("uq_applications_open", table_name="applications")
    with op.batch_alter_table("applications") as batch_op:
        batch_op.drop_constraint(op.f("ck_applications_application_state"), type_="check")
        batch_op.create_check_constraint("application_state", sa.text(_states(NEW_STATES)))
    _open_index(NEW_OPEN)

    with op.batch_alter_table("share_orders") as batch_op:
        batch_op.alter_column("member_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("application_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("fee_minor", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_foreign_key(
            "fk_share_orders_application_id_applications",
            "applications",
            ["application_id"],
            ["id"],
        )
        batch_op.create_check_constraint("fee_not_negative", sa.text("fee_minor >= 0"))
        batch_op.create_check_constraint(
            "member_or_application",
            sa.text("member_id IS NOT NULL OR application_id IS NOT NULL"),
        )
        batch_op.create_index("ix_share_orders_application_id", ["application_id"])
    _unadmit_unpaid_members()


def _unadmit_unpaid_members() -> None:
    """Turn back into applicants the members whose membership share was never paid."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            """
            SELECT m.id AS member_id, o.id AS order_id, a.id AS application_id
            FROM members m
            JOIN share_orders o ON o.member_id = m.id AND o.state = 'pending_payment'
            JOIN share_types t ON t.id = o.share_type_id AND t.voting
            JOIN applications a ON a.member_id = m.id AND a.state = 'approved'
            WHERE m.status != 'ceased'
              AND NOT EXISTS (SELECT 1 FROM share_ledger l WHERE l.member_id = m.id)
              AND NOT EXISTS (
                SELECT 1 FROM share_orders other
                WHERE other.member_id = m.id AND other.id != o.id
              )
              AND NOT EXISTS (SELECT 1 FROM resignations r WHERE r.member_id = m.id)
              AND NOT EXISTS (SELECT 1 FROM share_withdrawals w WHERE w.member_id = m.id)
              AND NOT EXISTS (
                SELECT 1 FROM share_transfers x
                WHERE x.from_member_id = m.id OR x.to_member_id = m.id
              )
              AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.member_id = m.id)
              AND (SELECT count(*) FROM applications b WHERE b.member_id = m.id) = 1
            """
        )
    ).all()
    for member_id, order_id, application_id in rows:
        params = {"m": member_id, "o": order_id, "a": application_id}
        bind.execute(
            sa.text("UPDATE share_orders SET member_id = NULL, application_id = :a WHERE id = :o"),
            params,
        )
        bind.execute(
            sa.text(
                "UPDATE applications SET state = 'awaiting_share', member_id = NULL WHERE id = :a"
            ),
            params,
        )
        # The table names are the two constants above; the member id is bound.
        for table in ("class_memberships", "member_status_changes"):
            sql = f"DELETE FROM {table} WHERE member_id = :m"  # noqa: S608  # nosec B608
            bind.execute(sa.text(sql), params)
        bind.execute(sa.text("DELETE FROM members WHERE id = :m"), params)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.execute(
        sa.text(
            "SELECT 1 FROM share_orders WHERE member_id IS NULL "
            "UNION SELECT 1 FROM applications WHERE state = 'awaiting_share'"
        )
    ).first():
        raise RuntimeError(
            "Applicants are waiting to pay their membership share: the old schema cannot "
            "hold them. Record or cancel those payments before downgrading."
        )
    with op.batch_alter_table("share_orders") as batch_op:
        batch_op.drop_index("ix_share_orders_application_id")
        batch_op.drop_constraint(op.f("ck_share_orders_member_or_application"), type_="check")
        batch_op.drop_constraint(op.f("ck_share_orders_fee_not_negative"), type_="check")
        batch_op.drop_constraint(
            op.f("fk_share_orders_application_id_applications"), type_="foreignkey"
        )
        batch_op.drop_column("fee_minor")
        batch_op.drop_column("application_id")
        batch_op.alter_column("member_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index("uq_applications_open", table_name="applications")
    with op.batch_alter_table("applications") as batch_op:
        batch_op.drop_constraint(op.f("ck_applications_application_state"), type_="check")
        batch_op.create_check_constraint("application_state", sa.text(_states(OLD_STATES)))
    _open_index(OLD_OPEN)
