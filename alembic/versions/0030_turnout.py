"""The roll's counts per class, kept as the roll is frozen (issue 16 §3, §5).

``roll_classes`` holds, for each meeting and class on its frozen roll, the class's weight,
the members voting in it as their primary class and all its members (who vote on a class
resolution). Turnout, quorum and the count read these few rows instead of counting the
roll (which never changes once frozen). Backfilled from ``roll_entries`` by one grouped
INSERT … SELECT.

Revision ID: 0030
Revises: 0026
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0030"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roll_classes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("voters", sa.Integer(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["member_classes.id"],
            name=op.f("fk_roll_classes_class_id_member_classes"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_roll_classes_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roll_classes")),
        sa.UniqueConstraint("meeting_id", "class_id", name="uq_roll_classes_class"),
    )
    op.execute(
        "INSERT INTO roll_classes (meeting_id, class_id, weight, voters, members) "
        "SELECT meeting_id, class_id, max(weight), "
        "sum(CASE WHEN is_primary THEN 1 ELSE 0 END), count(*) "
        "FROM roll_entries GROUP BY meeting_id, class_id ORDER BY meeting_id, class_id"
    )


def downgrade() -> None:
    op.drop_table("roll_classes")
