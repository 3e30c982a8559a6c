"""What the screens talk to: cache reads, background sync, the outbox, and offline mode.

Reads always answer from the local cache (instant, and possible offline) together with the
data's age. Refreshes and flushes run in the background. When the server cannot be reached the
backend goes offline, probes with exponential backoff (not a busy loop), and when the server
answers again it syncs and flushes the outbox by itself.

The outbox sends only once the session knows whose token it holds: ``identify`` (the session's,
which asks ``/me``) runs before a flush when that has not happened yet. A cache that damage
emptied (``CacheReset``, or a reset found by a read) is synced again from scratch.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..api.errors import ApiError, Unreachable
from .cache import CacheReset
from .changes import Changes, DataChanged
from .outbox import DONE, FlushResult, Outbox, OutboxItem
from .sync import KINDS, Progress, SyncResult, data_as_of, sync_all

log = logging.getLogger("efa_tui.store")
# Outbox kinds ("order.create", "invoice.review" …) whose answer is a record of a cached kind.
RECORD_KIND = {"order": "orders", "invoice": "invoices"}


@dataclass
class Status:
    # Online exactly while the last contact with the server succeeded (every request's attempt and
    # the event stream tell the backend: ApiClient.watch); any failure makes it False at once.
    online: bool = True
    syncing: bool = False
    last_error: str | None = None
    pending: int = 0
    failed: int = 0  # needs attention or conflict
    as_of: dict[str, str | None] = field(default_factory=dict)
    mode: str | None = None  # "live" (following the event stream), "polling", None (neither)
    news: int = 0  # announced things that wait for the user, not yet looked at (store/live.py)
    # Why the server ended the event stream for good (token-revoked, token-expired, user-disabled,
    # unauthorized), or None: the status line says it (store/live.py).
    closed: str | None = None
    # What the last failed contact was, while offline: "refused", "timeout", "broken", "network",
    # "scheme" (no answer), "not_api" (some other web server answered), "server" (a 5xx), with the
    # HTTP status of an answer; None while online.
    trouble: str | None = None
    trouble_status: int | None = None
    contacted: bool = False  # some contact with the server has succeeded or failed since the start

    @property
    def disturbed(self) -> bool:
        """Offline although something answers: the server fails (5xx) or is not the marketplace API."""
        return not self.online and self.trouble in ("server", "not_api")


class Backend:
    def __init__(self, api, cache, outbox: Outbox, *, probe_min: float = 0.5, probe_max: float = 30.0):
        self.api = api
        self.cache = cache
        self.outbox = outbox
        self.status = Status()
        self.probe_min = probe_min
        self.probe_max = probe_max
        self._listeners: list[Callable[[Status], Any]] = []
        self.changes = Changes()  # what changed in the data (sync, a write's answer, the outbox)
        self._probe_task: asyncio.Task | None = None
        self._probing = False  # a probe is waiting for the server (its catch-up may still run after)
        self._delay = probe_min  # the probe's next wait; back to probe_min only after a sync succeeded
        self._wake: asyncio.Event | None = None  # set by a request that succeeded: the probe catches up now
        self._tasks: set[asyncio.Task] = set()
        self._lock = asyncio.Lock()
        # Asks /me and makes the local state that identity's (Session.identify); None: trusted as is.
        self.identify: Callable[[], Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._resync: asyncio.Task | None = None
        self.on_cache_reset: Callable[[], Any] | None = None  # the app's refresh (it reloads its screens)
        # Items a submit waits for, and how the last attempt left them (from the flush that sent
        # them, whichever that was): the submit answers with that, without reading the item back.
        self._awaited: dict[int, OutboxItem | None] = {}
        if hasattr(cache, "on_reset"):
            cache.on_reset.append(self._cache_was_reset)
        watch = getattr(api, "watch", None)
        if callable(watch):
            watch(self._contact)

    def subscribe(self, listener: Callable[[Status], Any]) -> None:
        """Called with the new status after every change (online/offline, counts, sync)."""
        self._listeners.append(listener)

    async def announce(self) -> None:
        """Tell the listeners the current status (data age and outbox counts from disk) — at
        start-up, before the server has said anything."""
        await self._changed()

    async def _changed(self) -> None:
        # The counts come from SQLite (in a thread); listeners are called on the event loop.
        counts, as_of = await asyncio.to_thread(self._read_counts)
        self.status.pending = counts.get("pending", 0)
        self.status.failed = counts.get("needs_attention", 0) + counts.get("conflict", 0)
        self.status.as_of = as_of
        for listener in list(self._listeners):
            listener(self.status)

    def _read_counts(self) -> tuple[dict[str, int], dict[str, str | None]]:
        return self.outbox.counts(), {k: data_as_of(self.cache, k) for k in KINDS}

    # --- reading and refreshing --------------------------------------------------------------

    async def refresh(self, kinds: tuple[str, ...] = KINDS, progress: Progress | None = None,
                      cancel: asyncio.Event | None = None) -> dict[str, SyncResult] | None:
        """Sync from the server; on an unreachable server go offline and keep the cache."""
        self._loop = asyncio.get_running_loop()
        if not await self._identified():
            return None
        async with self._lock:
            self.status.syncing = True
            await self._changed()
            try:
                try:
                    results = await sync_all(self.api, self.cache, kinds=kinds, progress=progress, cancel=cancel)
                except CacheReset:
                    # The file was damaged and is empty now, its sync points too: load everything.
                    log.warning("the cache was reset during a sync; syncing everything again")
                    results = await sync_all(self.api, self.cache, kinds=KINDS, progress=progress, cancel=cancel)
            except Unreachable as exc:
                self.status.syncing = False
                await self._go_offline(exc)
                return None
            finally:
                self.status.syncing = False
            self.status.online = True  # (its requests have said so already, when the client is watched)
            self.status.last_error = self.status.trouble = self.status.trouble_status = None
            self._delay = self.probe_min
            await self._changed()
            for kind, result in results.items():
                if not result.not_modified and (result.changed or result.removed):
                    self.changes.publish(DataChanged(kind))
            return results

    # --- writing ---------------------------------------------------------------------------

    async def submit(self, kind: str, method: str, path: str, body: Any = None, *, if_match: str | None = None,
                     label: str = "", related: str | None = None) -> tuple[OutboxItem, FlushResult | None]:
        """Store the write durably, then try to send it (and anything before it) now.

        Returns the item as it stands after the attempt: done, pending (offline) or refused —
        as the attempt stored it (its answer's ETag too), not read back from the outbox.
        """
        item = await asyncio.to_thread(self.outbox.enqueue, kind, method, path, body, if_match=if_match,
                                       label=label, related=related)
        self.changes.publish(DataChanged.of("outbox", [item.id]))
        if not self.status.online:
            await self._changed()  # the status line shows one more pending write
            return item, None
        self._awaited[item.id] = None
        try:
            result = await self.flush()
        finally:
            attempted = self._awaited.pop(item.id, None)
        # Not attempted (an earlier item is still in the way, or /me has not answered): pending.
        return attempted or item, result

    async def _identified(self) -> bool:
        """Make sure /me has said whose token this is (before anything is synced or sent);
        False when the server cannot be reached (then offline)."""
        if self.outbox.may_send or self.identify is None:
            return True
        try:
            await self.identify()
        except Unreachable as exc:
            await self._go_offline(exc)
            return False
        except Exception:  # noqa: BLE001 - a refused /me: nothing is sent, the items wait
            log.warning("could not confirm the identity; the outbox waits", exc_info=True)
        return True

    async def flush(self) -> FlushResult:
        if not await self._identified():
            return FlushResult(remaining=len(await asyncio.to_thread(self.outbox.pending)), unreachable=True)
        result = await self.outbox.flush(self.api, on_item=self._remember)
        if result.unreachable:
            await self._go_offline(None)  # what failed, the request told (_contact)
        else:
            await self._changed()
        return result

    async def _remember(self, item: OutboxItem) -> None:
        """The server's answer to a write is the record's new state: put it in the cache at once,
        so lists show it before the next sync (which brings the same version again)."""
        if item.id in self._awaited:
            self._awaited[item.id] = item
        kind = RECORD_KIND.get(item.kind.split(".", 1)[0])
        response = item.response
        if item.state == DONE and kind and isinstance(response, dict) and "id" in response:
            try:
                await asyncio.to_thread(self.cache.upsert_records, kind, [response])
            except Exception:  # noqa: BLE001 - the cache is a copy; the next sync repairs it
                log.warning("could not cache the answer to outbox item %s", item.id, exc_info=True)
            else:
                self.changes.publish(DataChanged.of(kind, [response["id"]]))
        self.changes.publish(DataChanged.of("outbox", [item.id]))  # delivered, or refused

    def _cache_was_reset(self) -> None:
        """From any thread: damage emptied the cache, so sync everything again (once)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return  # before the first sync: that one loads everything anyway

        def start() -> None:
            if self.on_cache_reset is not None:
                self.on_cache_reset()
            elif self._resync is None or self._resync.done():
                self._resync = loop.create_task(self.refresh())

        loop.call_soon_threadsafe(start)

    # --- offline -----------------------------------------------------------------------------

    async def lost(self, exc: Exception) -> None:
        """The server stopped answering (noticed by the event stream): go offline and probe."""
        if self.status.online:
            await self._go_offline(exc)

    def _contact(self, failure: Exception | None) -> None:
        """How one contact with the server went (``ApiClient.watch``: every attempt of every
        request — a screen's read, a sync, a write, the event stream): the status follows the last
        one at once, not a probe's minute-old answer; called on the event loop."""
        self.status.contacted = True
        if failure is None:
            if self.status.online:
                return
            self.status.online = True
            self.status.last_error = self.status.trouble = self.status.trouble_status = None
            log.info("server answers again")
            if self._wake is not None:
                self._wake.set()  # the probe sends what waits and syncs now, not after its backoff
            self._soon(self._changed())
        else:
            self._mark_offline(failure)
            self._soon(self._go_offline(None))

    def _soon(self, coro: Any) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a client used synchronously): nobody to tell
            coro.close()
            return
        task = loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _mark_offline(self, exc: Exception) -> None:
        was_online = self.status.online
        self.status.online = False
        self.status.last_error = str(exc)
        self.status.trouble = str(getattr(exc, "kind", None) or "network")
        status = getattr(exc, "status", None)
        self.status.trouble_status = status if isinstance(status, int) and status else None
        if was_online:
            log.warning("server unreachable, working offline: %s", exc)

    async def _go_offline(self, exc: Exception | None) -> None:
        """Offline (``exc``: why; None: as a contact already said), tell the listeners, probe."""
        if exc is not None or self.status.online:
            self._mark_offline(exc or Unreachable("no answer"))
        await self._changed()
        if not self._probing:
            self._probing = True
            self._probe_task = asyncio.get_running_loop().create_task(self._probe())
            self._tasks.add(self._probe_task)
            self._probe_task.add_done_callback(self._tasks.discard)

    async def _probe(self) -> None:
        """Exponential backoff with jitter until the server answers its health check; then send
        what waits and sync, and those requests say whether it is online again — a health check
        alone does not (a server may answer it while every other request fails). The backoff goes
        on from where it was until a sync succeeds: a server that answers its health check and
        fails the sync is not asked every half second. A request that succeeds meanwhile wakes it."""
        this = asyncio.current_task()
        self._wake = wake = asyncio.Event()
        try:
            while True:
                try:
                    await asyncio.wait_for(wake.wait(), self._delay * random.uniform(0.8, 1.2))
                except TimeoutError:
                    pass
                wake.clear()
                self._delay = min(self._delay * 2, self.probe_max)
                try:
                    if await self.api.health():
                        break
                except Exception:  # noqa: BLE001 - any failure means: still offline
                    pass
        finally:
            self._probing = False  # a failure during the catch-up starts a new probe
            if self._wake is wake:
                self._wake = None
        log.info("server reachable again")
        try:
            await self.flush()
            if not self._probing:
                await self.refresh()
        except ApiError as exc:  # a refusal or a failing server: the status says so (_contact)
            log.warning("catching up after being offline failed: %s", exc)
        finally:
            if self._probe_task is this:
                self._probe_task = None

    async def wait_online(self, timeout: float = 60) -> None:
        """For tests: wait until the backend is online again (probe, flush and refresh done)."""
        async with asyncio.timeout(timeout):
            while self._probe_task is not None or not self.status.online:
                task = self._probe_task
                if task is not None:
                    await asyncio.shield(task)
                else:
                    await asyncio.sleep(0.05)

    async def aclose(self) -> None:
        if self._resync is not None and not self._resync.done():
            self._resync.cancel()
        for task in [*self._tasks, *([self._probe_task] if self._probe_task is not None else [])]:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
