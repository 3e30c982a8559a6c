"""Two server processes on one database (SQLite file, or PostgreSQL with EFA_TEST_DATABASE_URL),
each promise of the API raced between them with exact outcomes: one outcome per
Idempotency-Key, a stale If-Match refused on every resource with PATCH (organisation, offering,
user; and on an order step),
a permission change seen at once by the other process, NUL refused the same on every database,
and a delta sync between a write that began first and commits last and another one (the
catalog's page cache too). The billing race (gap-free numbers, billed once) is
test_billing.py::test_two_server_processes_racing_bill_once_with_gap_free_numbers.

Each race fires the two requests at once from two threads (a barrier, connections opened
beforehand) and repeats TRIALS times: on the release before (fc165c5) the key race answered 500
and the If-Match race accepted both writes in most trials on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from databases import ON_POSTGRES
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from support import TOKENS, auth, start_server, stop_server

from efa_tui.api.client import ApiClient
from efa_tui.store.cache import Cache
from efa_tui.store.sync import sync_kind

pytestmark = pytest.mark.slow
TRIALS = 12


@pytest.fixture
def two_servers(db_url: str) -> Iterator[tuple[str, str]]:
    """Two `efa-tui serve` processes on one copy of the demo database."""
    first = start_server(db_url)
    try:
        second = start_server(db_url)
    except BaseException:
        stop_server(first[0])
        raise
    try:
        yield first[1], second[1]
    finally:
        stop_server(first[0])
        stop_server(second[0])


def at_once(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Run the calls in threads released together; their responses in call order."""
    barrier = threading.Barrier(len(calls))
    out: list = [None] * len(calls)

    def run(i: int, call) -> None:
        barrier.wait()
        try:
            out[i] = call()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(isinstance(r, httpx.Response) for r in out), out
    return out


@contextmanager
def clients(a: str, b: str) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    with httpx.Client(base_url=a, timeout=60) as ca, httpx.Client(base_url=b, timeout=60) as cb:
        ca.get("/healthz"), cb.get("/healthz")  # connections open before the race
        yield ca, cb


def test_one_outcome_per_idempotency_key(two_servers):
    with clients(*two_servers) as (ca, cb):
        for trial in range(TRIALS):
            key = str(uuid.uuid4())
            title = f"Wettlauf {trial} {key[:8]}"
            body = {"title": title, "category": "Bauen & Wohnen", "annual_fee": "100.00"}
            hdrs = auth("provider", **{"Idempotency-Key": key})
            ra, rb = at_once(lambda: ca.post("/offerings", json=body, headers=hdrs),
                             lambda: cb.post("/offerings", json=body, headers=hdrs))
            statuses = sorted((ra.status_code, rb.status_code))
            assert statuses in ([201, 201], [201, 409]), (trial, ra.status_code, ra.text, rb.status_code, rb.text)
            made = [r for r in (ra, rb) if r.status_code == 201]
            if len(made) == 2:  # the second one is the first one's answer, replayed
                assert made[0].json()["id"] == made[1].json()["id"]
                assert sorted(r.headers.get("Idempotent-Replayed", "") for r in made) == ["", "true"]
            # Exactly one offering exists, whatever the timing; a retry replays it.
            again = ca.post("/offerings", json=body, headers=hdrs)
            assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
            assert again.json()["id"] == made[0].json()["id"]
            mine = ca.get("/offerings", params={"q": title, "status": "draft"}, headers=auth("provider")).json()["items"]
            assert [i["id"] for i in mine] == [made[0].json()["id"]]


def _race_patch(ca: httpx.Client, cb: httpx.Client, path: str, who: str, field: str, values: tuple[str, str]) -> None:
    for trial in range(TRIALS):
        etag = ca.get(path, headers=auth(who)).headers["ETag"]
        hdrs = auth(who, **{"If-Match": etag})
        va, vb = (f"{v} {trial}" for v in values)
        ra, rb = at_once(lambda: ca.patch(path, json={field: va}, headers=hdrs),
                         lambda: cb.patch(path, json={field: vb}, headers=hdrs))
        statuses = sorted((ra.status_code, rb.status_code))
        assert statuses == [200, 412], (path, trial, ra.status_code, ra.text, rb.status_code, rb.text)
        winner = va if ra.status_code == 200 else vb
        now = cb.get(path, headers=auth(who))
        assert now.json()[field] == winner
        assert now.headers["ETag"] == (ra if ra.status_code == 200 else rb).headers["ETag"]


def test_a_stale_if_match_is_refused_on_an_organisation(two_servers):
    with clients(*two_servers) as (ca, cb):
        org = ca.get("/me", headers=auth("customer")).json()["organization"]["id"]
        _race_patch(ca, cb, f"/organizations/{org}", "operator", "contact_name", ("Erika Muster", "Max Muster"))


