"""A damaged cache in any form is rebuilt from the server — no crash, the outbox untouched — and
the files holding other organisations' records are private (0600 in 0700 directories)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat

import httpx
import pytest
from app_support import make_session
from support import auth

from efa_tui.app import EfaApp
from efa_tui.store.cache import Cache
from efa_tui.store.outbox import PENDING


def damage_index_pages(path) -> None:
    """The pages of the orders' and invoices' indexes overwritten, and their sync points gone (the
    server has news): the file opens and its tables read, the sync's first write meets the damage."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    try:
        pages = [r[0] for r in conn.execute(
            "SELECT pageno FROM dbstat WHERE name LIKE 'ix_orders_%' OR name LIKE 'ix_invoices_%'")]
    except sqlite3.OperationalError:
        pytest.skip("this SQLite has no dbstat table")
    conn.execute("DELETE FROM state WHERE key IN ('sync:orders', 'sync:invoices')")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    with open(path, "r+b") as fh:
        for page in pages:
            fh.seek((page - 1) * page_size)
            fh.write(b"\xff" * page_size)


def break_utf8(path) -> int:
    """One byte that is not UTF-8 in the title of the offering the catalog shows first."""
    conn = sqlite3.connect(path)
    row = conn.execute("SELECT o.id FROM offerings o JOIN offering_docs d ON d.id = o.id "
                       "WHERE d.status = 'published' ORDER BY o.title_key, o.id LIMIT 1").fetchone()
    assert row is not None, conn.execute("SELECT count(*) FROM offerings").fetchone()
    oid = row[0]
    conn.execute("UPDATE offering_docs SET title = CAST(X'42617561ff6e74726167' AS TEXT) WHERE id = ?", (oid,))
    conn.commit()
    conn.close()
    return oid


async def until_synced(pilot, app) -> None:
    """Synced into the cache as it is now (a reset found by a read after the first sync empties
    it and starts another sync: the sync points are read from the cache, not the status line)."""
    cache = app.session.cache

    def synced() -> bool:
        return all(cache.get_state(f"sync:{kind}") for kind in ("offerings", "orders", "invoices"))

    for _ in range(1200):
        recovered = cache.recovered_from is not None  # the damage was found (at a read or a write)
        if recovered and app.me and not app.connection.status.syncing and await asyncio.to_thread(synced):
            break
        await pilot.pause(0.05)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("damage", ["pages", "utf-8"])
def test_a_damaged_cache_at_start_is_rebuilt_and_the_outbox_kept(server, tmp_path, damage):
    session = make_session(server, tmp_path)  # cache filled (outside an event loop) and closed on disk
    assert session.cache.count() > 0
    item = session.outbox.enqueue("order.create", "POST", "/orders", {"offering_id": 1, "message": "bleibt"},
                                  label="Interesse")
    path = session.cache.path
    session.cache.close()
    if damage == "pages":
        damage_index_pages(path)
    else:
        break_utf8(path)
    session = make_session(server, tmp_path, presync=False)
    session.backend.flush = _no_flush(session)  # the queued write stays queued: this is about the cache
    published = httpx.get(f"{server}/offerings", params={"limit": 1}, headers=auth("customer"), timeout=30).json()
    app = EfaApp(session, language="de", theme="textual-dark")

    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until_synced(pilot, app)
            assert app.is_running
            assert session.cache.count() == published.get("total", session.cache.count()) and session.cache.count() > 0
            assert session.cache.list_records("orders")  # every kind loaded again
            again = session.outbox.get(item.id)
            assert again.state == PENDING and again.idempotency_key == item.idempotency_key
            assert again.body["message"] == "bleibt"
        await session.aclose()

    asyncio.run(run())


def _no_flush(session):
    from efa_tui.store.outbox import FlushResult

    async def flush():
        return FlushResult(remaining=len(session.outbox.pending()))

    return flush


def test_one_invalid_byte_resets_instead_of_emptying_the_catalog_for_good(tmp_path):
    path = tmp_path / "cache.sqlite3"
    cache = Cache(path)
    cache.upsert_offerings([{"id": i, "title": f"Angebot {i}", "status": "published", "category": "Umwelt",
                             "provider": {"id": 1, "name": "AKDB"}, "fees": {"annual_fee": "1.00"}} for i in range(1, 6)])
    cache.set_state("sync:offerings", {"since": "2026-01-01"})
    cache.close()
    break_utf8(path)
    cache = Cache(path)
    resets = []
    cache.on_reset.append(lambda: resets.append(1))
    page = cache.search("")  # no exception: the damaged file is moved aside
    assert page.total == 0 and cache.recovered_from is not None and resets == [1]
    assert cache.get_state("sync:offerings") is None  # so the next sync loads everything again
    cache.upsert_offerings([{"id": 1, "title": "Angebot 1", "status": "published", "provider": {"id": 1, "name": "AKDB"},
                             "category": "Umwelt", "fees": {"annual_fee": "1.00"}}])
    assert [r.title for r in cache.search("").rows] == ["Angebot 1"]
    cache.close()


def test_copies_of_a_damaged_cache_are_pruned_to_the_newest(tmp_path):
    path = tmp_path / "cache.sqlite3"
    for round_ in range(3):
        cache = Cache(path)
        cache.upsert_offerings([{"id": 1, "title": f"Runde {round_}", "status": "published", "category": "Umwelt",
                                 "provider": {"id": 1, "name": "AKDB"}, "fees": {"annual_fee": "1.00"}}])
        cache.close()
        path.write_bytes(os.urandom(4096) * 4)
    cache = Cache(path)
    copies = sorted(p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name and not p.name.endswith("-wal"))
    assert cache.recovered_from is not None and copies == [cache.recovered_from.name]
    cache.close()


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_cache_and_local_state_are_private(server, tmp_path, monkeypatch):
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    monkeypatch.delenv("EFA_TUI_TOKEN", raising=False)
    os.umask(0o022)
    from efa_tui.config import Config, Profile, _named
    from efa_tui.session import Session

    async def run():
        session = Session.open(Config(), _named(Profile(server_url=server, token_source="demo"), "demo"))
        try:
            await session.identify()
            await session.backend.refresh(("organizations",))
            session.outbox.enqueue("order.create", "POST", "/orders", {"offering_id": 1})
            return session.cache.path, session.local.path
        finally:
            await session.aclose()

    cache_path, local_path = asyncio.run(run())
    for path in (cache_path, local_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        for side in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if side.exists():
                assert stat.S_IMODE(side.stat().st_mode) == 0o600, side
        directory = path.parent
        while True:  # up to the app's own directory (the XDG base dirs are the user's)
            assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
            if directory.name == "efa-tui":
                break
            directory = directory.parent


def test_a_database_in_a_directory_the_user_named_leaves_its_mode_alone(tmp_path):
    """`--cache /tmp/x.sqlite3` made /tmp 0700 (every other user, PostgreSQL's test cluster
    among them, locked out): the file is 0600, a shared directory keeps its mode; a new
    directory is made 0700."""
    from efa_tui.files import private_database

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    database = private_database(shared / "cache.sqlite3")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    fresh = private_database(tmp_path / "new" / "cache.sqlite3")
    assert stat.S_IMODE(fresh.parent.stat().st_mode) == 0o700
