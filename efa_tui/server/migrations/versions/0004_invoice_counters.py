"""Invoice numbers from a counter per year: unique and gap-free, taken under lock.

The counter of a year is created on its first use, after the highest number of that year already
in the database (numbers of older releases were the year and the invoice id), so nothing needs
to be filled in here.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invoice_counters",
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_number", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("invoice_counters")
