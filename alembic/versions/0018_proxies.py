"""Proxies: a member's vote handed to another member on the roll, or the chair.

``proxy_appointments`` (directed or discretionary, appointed → accepted / declined /
revoked) with a ``proxy_directions`` row per resolution; ``participations`` gain
``proxy_id`` (the proxy a vote came through); the co-op's settings gain
``proxy_deadline_hours`` (48) and ``chair_exempt_from_proxy_cap`` (on).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

STANDING = "state IN ('appointed', 'accepted')"


def _enum(name: str, values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(
        *values,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(v) for v in values) + 8,
    )


def upgrade() -> None:
    op.create_table(
        "proxy_appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("grantor_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=True),
        sa.Column("to_chair", sa.Boolean(), nullable=False),
        sa.Column("kind", _enum("proxy_kind", ("directed", "discretionary")), nullable=False),
        sa.Column(
            "state",
            _enum("proxy_state", ("appointed", "accepted", "declined", "revoked")),
            nullable=False,
        ),
        sa.Column("appointed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(holder_id IS NULL) = to_chair", name=op.f("ck_proxy_appointments_holder_or_chair")
        ),
        sa.CheckConstraint(
            "holder_id IS NULL OR holder_id <> grantor_id",
            name=op.f("ck_proxy_appointments_not_to_self"),
        ),
        sa.ForeignKeyConstraint(
            ["grantor_id"], ["members.id"], name=op.f("fk_proxy_appointments_grantor_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["members.id"], name=op.f("fk_proxy_appointments_holder_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_proxy_appointments_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proxy_appointments")),
    )
    op.create_index(op.f("ix_proxy_appointments_grantor_id"), "proxy_appointments", ["grantor_id"])
    op.create_index(
        "ix_proxy_appointments_holder", "proxy_appointments", ["meeting_id", "holder_id", "state"]
    )
    op.create_index(
        "uq_proxy_appointments_standing",
        "proxy_appointments",
        ["meeting_id", "grantor_id"],
        unique=True,
        sqlite_where=sa.text(STANDING),
        postgresql_where=sa.text(STANDING),
    )
    op.create_table(
        "proxy_directions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("resolution_id", sa.Integer(), nullable=False),
        sa.Column("choice", _enum("choice", ("for", "against", "abstain")), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["proxy_appointments.id"],
            name=op.f("fk_proxy_directions_appointment_id_proxy_appointments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resolution_id"],
            ["resolutions.id"],
            name=op.f("fk_proxy_directions_resolution_id_resolutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proxy_directions")),
        sa.UniqueConstraint(
            "appointment_id", "resolution_id", name=op.f("uq_proxy_directions_resolution")
        ),
    )
    op.create_index(
        op.f("ix_proxy_directions_resolution_id"), "proxy_directions", ["resolution_id"]
    )
    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proxy_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_participations_proxy_id"), ["proxy_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_participations_proxy_id_proxy_appointments"),
            "proxy_appointments",
            ["proxy_id"],
            ["id"],
        )
    with op.batch_alter_table("coop_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("proxy_deadline_hours", sa.Integer(), server_default="48", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "chair_exempt_from_proxy_cap",
                sa.Boolean(),
                server_default=sa.true(),
                nullable=False,
            )
        )
        batch_op.create_check_constraint(
            op.f("ck_coop_settings_proxy_deadline_range"),
            "proxy_deadline_hours BETWEEN 0 AND 720",
        )


def downgrade() -> None:
    with op.batch_alter_table("coop_settings", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_coop_settings_proxy_deadline_range"), type_="check")
        batch_op.drop_column("chair_exempt_from_proxy_cap")
        batch_op.drop_column("proxy_deadline_hours")
    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_participations_proxy_id_proxy_appointments"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_participations_proxy_id"))
        batch_op.drop_column("proxy_id")
    op.drop_index(op.f("ix_proxy_directions_resolution_id"), table_name="proxy_directions")
    op.drop_table("proxy_directions")
    op.drop_index("uq_proxy_appointments_standing", table_name="proxy_appointments")
    op.drop_index("ix_proxy_appointments_holder", table_name="proxy_appointments")
    op.drop_index(op.f("ix_proxy_appointments_grantor_id"), table_name="proxy_appointments")
    op.drop_table("proxy_appointments")
