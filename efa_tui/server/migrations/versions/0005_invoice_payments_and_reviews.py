"""Payments (value date, amount, bank reference) and the invoice check's history (sign-offs,
withdrawals, disputes, resolutions, partial credit notes: who, when).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2, asdecimal=True)


def upgrade() -> None:
    op.create_table(
        "invoice_payments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("invoice_id", sa.Integer, sa.ForeignKey("invoices.id"), nullable=False),
        sa.Column("value_date", sa.Date, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("bank_reference", sa.String(140), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_by_id", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_invoice_payments_invoice_id", "invoice_payments", ["invoice_id"])
    op.create_table(
        "invoice_review_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("invoice_id", sa.Integer, sa.ForeignKey("invoices.id"), nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("line_ids", sa.JSON, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor_id", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_invoice_review_events_invoice_id", "invoice_review_events", ["invoice_id"])


def downgrade() -> None:
    op.drop_index("ix_invoice_review_events_invoice_id", "invoice_review_events")
    op.drop_table("invoice_review_events")
    op.drop_index("ix_invoice_payments_invoice_id", "invoice_payments")
    op.drop_table("invoice_payments")
