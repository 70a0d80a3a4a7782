"""A Markdown version's PDF is rendered once and kept; an uploaded PDF's preview text too.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08

The previews of PDFs uploaded before this revision are read by ``flask init-db`` after it
migrates (``renditions.backfill_previews``): reading them needs the uploaded files, which
live in the instance folder, outside the database.
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_pdfs",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("rendered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(pdf IS NULL AND sha256 IS NULL AND rendered_at IS NULL) OR "
            "(pdf IS NOT NULL AND sha256 IS NOT NULL AND rendered_at IS NOT NULL)",
            name=op.f("ck_document_pdfs_pdf_with_hash"),
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_versions.id"],
            name=op.f("fk_document_pdfs_version_id_document_versions"),
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_document_pdfs")),
    )
    op.create_table(
        "pdf_previews",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_pdf_previews")),
    )


def downgrade() -> None:
    op.drop_table("pdf_previews")
    op.drop_table("document_pdfs")
