"""Members' own motions: the call for resolutions and member proposals; requisitions and
their signatures; the requisition settings (percent, signing and calling days).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "proposal_calls",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "closes_at > opens_at", name=op.f("ck_proposal_calls_closes_after_opening")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_proposal_calls_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"],
            ["users.id"],
            name=op.f("fk_proposal_calls_set_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("meeting_id", name=op.f("pk_proposal_calls")),
    )
    op.create_table(
        "requisitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "agm",
                "egm",
                "class",
                name="meeting_kind",
                native_enum=False,
                create_constraint=True,
                length=13,
            ),
            nullable=False,
        ),
        sa.Column("class_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("resolutions", sa.Text(), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sign_by", sa.Date(), nullable=False),
        sa.Column("base_members", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "collecting",
                "reached",
                "called",
                "lapsed",
                name="requisition_state",
                native_enum=False,
                create_constraint=True,
                length=18,
            ),
            nullable=False,
        ),
        sa.Column("reached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("call_by", sa.Date(), nullable=True),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("called_on", sa.Date(), nullable=True),
        sa.Column("lapsed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(kind = 'class') = (class_id IS NOT NULL)",
            name=op.f("ck_requisitions_class_requisition"),
        ),
        sa.CheckConstraint(
            "kind IN ('egm', 'class')", name=op.f("ck_requisitions_general_or_class")
        ),
        sa.CheckConstraint("threshold >= 1", name=op.f("ck_requisitions_threshold_positive")),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["member_classes.id"],
            name=op.f("fk_requisitions_class_id_member_classes"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_requisitions_meeting_id_meetings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["started_by_id"], ["members.id"], name=op.f("fk_requisitions_started_by_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requisitions")),
    )
    op.create_table(
        "member_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("proposer_id", sa.Integer(), nullable=False),
        sa.Column("seconder_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "submitted",
                "seconded",
                "accepted",
                "returned",
                name="proposal_state",
                native_enum=False,
                create_constraint=True,
                length=17,
            ),
            nullable=False,
        ),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("return_reason", sa.Text(), nullable=True),
        sa.Column("resolution_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "seconder_id <> proposer_id", name=op.f("ck_member_proposals_seconder_not_proposer")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_member_proposals_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_member_proposals_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposer_id"], ["members.id"], name=op.f("fk_member_proposals_proposer_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["resolution_id"],
            ["resolutions.id"],
            name=op.f("fk_member_proposals_resolution_id_resolutions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["seconder_id"], ["members.id"], name=op.f("fk_member_proposals_seconder_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_proposals")),
        sa.UniqueConstraint("resolution_id", name="uq_member_proposals_resolution_id"),
    )
    with op.batch_alter_table("member_proposals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_proposals_meeting_id"), ["meeting_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_member_proposals_proposer_id"), ["proposer_id"], unique=False
        )

    op.create_table(
        "requisition_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requisition_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_requisition_signatures_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["requisition_id"],
            ["requisitions.id"],
            name=op.f("fk_requisition_signatures_requisition_id_requisitions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requisition_signatures")),
        sa.UniqueConstraint("requisition_id", "member_id", name="uq_requisition_signatures_member"),
    )
    with op.batch_alter_table("requisition_signatures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_requisition_signatures_requisition_id"), ["requisition_id"], unique=False
        )

    with op.batch_alter_table("coop_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("requisition_percent", sa.Integer(), server_default="10", nullable=False)
        )
        batch_op.add_column(
            sa.Column("requisition_signing_days", sa.Integer(), server_default="28", nullable=False)
        )
        batch_op.add_column(
            sa.Column("requisition_call_days", sa.Integer(), server_default="21", nullable=False)
        )


def downgrade() -> None:

    with op.batch_alter_table("coop_settings", schema=None) as batch_op:
        batch_op.drop_column("requisition_call_days")
        batch_op.drop_column("requisition_signing_days")
        batch_op.drop_column("requisition_percent")

    with op.batch_alter_table("requisition_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_requisition_signatures_requisition_id"))

    op.drop_table("requisition_signatures")
    with op.batch_alter_table("member_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_proposals_proposer_id"))
        batch_op.drop_index(batch_op.f("ix_member_proposals_meeting_id"))

    op.drop_table("member_proposals")
    op.drop_table("requisitions")
    op.drop_table("proposal_calls")
