"""An index for the member's dashboard at co-op scale (issue 16 §5): the library's newest
versions are found by ``document_versions.published_at`` walked newest first, not by
sorting every version of every document.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

INDEX = "ix_document_versions_published_at"


def upgrade() -> None:
    op.create_index(INDEX, "document_versions", ["published_at"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="document_versions")
