"""Live: follow the server's event stream, sync what changed, announce what waits for the user.

While online, ``Live.run`` listens to ``/events`` and resumes from the last event id it handled
(kept in the cache, so a client that was away catches up on what it missed). Change events are
gathered for a moment (``debounce``) and then the kinds they name are delta-synced — one sync
per burst, not per event; ``on_synced`` then tells the app, which updates the screens in place.
Events that mean "something waits for you" (a new interest for a provider, a fee proposal for
a customer …) become ``News`` once the record is in the cache, each event once.

Liveness: a broken or silent stream (the server sends a keep-alive every ``keepalive`` s; the
client gives up after ``read_timeout`` s) is checked against the health endpoint; a server that
does not answer makes the backend go offline (banner, status line), which then probes and
brings the client back. A server that answers but gives no stream (a buffering proxy) makes
the client poll: a delta sync every ``poll_s`` seconds, the stream tried again now and then.
The mode is ``backend.status.mode``: "live", "polling", or None (not following).

When the server ends the stream with ``closed`` (the token revoked or expired, the user disabled)
— or refuses to open it again for one of those reasons — following stops: reconnecting cannot
help. Why is ``backend.status.closed`` (the 401's type), which the status line says.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..api.errors import ApiError, Unreachable
from .sync import KINDS, SyncResult

log = logging.getLogger("efa_tui.store.live")
# Why a token no longer lets its user in (the server's 401 types, and the ``closed`` event's reason).
CLOSED_REASONS = frozenset({"token-revoked", "token-expired", "user-disabled"})
STATE_KEY = "events"
# Event kinds → the cached kinds their delta sync brings up to date (usage and users are not cached).
SYNC_KIND = {"order": "orders", "offering": "offerings", "invoice": "invoices", "organization": "organizations"}
# (event kind, action, role) → the news it is for that user: what waits for them.
NEWS_KIND = {
    ("order", "create", "provider"): "interest",
    ("order", "order", "provider"): "order",
    ("order", "propose", "customer"): "proposal",
    ("order", "activate", "customer"): "contract",
    ("invoice", "issued", "customer"): "invoice",
}
NEWS_KINDS = ("interest", "order", "proposal", "contract", "invoice")
RECORD_KIND = {"order": "orders", "invoice": "invoices"}


class StreamClosed(Exception):
    """The server ended the stream for good: its token no longer lets the user in."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def closed_reason(exc: BaseException) -> str | None:
    """Why following must stop (a ``closed`` event, or a 401 for the token), or None."""
    if isinstance(exc, StreamClosed):  # the server's text: only a reason we know is shown
        return exc.reason if exc.reason in CLOSED_REASONS else "unauthorized"
    if isinstance(exc, ApiError) and exc.status == 401:
        return exc.problem if exc.problem in CLOSED_REASONS else "unauthorized"
    return None


@dataclass
class News:
    """One thing that waits for the user, announced once."""

    event_id: int
    kind: str  # interest | order | proposal | contract | invoice
    record_kind: str  # orders | invoices
    record_id: int
    record: dict[str, Any] | None = None  # the cached record after the sync (None if not cached)


@dataclass
class Batch:
    """What one debounced sync was for: the events, the sync results and the news."""

    events: list[Any] = field(default_factory=list)
    results: dict[str, SyncResult] | None = None
    news: list[News] = field(default_factory=list)
    resync: bool = False  # everything is synced (a fresh start, a resync event, a poll)
    last_id: int | None = None  # the newest event id this batch covers

    @property
    def empty(self) -> bool:
        return not self.events and not self.resync and self.last_id is None


