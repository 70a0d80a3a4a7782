"""General meetings and voting: meetings, agendas, frozen rolls, resolutions, votes.

Secret ballots are kept WITHOUT ROWID on SQLite, so no hidden insertion number orders
them. The co-op's settings gain ``quorum_percent_per_class`` (0: no per-class quorum).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meetings",
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
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("online_url", sa.String(length=500), nullable=False),
        sa.Column("record_date", sa.Date(), nullable=False),
        sa.Column(
            "voting_mode",
            sa.Enum(
                "one_member_one_vote",
                "class_weighted",
                name="voting_mode",
                native_enum=False,
                create_constraint=True,
                length=27,
            ),
            nullable=True,
        ),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "noticed",
                "voting_open",
                "voting_closed",
                "minutes_published",
                "cancelled",
                name="meeting_state",
                native_enum=False,
                create_constraint=True,
                length=25,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("notice_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notice_clear_days", sa.Integer(), nullable=True),
        sa.Column("short_notice_reason", sa.Text(), nullable=True),
        sa.Column("roll_as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("roll_frozen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voting_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voting_closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("minutes_published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(kind = 'class') = (class_id IS NOT NULL)",
            name=op.f("ck_meetings_class_meeting_class"),
        ),
        sa.CheckConstraint(
            "place <> '' OR online_url <> ''", name=op.f("ck_meetings_place_or_link")
        ),
        sa.ForeignKeyConstraint(
            ["class_id"], ["member_classes.id"], name=op.f("fk_meetings_class_id_member_classes")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_meetings_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
    )
    op.create_table(
        "agenda_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_agenda_items_document_id_documents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_agenda_items_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_items")),
    )
    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agenda_items_meeting_id"), ["meeting_id"], unique=False
        )

    op.create_table(
        "resolutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "ordinary",
                "special",
                "class",
                name="resolution_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("class_id", sa.Integer(), nullable=True),
        sa.Column("secret", sa.Boolean(), nullable=False),
        sa.Column("amends_document_id", sa.Integer(), nullable=True),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "open",
                "closed",
                "withdrawn",
                name="resolution_state",
                native_enum=False,
                create_constraint=True,
                length=17,
            ),
            nullable=False,
        ),
        sa.Column("rules", sa.JSON(), nullable=True),
        sa.Column("tally", sa.JSON(), nullable=True),
        sa.Column(
            "result",
            sa.Enum(
                "passed",
                "failed",
                "not_quorate",
                name="resolution_result",
                native_enum=False,
                create_constraint=True,
                length=19,
            ),
            nullable=True,
        ),
        sa.Column("votes_for", sa.Integer(), nullable=True),
        sa.Column("votes_against", sa.Integer(), nullable=True),
        sa.Column("abstentions", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(kind = 'class') = (class_id IS NOT NULL)",
            name=op.f("ck_resolutions_class_resolution_class"),
        ),
        sa.CheckConstraint(
            "(result IS NULL) = (tally IS NULL)", name=op.f("ck_resolutions_result_with_tally")
        ),
        sa.CheckConstraint(
            "closes_at > opens_at", name=op.f("ck_resolutions_closes_after_opening")
        ),
        sa.CheckConstraint("number >= 1", name=op.f("ck_resolutions_number_positive")),
        sa.ForeignKeyConstraint(
            ["amends_document_id"],
            ["documents.id"],
            name=op.f("fk_resolutions_amends_document_id_documents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["class_id"], ["member_classes.id"], name=op.f("fk_resolutions_class_id_member_classes")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_resolutions_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolutions")),
        sa.UniqueConstraint("meeting_id", "number", name="uq_resolutions_number"),
    )
    op.create_table(
        "roll_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.CheckConstraint("weight BETWEEN 0 AND 100", name=op.f("ck_roll_entries_weight_range")),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["member_classes.id"],
            name=op.f("fk_roll_entries_class_id_member_classes"),
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_roll_entries_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_roll_entries_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roll_entries")),
        sa.UniqueConstraint("meeting_id", "member_id", "class_id", name="uq_roll_entries_member"),
    )
    with op.batch_alter_table("roll_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roll_entries_member_id"), ["member_id"], unique=False)
        batch_op.create_index(
            "uq_roll_entries_primary",
            ["meeting_id", "member_id"],
            unique=True,
            sqlite_where=sa.text("is_primary"),
            postgresql_where=sa.text("is_primary"),
        )

    op.create_table(
        "ballots",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("resolution_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column(
            "choice",
            sa.Enum(
                "for",
                "against",
                "abstain",
                name="choice",
                native_enum=False,
                create_constraint=True,
                length=15,
            ),
            nullable=False,
        ),
        sa.Column("receipt", sa.String(length=20), nullable=False),
        sa.Column("voter_tag", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["class_id"], ["member_classes.id"], name=op.f("fk_ballots_class_id_member_classes")
        ),
        sa.ForeignKeyConstraint(
            ["resolution_id"],
            ["resolutions.id"],
            name=op.f("fk_ballots_resolution_id_resolutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballots")),
        sa.UniqueConstraint("resolution_id", "receipt", name="uq_ballots_receipt"),
        sa.UniqueConstraint("resolution_id", "voter_tag", name="uq_ballots_voter_tag"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "participations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resolution_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("cast_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "choice",
            sa.Enum(
                "for",
                "against",
                "abstain",
                name="choice",
                native_enum=False,
                create_constraint=True,
                length=15,
            ),
            nullable=True,
        ),
        sa.Column("receipt", sa.String(length=20), nullable=True),
        sa.CheckConstraint(
            "(choice IS NULL) = (receipt IS NULL)",
            name=op.f("ck_participations_choice_with_receipt"),
        ),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["member_classes.id"],
            name=op.f("fk_participations_class_id_member_classes"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_participations_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["resolution_id"],
            ["resolutions.id"],
            name=op.f("fk_participations_resolution_id_resolutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participations")),
        sa.UniqueConstraint("resolution_id", "member_id", name="uq_participations_member"),
        sa.UniqueConstraint("resolution_id", "receipt", name="uq_participations_receipt"),
    )
    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_participations_member_id"), ["member_id"], unique=False
        )
    op.create_index(
        "ix_participations_counts", "participations", ["resolution_id", "class_id", "choice"]
    )
    op.create_index("ix_ballots_counts", "ballots", ["resolution_id", "class_id", "choice"])
    op.create_index(
        "ix_roll_entries_counts", "roll_entries", ["meeting_id", "class_id", "is_primary", "weight"]
    )

    with op.batch_alter_table("coop_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("quorum_percent_per_class", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_coop_settings_quorum_percent_per_class_range"),
            "quorum_percent_per_class BETWEEN 0 AND 100",
        )


def downgrade() -> None:
    with op.batch_alter_table("coop_settings", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("ck_coop_settings_quorum_percent_per_class_range"), type_="check"
        )
        batch_op.drop_column("quorum_percent_per_class")

    op.drop_index("ix_roll_entries_counts", table_name="roll_entries")
    op.drop_index("ix_ballots_counts", table_name="ballots")
    op.drop_index("ix_participations_counts", table_name="participations")
    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participations_member_id"))

    op.drop_table("participations")
    op.drop_table("ballots")
    with op.batch_alter_table("roll_entries", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_roll_entries_primary",
            sqlite_where=sa.text("is_primary"),
            postgresql_where=sa.text("is_primary"),
        )
        batch_op.drop_index(batch_op.f("ix_roll_entries_member_id"))

    op.drop_table("roll_entries")
    op.drop_table("resolutions")
    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_items_meeting_id"))

    op.drop_table("agenda_items")
    op.drop_table("meetings")
