"""Offerings' search text folded as ``domain.collation.search_fold`` (NFC, case folded, ä/ö/ü →
ae/oe/ue, ß → ss), so that "strasse" finds "Straße" and "fuehrerschein" finds "Führerschein";
the query is folded alike. Recomputes ``offerings.search_text`` of every row (before it was
the plain ``str.lower()`` of the same fields); the pg_trgm index follows the column.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_BATCH = 2000


def _fold(text: str) -> str:  # domain.collation.search_fold as of this revision
    folded = unicodedata.normalize("NFC", text).casefold()
    return folded if folded.isascii() else folded.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")


def _search_text(row: Any, fold: Callable[[str], str]) -> str:  # server.routes.offerings.search_text, this revision
    parts = [row.title, row.summary, row.provider_name, row.category, row.leika_key, row.ozg_id,
             " ".join(row.keywords or [])]
    return fold(" ".join(str(x) for x in parts if x))


def _recompute(fold: Callable[[str], str]) -> None:
    bind = op.get_bind()
    o = sa.table("offerings", sa.column("id", sa.Integer), sa.column("title", sa.String), sa.column("summary", sa.Text),
                 sa.column("provider_id", sa.Integer), sa.column("category", sa.String), sa.column("leika_key", sa.String),
                 sa.column("ozg_id", sa.String), sa.column("keywords", sa.JSON), sa.column("search_text", sa.Text))
    p = sa.table("organizations", sa.column("id", sa.Integer), sa.column("name", sa.String))
    last = 0
    while True:  # in batches of ids: 100,000 offerings never sit in memory at once
        rows = bind.execute(
            sa.select(o.c.id, o.c.title, o.c.summary, o.c.category, o.c.leika_key, o.c.ozg_id, o.c.keywords,
                      p.c.name.label("provider_name"))
            .select_from(o.join(p, p.c.id == o.c.provider_id)).where(o.c.id > last).order_by(o.c.id).limit(_BATCH)).all()
        if not rows:
            return
        bind.execute(o.update().where(o.c.id == sa.bindparam("oid")).values(search_text=sa.bindparam("text")),
                     [{"oid": r.id, "text": _search_text(r, fold)} for r in rows])
        last = rows[-1].id


def upgrade() -> None:
    _recompute(_fold)


def downgrade() -> None:
    _recompute(str.lower)
