"""Baseline: the schema of the release before migrations (commit fc165c5), frozen here.

A database made by that release (``create_all``) is stamped with this revision, not migrated.
The tables are a copy of ``server/db.py`` at that commit, without Python-side defaults: later
changes to db.py go into new revisions, never here.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

metadata = MetaData()
MONEY = Numeric(14, 2, asdecimal=True)


organizations = Table(
    "organizations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # operator | provider | customer
    Column("name", String(200), nullable=False),
    Column("short_name", String(100), nullable=False),
    Column("street", String(200), nullable=False),
    Column("postcode", String(10), nullable=False),
    Column("city", String(100), nullable=False),
    Column("country", String(2), nullable=False),
    Column("bundesland", String(2)),
    Column("email", String(200), nullable=False),
    Column("phone", String(50), nullable=False),
    Column("contact_name", String(200), nullable=False),
    Column("vat_id", String(20)),
    Column("iban", String(34)),
    Column("bic", String(11)),
    Column("ags", String(8)),
    Column("population", Integer),
    Column("leitweg_id", String(46)),
    Column("inhouse_operator_id", Integer, ForeignKey("organizations.id")),
    Column("customer_type", String(16)),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("role", String(16), nullable=False),  # customer | provider | support | operator
    Column("name", String(200), nullable=False),
    Column("email", String(200), nullable=False),
    # SHA-256 of the bearer token: a leaked database does not leak tokens.
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("demo", Boolean, nullable=False),
)

offerings = Table(
    "offerings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("provider_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("summary", String(500), nullable=False),
    Column("description", Text, nullable=False),
    Column("category", String(100), nullable=False),
    Column("leika_key", String(20), nullable=False),
    Column("ozg_id", String(20), nullable=False),
    Column("bundeslaender", JSON, nullable=False),  # [] = nationwide
    Column("maturity", Integer, nullable=False),
    Column("annual_fee", MONEY, nullable=False),
    Column("one_time_fee", MONEY, nullable=False),
    Column("distribution_key", String(20), nullable=False),
    Column("unit_price", MONEY),
    Column("unit_label", String(100)),
    Column("vat_rate", Numeric(5, 2, asdecimal=True), nullable=False),
    Column("contract_terms", Text, nullable=False),
    Column("minimum_term_months", Integer, nullable=False),
    Column("notice_period_months", Integer, nullable=False),
    Column("contact_name", String(200), nullable=False),
    Column("contact_email", String(200), nullable=False),
    Column("contact_phone", String(50), nullable=False),
    Column("keywords", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # draft | published | retired
    Column("deleted", Boolean, nullable=False),  # a discarded draft: a tombstone
    # Lower-cased title, summary, provider, category, keywords and keys: portable substring search.
    Column("search_text", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("published_at", DateTime),
    Index("ix_offerings_status_id", "status", "id"),
    Index("ix_offerings_updated", "updated_at", "id"),
    Index("ix_offerings_title", "title", "id"),
    Index("ix_offerings_fee", "annual_fee", "id"),
    # The catalog as customers see it (status = published) in each sort order, without a sort step.
    Index("ix_offerings_status_title", "status", "title", "id"),
    Index("ix_offerings_status_fee", "status", "annual_fee", "id"),
    Index("ix_offerings_status_updated", "status", "updated_at", "id"),
    Index("ix_offerings_provider", "provider_id", "id"),
    Index("ix_offerings_category", "category", "id"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("offering_id", Integer, ForeignKey("offerings.id"), nullable=False),
    Column("customer_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("provider_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("desired_start", Date),
    Column("contact_name", String(200), nullable=False),
    Column("leitweg_id", String(46), nullable=False),
    Column("cost_centre", String(50), nullable=False),
    Column("target_group_size", Integer),
    # The fees: proposed by the provider, frozen by the binding order.
    Column("annual_fee", MONEY),
    Column("one_time_fee", MONEY),
    Column("distribution_key", String(20)),
    Column("unit_price", MONEY),
    Column("vat_rate", Numeric(5, 2, asdecimal=True)),
    Column("terms", Text, nullable=False),
    Column("start_date", Date),
    Column("end_date", Date),
    Column("ordered_at", DateTime),
    Column("ordered_by", String(200)),
    Column("version", Integer, nullable=False),
    Column("created_by", Integer, ForeignKey("users.id")),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_orders_customer", "customer_id", "id"),
    Index("ix_orders_provider", "provider_id", "id"),
    Index("ix_orders_updated", "updated_at", "id"),
    Index("ix_orders_state", "state", "id"),
)

order_events = Table(
    "order_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False, index=True),
    Column("action", String(16), nullable=False),  # create | propose | order | …
    Column("from_state", String(16)),
    Column("to_state", String(16), nullable=False),
    Column("actor_id", Integer, ForeignKey("users.id")),
    Column("actor_name", String(200), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("actor_organization_id", Integer, ForeignKey("organizations.id")),
    Column("note", Text, nullable=False),
    Column("data", JSON),
    Column("at", DateTime, nullable=False),
)

usage_reports = Table(
    "usage_reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False),
    Column("year", Integer, nullable=False),
    Column("month", Integer, nullable=False),
    Column("cases", Integer, nullable=False),
    Column("reported_by", Integer, ForeignKey("users.id")),
    Column("reported_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    # One figure per contract and month: a correction replaces it.
    UniqueConstraint("order_id", "year", "month", name="uq_usage_order_period"),
)

billing_runs = Table(
    "billing_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("year", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # running | done | failed
    Column("started_by", Integer, ForeignKey("users.id")),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("invoices_created", Integer, nullable=False),
    Column("contracts_total", Integer, nullable=False),  # progress: done of total
    Column("contracts_billed", Integer, nullable=False),
    Column("net_total", MONEY, nullable=False),
    Column("gross_total", MONEY, nullable=False),
    Column("skipped", JSON, nullable=False),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(20), unique=True),  # 2026-000042, derived from id after insert
    Column("kind", String(16), nullable=False),  # invoice | credit_note
    Column("customer_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("issuer_id", Integer, ForeignKey("organizations.id"), nullable=False),
    Column("year", Integer, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("status", String(16), nullable=False),  # issued | paid | cancelled
    Column("net", MONEY, nullable=False),
    Column("vat", MONEY, nullable=False),
    Column("gross", MONEY, nullable=False),
    Column("leitweg_id", String(46), nullable=False),
    Column("billing_run_id", Integer, ForeignKey("billing_runs.id")),
    Column("cancels_invoice_id", Integer, ForeignKey("invoices.id")),
    Column("paid_at", DateTime),
    Column("cancelled_at", DateTime),
    Column("factual_ok_by", String(200)),  # sachlich richtig
    Column("factual_ok_at", DateTime),
    Column("arithmetic_ok_by", String(200)),  # rechnerisch richtig
    Column("arithmetic_ok_at", DateTime),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    # The Jahresrechnung: one per customer and year, even with two billing servers at once.
    # "invoice:<customer>:<year>:<n>" where n counts cancelled invoices of that year (so a
    # cancelled one can be billed anew); "credit:<invoice id>" for the credit note of an invoice.
    Column("billing_key", String(64), nullable=False, unique=True),
    Index("ix_invoices_updated", "updated_at", "id"),
)

invoice_lines = Table(
    "invoice_lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("invoice_id", Integer, ForeignKey("invoices.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("order_id", Integer, ForeignKey("orders.id")),
    Column("offering_id", Integer, ForeignKey("offerings.id")),
    Column("kind", String(20), nullable=False),
    Column("name", String(300), nullable=False),
    Column("description", Text, nullable=False),
    Column("quantity", Numeric(14, 3, asdecimal=True), nullable=False),
    Column("unit_price", MONEY, nullable=False),
    Column("months", Integer, nullable=False),
    Column("net", MONEY, nullable=False),
    Column("vat_rate", Numeric(5, 2, asdecimal=True), nullable=False),
    Column("period_start", Date),
    Column("period_end", Date),
    Column("disputed_by", String(200)),
    Column("disputed_at", DateTime),
    Column("dispute_reason", Text),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),  # method + path + body
    Column("state", String(10), nullable=False),  # running | done
    Column("status_code", Integer),
    Column("response_body", LargeBinary),
    Column("response_headers", JSON),
    Column("created_at", DateTime, nullable=False),
    Index("ix_idempotency_created", "created_at"),
)


def upgrade() -> None:
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
