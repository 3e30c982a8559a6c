"""The outbox over real HTTP: exactly once through a hostile network and a killed client,
refusals kept for the user, conflicts on a stale If-Match, drafts that survive."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from faults import FaultProxy
from support import TOKENS, auth

from efa_tui.api.client import ApiClient
from efa_tui.store.drafts import Drafts
from efa_tui.store.local import LocalDB
from efa_tui.store.outbox import CONFLICT, DONE, NEEDS_ATTENTION, PENDING, Outbox

WORKER = Path(__file__).with_name("outbox_worker.py")
MARK = "exactly-once-test"


def _offering_ids(base: str, n: int) -> list[int]:
    items = httpx.get(f"{base}/offerings", params={"limit": 100}, headers=auth("customer")).json()["items"]
    return [items[i % len(items)]["id"] for i in range(n)]


def _orders_with_mark(base: str) -> list[dict]:
    found, cursor = [], None
    while True:
        params = {"limit": 1000, "q": MARK, **({"cursor": cursor} if cursor else {})}
        page = httpx.get(f"{base}/orders", params=params, headers=auth("customer")).json()
        found += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return found


def test_200_orders_exactly_once_through_faults_and_sigkill(live_server, tmp_path):
    """Lost replies, 503s with Retry-After, refused connections and a client killed with SIGKILL
    mid-flush: the server ends with exactly 200 orders, none doubled, none lost."""
    up = urlparse(live_server)

    def plan(n: int, head: bytes) -> str:
        if not head.startswith(b"POST"):
            return "pass"
        if n % 7 == 3:
            return "drop"  # the server commits, the client never hears
        if n % 53 == 11:
            return "503"
        if n % 29 == 17:
            return "reset"
        return "pass"

    proxy = FaultProxy(up.hostname, up.port, plan, retry_after=1)
    db_path = tmp_path / "local.sqlite3"
    outbox = Outbox(LocalDB(db_path))
    for n, offering_id in enumerate(_offering_ids(live_server, 200)):
        outbox.enqueue("order.create", "POST", "/orders", {"offering_id": offering_id, "message": f"{MARK} {n}"},
                       label=f"Interesse {n}")
    try:
        # First client process: killed with SIGKILL once some orders went through.
        worker = subprocess.Popen([sys.executable, str(WORKER), str(db_path), proxy.base_url, TOKENS["customer"]],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while outbox.counts().get(DONE, 0) < 40 and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        done_before = outbox.counts().get(DONE, 0)
        assert 0 < done_before < 200, "the kill should land mid-flush"

        # The network goes away for a moment while a new client process takes over.
        proxy.refuse()
        second = subprocess.Popen([sys.executable, str(WORKER), str(db_path), proxy.base_url, TOKENS["customer"]],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        time.sleep(1.0)
        proxy.accept()
        out, _ = second.communicate(timeout=600)
        assert second.returncode == 0, out.decode()
    finally:
        proxy.close()
    assert outbox.counts() == {DONE: 200}
    assert {"drop", "503", "reset"} <= set(proxy.actions)
    orders = _orders_with_mark(live_server)
    messages = sorted(o["message"] for o in orders)
    assert len(orders) == 200
    assert messages == sorted(f"{MARK} {n}" for n in range(200))  # none doubled, none lost


def test_refusal_needs_attention_keeps_the_problem_and_can_be_fixed(live_server, tmp_path):
    outbox = Outbox(LocalDB(tmp_path / "local.sqlite3"))
    offering_id = _offering_ids(live_server, 1)[0]
    bad = outbox.enqueue("order.create", "POST", "/orders", {"offering_id": offering_id, "leitweg_id": "992-90009-97"},
                         label="Interesse")
    after = outbox.enqueue("order.create", "POST", "/orders", {"offering_id": offering_id, "message": "danach"})

    async def run():
        async with ApiClient(live_server, TOKENS["customer"], retry_attempts=2, retry_timeout=5) as api:
            first = await outbox.flush(api)
            item = outbox.get(bad.id)
            assert item.state == NEEDS_ATTENTION
            assert item.problem["errors"][0]["field"] == "leitweg_id"
            assert item.body["leitweg_id"] == "992-90009-97"  # what the user typed is kept
            assert outbox.get(after.id).state == DONE  # one refusal does not block the rest
            assert (first.sent, first.attention) == (1, 1)
            fixed = outbox.retry(bad.id, body={**item.body, "leitweg_id": "992-90009-96"})
            assert fixed.idempotency_key != bad.idempotency_key  # a changed request is a new request
            await outbox.flush(api)
            assert outbox.get(bad.id).state == DONE

    asyncio.run(run())


def test_stale_if_match_becomes_a_conflict(live_server, tmp_path):
    outbox = Outbox(LocalDB(tmp_path / "local.sqlite3"))
    me = httpx.get(f"{live_server}/me", headers=auth("provider")).json()
    offering = httpx.get(f"{live_server}/offerings", params={"provider": me["organization"]["id"]},
                         headers=auth("provider")).json()["items"][0]
    url = f"{live_server}/offerings/{offering['id']}"
    etag = httpx.get(url, headers=auth("provider")).headers["ETag"]
    # Another admin saves first.
    assert httpx.patch(url, json={"summary": "Kollegin war schneller"}, headers=auth("provider", **{"If-Match": etag})).status_code == 200
    item = outbox.enqueue("offering.patch", "PATCH", f"/offerings/{offering['id']}", {"summary": "meine Fassung"}, if_match=etag)

    async def run():
        async with ApiClient(live_server, TOKENS["provider"], retry_attempts=2) as api:
            await outbox.flush(api)

    asyncio.run(run())
    stored = outbox.get(item.id)
    assert stored.state == CONFLICT and stored.problem["status"] == 412
    assert stored.body == {"summary": "meine Fassung"}
    assert httpx.get(url, headers=auth("provider")).json()["summary"] == "Kollegin war schneller"  # no silent overwrite


def test_outbox_survives_reopening_and_pending_stays_pending_offline(tmp_path):
    path = tmp_path / "local.sqlite3"
    outbox = Outbox(LocalDB(path))
    item = outbox.enqueue("order.create", "POST", "/orders", {"offering_id": 1})

    async def run():
        async with ApiClient("http://127.0.0.1:9/api/v1", "t", retry_attempts=2, retry_timeout=2) as api:
            return await outbox.flush(api)

    result = asyncio.run(run())
    assert result.unreachable and result.remaining == 1
    reopened = Outbox(LocalDB(path))
    again = reopened.get(item.id)
    assert again.state == PENDING and again.idempotency_key == item.idempotency_key and again.attempts == 1


def test_drafts_are_saved_on_every_change_and_survive(tmp_path):
    path = tmp_path / "local.sqlite3"
    drafts = Drafts(LocalDB(path), owner="demo")
    drafts.save("order:7", {"message": "Wir möchten", "leitweg_id": "992-"})
    drafts.save("order:7", {"message": "Wir möchten bestellen", "leitweg_id": "992-90009-96"})
    other_profile = Drafts(LocalDB(path), owner="hessen")
    assert other_profile.load("order:7") is None
    reopened = Drafts(LocalDB(path), owner="demo")
    assert reopened.load("order:7") == {"message": "Wir möchten bestellen", "leitweg_id": "992-90009-96"}
    assert reopened.keys() == ["order:7"]
    reopened.delete("order:7")
    assert reopened.load("order:7") is None


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch):
    # httpx would route loopback through a proxy configured in the environment.
    for var in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
