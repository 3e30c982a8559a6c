"""The live marketplace: the change log, /events (SSE) and the client that follows it.

Everything over real HTTP against real server processes: events arrive at other clients
without any request of theirs, resume by Last-Event-ID, respect visibility, die with the
server, and never announce a rolled-back change.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
from sqlalchemy import update
from support import auth, start_server, stop_server

from efa_tui.api.client import ApiClient
from efa_tui.api.events import StreamEvent, StreamUnavailable, stream_events
from efa_tui.server import changes, db
from efa_tui.store.backend import Backend
from efa_tui.store.cache import Cache
from efa_tui.store.live import Live
from efa_tui.store.local import LocalDB
from efa_tui.store.outbox import Outbox
from efa_tui.store.sync import sync_all

WAIT = 30  # seconds a test waits for something that should come at once (a limit, not a measure)


def sync_http(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=30)


def orderable(base: str, who: str = "customer") -> int:
    """A published offering of the demo provider that ``who`` has not ordered yet."""
    with sync_http(base) as http:
        provider = http.get("/me", headers=auth("provider")).json()["organization"]["id"]
        ordered = {o["offering"]["id"] for o in http.get("/orders", params={"limit": 1000}, headers=auth(who)).json()["items"]}
        items = http.get("/offerings", params={"provider": provider, "status": "published", "limit": 200},
                         headers=auth(who)).json()["items"]
    return next(o["id"] for o in items if o["fees"]["distribution_key"] != "target_group" and o["id"] not in ordered)


def interest(base: str, who: str = "customer", message: str = "live") -> dict:
    with sync_http(base) as http:
        r = http.post("/orders", json={"offering_id": orderable(base, who), "message": message}, headers=auth(who))
    assert r.status_code == 201, r.text
    return r.json()


def newest_id(base: str, who: str = "operator") -> int:
    """The newest event id the server has (from the ready event of a fresh stream)."""
    async def first() -> int:
        async with httpx.AsyncClient(base_url=base + "/", headers=auth(who)) as http:
            async for event in stream_events(http, None):
                assert event.name == "ready"
                return event.id or 0
        raise AssertionError("no ready event")

    return asyncio.run(first()) if not _loop_running() else 0


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False


@contextlib.asynccontextmanager
async def listening(base: str, who: str, last_id: int | None) -> AsyncIterator[asyncio.Queue[StreamEvent]]:
    """A stream of ``who`` in the background; its events land in the queue."""
    queue: asyncio.Queue[StreamEvent] = asyncio.Queue()
    http = httpx.AsyncClient(base_url=base + "/", headers=auth(who))

    async def pump() -> None:
        async for event in stream_events(http, last_id, keepalive=1):
            await queue.put(event)

    task = asyncio.create_task(pump())
    try:
        yield queue
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await http.aclose()


async def until(queue: asyncio.Queue[StreamEvent], match) -> list[StreamEvent]:
    """Events up to (and with) the first that matches, within WAIT seconds."""
    seen = []
    async with asyncio.timeout(WAIT):
        while True:
            event = await queue.get()
            seen.append(event)
            if match(event):
                return seen


def is_change(kind: str, record_id: int, action: str | None = None):
    return lambda e: (e.name == "change" and e.kind == kind and e.data.get("record_id") == record_id
                      and (action is None or e.action == action))


# --- the server --------------------------------------------------------------------------------


async def test_a_write_reaches_a_listener_and_resumes_without_gaps(live_server):
    async with listening(live_server, "provider", None) as provider:
        ready = (await until(provider, lambda e: e.name == "ready"))[-1]
        order = await asyncio.to_thread(interest, live_server)
        got = await until(provider, is_change("order", order["id"], "create"))
        assert got[-1].data["version"] == order["version"] and got[-1].id > ready.id
    # Away for a while: three more changes; resuming from the last id brings exactly them.
    orders = [await asyncio.to_thread(interest, live_server, "customer2", f"n{i}") for i in range(3)]
    async with listening(live_server, "provider", got[-1].id) as provider:
        events = await until(provider, lambda e: e.name == "ready")
    ids = [e.data["record_id"] for e in events if e.name == "change" and e.kind == "order"]
    assert ids == [o["id"] for o in orders]
    assert all(a.id < b.id for a, b in zip(events, events[1:-1], strict=False))


async def test_a_partial_payment_and_a_partial_credit_note_reach_the_customer(live_server):
    """The operator books part of a payment and credits part of a line: the customer's stream
    carries both (its invoice list shows the open amount change without a key press)."""
    async with listening(live_server, "customer", None) as customer:
        await until(customer, lambda e: e.name == "ready")

        def operator_books() -> tuple[int, int]:
            with sync_http(live_server) as http:
                invoice = http.get("/invoices", params={"status": "issued", "kind": "invoice", "limit": 1},
                                   headers=auth("customer")).json()["items"][0]
                paid = http.post(f"/invoices/{invoice['id']}/payments", headers=auth("operator"), json={
                    "value_date": invoice["issue_date"], "amount": "1.00", "bank_reference": "RE Teil"})
                assert paid.status_code == 201, paid.text
                line = http.get(f"/invoices/{invoice['id']}", headers=auth("customer")).json()["lines"][0]
                credit = http.post(f"/invoices/{invoice['id']}/credit-notes", headers=auth("operator"),
                                   json={"line_id": line["id"], "net": "1.00", "reason": "Teilgutschrift"})
                assert credit.status_code == 201, credit.text
                return invoice["id"], credit.json()["id"]

        invoice_id, credit_id = await asyncio.to_thread(operator_books)
        await until(customer, is_change("invoice", invoice_id, "paid"))
        await until(customer, is_change("invoice", credit_id, "issued"))


async def test_a_customer_hears_nothing_of_another_organisation(live_server):
    """Every kind of change, made for customer 1 (and one public one): customer 2's stream has
    only the public catalog and directory, staff's has it all."""
    start = await asyncio.to_thread(newest_id, live_server)
    with sync_http(live_server) as http:
        order = (await asyncio.to_thread(interest, live_server))["id"]
        assert http.post(f"/orders/{order}/transitions", json={"action": "propose"}, headers=auth("provider")).status_code == 200
        assert http.post(f"/orders/{order}/transitions", json={"action": "order"}, headers=auth("customer")).status_code == 200
        r = http.post(f"/orders/{order}/transitions", json={"action": "activate"}, headers=auth("provider"))
        assert r.status_code == 200, r.text
        invoice = http.get("/invoices", params={"status": "issued", "limit": 1}, headers=auth("customer")).json()["items"][0]
        assert http.post(f"/invoices/{invoice['id']}/review", json={"action": "factual_ok"}, headers=auth("customer")).status_code == 200
        assert http.post(f"/invoices/{invoice['id']}/pay", headers=auth("operator")).status_code == 200
        other = http.get("/invoices", params={"status": "issued", "limit": 1}, headers=auth("customer")).json()["items"]
        if other:
            assert http.post(f"/invoices/{other[0]['id']}/cancel", json={"reason": "test"}, headers=auth("operator")).status_code == 201
        per_case = [o for o in http.get("/orders", params={"state": "active", "limit": 500}, headers=auth("provider")).json()["items"]
                    if (o["fees"] or {}).get("distribution_key") == "per_case"
                    and o["customer"]["id"] == http.get("/me", headers=auth("customer")).json()["organization"]["id"]]
        assert per_case, "the demo has a per-case contract of customer 1"
        r = http.post("/usage", json={"order_id": per_case[0]["id"], "year": db.utcnow().year, "month": db.utcnow().month, "cases": 7}, headers=auth("provider"))
        assert r.status_code == 201, r.text
        draft = http.post("/offerings", json={"title": "Entwurf", "category": "Bildung", "annual_fee": "1.00",
                                              "one_time_fee": "0.00", "distribution_key": "fixed", "vat_rate": "0.00"},
                          headers=auth("provider"))
        assert draft.status_code == 201, draft.text
        r = http.patch(f"/offerings/{draft.json()['id']}", json={"summary": "geheim"}, headers=auth("provider", **{"If-Match": "*"}))
        assert r.status_code == 200, r.text
        published = http.get("/offerings", params={"provider": draft.json()["provider"]["id"], "status": "published", "limit": 1},
                             headers=auth("provider")).json()["items"][0]
        r = http.patch(f"/offerings/{published['id']}", json={"summary": "neu"}, headers=auth("provider", **{"If-Match": "*"}))
        assert r.status_code == 200, r.text
        assert http.delete(f"/offerings/{draft.json()['id']}", headers=auth("provider")).status_code == 204
        org = http.get("/me", headers=auth("customer")).json()["organization"]
        r = http.patch(f"/organizations/{org['id']}", json={"phone": "0800 1"}, headers=auth("operator", **{"If-Match": "*"}))
        assert r.status_code in (200, 412), r.text
    async with listening(live_server, "operator", start) as staff:
        everything = [e for e in await until(staff, lambda e: e.name == "ready") if e.name == "change"]
    async with listening(live_server, "customer2", start) as stranger:
        heard = [e for e in await until(stranger, lambda e: e.name == "ready") if e.name == "change"]
    kinds = {e.kind for e in everything}
    assert {"order", "invoice", "usage", "offering"} <= kinds
    private = {(e.kind, e.data["record_id"]) for e in everything if e.kind in ("order", "invoice", "usage")}
    assert not {(e.kind, e.data["record_id"]) for e in heard} & private
    assert all(e.kind in ("offering", "organization") for e in heard)
    assert ("offering", published["id"], "changed") in {(e.kind, e.data["record_id"], e.action) for e in heard}
    # The discarded draft was never public: nobody but its provider (and staff) hears of it.
    assert draft.json()["id"] not in {e.data["record_id"] for e in heard if e.kind == "offering"}
    with sync_http(live_server) as http:
        for e in heard:  # what it heard, it may read
            if e.kind == "offering":
                assert http.get(f"/offerings/{e.data['record_id']}", headers=auth("customer2")).status_code == 200


