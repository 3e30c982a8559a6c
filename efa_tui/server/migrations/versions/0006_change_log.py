"""The change log (server/changes.py): one row per change, for GET /events and the caches.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer),
        sa.Column("public", sa.Boolean, nullable=False),
        sa.Column("org_id", sa.Integer),
        sa.Column("org2_id", sa.Integer),
        sa.Column("at", sa.DateTime, nullable=False),
        # Never reuse an id, even after the retention purge emptied the table.
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("changes")