def test_a_stale_if_match_is_refused_on_an_offering(two_servers):
    with clients(*two_servers) as (ca, cb):
        me = ca.get("/me", headers=auth("provider")).json()["organization"]["id"]
        mine = ca.get("/offerings", params={"provider": me, "status": "published"}, headers=auth("provider")).json()["items"]
        _race_patch(ca, cb, f"/offerings/{mine[0]['id']}", "provider", "summary", ("Kurz", "Knapp"))


def test_a_stale_if_match_is_refused_on_an_order_step(two_servers):
    with clients(*two_servers) as (ca, cb):
        offerings = ca.get("/offerings", params={"limit": 200}, headers=auth("customer")).json()["items"]
        provider = ca.get("/me", headers=auth("provider")).json()["organization"]["id"]
        offering = next(o for o in offerings if o["provider"]["id"] == provider)
        for trial in range(TRIALS):
            order = ca.post("/orders", json={"offering_id": offering["id"], "message": f"Wettlauf {trial}"},
                            headers=auth("customer"))
            assert order.status_code == 201, order.text
            path = f"/orders/{order.json()['id']}"
            etag = ca.get(path, headers=auth("provider")).headers["ETag"]
            hdrs = auth("provider", **{"If-Match": etag})
            fees = ({"annual_fee": "1000.00"}, {"annual_fee": "2000.00"})
            ra, rb = at_once(
                lambda: ca.post(f"{path}/transitions", json={"action": "propose", "fees": fees[0]}, headers=hdrs),
                lambda: cb.post(f"{path}/transitions", json={"action": "propose", "fees": fees[1]}, headers=hdrs))
            assert sorted((ra.status_code, rb.status_code)) in ([200, 409], [200, 412]), (
                trial, ra.status_code, ra.text, rb.status_code, rb.text)
            winner = fees[0] if ra.status_code == 200 else fees[1]
            now = cb.get(path, headers=auth("customer")).json()
            assert now["fees"]["annual_fee"] == winner["annual_fee"]
            events = cb.get(f"{path}/events", headers=auth("customer")).json()["items"]
            assert [e["action"] for e in events] == ["create", "propose"]


def test_a_permission_change_holds_at_once_in_the_other_process(two_servers):
    with clients(*two_servers) as (ca, cb):
        me = cb.get("/me", headers=auth("customer")).json()  # the other process has seen this user
        assert me["can_order"] is True, me
        org = me["organization"]["id"]
        offering = cb.get("/offerings", params={"limit": 1}, headers=auth("customer")).json()["items"][0]
        etag = ca.get(f"/organizations/{org}", headers=auth("operator")).headers["ETag"]
        done = ca.patch(f"/organizations/{org}", json={"inhouse_operator_id": None},
                        headers=auth("operator", **{"If-Match": etag}))
        assert done.status_code == 200, done.text
        # The very next request on the other process: no more ordering.
        assert cb.get("/me", headers=auth("customer")).json()["can_order"] is False
        refused = cb.post("/orders", json={"offering_id": offering["id"]}, headers=auth("customer"))
        assert refused.status_code == 403 and refused.json()["type"].endswith("not-inhouse"), refused.text


@pytest.mark.parametrize("how", ["query", "body"])
def test_nul_is_refused_with_422_on_every_database(two_servers, how):
    with clients(*two_servers) as (ca, _):
        if how == "query":
            resp = ca.get("/offerings", params={"q": "bau\x00antrag"}, headers=auth("customer"))
        else:
            resp = ca.post("/offerings", content=b'{"title": "a\\u0000b", "category": "Bauen & Wohnen", "annual_fee": "1.00"}',
                           headers=auth("provider", **{"Content-Type": "application/json"}))
        assert resp.status_code == 422, resp.text
        assert resp.headers["content-type"].startswith("application/problem+json")
        # An escaped backslash before u0000 is text, not NUL: accepted.
        ok = ca.post("/offerings", content=b'{"title": "a\\\\u0000b", "category": "Bauen & Wohnen", "annual_fee": "1.00"}',
                     headers=auth("provider", **{"Content-Type": "application/json"}))
        assert ok.status_code == 201 and ok.json()["title"] == "a\\u0000b"


