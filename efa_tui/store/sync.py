"""Delta sync from the server into the local cache.

Each kind keeps a high-water mark (the newest ``updated_at`` seen) and the ETag of the request
that asks for changes since then. A sync asks exactly that, with If-None-Match: when nothing
changed the server answers 304 and the sync was one request. Otherwise it reads the pages in
change order (``updated_since`` sorts by update time, so a record changed during the sync comes
again further on), applies tombstones, and remembers the next question's ETag.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..api import routes

EPOCH = "1970-01-01T00:00:00Z"
KINDS = ("organizations", "offerings", "orders", "invoices")
PATHS = routes.SYNCED

# progress(kind, done, total): total is None when the server did not say
Progress = Callable[[str, int, int | None], Any]


class SyncCancelled(Exception):
    pass


@dataclass
class SyncResult:
    kind: str
    requests: int = 0
    changed: int = 0
    removed: int = 0
    not_modified: bool = False
    synced_at: str = ""


def _state_key(kind: str) -> str:
    return f"sync:{kind}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


async def sync_kind(api, cache, kind: str, *, progress: Progress | None = None, cancel: asyncio.Event | None = None,
                    page_size: int = 1000) -> SyncResult:
    """Bring one kind of record up to date; raises Unreachable/ApiError, SyncCancelled."""
    result = SyncResult(kind)
    state = await asyncio.to_thread(cache.get_state, _state_key(kind)) or {}
    since = state.get("since") or EPOCH
    params = {"updated_since": since, "limit": page_size}
    resp = await api.request("GET", PATHS[kind], params=params, if_none_match=state.get("etag"))
    result.requests += 1
    if resp.not_modified:
        result.not_modified = True
        result.synced_at = _now()
        await asyncio.to_thread(cache.set_state, _state_key(kind), {**state, "synced_at": result.synced_at})
        return result
    first_etag = resp.etag
    newest = since
    total = resp.data.get("total")
    pages = 0
    while True:
        if cancel is not None and cancel.is_set():
            # What was stored stays; the high-water mark is not moved, so nothing is skipped.
            raise SyncCancelled(kind)
        items = resp.data.get("items", [])
        cursor = resp.data.get("next_cursor")
        # Ask for the next page while this one is written to the cache: the server's work and
        # ours overlap instead of taking turns.
        ahead = asyncio.ensure_future(api.request("GET", PATHS[kind], params={**params, "cursor": cursor})) if cursor else None
        try:
            changed, removed = await asyncio.to_thread(_apply, cache, kind, items)
        except BaseException:
            if ahead is not None:
                ahead.cancel()
            raise
        result.changed += changed
        result.removed += removed
        for item in items:
            stamp = item.get("updated_at")
            if stamp and stamp > newest:
                newest = stamp
        pages += 1
        if progress is not None:
            progress(kind, result.changed + result.removed, total)
        if ahead is None:
            break
        resp = await ahead
        result.requests += 1
    etag = first_etag if (pages == 1 and newest == since) else None
    if etag is None:
        # Learn the ETag of the question the next sync will ask (one request now saves one
        # full page on every sync without changes).
        probe = await api.request("GET", PATHS[kind], params={"updated_since": newest, "limit": page_size})
        result.requests += 1
        etag = probe.etag
    result.synced_at = _now()
    await asyncio.to_thread(cache.set_state, _state_key(kind), {"since": newest, "etag": etag, "synced_at": result.synced_at})
    return result


def _apply(cache, kind: str, items: list[dict]) -> tuple[int, int]:
    removed = sum(1 for i in items if i.get("tombstone"))
    if kind == "offerings":
        cache.upsert_offerings(items)
    else:
        cache.upsert_records(kind, [i for i in items if not i.get("tombstone")])
    return len(items) - removed, removed


async def sync_all(api, cache, *, kinds: tuple[str, ...] = KINDS, progress: Progress | None = None,
                   cancel: asyncio.Event | None = None) -> dict[str, SyncResult]:
    results = {}
    for kind in kinds:
        results[kind] = await sync_kind(api, cache, kind, progress=progress, cancel=cancel)
    return results


def data_as_of(cache, kind: str) -> str | None:
    """When the cached data of a kind was last confirmed by the server (ISO, UTC)."""
    state = cache.get_state(_state_key(kind)) or {}
    return state.get("synced_at")
