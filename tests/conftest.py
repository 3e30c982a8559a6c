"""Shared fixtures: a seeded demo marketplace, per test a fresh copy, reached over HTTP.

Seeding takes a few seconds, so it happens once per session into a template file; each test
gets its own copy of that file and its own app (TestClient speaks HTTP to the ASGI app
in-process). Tests that need a real socket use ``live_server`` (uvicorn on 127.0.0.1).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from efa_tui.server.app import Settings, create_app
from efa_tui.server.serve import prepare

TOKENS = {
    "customer": "demo-customer",
    "customer2": "demo-customer-2",
    "customer_nohouse": "demo-customer-nohouse",
    "provider": "demo-provider",
    "provider2": "demo-provider-2",
    "support": "demo-support",
    "operator": "demo-operator",
}


def auth(who: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS.get(who, who)}", **headers}


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "demo.sqlite3"
    app = prepare(f"sqlite:///{path}", demo=True)
    app.state.engine.dispose()  # checkpoints the WAL into the main file
    return path


@pytest.fixture
def db_url(demo_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "marketplace.sqlite3"
    shutil.copy(demo_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=db_url, allow_demo_tokens=True))
    with TestClient(app, base_url="http://127.0.0.1/api/v1", raise_server_exceptions=False) as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_url: str, *extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "efa_tui.cli", "serve", "--demo", "--database", db_url, "--port", str(port),
         "--log-level", "warning", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stdout.read().decode() if proc.stdout else ''}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not come up within 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def live_server(db_url: str) -> Iterator[str]:
    """The reference server as a separate process on 127.0.0.1; yields the API base URL."""
    proc, base = start_server(db_url)
    try:
        yield base
    finally:
        stop_server(proc)
