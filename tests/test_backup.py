"""Backups: ``pg_dump`` of a running marketplace, restored into a fresh database, serves the same
answers — the commands of config/efa-tui-backup.service and README "Running the marketplace".
PostgreSQL only (a SQLite marketplace is backed up as a file: README)."""

from __future__ import annotations

import glob
import shutil
import subprocess

import databases
import httpx
import pytest
from sqlalchemy.engine import make_url
from support import auth, start_server, stop_server

pytestmark = pytest.mark.skipif(not databases.ON_POSTGRES, reason="pg_dump needs PostgreSQL (EFA_TEST_DATABASE_URL)")


def _tool(name: str) -> str:
    """The newest installed client tool (pg_dump must not be older than the server)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    path = found[-1] if found else shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def _libpq(url: str) -> str:
    """The SQLAlchemy URL as libpq takes it (postgresql://…, without the driver)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


READS = [
    ("customer", "/me", {}),
    ("customer", "/offerings", {"limit": 1000}),
    ("customer", "/offerings", {"sort": "title", "limit": 50, "q": "bau"}),
    ("customer", "/offerings", {"sync_position": 0, "limit": 1000}),
    ("provider", "/offerings", {"status": "draft"}),
    ("customer", "/orders", {"limit": 1000}),
    ("provider", "/orders", {"limit": 1000}),
    ("customer", "/invoices", {"limit": 1000}),
    ("operator", "/invoices", {"sync_position": 0, "limit": 1000}),
    ("operator", "/organizations", {"limit": 1000}),
    ("operator", "/billing/runs", {}),
    ("operator", "/audit", {}),
]


def _answers(base: str) -> dict:
    out = {}
    with httpx.Client(base_url=base, timeout=60) as c:
        for who, path, params in READS:
            resp = c.get(path, params=params, headers=auth(who))
            assert resp.status_code == 200, (path, resp.text)
            out[(who, path, str(params))] = (resp.headers["ETag"], resp.json())
        invoice = c.get("/invoices", params={"limit": 1}, headers=auth("customer")).json()["items"][0]["id"]
        for suffix in ("", "/xrechnung"):
            resp = c.get(f"/invoices/{invoice}{suffix}", headers=auth("customer"))
            assert resp.status_code == 200
            out[("customer", f"/invoices/{invoice}{suffix}", "")] = (resp.headers["ETag"], resp.text)
    return out


def test_pg_dump_of_a_running_marketplace_restores_to_the_same_answers(db_url, tmp_path):
    proc, base = start_server(db_url)
    restored_url = databases.new_empty(tmp_path, "restored")
    restored = None
    try:
        # Writes first, so that sequences, the change log and idempotency records are in the dump.
        with httpx.Client(base_url=base, timeout=60) as c:
            offering = c.get("/offerings", params={"limit": 1}, headers=auth("customer")).json()["items"][0]
            made = c.post("/orders", json={"offering_id": offering["id"], "message": "vor der Sicherung"},
                          headers=auth("customer", **{"Idempotency-Key": "backup-1"}))
            assert made.status_code == 201, made.text
        before = _answers(base)
        dump = tmp_path / "marketplace.dump"
        # The commands of config/efa-tui-backup.service and the README, while the server runs.
        subprocess.run([_tool("pg_dump"), "--format=custom", f"--file={dump}", _libpq(db_url)], check=True)
        subprocess.run([_tool("pg_restore"), "--no-owner", "-d", _libpq(restored_url), str(dump)], check=True)
        restored, restored_base = start_server(restored_url)
        after = _answers(restored_base)
        assert after.keys() == before.keys()
        for key in before:
            assert after[key] == before[key], key
        with httpx.Client(base_url=restored_base, timeout=60) as c:
            # The idempotency record came along: the same key replays the first answer…
            again = c.post("/orders", json={"offering_id": offering["id"], "message": "vor der Sicherung"},
                           headers=auth("customer", **{"Idempotency-Key": "backup-1"}))
            assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
            assert again.json()["id"] == made.json()["id"]
            # …and the sequences: a new order gets a new id, the change log goes on after the old position.
            position = c.get("/orders", params={"sync_position": 0, "limit": 1000},
                             headers=auth("customer")).json()["sync_position"]
            new = c.post("/orders", json={"offering_id": offering["id"], "message": "nach der Rücksicherung"},
                         headers=auth("customer"))
            assert new.status_code == 201 and new.json()["id"] > made.json()["id"]
            delta = c.get("/orders", params={"sync_position": position}, headers=auth("customer")).json()
            assert [o["id"] for o in delta["items"]] == [new.json()["id"]] and delta["sync_position"] > position
    finally:
        stop_server(proc)
        if restored is not None:
            stop_server(restored)
        databases.drop(restored_url)