async def test_a_rolled_back_change_never_arrives(live_server, db_url):
    """Another process on the same database: a write that rolls back after noting its change,
    then one that commits; the listener hears only the second."""
    engine = db.make_engine(db_url)
    try:
        offering = await asyncio.to_thread(orderable, live_server)
        async with listening(live_server, "customer", None) as customer:
            await until(customer, lambda e: e.name == "ready")

            def rolled_back() -> None:
                with contextlib.suppress(RuntimeError), db.writing(engine) as conn:
                    conn.execute(update(db.offerings).where(db.offerings.c.id == offering).values(version=db.offerings.c.version + 1))
                    changes.record(conn, "offering", offering, "changed")
                    raise RuntimeError("rolled back")

            def committed() -> None:
                with db.writing(engine) as conn:
                    changes.record(conn, "organization", 1, "changed")

            await asyncio.to_thread(rolled_back)
            await asyncio.to_thread(committed)
            got = await until(customer, is_change("organization", 1))
        assert not [e for e in got if e.kind == "offering"]
    finally:
        engine.dispose()


async def test_an_id_older_than_the_retention_gets_a_resync(live_server, db_url):
    engine = db.make_engine(db_url)
    try:
        def age_and_purge() -> int:
            with db.writing(engine) as conn:
                conn.execute(update(db.changes).values(at=db.utcnow() - changes.KEEP - timedelta(days=1)))
            return changes.purge(engine)

        assert await asyncio.to_thread(age_and_purge) > 0
        async with listening(live_server, "customer", 1) as customer:
            first = (await until(customer, lambda e: e.name in ("resync", "ready")))[-1]
        assert first.name == "resync"
        async with listening(live_server, "customer", 10**9) as customer:  # not from this database
            first = (await until(customer, lambda e: e.name in ("resync", "ready")))[-1]
        assert first.name == "resync"
    finally:
        engine.dispose()


