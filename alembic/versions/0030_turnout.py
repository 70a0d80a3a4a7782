"""Turnout kept as votes are written, and the roll's counts per class kept as it is frozen
(issue 16 §3, §5).

``roll_classes`` holds, for each meeting and class on its frozen roll, the class's weight,
the members voting in it as their primary class and all its members (who vote on a class
resolution). Turnout, quorum and the count read these few rows instead of counting the
roll (which never changes once frozen). ``turnout_counts`` holds how many members have
voted on each resolution in each class, added to in the transaction writing each
participation. Both are backfilled by one grouped INSERT … SELECT each.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0030"
down_revision = "0029"
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
    op.create_table(
        "turnout_counts",
        sa.Column("resolution_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("voted", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["member_classes.id"],
            name=op.f("fk_turnout_counts_class_id_member_classes"),
        ),
        sa.ForeignKeyConstraint(
            ["resolution_id"],
            ["resolutions.id"],
            name=op.f("fk_turnout_counts_resolution_id_resolutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resolution_id", "class_id", name=op.f("pk_turnout_counts")),
    )
    op.execute(
        "INSERT INTO turnout_counts (resolution_id, class_id, voted) "
        "SELECT resolution_id, class_id, count(*) FROM participations "
        "GROUP BY resolution_id, class_id"
    )
    op.execute(
        "INSERT INTO roll_classes (meeting_id, class_id, weight, voters, members) "
        "SELECT meeting_id, class_id, max(weight), "
        "sum(CASE WHEN is_primary THEN 1 ELSE 0 END), count(*) "
        "FROM roll_entries GROUP BY meeting_id, class_id ORDER BY meeting_id, class_id"
    )


def downgrade() -> None:
    op.drop_table("turnout_counts")
    op.drop_table("roll_classes")
