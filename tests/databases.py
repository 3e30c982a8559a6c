"""Which database the server tests run on: SQLite files by default, PostgreSQL when
``EFA_TEST_DATABASE_URL`` names a server (``postgresql+psycopg://user@host:port/postgres``; the
user must be allowed to create databases). ``scripts/test --postgres`` and ``.ci/run`` start a
throwaway cluster and set it.

The demo marketplace is seeded once per test process into a template; each test gets a copy:
a copied file on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL (both take milliseconds).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

ENV = "EFA_TEST_DATABASE_URL"
SERVER_URL = os.environ.get(ENV) or None
BACKEND = make_url(SERVER_URL).get_backend_name() if SERVER_URL else "sqlite"
ON_POSTGRES = BACKEND == "postgresql"


def _admin():
    return create_engine(SERVER_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def _pg_url(name: str) -> str:
    return make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)


def new_empty(tmp_path: Path, name: str = "marketplace") -> str:
    """The URL of a new, empty database."""
    if not ON_POSTGRES:
        return f"sqlite:///{tmp_path / (name + '.sqlite3')}"
    db_name = f"efa_{name}_{uuid.uuid4().hex[:12]}"
    with _admin().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    return _pg_url(db_name)


def copy_of(template_url: str, tmp_path: Path, name: str = "marketplace") -> str:
    """A new database with the content of ``template_url`` (which nobody may be connected to)."""
    if not ON_POSTGRES:
        src = make_url(template_url).database
        dst = tmp_path / f"{name}-{uuid.uuid4().hex[:8]}.sqlite3"
        shutil.copy(src, dst)
        return f"sqlite:///{dst}"
    db_name = f"efa_{name}_{uuid.uuid4().hex[:12]}"
    template = make_url(template_url).database
    with _admin().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}" TEMPLATE "{template}"'))
    return _pg_url(db_name)


def drop(url: str) -> None:
    """Remove a database made here (SQLite files go with pytest's tmp_path)."""
    if not ON_POSTGRES:
        return
    name = make_url(url).database
    with _admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
