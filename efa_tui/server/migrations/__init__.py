"""Schema migrations of the reference marketplace (Alembic), for SQLite and PostgreSQL alike.

``upgrade(engine)`` brings a database to the newest revision under a lock, so that several server
processes starting together migrate once: on PostgreSQL an advisory lock held by the migrating
transaction (DDL is transactional there), on SQLite the write lock of ``BEGIN IMMEDIATE``. A database
made before migrations existed (the release of commit fc165c5, which built its schema with
``create_all``) holds exactly the baseline schema: it is stamped with the baseline revision and
then upgraded like any other.

A schema change is a new file in ``versions/`` (``efa-tui db revision -m "what"`` writes one,
compared against ``db.metadata``); ``tests/test_migrations.py`` checks that the head of the
migrations equals ``db.metadata``.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

HERE = Path(__file__).resolve().parent
BASELINE = "0001"
# Any constants: the keys of the PostgreSQL advisory locks for migrations and for start-up.
_LOCK_KEY = 0x45_46_41_4D_49_47  # "EFAMIG"
_START_KEY = 0x45_46_41_53_54_41  # "EFASTA"


def config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(HERE / "versions"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def head() -> str:
    heads = ScriptDirectory.from_config(config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads ({', '.join(heads)}); merge them")
    return heads[0]


def current(engine: Engine) -> str | None:
    """The revision the database is at (None: empty or made before migrations existed)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        # Held until the transaction ends: a second process waits here, then finds nothing to do.
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    # SQLite: the transaction began with BEGIN IMMEDIATE (db.writing), which is the lock.


@contextmanager
def startup_lock(engine: Engine) -> Iterator[None]:
    """One starting server at a time sets up the database (migrations, then the demo seed, which
    commits in several steps): a session advisory lock on PostgreSQL, a file lock beside a
    SQLite file. The others wait, then find the work done."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _START_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _START_KEY})
                conn.commit()
        return
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:" or path.startswith("file:"):
        yield
        return
    with open(f"{path}.setup-lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Upgrade to ``revision`` under the migration lock; returns (revision before, after)."""
    with engine.connect().execution_options(write=True) as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table (copy, drop, rename) that other tables' foreign keys
            # name: SQLite's documented way is enforcement off around the transaction (the
            # pragma is a no-op inside one) and foreign_key_check before it commits.
            _driver(conn).execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                _lock(conn)
                before = MigrationContext.configure(conn).get_current_revision()
                if before is None and inspect(conn).has_table("organizations"):
                    # Made by the release before migrations (create_all): that schema is the baseline.
                    _complete_baseline_indexes(conn)
                    command.stamp(config(conn), BASELINE)
                    before = BASELINE
                if before != revision and not (revision == "head" and before == head()):
                    command.upgrade(config(conn), revision)
                    if sqlite and (broken := conn.exec_driver_sql("PRAGMA foreign_key_check").all()):
                        raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
                after = MigrationContext.configure(conn).get_current_revision()
        finally:
            if sqlite:
                _driver(conn).execute("PRAGMA foreign_keys=ON")
    return before, after or ""


def _driver(conn: Connection) -> Any:
    """The DB-API connection under ``conn`` (there is one while ``conn`` is open)."""
    raw = conn.connection.driver_connection
    assert raw is not None
    return raw


def _complete_baseline_indexes(conn: Connection) -> None:
    """Releases before the baseline added indexes at start (create_all skips them on existing
    tables); a database from such a release gets the baseline's missing ones here."""
    baseline = ScriptDirectory.from_config(config()).get_revision(BASELINE).module
    for table in baseline.metadata.sorted_tables:
        for index in table.indexes:
            index.create(conn, checkfirst=True)


def new_revision(engine: Engine, message: str) -> str:
    """Write the next revision file, its operations autogenerated from the difference between
    ``db.metadata`` and the database (which should be at head); returns its path."""
    script = ScriptDirectory.from_config(config())
    numbers = [int(r.revision) for r in script.walk_revisions() if r.revision.isdigit()]
    rev_id = f"{max(numbers, default=0) + 1:04d}"
    slug = "".join(c if c.isalnum() else "_" for c in message.lower()).strip("_")[:40]
    with engine.connect() as conn:
        cfg = config(conn)
        cfg.set_main_option("file_template", f"{rev_id}_{slug}")
        made = command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
    return made.path  # type: ignore[union-attr]
