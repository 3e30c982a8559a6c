"""Delta sync continues from a change-log position: an index to find a kind's newest change, and
the purge's watermark per kind (the highest id the retention purge removed), so a client whose
position lies before a purged change knows it must list afresh.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_changes_kind_id", "changes", ["kind", "id"])
    op.create_table(
        "changes_purged",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("last_id", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("changes_purged")
    op.drop_index("ix_changes_kind_id", table_name="changes")
