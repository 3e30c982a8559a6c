"""An organisation has a set of marketplace roles (customer and/or provider; operator as before)
and a list of Leitweg-IDs instead of one of each: two tables; existing data upgraded in place —
the one role (``kind``) becomes a set of one, the one Leitweg-ID a list of one. ``kind`` stays,
derived from the roles, for older clients; ``organizations.leitweg_id`` moves to the list.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

organizations = sa.table("organizations", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                         sa.column("leitweg_id", sa.String))
roles = sa.table("organization_roles", sa.column("organization_id", sa.Integer), sa.column("role", sa.String))
leitweg_ids = sa.table("organization_leitweg_ids", sa.column("organization_id", sa.Integer),
                       sa.column("position", sa.Integer), sa.column("leitweg_id", sa.String))


def upgrade() -> None:
    op.create_table(
        "organization_roles",
        sa.Column("organization_id", sa.Integer, sa.ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("role", sa.String(16), primary_key=True),
    )
    op.create_table(
        "organization_leitweg_ids",
        sa.Column("organization_id", sa.Integer, sa.ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("leitweg_id", sa.String(46), nullable=False),
        sa.UniqueConstraint("organization_id", "leitweg_id", name="uq_organization_leitweg_ids"),
    )
    op.execute(roles.insert().from_select(["organization_id", "role"], sa.select(organizations.c.id, organizations.c.kind)))
    op.execute(leitweg_ids.insert().from_select(
        ["organization_id", "position", "leitweg_id"],
        sa.select(organizations.c.id, sa.literal(0), sa.func.trim(organizations.c.leitweg_id))
        .where(organizations.c.leitweg_id.is_not(None), sa.func.trim(organizations.c.leitweg_id) != "")))
    # SQLite (3.35+) drops a plain column in place; batch mode would rebuild the table that every
    # other table references.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE organizations DROP COLUMN leitweg_id")
    else:
        op.drop_column("organizations", "leitweg_id")


def downgrade() -> None:
    op.add_column("organizations", sa.Column("leitweg_id", sa.String(46)))
    first = (sa.select(leitweg_ids.c.leitweg_id)
             .where(leitweg_ids.c.organization_id == organizations.c.id)
             .order_by(leitweg_ids.c.position).limit(1).scalar_subquery())
    op.execute(organizations.update().values(leitweg_id=first))
    op.drop_table("organization_leitweg_ids")
    op.drop_table("organization_roles")
