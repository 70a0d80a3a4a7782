"""The register at scale: ``holdings`` (each member's shares of each type now) and
``ledger_days`` (each share type's net change per day in the co-op's zone, in shares,
holders and members holding any share), kept beside the
ledger by ``ledger.append`` and filled here from the rows that exist; the ledger's index by
member and type gains the row's time (a holding as of a day reads one range of it).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

# A ledger row's signed quantity (as ``LEDGER_SIGN``): each holding and day is a sum of them.
HOLDINGS = (
    "INSERT INTO holdings (member_id, share_type_id, quantity) "
    "SELECT member_id, share_type_id, SUM(CASE WHEN kind IN ('issue', 'transfer_in') "
    "THEN quantity ELSE -quantity END) FROM share_ledger GROUP BY member_id, share_type_id"
)
ROWS = (
    "SELECT at, member_id, share_type_id, CASE WHEN kind IN ('issue', 'transfer_in') "
    "THEN quantity ELSE -quantity END AS q FROM share_ledger ORDER BY seq"
)


def upgrade() -> None:
    op.create_table(
        "holdings",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("share_type_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_holdings_quantity_not_negative")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_holdings_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["share_type_id"],
            ["share_types.id"],
            name=op.f("fk_holdings_share_type_id_share_types"),
        ),
        sa.PrimaryKeyConstraint("member_id", "share_type_id", name=op.f("pk_holdings")),
    )
    op.create_table(
        "ledger_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("share_type_id", sa.Integer(), nullable=False),
        sa.Column("net_quantity", sa.Integer(), nullable=False),
        sa.Column("net_holders", sa.Integer(), nullable=False),
        sa.Column("net_members", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["share_type_id"],
            ["share_types.id"],
            name=op.f("fk_ledger_days_share_type_id_share_types"),
        ),
        sa.PrimaryKeyConstraint("day", "share_type_id", name=op.f("pk_ledger_days")),
    )
    with op.batch_alter_table("share_ledger", schema=None) as batch_op:
        batch_op.create_index(
            "ix_share_ledger_member_type_at", ["member_id", "share_type_id", "at"], unique=False
        )
        batch_op.drop_index("ix_share_ledger_member_type")

    bind = op.get_bind()
    bind.execute(sa.text(HOLDINGS))
    _fill_days(bind)


def _became(before: int, signed: int) -> int:
    """How the number of holders moves when a holding of ``before`` moves by ``signed``."""
    return int(before + signed > 0) - int(before > 0)


def _fill_days(bind: sa.Connection) -> None:
    """Each row's day in the co-op's zone (the stored settings', else the configuration's),
    the rows walked in order to see each holding and member start and stop holding."""
    zone = bind.execute(sa.text("SELECT timezone FROM coop_settings WHERE id = 1")).scalar()
    zone = ZoneInfo(zone or os.environ.get("COOP_TIMEZONE") or "Europe/Dublin")
    days: dict[tuple[date, int], tuple[int, int, int]] = {}
    holdings: dict[tuple[int, int], int] = defaultdict(int)
    members: dict[int, int] = defaultdict(int)
    seen: dict[tuple[int, int, int, int, int], date] = {}
    rows = bind.execute(
        sa.text(ROWS)
        .columns(
            sa.column("at", sa.DateTime(timezone=True)),
            sa.column("member_id"),
            sa.column("share_type_id"),
            sa.column("q"),
        )
        .execution_options(yield_per=5000)
    )
    for at, member_id, type_id, signed in rows:
        if isinstance(at, str):
            at = datetime.fromisoformat(at)
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        key = (at.year, at.month, at.day, at.hour, at.minute // 15)
        day = seen.get(key)
        if day is None:
            day = seen[key] = at.astimezone(zone).date()
        held, member_held = holdings[member_id, type_id], members[member_id]
        holdings[member_id, type_id] = held + signed
        members[member_id] = member_held + signed
        q, h, m = days.get((day, type_id), (0, 0, 0))
        days[day, type_id] = (
            q + signed,
            h + _became(held, signed),
            m + _became(member_held, signed),
        )
    if days:
        bind.execute(
            sa.text(
                "INSERT INTO ledger_days (day, share_type_id, net_quantity, net_holders, "
                "net_members) VALUES (:d, :t, :q, :h, :m)"
            ),
            [{"d": d, "t": t, "q": q, "h": h, "m": m} for (d, t), (q, h, m) in days.items()],
        )


def downgrade() -> None:
    with op.batch_alter_table("share_ledger", schema=None) as batch_op:
        batch_op.create_index(
            "ix_share_ledger_member_type", ["member_id", "share_type_id"], unique=False
        )
        batch_op.drop_index("ix_share_ledger_member_type_at")
    op.drop_table("ledger_days")
    op.drop_table("holdings")