@contextmanager
def stalled_writes(db_url: str, offering_id: int) -> Iterator[Callable[[], None]]:
    """Hold up writes to one offering until the block ends; yields ``wait_until_blocked``.

    PostgreSQL: the offering's row is locked, so a PATCH of it takes its timestamp, runs into the
    lock and commits only after the block — after writes to other rows that began later. SQLite:
    the whole database is held (BEGIN IMMEDIATE), every writer waits before it begins; the order
    of commits cannot be turned round there, and the sync in between sees neither write."""
    if ON_POSTGRES:
        engine = create_engine(db_url, poolclass=NullPool)
        with engine.connect() as holder, engine.connect() as probe:
            tx = holder.begin()
            holder.execute(text("SELECT id FROM offerings WHERE id = :id FOR UPDATE"), {"id": offering_id})

            def wait_until_blocked() -> None:
                deadline = time.monotonic() + 60
                while not probe.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar():
                    probe.rollback()
                    assert time.monotonic() < deadline, "the write never reached the locked row"
                    time.sleep(0.05)
                probe.rollback()

            try:
                yield wait_until_blocked
            finally:
                tx.rollback()
        engine.dispose()
        return
    holder = sqlite3.connect(Path(make_url(db_url).database), isolation_level=None, timeout=30)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield lambda: None
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_delta_sync_between_an_early_and_a_late_commit_loses_nothing(two_servers, db_url, tmp_path):
    """The write that took its timestamp first commits last: the sync in between must not move
    its mark past it (with updated_at as the mark the late write was skipped for good, and the
    catalog page cached under max(updated_at) kept the old title)."""
    a, b = two_servers
    cache = Cache(tmp_path / "cache.sqlite3")

    async def sync() -> None:
        async with ApiClient(b, TOKENS["customer"]) as api:
            await sync_kind(api, cache, "offerings")

    def catalog_titles() -> dict[int, str]:
        pages, cursor = {}, None
        while True:
            params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            body = httpx.get(f"{b}/offerings", params=params, headers=auth("customer")).json()
            pages.update({i["id"]: i["title"] for i in body["items"]})
            cursor = body["next_cursor"]
            if not cursor:
                return pages

    with clients(a, b) as (ca, cb):
        me = ca.get("/me", headers=auth("provider")).json()["organization"]["id"]
        mine = ca.get("/offerings", params={"provider": me, "status": "published"}, headers=auth("provider")).json()["items"]
        late, early = mine[0]["id"], mine[1]["id"]
        asyncio.run(sync())
        catalog_titles()  # the other process has the catalog in its page cache
        tags = {i: ca.get(f"/offerings/{i}", headers=auth("provider")).headers["ETag"] for i in (late, early)}
        answers: dict[str, httpx.Response] = {}

        def patch(client: httpx.Client, offering_id: int, title: str, name: str) -> None:
            answers[name] = client.patch(f"/offerings/{offering_id}", json={"title": title},
                                         headers=auth("provider", **{"If-Match": tags[offering_id]}))

        with stalled_writes(db_url, late) as wait_until_blocked:
            first = threading.Thread(target=patch, args=(ca, late, "Spät bestätigt", "late"))
            first.start()
            wait_until_blocked()  # its timestamp is taken; it waits for the row
            second = threading.Thread(target=patch, args=(cb, early, "Früh bestätigt", "early"))
            second.start()
            if ON_POSTGRES:
                second.join(60)
                assert answers["early"].status_code == 200, answers["early"].text
            asyncio.run(sync())  # between the two commits
            assert catalog_titles()[late] == mine[0]["title"]
        first.join(60)
        second.join(60)
        assert answers["late"].status_code == 200 and answers["early"].status_code == 200, answers
        asyncio.run(sync())
        assert cache.get_offering(late)["title"] == "Spät bestätigt"
        assert cache.get_offering(early)["title"] == "Früh bestätigt"
        titles = catalog_titles()
        assert (titles[late], titles[early]) == ("Spät bestätigt", "Früh bestätigt")


def test_a_stale_if_match_is_refused_on_a_user(two_servers):
    with clients(*two_servers) as (ca, cb):
        org = ca.get("/me", headers=auth("customer")).json()["organization"]["id"]
        users = ca.get(f"/organizations/{org}/users", headers=auth("operator")).json()["items"]
        _race_patch(ca, cb, f"/users/{users[0]['id']}", "operator", "name", ("Erika Muster", "Max Muster"))


def test_a_revoked_token_is_refused_at_once_by_the_other_process(two_servers):
    with clients(*two_servers) as (ca, cb):
        me = ca.get("/me", headers=auth("customer")).json()
        made = ca.post(f"/users/{me['id']}/tokens", json={"name": "Wettlauf"}, headers=auth("operator"))
        assert made.status_code == 201, made.text
        token = made.json()["token"]
        assert cb.get("/me", headers=auth(token)).status_code == 200  # the other process has used it
        assert ca.delete(f"/tokens/{made.json()['id']}", headers=auth("operator")).status_code == 204
        refused = cb.get("/me", headers=auth(token))
        assert refused.status_code == 401, refused.text
