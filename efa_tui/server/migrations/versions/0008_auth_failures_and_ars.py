"""Failed authentications in the database (the rate limit holds across server processes), and
room for an ARS (12 digits) where the AGS was.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_failures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_auth_failures_key_at", "auth_failures", ["key", "at"])
    op.create_index("ix_auth_failures_at", "auth_failures", ["at"])
    # SQLite rebuilds the table (batch mode; migrations.upgrade keeps the foreign keys checked).
    with op.batch_alter_table("organizations") as batch:
        batch.alter_column("ags", type_=sa.String(12), existing_type=sa.String(8))


def downgrade() -> None:
    # SQLite keeps any length in a VARCHAR, and rebuilding the organisations table needs its
    # foreign keys off (which only migrations.upgrade does, not a plain alembic downgrade).
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("organizations", "ags", type_=sa.String(8), existing_type=sa.String(12))
    op.drop_index("ix_auth_failures_at", "auth_failures")
    op.drop_index("ix_auth_failures_key_at", "auth_failures")
    op.drop_table("auth_failures")
