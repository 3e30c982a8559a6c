"""Alembic environment: runs on the connection ``migrations.upgrade`` passes (inside its lock)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from efa_tui.server import db

config = context.config


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Compare everything but the PostgreSQL-only indexes the metadata leaves out."""
    return not (type_ == "index" and name in db.POSTGRES_ONLY_INDEXES)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=db.metadata,
        render_as_batch=True,  # SQLite: ALTER TABLE by copy-and-move where it must
        compare_type=True,
        compare_server_default=False,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # the alembic command line with sqlalchemy.url set
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _run(conn)
