"""The catalog's German sort key (offerings.title_sort) and, on PostgreSQL, a trigram index for
substring search.

title_sort = domain.collation.sort_key(title), compared by bytes (collation "C" on PostgreSQL),
so that both databases order titles the same; indexes (title_sort, id) and (status, title_sort,
id) replace the ones on title. On PostgreSQL, pg_trgm's GIN index serves ``search_text LIKE
'%word%'`` (SQLite scans, fast enough for one machine's catalog); without the right to create
the extension the index is left out with a warning (search still works, by scanning).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import logging
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

log = logging.getLogger("efa_tui.server")
SORT_KEY = sa.String(400).with_variant(sa.String(400, collation="C"), "postgresql")
TRGM_INDEX = "CREATE INDEX ix_offerings_search_trgm ON offerings USING gin (search_text gin_trgm_ops)"
_FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u"})


def _sort_key(text: str) -> str:  # domain.collation.sort_key as of this revision
    return unicodedata.normalize("NFC", text).casefold().translate(_FOLD).strip()


def upgrade() -> None:
    bind = op.get_bind()
    # ALTER TABLE … ADD COLUMN on both (SQLite needs a default for NOT NULL; it stays, unused).
    op.add_column("offerings", sa.Column("title_sort", SORT_KEY, nullable=False, server_default=""))
    offerings = sa.table("offerings", sa.column("id", sa.Integer), sa.column("title", sa.String),
                         sa.column("title_sort", sa.String))
    rows = bind.execute(sa.select(offerings.c.id, offerings.c.title)).all()
    if rows:
        bind.execute(offerings.update().where(offerings.c.id == sa.bindparam("oid"))
                     .values(title_sort=sa.bindparam("key")),
                     [{"oid": r.id, "key": _sort_key(r.title)} for r in rows])
    op.drop_index("ix_offerings_title", table_name="offerings")
    op.drop_index("ix_offerings_status_title", table_name="offerings")
    op.create_index("ix_offerings_title_sort", "offerings", ["title_sort", "id"])
    op.create_index("ix_offerings_status_title_sort", "offerings", ["status", "title_sort", "id"])
    if bind.dialect.name == "postgresql":
        has = bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first() is not None
        if not has:
            try:
                with bind.begin_nested():  # a refusal must not abort the migration's transaction
                    bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
                has = True
            except sa.exc.DBAPIError:
                has = False
        if has:
            op.execute(TRGM_INDEX)
        else:
            log.warning("pg_trgm cannot be created by this database user, so substring search scans the "
                        "catalog; as a superuser: CREATE EXTENSION pg_trgm; %s", TRGM_INDEX)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_offerings_search_trgm")
    op.drop_index("ix_offerings_status_title_sort", table_name="offerings")
    op.drop_index("ix_offerings_title_sort", table_name="offerings")
    op.create_index("ix_offerings_status_title", "offerings", ["status", "title", "id"])
    op.create_index("ix_offerings_title", "offerings", ["title", "id"])
    with op.batch_alter_table("offerings") as batch:
        batch.drop_column("title_sort")
