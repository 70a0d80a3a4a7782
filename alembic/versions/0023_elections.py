"""Board elections: the directors' record, elections per class at a meeting, candidates,
and ranked ballots (secret: random id, no member, WITHOUT ROWID on SQLite) with the
participations that say who voted.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "elections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("nominations_open_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("nominations_close_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("secret", sa.Boolean(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "nominations_open",
                "nominations_closed",
                "candidates_confirmed",
                "voting_open",
                "counted",
                "declared",
                "cancelled",
                name="election_state",
                native_enum=False,
                create_constraint=True,
                length=28,
            ),
            nullable=False,
        ),
        sa.Column("voting_opens_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voting_closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tie_break_seed", sa.String(length=64), nullable=True),
        sa.Column("seed_published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_json", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("nominations_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("nominations_closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voting_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(tie_break_seed IS NULL) = (seed_published_at IS NULL)",
            name=op.f("ck_elections_seed_published"),
        ),
        sa.CheckConstraint(
            "nominations_close_at > nominations_open_at", name=op.f("ck_elections_window_order")
        ),
        sa.CheckConstraint(
            "result_json IS NULL OR tie_break_seed IS NOT NULL",
            name=op.f("ck_elections_seed_before_count"),
        ),
        sa.CheckConstraint("seats >= 1", name=op.f("ck_elections_seats_positive")),
        sa.CheckConstraint(
            "voting_closes_at IS NULL OR voting_closes_at > voting_opens_at",
            name=op.f("ck_elections_voting_window_order"),
        ),
        sa.ForeignKeyConstraint(
            ["class_id"], ["member_classes.id"], name=op.f("fk_elections_class_id_member_classes")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_elections_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_elections_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_elections")),
        sa.UniqueConstraint("meeting_id", "class_id", name="uq_elections_class"),
    )
    with op.batch_alter_table("elections", schema=None) as batch_op:
        batch_op.create_index("ix_elections_state", ["state", "nominations_close_at"], unique=False)

    op.create_table(
        "candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("nominated_by_id", sa.Integer(), nullable=False),
        sa.Column("nominated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seconded_by_id", sa.Integer(), nullable=True),
        sa.Column("seconded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("photo_sha256", sa.String(length=64), nullable=True),
        sa.Column("photo_type", sa.String(length=20), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "nominated",
                "accepted",
                "seconded",
                "confirmed",
                "withdrawn",
                "rejected",
                name="candidate_state",
                native_enum=False,
                create_constraint=True,
                length=17,
            ),
            nullable=False,
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(state = 'rejected') = (reject_reason IS NOT NULL)",
            name=op.f("ck_candidates_rejected_why"),
        ),
        sa.CheckConstraint(
            "photo_type IS NULL OR photo_type IN ('image/png', 'image/jpeg', 'image/webp')",
            name=op.f("ck_candidates_photo_type_known"),
        ),
        sa.CheckConstraint(
            "(photo_sha256 IS NULL) = (photo_type IS NULL)", name=op.f("ck_candidates_photo_typed")
        ),
        sa.CheckConstraint(
            "seconded_by_id <> member_id", name=op.f("ck_candidates_seconder_not_nominee")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_candidates_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["elections.id"],
            name=op.f("fk_candidates_election_id_elections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_candidates_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["nominated_by_id"], ["members.id"], name=op.f("fk_candidates_nominated_by_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["seconded_by_id"], ["members.id"], name=op.f("fk_candidates_seconded_by_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidates")),
        sa.UniqueConstraint("election_id", "member_id", name="uq_candidates_member"),
    )
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.create_index("ix_candidates_list", ["election_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_candidates_member_id"), ["member_id"], unique=False)

    op.create_table(
        "directors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("term_started_on", sa.Date(), nullable=False),
        sa.Column("term_ends_on", sa.Date(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "term_ends_on > term_started_on", name=op.f("ck_directors_term_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["class_id"], ["member_classes.id"], name=op.f("fk_directors_class_id_member_classes")
        ),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["elections.id"],
            name=op.f("fk_directors_election_id_elections"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_directors_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directors")),
    )
    with op.batch_alter_table("directors", schema=None) as batch_op:
        batch_op.create_index(
            "ix_directors_board", ["class_id", "term_ends_on", "term_started_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_directors_election_id"), ["election_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_directors_member_id"), ["member_id"], unique=False)

    op.create_table(
        "election_participations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("cast_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ranking", sa.String(length=2000), nullable=True),
        sa.Column("receipt", sa.String(length=20), nullable=True),
        sa.Column("proxy_id", sa.Integer(), nullable=True),
        sa.Column(
            "channel",
            sa.Enum(
                "online",
                "in_room",
                "postal",
                name="channel",
                native_enum=False,
                create_constraint=True,
                length=15,
            ),
            server_default="online",
            nullable=False,
        ),
        sa.CheckConstraint(
            "(ranking IS NULL) = (receipt IS NULL)",
            name=op.f("ck_election_participations_ranking_with_receipt"),
        ),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["elections.id"],
            name=op.f("fk_election_participations_election_id_elections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_election_participations_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["proxy_id"],
            ["proxy_appointments.id"],
            name=op.f("fk_election_participations_proxy_id_proxy_appointments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_election_participations")),
        sa.UniqueConstraint("election_id", "member_id", name="uq_election_participations_member"),
        sa.UniqueConstraint("election_id", "receipt", name="uq_election_participations_receipt"),
    )
    with op.batch_alter_table("election_participations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_election_participations_counts",
            ["election_id", "channel", "proxy_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_election_participations_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_election_participations_proxy_id"), ["proxy_id"], unique=False
        )

    op.create_table(
        "ranked_ballots",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("ranking", sa.String(length=2000), nullable=False),
        sa.Column("receipt", sa.String(length=20), nullable=False),
        sa.Column("voter_tag", sa.String(length=64), nullable=True),
        sa.Column(
            "channel",
            sa.Enum(
                "online",
                "in_room",
                "postal",
                name="channel",
                native_enum=False,
                create_constraint=True,
                length=15,
            ),
            server_default="online",
            nullable=False,
        ),
        sa.CheckConstraint("ranking <> ''", name=op.f("ck_ranked_ballots_ranking_not_empty")),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["elections.id"],
            name=op.f("fk_ranked_ballots_election_id_elections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ranked_ballots")),
        sa.UniqueConstraint("election_id", "receipt", name="uq_ranked_ballots_receipt"),
        sa.UniqueConstraint("election_id", "voter_tag", name="uq_ranked_ballots_voter_tag"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "proxy_rankings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("ranking", sa.String(length=2000), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["proxy_appointments.id"],
            name=op.f("fk_proxy_rankings_appointment_id_proxy_appointments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["elections.id"],
            name=op.f("fk_proxy_rankings_election_id_elections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proxy_rankings")),
        sa.UniqueConstraint("appointment_id", "election_id", name="uq_proxy_rankings_election"),
    )
    with op.batch_alter_table("proxy_rankings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proxy_rankings_election_id"), ["election_id"], unique=False
        )
    with op.batch_alter_table("coop_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("director_term_years", sa.Integer(), server_default="3", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("coop_settings", schema=None) as batch_op:
        batch_op.drop_column("director_term_years")
    with op.batch_alter_table("proxy_rankings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proxy_rankings_election_id"))
    op.drop_table("proxy_rankings")
    op.drop_table("ranked_ballots")
    with op.batch_alter_table("election_participations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_election_participations_proxy_id"))
        batch_op.drop_index(batch_op.f("ix_election_participations_member_id"))
        batch_op.drop_index("ix_election_participations_counts")

    op.drop_table("election_participations")
    with op.batch_alter_table("directors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directors_member_id"))
        batch_op.drop_index(batch_op.f("ix_directors_election_id"))
        batch_op.drop_index("ix_directors_board")

    op.drop_table("directors")
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_candidates_member_id"))
        batch_op.drop_index("ix_candidates_list")

    op.drop_table("candidates")
    with op.batch_alter_table("elections", schema=None) as batch_op:
        batch_op.drop_index("ix_elections_state")

    op.drop_table("elections")
