"""Helpers for the tests (importable as ``support``: pytest puts tests/ on sys.path)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from efa_tui.files import free_port

TOKENS = {
    "customer": "demo-customer",
    "customer2": "demo-customer-2",
    "customer_nohouse": "demo-customer-nohouse",
    "provider": "demo-provider",
    "provider2": "demo-provider-2",
    "support": "demo-support",
    "operator": "demo-operator",
}


def official_checker() -> Path:
    """``../shared/validation/check-xrechnung`` (the official XRechnung rules), looked up from the
    checkout upwards so that a git worktree finds it too; the path may not exist (tests then skip)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "shared" / "validation" / "check-xrechnung"
        if candidate.exists():
            return candidate
    return here.parents[1].parent / "shared" / "validation" / "check-xrechnung"


def backdate_binding_order(db_url: str, order_id: int, when) -> None:
    """Arrange an order bound earlier (``ordered_at`` = ``when``), so that a test may activate it
    from a date in the past: the server lets no contract start before its binding order."""
    from sqlalchemy import create_engine, update

    from efa_tui.server import db

    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(update(db.orders).where(db.orders.c.id == order_id).values(ordered_at=when))
    engine.dispose()


def post_interest(base: str, offering_id: int, key: str, who: str = "customer") -> dict:
    """An interest made through a second client (an open order the app finds in its cache)."""
    with httpx.Client(base_url=base) as http:
        made = http.post("/orders", json={"offering_id": offering_id, "contact_name": "Erste Anfrage",
                                          "leitweg_id": "04011000-1234512345-06"},
                         headers=auth(who, **{"Idempotency-Key": key}))
    assert made.status_code == 201, made.text
    return made.json()


def auth(who: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS.get(who, who)}", **headers}


def start_server(db_url: str, *extra: str, port: int | None = None, wait: float = 60) -> tuple[subprocess.Popen, str]:
    port = port or free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "efa_tui.cli", "serve", "--demo", "--database", db_url, "--port", str(port),
         "--log-level", "warning", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stdout.read().decode() if proc.stdout else ''}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server did not come up within {wait:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
