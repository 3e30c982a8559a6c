"""Administration: tokens as records of their own (name, scope, expiry, last use, revocation),
users with admin and disabled flags, organisations with their accreditation and the basis of the
in-house relationship, and the audit log of administrative changes.

Each user's one token of the old schema becomes a write token named "token" that does not
expire, so every token that worked before keeps working; then ``users.token_sha256`` goes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("expires_at", sa.DateTime),
        sa.Column("last_used_at", sa.DateTime),
        sa.Column("revoked_at", sa.DateTime),
    )
    op.create_index("ix_api_tokens_user", "api_tokens", ["user_id", "id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor_id", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.Column("actor_organization_id", sa.Integer, sa.ForeignKey("organizations.id")),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_kind", sa.String(32), nullable=False),
        sa.Column("target_id", sa.Integer, nullable=False),
        sa.Column("organization_id", sa.Integer, sa.ForeignKey("organizations.id")),
        sa.Column("before", sa.JSON),
        sa.Column("after", sa.JSON),
    )
    op.create_index("ix_audit_target", "audit_log", ["target_kind", "target_id", "id"])
    op.create_index("ix_audit_organization", "audit_log", ["organization_id", "id"])

    with op.batch_alter_table("organizations") as batch:
        batch.add_column(sa.Column("accreditation", sa.String(16), nullable=False, server_default="accredited"))
        batch.add_column(sa.Column("accreditation_at", sa.DateTime))
        batch.add_column(sa.Column("accreditation_by", sa.String(200)))
        batch.add_column(sa.Column("accreditation_reason", sa.String(500)))
        batch.add_column(sa.Column("inhouse_basis", sa.String(500)))
        batch.add_column(sa.Column("population_date", sa.Date))

    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("admin", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("created_at", sa.DateTime))
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="1"))

    conn = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("token_sha256", sa.String))
    tokens = sa.table("api_tokens", *(sa.column(c) for c in (
        "user_id", "name", "scope", "token_sha256", "prefix", "created_at")))
    rows = conn.execute(sa.select(users.c.id, users.c.token_sha256)).all()
    if rows:
        conn.execute(tokens.insert(), [
            {"user_id": r.id, "name": "token", "scope": "write", "token_sha256": r.token_sha256,
             "prefix": "", "created_at": now} for r in rows])

    with op.batch_alter_table("users") as batch:
        batch.drop_column("token_sha256")


def downgrade() -> None:
    raise NotImplementedError("tokens of their own cannot be folded back into one per user")
