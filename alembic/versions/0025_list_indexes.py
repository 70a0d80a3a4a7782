"""Indexes for the staff lists at co-op scale (issue 16 §3): the audit log paged by
(at, id) whole and by each filter, the applications queue by state and submission, the
register by status and number, the staff among the accounts, and the register search's
prefixes (the start of a name, of the name after its first word, of an e-mail address).

The search's are expression indexes, written per database: on PostgreSQL they compare by
code point (COLLATE "C") so that a prefix is a range whatever the database's collation.
They are not in the models (autogenerate does not compare expression indexes).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

COLUMNS = {
    "ix_audit_events_at_id": ("audit_events", ["at", "id"]),
    "ix_audit_events_action_at": ("audit_events", ["action", "at", "id"]),
    "ix_audit_events_type_at": ("audit_events", ["object_type", "at", "id"]),
    "ix_audit_events_actor_at": ("audit_events", ["actor_id", "at", "id"]),
    "ix_applications_state_submitted": ("applications", ["state", "submitted_at", "id"]),
    "ix_applications_submitted": ("applications", ["submitted_at", "id"]),
    "ix_members_status_number": ("members", ["status", "number"]),
    "ix_users_role": ("users", ["role"]),
}

# The expressions services.register.search.NAME_KEYS looks members up by.
EXPRESSIONS = {
    "sqlite": {
        "ix_members_name_key": ("members", "lower(name)"),
        "ix_members_later_name_key": (
            "members",
            "substr(lower(name), instr(lower(name), ' ') + 1)",
        ),
    },
    "postgresql": {
        "ix_members_name_key": ("members", '(lower(name) COLLATE "C")'),
        "ix_members_later_name_key": (
            "members",
            "(substr(lower(name), strpos(lower(name), ' ') + 1) COLLATE \"C\")",
        ),
        "ix_users_email_key": ("users", '(email COLLATE "C")'),
    },
}


def upgrade() -> None:
    for name, (table, columns) in COLUMNS.items():
        op.create_index(name, table, columns)
    for name, (table, expression) in _expressions().items():
        op.execute(f"CREATE INDEX {name} ON {table} ({expression})")
    if op.get_bind().dialect.name == "sqlite":
        for table in sorted({table for table, _ in COLUMNS.values()}):
            op.execute(f"ANALYZE {table}")  # the planner's figures for the new indexes


def downgrade() -> None:
    for name in _expressions():
        op.execute(f"DROP INDEX {name}")
    for name, (table, _) in COLUMNS.items():
        op.drop_index(name, table_name=table)


def _expressions() -> dict[str, tuple[str, str]]:
    return EXPRESSIONS.get(op.get_bind().dialect.name, EXPRESSIONS["sqlite"])