async def test_another_process_forgets_a_cached_permission_by_the_change_log(fresh_database):
    """Two servers on one database: the operator ends the customer's in-house relationship on
    one, and the other (which has the customer cached) refuses the next order at once."""
    url = fresh_database("two")
    one, base_one = start_server(url)
    two, base_two = start_server(url)
    try:
        offering = await asyncio.to_thread(orderable, base_two)
        with sync_http(base_two) as http:
            assert http.get("/me", headers=auth("customer")).json()["can_order"]  # cached on two now
        async with listening(base_two, "operator", None) as staff:
            await until(staff, lambda e: e.name == "ready")
            with sync_http(base_one) as http:
                org = http.get("/me", headers=auth("customer")).json()["organization"]
                r = http.patch(f"/organizations/{org['id']}", json={"inhouse_operator_id": None},
                               headers=auth("operator", **{"If-Match": "*"}))
                assert r.status_code == 200, r.text
            await until(staff, is_change("organization", org["id"]))
        with sync_http(base_two) as http:
            r = http.post("/orders", json={"offering_id": offering}, headers=auth("customer"))
        assert r.status_code == 403 and r.json()["type"].endswith("not-inhouse"), r.text
    finally:
        stop_server(one)
        stop_server(two)


# --- the client --------------------------------------------------------------------------------


