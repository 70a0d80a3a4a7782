"""Membership: co-op settings, member classes and questions, applications, the register.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("pending_email", sa.String(length=254), nullable=True))
    op.create_table(
        "coop_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("registration", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("tagline", sa.String(length=300), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("notice_days", sa.Integer(), nullable=False),
        sa.Column("voting_window_days", sa.Integer(), nullable=False),
        sa.Column("quorum_min_members", sa.Integer(), nullable=False),
        sa.Column("quorum_percent", sa.Integer(), nullable=False),
        sa.Column("special_majority_numerator", sa.Integer(), nullable=False),
        sa.Column("special_majority_denominator", sa.Integer(), nullable=False),
        sa.Column("special_needs_class_majority", sa.Boolean(), nullable=False),
        sa.Column("max_holding_minor", sa.Integer(), nullable=False),
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
            nullable=False,
        ),
        sa.Column("proxies_per_holder", sa.Integer(), nullable=False),
        sa.Column("first_signatory_title", sa.String(length=60), nullable=False),
        sa.Column("second_signatory_title", sa.String(length=60), nullable=False),
        sa.Column("two_person_approval", sa.Boolean(), nullable=False),
        sa.Column("retention_years", sa.Integer(), nullable=False),
        sa.Column("rulebook_version", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_coop_settings_single_row")),
        sa.CheckConstraint(
            "quorum_percent BETWEEN 0 AND 100", name=op.f("ck_coop_settings_quorum_percent_range")
        ),
        sa.CheckConstraint(
            "special_majority_numerator > 0 AND special_majority_numerator "
            "<= special_majority_denominator",
            name=op.f("ck_coop_settings_special_majority_fraction"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coop_settings")),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )
    op.create_table(
        "member_classes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "admission_rule",
            sa.Enum(
                "automatic",
                "staff_review",
                name="admission_rule",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("required_shares", sa.Integer(), nullable=False),
        sa.Column("annual_fee_minor", sa.Integer(), nullable=False),
        sa.Column("board_seats", sa.Integer(), nullable=False),
        sa.Column("voting_weight", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("open_for_applications", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "annual_fee_minor >= 0", name=op.f("ck_member_classes_annual_fee_positive")
        ),
        sa.CheckConstraint("board_seats >= 0", name=op.f("ck_member_classes_board_seats_positive")),
        sa.CheckConstraint(
            "required_shares >= 0", name=op.f("ck_member_classes_required_shares_positive")
        ),
        sa.CheckConstraint(
            "voting_weight BETWEEN 0 AND 100", name=op.f("ck_member_classes_voting_weight_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_classes")),
        sa.UniqueConstraint("code", name=op.f("uq_member_classes_code")),
    )
    op.create_table(
        "application_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("help", sa.String(length=300), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "text",
                "long_text",
                "url",
                "number",
                "yes_no",
                name="question_kind",
                native_enum=False,
                create_constraint=True,
                length=17,
            ),
            nullable=False,
        ),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["member_classes.id"],
            name=op.f("fk_application_questions_class_id_member_classes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_questions")),
        sa.UniqueConstraint("class_id", "key", name="uq_application_questions_key"),
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_consents_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consents_user_id"), ["user_id"], unique=False)

    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("address_line1", sa.String(length=120), nullable=False),
        sa.Column("address_line2", sa.String(length=120), nullable=False),
        sa.Column("town", sa.String(length=80), nullable=False),
        sa.Column("postcode", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=60), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "lapsed",
                "ceased",
                name="member_status",
                native_enum=False,
                create_constraint=True,
                length=14,
            ),
            nullable=False,
        ),
        sa.Column("admitted_on", sa.Date(), nullable=False),
        sa.Column("ceased_on", sa.Date(), nullable=True),
        sa.Column("primary_class_id", sa.Integer(), nullable=True),
        sa.Column("news_opt_in", sa.Boolean(), nullable=False),
        sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status = 'ceased') = (ceased_on IS NOT NULL)", name=op.f("ck_members_ceased_has_date")
        ),
        sa.ForeignKeyConstraint(
            ["primary_class_id"],
            ["member_classes.id"],
            name=op.f("fk_members_primary_class_id_member_classes"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_members_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("number", name=op.f("uq_members_number")),
        sa.UniqueConstraint("user_id", name=op.f("uq_members_user_id")),
    )
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "submitted",
                "needs_info",
                "awaiting_second",
                "approved",
                "rejected",
                "withdrawn",
                name="application_state",
                native_enum=False,
                create_constraint=True,
                length=23,
            ),
            nullable=False,
        ),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("address_line1", sa.String(length=120), nullable=False),
        sa.Column("address_line2", sa.String(length=120), nullable=False),
        sa.Column("town", sa.String(length=80), nullable=False),
        sa.Column("postcode", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=60), nullable=False),
        sa.Column("rulebook_version", sa.String(length=120), nullable=True),
        sa.Column("rules_accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("first_approver_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("applicant_reply", sa.Text(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["member_classes.id"],
            name=op.f("fk_applications_class_id_member_classes"),
        ),
        sa.ForeignKeyConstraint(
            ["first_approver_id"],
            ["users.id"],
            name=op.f("fk_applications_first_approver_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_applications_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["users.id"],
            name=op.f("fk_applications_reviewer_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_applications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index("ix_applications_state_class", ["state", "class_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_applications_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "uq_applications_open",
            ["user_id", "class_id"],
            unique=True,
            sqlite_where=sa.text(
                "state IN ('draft', 'submitted', 'needs_info', 'awaiting_second')"
            ),
            postgresql_where=sa.text(
                "state IN ('draft', 'submitted', 'needs_info', 'awaiting_second')"
            ),
        )

    op.create_table(
        "class_memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("admitted_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["member_classes.id"],
            name=op.f("fk_class_memberships_class_id_member_classes"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_class_memberships_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_class_memberships")),
        sa.UniqueConstraint("member_id", "class_id", name="uq_class_memberships"),
    )
    op.create_table(
        "member_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "lapsed",
                "ceased",
                name="member_status",
                native_enum=False,
                create_constraint=True,
                length=14,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_member_status_changes_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_status_changes_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_status_changes")),
    )
    with op.batch_alter_table("member_status_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_status_changes_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "resignations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "confirmed",
                "withdrawn",
                name="resignation_state",
                native_enum=False,
                create_constraint=True,
                length=17,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_resignations_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_resignations_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resignations")),
    )
    with op.batch_alter_table("resignations", schema=None) as batch_op:
        batch_op.create_index(
            "uq_resignations_pending",
            ["member_id"],
            unique=True,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("resignations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_resignations_pending",
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )

    op.drop_table("resignations")
    with op.batch_alter_table("member_status_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_status_changes_member_id"))

    op.drop_table("member_status_changes")
    op.drop_table("class_memberships")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_applications_open",
            sqlite_where=sa.text(
                "state IN ('draft', 'submitted', 'needs_info', 'awaiting_second')"
            ),
            postgresql_where=sa.text(
                "state IN ('draft', 'submitted', 'needs_info', 'awaiting_second')"
            ),
        )
        batch_op.drop_index(batch_op.f("ix_applications_user_id"))
        batch_op.drop_index("ix_applications_state_class")

    op.drop_table("applications")
    op.drop_table("members")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consents_user_id"))

    op.drop_table("consents")
    op.drop_table("application_questions")
    op.drop_table("member_classes")
    op.drop_table("counters")
    op.drop_table("coop_settings")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("pending_email")
