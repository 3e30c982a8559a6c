"""The local state that must survive anything: outbox of pending writes and form drafts.

A SQLite file in the platformdirs user data dir (not the cache dir: nothing here may be thrown
away), WAL with ``synchronous=FULL`` so that a write the user submitted is on disk before the
first byte goes to the server, also across a power cut or ``kill -9``.

Every outbox item and draft has an ``owner``: the identity (server and user, as ``/me`` answered)
that made it, so that it is shown to and sent by that identity only. ``identities`` remembers who
each identity is (its last ``/me``), ``credentials`` which identity a token at a server answered
as last time (by a hash of both: the token itself is never stored here). Rows from before owners
existed belong to ``legacy:<profile>``: kept, never sent by themselves (see ``Outbox``).
The file is 0600 in a 0700 directory.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from ..files import private_database, user_dir

LEGACY = "legacy:"  # owner prefix of rows written before owners existed (then: the profile name)

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    profile TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    body TEXT,
    idempotency_key TEXT NOT NULL UNIQUE,
    if_match TEXT,
    related TEXT,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    problem TEXT,
    response TEXT
);
CREATE INDEX IF NOT EXISTS ix_outbox_state ON outbox(state, id);
CREATE TABLE IF NOT EXISTS drafts (
    key TEXT PRIMARY KEY,
    profile TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""

# Version 1: owners. Rows of version 0 were keyed by profile name only.
MIGRATIONS = {
    1: [
        "ALTER TABLE outbox ADD COLUMN owner TEXT NOT NULL DEFAULT ''",
        f"UPDATE outbox SET owner = '{LEGACY}' || profile",
        "CREATE INDEX IF NOT EXISTS ix_outbox_owner ON outbox(owner, state, id)",
        "ALTER TABLE drafts ADD COLUMN owner TEXT NOT NULL DEFAULT ''",
        f"UPDATE drafts SET owner = '{LEGACY}' || profile, key = '{LEGACY}' || key",
        """CREATE TABLE IF NOT EXISTS identities (
            key TEXT PRIMARY KEY, server TEXT NOT NULL, user_id INTEGER NOT NULL, me TEXT NOT NULL,
            last_used TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS credentials (
            fingerprint TEXT PRIMARY KEY, identity TEXT NOT NULL, seen_at TEXT NOT NULL)""",
    ],
}
VERSION = max(MIGRATIONS)


def default_path() -> Path:
    return user_dir("data") / "local.sqlite3"


class LocalDB:
    """One connection per thread to the local state file; writes serialize on a lock."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else default_path()
        private_database(self.path)
        self._local = threading.local()
        self.lock = threading.RLock()
        with self.lock:
            conn = self.conn()
            conn.executescript(SCHEMA)
            self._migrate(conn)

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        """Bring an older file up to VERSION, each step in one transaction (never half done)."""
        found = conn.execute("PRAGMA user_version").fetchone()[0]
        for version in sorted(v for v in MIGRATIONS if v > found):
            conn.execute("BEGIN IMMEDIATE")
            try:
                if conn.execute("PRAGMA user_version").fetchone()[0] < version:  # another process may have
                    for statement in MIGRATIONS[version]:
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {version}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # durable on every commit
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    def write(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        """One statement in its own committed transaction (durable when this returns)."""
        with self.lock:
            conn = self.conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                cur = conn.execute(sql, params)
                conn.execute("COMMIT")
                return cur
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def read(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        return self.conn().execute(sql, params).fetchall()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
