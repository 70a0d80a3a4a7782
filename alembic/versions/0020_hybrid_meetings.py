"""Hybrid meetings: attendance, shows of hands, and the channel each vote came by.

``attendances`` (a member present at a meeting, by voting class); ``hand_counts`` (the
tellers' For/Against/Abstain per class on an open resolution); ``participations`` and
secret ``ballots`` gain ``channel`` (online, in_room, postal; online by default), and
their count indexes gain it so counts per channel still read from the index alone.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

CHANNELS = ("online", "in_room", "postal")


def _channel() -> sa.Column:
    return sa.Column(
        "channel",
        sa.Enum(
            *CHANNELS,
            name="channel",
            native_enum=False,
            create_constraint=True,
            length=max(len(v) for v in CHANNELS) + 8,
        ),
        server_default="online",
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "attendances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"], ["member_classes.id"], name=op.f("fk_attendances_class_id_member_classes")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_attendances_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_attendances_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_attendances_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendances")),
        sa.UniqueConstraint("meeting_id", "member_id", name="uq_attendances_member"),
    )
    op.create_index("ix_attendances_counts", "attendances", ["meeting_id", "class_id"])
    op.create_index(op.f("ix_attendances_member_id"), "attendances", ["member_id"])
    op.create_table(
        "hand_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resolution_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("votes_for", sa.Integer(), nullable=False),
        sa.Column("against", sa.Integer(), nullable=False),
        sa.Column("abstain", sa.Integer(), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "votes_for >= 0 AND against >= 0 AND abstain >= 0",
            name=op.f("ck_hand_counts_counts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["class_id"], ["member_classes.id"], name=op.f("fk_hand_counts_class_id_member_classes")
        ),
        sa.ForeignKeyConstraint(
            ["entered_by_id"],
            ["users.id"],
            name=op.f("fk_hand_counts_entered_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resolution_id"],
            ["resolutions.id"],
            name=op.f("fk_hand_counts_resolution_id_resolutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hand_counts")),
        sa.UniqueConstraint("resolution_id", "class_id", name="uq_hand_counts_class"),
    )
    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.add_column(_channel())
        batch_op.drop_index("ix_participations_counts")
        batch_op.create_index(
            "ix_participations_counts",
            ["resolution_id", "class_id", "channel", "choice", "proxy_id"],
        )
    # SQLite copies the table to add a checked column: keep it WITHOUT ROWID.
    with op.batch_alter_table("ballots", table_kwargs={"sqlite_with_rowid": False}) as batch_op:
        batch_op.add_column(_channel())
        batch_op.drop_index("ix_ballots_counts")
        batch_op.create_index(
            "ix_ballots_counts", ["resolution_id", "class_id", "channel", "choice"]
        )


def downgrade() -> None:
    with op.batch_alter_table("ballots", table_kwargs={"sqlite_with_rowid": False}) as batch_op:
        batch_op.drop_index("ix_ballots_counts")
        batch_op.create_index("ix_ballots_counts", ["resolution_id", "class_id", "choice"])
        batch_op.drop_constraint(op.f("ck_ballots_channel"), type_="check")
        batch_op.drop_column("channel")
    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.drop_index("ix_participations_counts")
        batch_op.create_index("ix_participations_counts", ["resolution_id", "class_id", "choice"])
        batch_op.drop_constraint(op.f("ck_participations_channel"), type_="check")
        batch_op.drop_column("channel")
    op.drop_table("hand_counts")
    op.drop_index(op.f("ix_attendances_member_id"), table_name="attendances")
    op.drop_index("ix_attendances_counts", table_name="attendances")
    op.drop_table("attendances")
