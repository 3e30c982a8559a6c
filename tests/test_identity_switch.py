"""Local state belongs to one identity: switching who signs in, in ONE home directory (real XDG
dirs in tmp, one profile, the real reference server), never shows one identity another's rows —
not after the switch, and not before ``/me`` has answered — and never sends one identity's
writes with another's token. What each identity sees is compared with what the server lets it see.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from app_support import screen_text
from support import auth

from efa_tui.app import EfaApp
from efa_tui.config import Config, Profile, _named
from efa_tui.session import Session
from efa_tui.store.outbox import PENDING

PAIRS = [("customer", "customer-nohouse"), ("provider", "provider-2"), ("customer", "support"), ("customer", "operator")]


@pytest.fixture
def home(tmp_path, monkeypatch):
    """One user's home: config, data and cache dirs, shared by every run of the test."""
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("EFA_TUI_TOKEN", raising=False)
    return tmp_path


def open_session(server: str, identity: str) -> Session:
    """The same profile every time (as `--as` with the embedded demo): only the token differs."""
    profile = _named(Profile(server_url=server, token_source="demo", demo_identity=identity), "demo")
    return Session.open(Config(), profile)


def server_view(server: str, identity: str) -> dict[str, set]:
    """What the server lets this identity see."""
    seen = {}
    for kind, key in (("orders", "id"), ("invoices", "number")):
        found, cursor = set(), None
        while True:
            params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            page = httpx.get(f"{server}/{kind}", params=params, headers=auth(f"demo-{identity}"), timeout=30).json()
            found |= {item[key] for item in page["items"]}
            cursor = page.get("next_cursor")
            if not cursor:
                break
        seen[kind] = found
    seen["me"] = httpx.get(f"{server}/me", headers=auth(f"demo-{identity}"), timeout=30).json()
    return seen


def cached_view(session: Session) -> dict[str, set]:
    cache = session.cache
    return {"orders": {o["id"] for o in cache.list_records("orders", limit=100_000)},
            "invoices": {i["number"] for i in cache.list_records("invoices", limit=100_000)}}


async def until_synced(pilot, app: EfaApp) -> None:
    """The session started, /me answered and the sync of every kind is done."""
    for _ in range(1200):
        status = app.connection.status
        if app.me and not status.syncing and all(status.as_of.get(k) for k in ("orders", "invoices")):
            break
        await pilot.pause(0.05)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def run(server: str, identity: str, *, network: bool = True, keys: tuple[str, ...] = ()) -> dict:
    """One start of the app as ``identity``: what it has cached and shows (after the sync, or,
    without the network, before /me could answer)."""
    session = open_session(server, identity)
    app = EfaApp(session, language="de", theme="textual-dark", start_network=network)
    seen: dict = {}
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            if network:
                await until_synced(pilot, app)
            else:
                for _ in range(3):
                    await pilot.app.workers.wait_for_complete()
                    await pilot.pause(0.05)
            seen = {**await asyncio.to_thread(cached_view, session), "me": app.me.model_dump(mode="json") if app.me else {}}
            for key in keys:
                await pilot.press(key)
                for _ in range(3):
                    await pilot.app.workers.wait_for_complete()
                    await pilot.pause(0.05)
            seen["screen"] = screen_text(app)
    finally:
        await session.aclose()
    return seen


