"""A meeting in session: its session state and times, the agenda item it is on, and the
item each resolution voted on in session was put under.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "session_state",
                sa.Enum(
                    "pending",
                    "in_session",
                    "ended",
                    name="session_state",
                    native_enum=False,
                    create_constraint=True,
                    length=18,
                ),
                server_default="pending",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("in_session_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("session_ended_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("current_item_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_meetings_current_item_id_agenda_items"),
            "agenda_items",
            ["current_item_id"],
            ["id"],
            ondelete="SET NULL",
            use_alter=True,
        )
    with op.batch_alter_table("resolutions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agenda_item_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_resolutions_agenda_item_id_agenda_items"),
            "agenda_items",
            ["agenda_item_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("resolutions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_resolutions_agenda_item_id_agenda_items"), type_="foreignkey"
        )
        batch_op.drop_column("agenda_item_id")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_meetings_current_item_id_agenda_items"), type_="foreignkey"
        )
        batch_op.drop_column("current_item_id")
        batch_op.drop_column("session_ended_at")
        batch_op.drop_column("in_session_at")
        batch_op.drop_constraint(batch_op.f("ck_meetings_session_state"), type_="check")
        batch_op.drop_column("session_state")
