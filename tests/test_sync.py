"""Delta sync against the real server: full sync, a no-change resync in one 304, tombstones,
progress, cancel; offline reads from the cache with the data's age, and catch-up when the server
is back — writes queued offline delivered exactly once."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
from support import TOKENS, auth, start_server, stop_server

from efa_tui.api.client import ApiClient
from efa_tui.store.backend import Backend
from efa_tui.store.cache import Cache
from efa_tui.store.local import LocalDB
from efa_tui.store.outbox import DONE, PENDING, Outbox
from efa_tui.store.sync import SyncCancelled, data_as_of, sync_all, sync_kind


def run(coro):
    return asyncio.run(coro)


def test_full_sync_then_no_change_resync_is_one_304(live_server, tmp_path):
    cache = Cache(tmp_path / "cache.sqlite3")
    seen: list[tuple[str, int, int | None]] = []

    async def go():
        async with ApiClient(live_server, TOKENS["customer"]) as api:
            first = await sync_all(api, cache, progress=lambda k, d, t: seen.append((k, d, t)))
            before = api.request_count
            again = await sync_kind(api, cache, "offerings")
            return first, again, api.request_count - before

    first, again, requests = run(go())
    server_count = len(httpx.get(f"{live_server}/offerings", params={"limit": 1000}, headers=auth("customer")).json()["items"])
    assert cache.offering_count() == server_count > 60
    assert first["orders"].changed > 0 and first["invoices"].changed > 0 and first["organizations"].changed > 40
    assert again.not_modified and again.requests == 1 and requests == 1
    offering_progress = [p for p in seen if p[0] == "offerings"]
    assert offering_progress[-1][1] == offering_progress[-1][2]  # done == total at the end
    assert data_as_of(cache, "offerings")


def test_delta_sync_brings_changes_and_tombstones(live_server, tmp_path):
    cache = Cache(tmp_path / "cache.sqlite3")
    me = httpx.get(f"{live_server}/me", headers=auth("provider")).json()
    mine = httpx.get(f"{live_server}/offerings", params={"provider": me["organization"]["id"]}, headers=auth("provider")).json()["items"]
    renamed, retired = mine[0], mine[1]

    async def go():
        async with ApiClient(live_server, TOKENS["customer"]) as api:
            await sync_kind(api, cache, "offerings")
            url = f"{live_server}/offerings/{renamed['id']}"
            etag = httpx.get(url, headers=auth("provider")).headers["ETag"]
            httpx.patch(url, json={"title": "Neubau-Genehmigung digital"}, headers=auth("provider", **{"If-Match": etag}))
            httpx.post(f"{live_server}/offerings/{retired['id']}/retire", headers=auth("provider"))
            return await sync_kind(api, cache, "offerings")

    delta = run(go())
    assert not delta.not_modified and delta.removed == 1 and delta.changed >= 1
    assert cache.get_offering(renamed["id"])["title"] == "Neubau-Genehmigung digital"
    assert cache.get_offering(retired["id"]) is None
    assert any(r.id == renamed["id"] for r in cache.search("genehmigung").rows)


def test_sync_can_be_cancelled_without_losing_its_place(live_server, tmp_path):
    cache = Cache(tmp_path / "cache.sqlite3")

    async def go():
        cancel = asyncio.Event()
        async with ApiClient(live_server, TOKENS["customer"]) as api:
            def progress(kind, done, total):
                cancel.set()  # cancel after the first page
            with pytest.raises(SyncCancelled):
                await sync_kind(api, cache, "offerings", progress=progress, cancel=cancel, page_size=20)
            assert cache.get_state("sync:offerings") is None  # not marked as synced
            return await sync_kind(api, cache, "offerings", page_size=20)

    result = run(go())
    assert result.requests > 3 and cache.offering_count() > 60


def test_offline_reads_from_cache_and_delivers_queued_writes_once_back(db_url, tmp_path):
    proc, base = start_server(db_url)
    port = int(base.split(":")[2].split("/")[0])
    cache = Cache(tmp_path / "cache.sqlite3")
    outbox = Outbox(LocalDB(tmp_path / "local.sqlite3"))
    statuses: list[bool] = []
    marker = f"offline-{uuid.uuid4()}"

    async def go():
        nonlocal proc
        async with ApiClient(base, TOKENS["customer"], retry_attempts=2, retry_timeout=2) as api:
            backend = Backend(api, cache, outbox, probe_min=0.2, probe_max=1.0)
            backend.subscribe(lambda s: statuses.append(s.online))
            assert await backend.refresh() is not None
            as_of = backend.status.as_of["offerings"]
            stop_server(proc)  # the server dies mid-session

            assert await backend.refresh() is None
            assert not backend.status.online and backend.status.as_of["offerings"] == as_of
            hits = cache.search("bauantrag")  # everything cached stays browsable
            assert hits.total >= 3
            offering_id = hits.rows[0].id
            item, _ = await backend.submit("order.create", "POST", "/orders",
                                           {"offering_id": offering_id, "message": marker}, label="Interesse")
            assert item.state == PENDING and backend.status.pending == 1

            # The server comes back on the same port: the probe notices, flushes, syncs.
            proc, _ = start_server(db_url, port=port)
            await backend.wait_online(timeout=60)
            assert backend.status.online and backend.status.pending == 0
            assert outbox.get(item.id).state == DONE
            await backend.aclose()

    try:
        run(go())
    finally:
        stop_server(proc)
    assert False in statuses and statuses[-1] is True
    proc2, base2 = start_server(db_url)
    try:
        orders = httpx.get(f"{base2}/orders", params={"q": marker}, headers=auth("customer")).json()["items"]
    finally:
        stop_server(proc2)
    assert len(orders) == 1



def test_a_change_between_the_last_page_and_the_etag_probe_comes_with_the_next_sync(live_server, tmp_path):
    """After its pages a sync asks its next question once, to learn its ETag for a 304 later;
    a record that changed just then is in that answer but was not applied: its ETag must not be
    kept (the next sync was a 304 without the record — the polling client never saw the order)."""
    cache = Cache(tmp_path / "cache.sqlite3")
    offering = httpx.get(f"{live_server}/offerings", params={"limit": 1}, headers=auth("customer")).json()["items"][0]
    made: list[dict] = []

    def order_now(kind, done, total):
        if not made:  # the pages are applied; the probe comes next
            made.append(httpx.post(f"{live_server}/orders", json={"offering_id": offering["id"]},
                                   headers=auth("customer")).json())

    async def go():
        async with ApiClient(live_server, TOKENS["customer"]) as api:
            await sync_kind(api, cache, "orders", progress=order_now)
            assert cache.get_record("orders", made[0]["id"]) is None  # came after the pages
            return await sync_kind(api, cache, "orders")

    again = run(go())
    assert not again.not_modified and again.changed == 1
    assert cache.get_record("orders", made[0]["id"])["id"] == made[0]["id"]



def test_a_resync_drops_the_records_that_vanished_meanwhile(live_server, fresh_database, tmp_path):
    """The server's database was restored from a backup taken before an order was made: the
    client's position is newer than anything there, the server answers ``resync: true`` and
    lists everything afresh, without tombstones. The order the backup never saw must leave the
    cache (an upsert of the listing alone kept it for good)."""
    backup = fresh_database("backup")  # the marketplace as it was before the order
    cache = Cache(tmp_path / "cache.sqlite3")
    offering = httpx.get(f"{live_server}/offerings", params={"limit": 1, "sort": "-annual_fee"},
                         headers=auth("customer")).json()["items"][0]
    made = httpx.post(f"{live_server}/orders", json={"offering_id": offering["id"], "message": "vor der Sicherung"},
                      headers=auth("customer"))
    assert made.status_code == 201, made.text
    order_id = made.json()["id"]

    async def sync_from(base: str) -> tuple[dict, object]:
        async with ApiClient(base, TOKENS["customer"]) as api:
            position = (cache.get_state("sync:orders") or {}).get("position", 0)
            probe = await api.request("GET", "/orders", params={"sync_position": position, "limit": 1})
            return probe.data, await sync_kind(api, cache, "orders")

    run(sync_from(live_server))
    assert cache.get_record("orders", order_id) is not None
    proc, restored = start_server(backup)
    try:
        probe, result = run(sync_from(restored))
        listed = {o["id"] for o in httpx.get(f"{restored}/orders", params={"limit": 1000}, headers=auth("customer")).json()["items"]}
    finally:
        stop_server(proc)
    assert probe.get("resync") is True
    assert order_id not in listed
    assert cache.get_record("orders", order_id) is None
    assert cache.record_ids("orders") == listed
    assert result.removed == 1


class _SurrogateInTitles(httpx.AsyncBaseTransport):
    """Between the client and the real server: every offering title of a page comes back with a
    lone surrogate in it ("\\ud800" in the JSON) — what a hostile or broken server may send."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        resp = await self.inner.handle_async_request(request)
        body = await resp.aread()
        if request.url.path.endswith("/offerings") and resp.status_code == 200:
            page = json.loads(body)
            for item in page.get("items", []):
                if "title" in item:
                    item["title"] = "Bau\ud800" + item["title"]
            body = json.dumps(page).encode()  # ensure_ascii: the surrogate travels as \ud800
        headers = [(k, v) for k, v in resp.headers.items() if k.lower() not in ("content-length", "content-encoding")]
        return httpx.Response(resp.status_code, headers=headers, content=body)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_a_lone_surrogate_in_a_title_is_stored_as_U_FFFD(live_server, tmp_path):
    """The cache's writer could not store a title with a lone surrogate (sqlite3 cannot encode
    it: the sync failed, a server could stop every client's sync with one title). Now the text
    is stored with U+FFFD in its place, and it is found by its words."""
    cache = Cache(tmp_path / "cache.sqlite3")

    async def go():
        async with ApiClient(live_server, TOKENS["customer"], transport=_SurrogateInTitles()) as api:
            return await sync_kind(api, cache, "offerings")

    result = run(go())
    assert result.changed > 60
    server_items = httpx.get(f"{live_server}/offerings", params={"limit": 1000}, headers=auth("customer")).json()["items"]
    first = server_items[0]
    stored = cache.get_offering(first["id"])
    assert stored["title"] == "Bau\ufffd" + first["title"]
    assert cache.offering_count() == len(server_items)
    assert any(r.id == first["id"] for r in cache.search(first["title"].split()[0]).rows)


def test_the_server_refuses_a_lone_surrogate_with_422(live_server):
    """The server's side of it: text that is not Unicode is refused before it is stored (the same
    on SQLite and PostgreSQL, which could not store it either)."""
    resp = httpx.post(f"{live_server}/offerings",
                      content=b'{"title": "Bau\\ud800antrag", "category": "Bauen & Wohnen", "annual_fee": "1.00"}',
                      headers=auth("provider", **{"Content-Type": "application/json"}))
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["errors"][0]["field"] == "title"
    # A valid pair of surrogates is one character (U+1F3E0) and welcome.
    ok = httpx.post(f"{live_server}/offerings",
                    content=b'{"title": "Bau \\ud83c\\udfe0 antrag", "category": "Bauen & Wohnen", "annual_fee": "1.00"}',
                    headers=auth("provider", **{"Content-Type": "application/json"}))
    assert ok.status_code == 201 and ok.json()["title"] == "Bau \U0001f3e0 antrag"