def client_parts(base: str, tmp_path, identity: str):
    api = ApiClient(base, f"demo-{identity}", retry_attempts=1)
    cache = Cache(tmp_path / f"cache-{identity}.sqlite3")
    outbox = Outbox(LocalDB(tmp_path / f"local-{identity}.sqlite3"), identity)
    backend = Backend(api, cache, outbox, probe_min=0.2, probe_max=0.5)
    return api, cache, backend


async def wait_for(condition, timeout: float = WAIT) -> None:
    async with asyncio.timeout(timeout):
        while not await asyncio.to_thread(condition):
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def following(backend: Backend, role: str):
    batches = []
    live = Live(backend, role=lambda: role, on_batch=batches.append, keepalive=1, read_timeout=3)
    task = asyncio.create_task(live.run())
    try:
        await wait_for(lambda: backend.status.mode == "live")
        await wait_for(lambda: batches)  # the catch-up after the stream opened is done
        yield live, batches
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_provider_hears_of_a_new_interest_without_asking(live_server, tmp_path):
    api, cache, backend = client_parts(live_server, tmp_path, "provider")
    await sync_all(api, cache)
    try:
        async with following(backend, "provider") as (live, batches):
            requests = api.request_count
            order = await asyncio.to_thread(interest, live_server)
            await wait_for(lambda: cache.get_record("orders", order["id"]) is not None)
            await wait_for(lambda: live.unread)
            assert [(n.kind, n.record_id) for n in live.unread] == [("interest", order["id"])]
            assert backend.status.news == 1
            # One sync for the burst: the orders only (a 200, then the probe for its ETag).
            assert api.request_count - requests <= 3
    finally:
        await api.aclose()
        cache.close()


async def test_a_client_that_was_away_catches_up_from_its_last_event(live_server, tmp_path):
    api, cache, backend = client_parts(live_server, tmp_path, "customer")
    await sync_all(api, cache)
    try:
        async with following(backend, "customer") as (live, _):
            pass
        away_from = live.last_id
        assert away_from is not None
        order = await asyncio.to_thread(interest, live_server)
        with sync_http(live_server) as http:
            r = http.post(f"/orders/{order['id']}/transitions", json={"action": "propose"}, headers=auth("provider"))
            assert r.status_code == 200
        async with following(backend, "customer") as (again, _):
            assert again.seen_id is not None and again.seen_id >= away_from
            await wait_for(lambda: (cache.get_record("orders", order["id"]) or {}).get("state") == "proposed")
            await wait_for(lambda: again.unread)
        assert [(n.kind, n.record_id) for n in again.unread] == [("proposal", order["id"])]
    finally:
        await api.aclose()
        cache.close()


async def test_a_killed_server_is_noticed_without_a_request(fresh_database, tmp_path):
    proc, base = start_server(fresh_database("killed"))
    api, cache, backend = client_parts(base, tmp_path, "customer")
    try:
        async with following(backend, "customer"):
            assert backend.status.online
            proc.kill()
            # The promise is "within 10 s": that is the limit of the wait, not a measurement.
            await wait_for(lambda: not backend.status.online, timeout=10)
            assert backend.status.mode is None
    finally:
        proc.kill()
        await backend.aclose()
        await api.aclose()
        cache.close()


async def test_without_a_stream_the_client_polls(live_server, tmp_path):
    """A server (or proxy) that answers /events with no event stream: the client polls."""
    api, cache, backend = client_parts(live_server, tmp_path, "customer")

    async def no_stream(last_id, **options):
        raise StreamUnavailable("text/html")
        yield  # pragma: no cover - an async generator that ends at once

    api.events = no_stream  # the wire answer a buffering proxy gives, in place of the server's
    live = Live(backend, role=lambda: "customer", poll_s=5)
    task = asyncio.create_task(live.run())
    try:
        await wait_for(lambda: backend.status.mode == "polling")
        order = await asyncio.to_thread(interest, live_server)
        await wait_for(lambda: cache.get_record("orders", order["id"]) is not None)
        assert backend.status.online
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await api.aclose()
        cache.close()


def test_the_stream_refuses_a_bad_event_id(client):
    r = client.get("/events", headers={**auth("customer"), "Last-Event-ID": "abc"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/events").status_code == 401