class Live:
    def __init__(self, backend, *, role: Callable[[], str | None], on_batch: Callable[[Batch], Any] | None = None,
                 notify: tuple[str, ...] = NEWS_KINDS, poll_s: float = 60.0, debounce: float = 0.25,
                 keepalive: float = 3.0, read_timeout: float = 7.0, health_timeout: float = 2.0,
                 stream_retry_s: float = 300.0, backoff_min: float = 0.5, backoff_max: float = 30.0):
        self.backend = backend
        self.role = role
        self.on_batch = on_batch
        self.notify = frozenset(notify)
        self.poll_s = poll_s
        self.debounce = debounce
        self.keepalive = keepalive
        self.read_timeout = read_timeout
        self.health_timeout = health_timeout
        self.stream_retry_s = stream_retry_s
        self.backoff_min = backoff_min
        self.backoff_max = backoff_max
        self.last_id: int | None = None  # the last event handled (its sync done)
        self.seen_id: int | None = None  # the last event received
        self.unread: list[News] = []
        self._announced: set[int] = set()
        self._batch = Batch()
        self._flushing: asyncio.Task | None = None
        self._gate = asyncio.Lock()

    @property
    def api(self):
        return self.backend.api

    @property
    def cache(self):
        # The backend's: the cache of the identity /me named (it can change while following).
        return self.backend.cache

    # --- the loop ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Follow the stream until cancelled (the app runs this as a worker)."""
        state = await asyncio.to_thread(self.cache.get_state, STATE_KEY) or {}
        self.last_id = self.seen_id = state.get("last_id")
        delay = self.backoff_min
        try:
            await self._follow_forever(delay)
        finally:
            if self._flushing is not None:
                self._flushing.cancel()
            self.backend.status.mode = None

    async def _follow_forever(self, delay: float) -> None:
        while True:
            await self._wait_online()
            ready = asyncio.Event()
            try:
                await self._follow(ready)
                failure: Exception = Unreachable("the event stream ended")
            except Exception as exc:  # noqa: BLE001 - Unreachable, ApiError, StreamUnavailable …: look why
                failure = exc
            if (reason := closed_reason(failure)) is not None:
                # Reconnecting with this token cannot help: say why and stop following.
                log.info("event stream closed by the server: %s", reason)
                self.backend.status.closed = reason
                self.backend.status.mode = None
                await self.backend.announce()
                return
            await self._set_mode(None)
            if not await self._healthy():
                await self.backend.lost(Unreachable(f"event stream: {failure}"))
                delay = self.backoff_min
                continue
            if not ready.is_set():
                # The server answers, but no stream comes through (a proxy, an old server):
                # poll for a while, then try the stream again.
                log.info("no event stream (%s): polling every %.0f s", failure, self.poll_s)
                await self._poll(self.stream_retry_s)
                continue
            # It was live and the server is fine: a dropped connection; back in a moment.
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.backoff_max)

    async def _follow(self, ready: asyncio.Event) -> None:
        events = self.api.events(self.seen_id, keepalive=self.keepalive, read_timeout=self.read_timeout)
        async for event in events:
            if event.name == "ready":
                if not ready.is_set():
                    ready.set()
                    await self._set_mode("live")
                    # Whatever changed before the stream opened (or while away without an id).
                    if self.seen_id is None:
                        self._add(None, resync=True)
                self._seen(event.id)
            elif event.name == "resync":
                self._add(None, resync=True)
                self._seen(event.id)
            elif event.name == "change":
                self._add(event)
                self._seen(event.id)
            elif event.name == "closed":
                raise StreamClosed(str(event.data.get("reason") or "unauthorized"))

    def _seen(self, event_id: int | None) -> None:
        if event_id is not None:
            self.seen_id = self._batch.last_id = event_id
        self._schedule()

    def _add(self, event, *, resync: bool = False) -> None:
        if resync:
            self._batch.resync = True
        elif event is not None:
            self._batch.events.append(event)

    def _schedule(self) -> None:
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.debounce)
        while not self._batch.empty:
            await self.flush()

    async def flush(self) -> Batch | None:
        """Sync what the gathered events name; then announce and remember the last id."""
        async with self._gate:
            batch, self._batch = self._batch, Batch()
            changes, last = batch.events, batch.last_id
            news = changes if batch.resync else await asyncio.to_thread(self._not_held, changes)
            kinds = KINDS if batch.resync else tuple(k for k in KINDS if k in {SYNC_KIND.get(e.kind) for e in news})
            if kinds:
                try:
                    batch.results = await self.backend.refresh(kinds)
                except ApiError as exc:
                    log.warning("sync after events failed: %s", exc)
                    batch.results = None
                if batch.results is None:
                    # Offline meanwhile: the events are not handled; they come again on resume.
                    self.seen_id = self.last_id
                    return None
            batch.news = await asyncio.to_thread(self._news, changes)
            self.unread += batch.news
            self.backend.status.news = len(self.unread)
            if last is not None:
                self.last_id = last
                await asyncio.to_thread(self.cache.set_state, STATE_KEY, {"last_id": last})
            if self.on_batch is not None:
                self.on_batch(batch)
            return batch

    def _not_held(self, changes: list) -> list:
        """The changes the cache does not hold yet. A write's answer is cached when it comes
        (store/backend.py), so the event of one's own write names a version already here: no
        sync fetches that record again."""
        out = []
        for event in changes:
            kind, data = RECORD_KIND.get(event.kind), event.data or {}
            version, record_id = data.get("version"), data.get("record_id")
            if kind is not None and isinstance(version, int) and isinstance(record_id, int):
                held = self.cache.get_record(kind, record_id)
                if held is not None and isinstance(held.get("version"), int) and held["version"] >= version:
                    continue
            out.append(event)
        return out

    def _news(self, changes: list) -> list[News]:
        role = self.role() or ""
        out = []
        for event in changes:
            kind = NEWS_KIND.get((event.kind, event.action, role))
            if kind is None or kind not in self.notify or event.id in self._announced:
                continue
            self._announced.add(event.id)
            record_id = int(event.data.get("record_id") or 0)
            record_kind = RECORD_KIND[event.kind]
            out.append(News(event.id, kind, record_kind, record_id, self.cache.get_record(record_kind, record_id)))
        return out

    def read(self, news: News | None = None) -> News | None:
        """Take one news item off the unread list (the oldest, or the one given)."""
        if not self.unread:
            return None
        item = news if news in self.unread else self.unread[0]
        self.unread.remove(item)
        self.backend.status.news = len(self.unread)
        return item

    # --- liveness and polling ----------------------------------------------------------------

    async def _healthy(self) -> bool:
        try:
            return await self.api.health(timeout=self.health_timeout)
        except Exception:  # noqa: BLE001 - no answer is an answer here
            return False

    async def _wait_online(self) -> None:
        while not self.backend.status.online:
            await asyncio.sleep(0.2)

    async def _poll(self, duration: float) -> None:
        """Without a stream: check the server every few seconds, delta-sync every ``poll_s``."""
        await self._set_mode("polling")
        until = time.monotonic() + duration
        next_sync = time.monotonic()
        while time.monotonic() < until:
            if time.monotonic() >= next_sync:
                next_sync = time.monotonic() + self.poll_s
                self._batch.resync = True
                await self.flush()
            await asyncio.sleep(min(3.0, self.read_timeout / 2))
            if not await self._healthy():
                await self._set_mode(None)
                await self.backend.lost(Unreachable("no answer to the health check"))
                return
        await self._set_mode(None)

    async def _set_mode(self, mode: str | None) -> None:
        if self.backend.status.mode != mode:
            self.backend.status.mode = mode
            await self.backend.announce()
