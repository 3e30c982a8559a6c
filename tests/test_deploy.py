"""Running the marketplace: readiness follows the schema, several worker processes on one port,
the connection budget against PostgreSQL's max_connections."""

from __future__ import annotations

import logging
import subprocess
import sys
import time

import databases
import httpx
import pytest
from fastapi.testclient import TestClient
from support import auth

from efa_tui.files import free_port
from efa_tui.server import db, migrations
from efa_tui.server.app import Settings, create_app
from efa_tui.server.serve import check_connection_budget


def test_ready_only_when_the_schema_is_at_this_releases_revision(tmp_path):
    url = databases.new_empty(tmp_path, "ready")
    try:
        engine = db.make_engine(url)
        migrations.upgrade(engine, migrations.BASELINE)  # an older schema
        engine.dispose()
        app = create_app(Settings(database_url=url), migrate=False)
        with TestClient(app) as c:
            assert c.get("/healthz").status_code == 200  # alive…
            not_ready = c.get("/readyz")
            assert not_ready.status_code == 503 and "0001" in not_ready.json()["detail"]  # …but not ready
            migrations.upgrade(app.state.engine)
            ready = c.get("/api/v1/readyz")
            assert ready.status_code == 200 and ready.json()["schema"] == migrations.head()
        app.state.engine.dispose()
    finally:
        databases.drop(url)


@pytest.mark.slow
def test_serve_with_two_workers_answers_on_one_port(db_url):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "efa_tui.cli", "serve", "--demo", "--database", db_url, "--port",
                             str(port), "--workers", "2", "--pool-size", "2", "--max-overflow", "1", "--log-level", "warning"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("no answer")
        with httpx.Client(base_url=f"{base}/api/v1", timeout=30) as c:
            for _ in range(20):
                assert c.get("/offerings", params={"limit": 5}, headers=auth("customer")).status_code == 200
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0].decode()
    assert "2 worker processes" in out and "Traceback" not in out


def test_the_connection_budget_is_checked_against_max_connections(caplog):
    if not databases.ON_POSTGRES:
        pytest.skip("max_connections is PostgreSQL's")
    engine = db.make_engine(databases.SERVER_URL)
    try:
        with caplog.at_level(logging.WARNING, logger="efa_tui.server"):
            check_connection_budget(engine, 1, 2, 2)
            assert not caplog.records
            check_connection_budget(engine, 64, 100, 100)
        assert "max_connections" in caplog.text and "12800" in caplog.text
    finally:
        engine.dispose()
