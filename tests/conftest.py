"""Shared fixtures: a seeded demo marketplace, per test a fresh copy, reached over HTTP.

Seeding takes a few seconds, so it happens once per session into a template file; each test
gets its own copy of that file and its own app (TestClient speaks HTTP to the ASGI app
in-process). Tests that need a real socket use ``live_server`` (uvicorn on 127.0.0.1).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import databases
import pytest
from fastapi.testclient import TestClient
from support import start_server, stop_server

from efa_tui.server.app import Settings, create_app
from efa_tui.server.demo import seed
from efa_tui.server.serve import prepare


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """The seeded demo marketplace as a SQLite file (the terminal app's tests copy it)."""
    path = tmp_path_factory.mktemp("template") / "demo.sqlite3"
    app = prepare(f"sqlite:///{path}", demo=True)
    app.state.engine.dispose()  # checkpoints the WAL into the main file
    return path


@pytest.fixture(scope="session")
def server_template(demo_template: Path, tmp_path_factory) -> Iterator[str]:
    """The seeded demo marketplace on the database the server tests run on (tests/databases.py)."""
    if not databases.ON_POSTGRES:
        yield f"sqlite:///{demo_template}"
        return
    url = databases.new_empty(tmp_path_factory.mktemp("pg"), "template")
    app = prepare(url, demo=True)
    app.state.engine.dispose()  # a template database must have no connections
    yield url
    databases.drop(url)


@pytest.fixture
def fresh_database(server_template: str, tmp_path: Path) -> Iterator:
    """Call it for another copy of the demo marketplace (its URL); all are dropped afterwards."""
    made: list[str] = []

    def make(name: str = "marketplace") -> str:
        made.append(databases.copy_of(server_template, tmp_path, name))
        return made[-1]

    yield make
    for url in made:
        databases.drop(url)


@pytest.fixture
def db_url(fresh_database) -> str:
    """A fresh copy of the demo marketplace, on SQLite or (EFA_TEST_DATABASE_URL) PostgreSQL."""
    return fresh_database()


@pytest.fixture(scope="session")
def unbilled_template(tmp_path_factory) -> Iterator[str]:
    """A demo marketplace seeded as of last November: its contracts run into this year, which
    nobody has billed yet (the usual state of a year before its Jahresrechnung). On SQLite or
    (EFA_TEST_DATABASE_URL) PostgreSQL, as the other server tests."""
    url = databases.new_empty(tmp_path_factory.mktemp("unbilled"), "unbilled")
    app = create_app(Settings(database_url=url, allow_demo_tokens=True))
    seed.seed(app.state.engine, today=date(date.today().year - 1, 11, 20))
    app.state.engine.dispose()
    yield url
    databases.drop(url)


@pytest.fixture
def unbilled_url(unbilled_template: str, tmp_path: Path) -> Iterator[str]:
    url = databases.copy_of(unbilled_template, tmp_path, "unbilled")
    yield url
    databases.drop(url)


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=db_url, allow_demo_tokens=True))
    with TestClient(app, base_url="http://127.0.0.1/api/v1", raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def live_server(db_url: str) -> Iterator[str]:
    """The reference server as a separate process on 127.0.0.1; yields the API base URL."""
    proc, base = start_server(db_url)
    try:
        yield base
    finally:
        stop_server(proc)


@pytest.fixture(scope="module")
def server(demo_template, tmp_path_factory) -> Iterator[str]:
    """One reference server per test module (for the app's Pilot and snapshot tests)."""
    path = tmp_path_factory.mktemp("module-server") / "marketplace.sqlite3"
    shutil.copy(demo_template, path)
    proc, base = start_server(f"sqlite:///{path}")
    yield base
    stop_server(proc)


@pytest.fixture(autouse=True)
def _german_again_after_each_test():
    """The interface language is process-wide: a test that switched to English leaves German behind."""
    yield
    from efa_tui import i18n

    i18n.set_language("de")
