"""The app's link to the server, for the wiring (``app.py``): the status line's status, a sync,
sending what waits in the outbox, following the event stream, and the records a jump or a piece of
news names. So that ``app.py``, like every screen, reaches the backend and the cache only here."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ..store.backend import Backend, Status
from ..store.cache import Cache
from ..store.live import NEWS_KINDS, Batch, Live, News
from ..store.outbox import FlushResult
from ..store.sync import Progress, SyncResult

__all__ = ["Batch", "ConnectionService", "Live", "News", "Status"]


class ConnectionService:
    def __init__(self, api: Any, cache: Cache, backend: Backend):
        self._api = api
        self._cache = cache
        self._backend = backend

    # --- status ---------------------------------------------------------------------------------

    @property
    def status(self) -> Status:
        """Online or not, syncing, the data's age, the outbox counts, live or polling."""
        return self._backend.status

    def subscribe(self, listener: Callable[[Status], Any]) -> None:
        """``listener(status)`` after every change of the status (on the event loop)."""
        self._backend.subscribe(listener)

    async def announce(self) -> None:
        """Tell the listeners the status as the disk has it (data age, outbox counts)."""
        await self._backend.announce()

    def on_cache_reset(self, handler: Callable[[], Any]) -> None:
        """``handler()`` when damage emptied the cache (the app syncs everything again)."""
        self._backend.on_cache_reset = handler

    # --- the server -----------------------------------------------------------------------------

    async def warm_up(self) -> None:
        """Load the HTTP client and the models (about 0.3 s) in a thread, off the event loop."""
        get = getattr(self._api, "get", None)
        if get is not None:
            await asyncio.to_thread(get)

    async def refresh(self, progress: Progress | None = None) -> dict[str, SyncResult] | None:
        """Sync every kind; None when the server is away (then offline, probing)."""
        return await self._backend.refresh(progress=progress)

    async def flush(self) -> FlushResult:
        """Send what waits in the outbox (this identity's, in order)."""
        return await self._backend.flush()

    def follow(self, *, role: Callable[[], str | None], notify: tuple[str, ...] = NEWS_KINDS, poll_s: float = 60.0,
               on_batch: Callable[[Batch], Any] | None = None) -> Live:
        """A follower of the server's event stream (run it with ``Live.run``)."""
        return Live(self._backend, role=role, notify=notify, poll_s=poll_s, on_batch=on_batch)

    # --- cached records (local: call in a thread) -----------------------------------------------

    def me(self) -> dict[str, Any] | None:
        """Who was signed in when the cache was last synced (before ``/me`` answers)."""
        return self._cache.get_state("me")

    def record(self, kind: str, record_id: int) -> dict[str, Any] | None:
        """One cached order or invoice (``kind``: "orders", "invoices")."""
        return self._cache.get_record(kind, int(record_id))

    def invoice_by_number(self, number: str) -> dict[str, Any] | None:
        return self._cache.invoice_by_number(number)
