"""Delta sync from the server into the local cache.

Each kind keeps its position in the server's change log (``sync_position``: the first page of an
answer says the one to ask next time) and the ETag of the request that asks for the
changes after it. A sync asks exactly that, with If-None-Match: when nothing changed the server
answers 304 and the sync was one request. Otherwise it reads the pages, applies tombstones, and
remembers the next question's ETag. Log ids are in commit order, so a write that took its
timestamp before another one but committed after it still comes with the next sync (a
high-water mark of ``updated_at`` skipped it for good).

A cache of an older release holds a timestamp (``since``) instead: its first sync asks
``updated_since`` once more and takes the position from that answer. Against a server without
positions the timestamp stays the mark, as before.
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
    position = state.get("position")
    question: dict[str, Any] = ({"sync_position": position} if position is not None else
                                {"updated_since": since} if state.get("since") else {"sync_position": 0})
    params = {**question, "limit": page_size}
    resp = await api.request("GET", PATHS[kind], params=params, if_none_match=state.get("etag"))
    result.requests += 1
    if resp.not_modified:
        result.not_modified = True
        result.synced_at = _now()
        await asyncio.to_thread(cache.set_state, _state_key(kind), {**state, "synced_at": result.synced_at})
        return result
    first_etag = resp.etag
    # The first page's position: what changes later (also during this sync) comes next time.
    next_position = resp.data.get("sync_position")
    # resync: the server could not continue our position (it lies before a purge of the log, or
    # is of another database) and lists everything afresh, without tombstones: what we hold and
    # it no longer lists vanished meanwhile and goes once the whole listing is in.
    listed: set[int] | None = set() if resp.data.get("resync") else None
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
        if listed is not None:
            listed.update(int(i["id"]) for i in items if not i.get("tombstone"))
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
    if listed is not None:
        result.removed += await asyncio.to_thread(_drop_unlisted, cache, kind, listed)
    if next_position is not None:
        next_question: dict[str, Any] = {"sync_position": next_position}
        new_state: dict[str, Any] = {"position": next_position}
    else:  # a server without change-log positions: the newest timestamp seen is the mark
        next_question, new_state = {"updated_since": newest}, {"since": newest}
    etag = first_etag if (pages == 1 and next_question == question) else None
    if etag is None:
        # Learn the ETag of the question the next sync will ask (one request now saves one
        # full page on every sync without changes).
        probe = await api.request("GET", PATHS[kind], params={**next_question, "limit": page_size})
        result.requests += 1
        etag = probe.etag
        if next_position is not None and (probe.data.get("items") or probe.data.get("sync_position") != next_position):
            # Something changed since the first page: the probe's answer holds it, but it was not
            # applied — its ETag would make the next sync a 304 without it.
            etag = None
    result.synced_at = _now()
    await asyncio.to_thread(cache.set_state, _state_key(kind), {**new_state, "etag": etag, "synced_at": result.synced_at})
    return result


def _apply(cache, kind: str, items: list[dict]) -> tuple[int, int]:
    removed = sum(1 for i in items if i.get("tombstone"))
    if kind == "offerings":
        cache.upsert_offerings(items)
    else:
        cache.upsert_records(kind, [i for i in items if not i.get("tombstone")])
    return len(items) - removed, removed


def _drop_unlisted(cache, kind: str, listed: set[int]) -> int:
    """Remove the cached records of ``kind`` that a complete fresh listing did not name."""
    if kind == "offerings":
        return cache.remove_offerings(sorted(cache.offering_ids() - listed))
    gone = sorted(cache.record_ids(kind) - listed)
    cache.upsert_records(kind, [{"id": i, "tombstone": True} for i in gone])
    return len(gone)


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
