"""The governance document library: documents, immutable versions, the rulebook link.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "rules",
                "policies",
                "minutes",
                "reports",
                "notices",
                name="document_category",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "visibility",
            sa.Enum(
                "public",
                "members",
                "staff",
                name="visibility",
                native_enum=False,
                create_constraint=True,
                length=15,
            ),
            nullable=False,
        ),
        sa.Column("approved_by", sa.String(length=200), nullable=False),
        sa.Column("is_rulebook", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("slug", name=op.f("uq_documents_slug")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(
            "uq_documents_one_rulebook",
            ["is_rulebook"],
            unique=True,
            sqlite_where=sa.text("is_rulebook"),
            postgresql_where=sa.text("is_rulebook"),
        )

    op.create_table(
        "document_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "format",
            sa.Enum(
                "markdown",
                "pdf",
                name="version_format",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("file_size", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("change_note", sa.String(length=500), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(format = 'markdown' AND body IS NOT NULL AND file_sha256 IS NULL) OR "
            "(format = 'pdf' AND body IS NULL AND file_sha256 IS NOT NULL)",
            name=op.f("ck_document_versions_body_or_file"),
        ),
        sa.CheckConstraint("number >= 1", name=op.f("ck_document_versions_number_positive")),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_versions_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_document_versions_published_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_versions")),
        sa.UniqueConstraint("document_id", "number", name=op.f("uq_document_versions_document_id")),
    )
    with op.batch_alter_table("document_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_versions_document_id"), ["document_id"], unique=False
        )

    # A published version is immutable: the database itself refuses to change a row.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION document_versions_are_immutable() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'published document versions cannot be changed or deleted'; "
            "END $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER document_versions_immutable BEFORE UPDATE OR DELETE "
            "ON document_versions FOR EACH ROW EXECUTE FUNCTION document_versions_are_immutable()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER document_versions_no_{event.lower()} BEFORE {event} "
                "ON document_versions BEGIN SELECT RAISE(ABORT, "
                "'published document versions cannot be changed or deleted'); END"
            )

    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rulebook_version_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_applications_rulebook_version_id_document_versions"),
            "document_versions",
            ["rulebook_version_id"],
            ["id"],
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("previous_login_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("previous_login_at")

    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_applications_rulebook_version_id_document_versions"), type_="foreignkey"
        )
        batch_op.drop_column("rulebook_version_id")

    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER document_versions_immutable ON document_versions")
        op.execute("DROP FUNCTION document_versions_are_immutable()")
    else:
        op.execute("DROP TRIGGER document_versions_no_update")
        op.execute("DROP TRIGGER document_versions_no_delete")
    with op.batch_alter_table("document_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_versions_document_id"))

    op.drop_table("document_versions")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_documents_one_rulebook",
            sqlite_where=sa.text("is_rulebook"),
            postgresql_where=sa.text("is_rulebook"),
        )

    op.drop_table("documents")