@pytest.mark.parametrize(("first", "second"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
async def test_a_switch_of_identity_shows_only_what_the_server_lets_it_see(server, home, first, second):
    truth = {who: await asyncio.to_thread(server_view, server, who) for who in (first, second)}
    assert truth[first]["orders"] != truth[second]["orders"]  # else the pair proves nothing

    one = await run(server, first)
    assert one["orders"] == truth[first]["orders"] and one["invoices"] == truth[first]["invoices"]
    assert one["me"]["id"] == truth[first]["me"]["id"]

    # The second identity before /me has answered: nothing of the first one, not for a frame.
    before = await run(server, second, network=False, keys=("2",))
    assert before["orders"] == set() and before["invoices"] == set() and before["me"] == {}
    first_org = truth[first]["me"]["organization"]["name"]
    assert first_org not in before["screen"]

    two = await run(server, second, keys=("2",))
    assert two["orders"] == truth[second]["orders"], "orders of another identity in the cache"
    assert two["invoices"] == truth[second]["invoices"], "invoices of another identity in the cache"
    assert two["me"]["id"] == truth[second]["me"]["id"]
    if truth[second]["me"]["role"] not in ("support", "operator"):
        assert first_org not in two["screen"]

    # Back to the first: its own rows at once, from its cache (the credential is known).
    again = await run(server, first, network=False)
    assert again["orders"] == truth[first]["orders"] and again["me"]["id"] == truth[first]["me"]["id"]


async def test_writes_wait_for_their_own_identity(server, home):
    """An interest queued by München is not sent when Jena signs in (with Jena's token it would
    become Jena's order); the outbox says it is München's. München's next start sends it."""
    offering = httpx.get(f"{server}/offerings", params={"limit": 1, "status": "published"}, headers=auth("customer"),
                         timeout=30).json()["items"][0]
    munich = open_session(server, "customer")
    try:
        await munich.identify()
        item = await asyncio.to_thread(munich.outbox.enqueue, "order.create", "POST", "/orders",
                                       {"offering_id": offering["id"], "message": "Nur für München"},
                                       label="Interesse")
    finally:
        await munich.aclose()

    jena = open_session(server, "customer-nohouse")
    try:
        result = await jena.backend.flush()
        assert result.sent == 0
        assert jena.outbox.counts() == {}
        waiting = jena.outbox.others()
        assert [i.id for i in waiting] == [item.id] and waiting[0].state == PENDING
        assert "München" in jena.identities.get(waiting[0].owner).label()
        with pytest.raises(ValueError):
            jena.outbox.retry(item.id)
        jena.outbox.discard(item.id)  # not Jena's to discard either
        assert jena.outbox.get(item.id).state == PENDING
    finally:
        await jena.aclose()
    messages = {o.get("message") for o in httpx.get(f"{server}/orders", params={"limit": 1000}, headers=auth("demo-customer-nohouse"),
                                                   timeout=30).json()["items"]}
    assert "Nur für München" not in messages

    munich = open_session(server, "customer")
    try:
        assert munich.outbox.may_send is False  # not before /me said whose token this is
        result = await munich.backend.flush()
        assert result.sent == 1
    finally:
        await munich.aclose()
    mine = httpx.get(f"{server}/orders", params={"limit": 1000}, headers=auth("customer"), timeout=30).json()["items"]
    assert any(o.get("message") == "Nur für München" for o in mine)


async def test_the_outbox_screen_counts_another_identitys_waiting_writes_without_showing_them(server, home):
    """The walk: Dataport's outbox listed AKDB's unsent offering with its title. Another sign-in's
    writes wait for it, and what they are is its business: the outbox says how many, nothing more."""
    munich = open_session(server, "customer")
    try:
        await munich.identify()
        await asyncio.to_thread(munich.outbox.enqueue, "order.create", "POST", "/orders", {"offering_id": 1},
                                label="Interesse von München")
    finally:
        await munich.aclose()
    session = open_session(server, "customer-nohouse")
    app = EfaApp(session, language="de", theme="textual-dark")
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until_synced(pilot, app)
            await pilot.press("o")
            for _ in range(3):
                await pilot.app.workers.wait_for_complete()
                await pilot.pause(0.05)
            text = screen_text(app)
            assert "Interesse von München" not in text and "München" not in text
            assert "1 Änderung einer anderen Anmeldung wartet" in text
            assert app.connection.status.pending == 0  # not Jena's: not counted as Jena's pending write
    finally:
        await session.aclose()


def test_an_upgrade_drops_single_profile_caches_and_keeps_the_outbox(server, home):
    """A home of the version before identities: one cache per profile (full of somebody's rows),
    outbox items and drafts keyed by profile name only."""
    import sqlite3

    import platformdirs

    from efa_tui.store.cache import Cache
    from efa_tui.store.local import SCHEMA

    cache_dir = home / "xdg_cache_home" / "efa-tui"
    cache_dir.mkdir(parents=True)
    old = Cache(cache_dir / "demo.sqlite3")
    old.upsert_records("orders", [{"id": 4711, "state": "ordered", "customer": {"id": 1}}])
    old.close()
    data_dir = home / "xdg_data_home" / "efa-tui"
    data_dir.mkdir(parents=True)
    assert platformdirs.user_data_dir("efa-tui") == str(data_dir)
    conn = sqlite3.connect(data_dir / "local.sqlite3")
    conn.executescript(SCHEMA)  # version 0: no owners
    conn.execute("INSERT INTO outbox (created_at, updated_at, profile, kind, label, method, path, body, idempotency_key, "
                 "state) VALUES ('2026-11-01', '2026-11-01', 'demo', 'order.create', 'Alt', 'POST', '/orders', "
                 "'{\"offering_id\": 1, \"message\": \"von früher\"}', 'k-1', 'pending')")
    conn.execute("INSERT INTO drafts (key, profile, data, updated_at) VALUES ('demo:interest:1', 'demo', '{}', '2026-11-01')")
    conn.commit()
    conn.close()

    async def start() -> tuple:
        session = open_session(server, "customer-nohouse")
        try:
            await session.identify()
            flushed = await session.backend.flush()
            return (flushed.sent, session.outbox.counts(), [(i.label, i.owner, i.state) for i in session.outbox.others()],
                    cached_view(session), session.drafts.load("interest:1"))
        finally:
            await session.aclose()

    sent, counts, others, cached, draft = asyncio.run(start())
    assert not (cache_dir / "demo.sqlite3").exists()  # the old cache is gone ...
    assert 4711 not in cached["orders"]  # ... and nothing of it is shown
    assert sent == 0 and counts == {}  # the old write is not sent under whoever signs in now
    assert others == [("Alt", "legacy:demo", PENDING)]  # but kept, and shown as of unknown owner
    assert draft is None  # an old draft is not shown to an identity that may not be its author

