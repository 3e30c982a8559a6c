"""The door every write goes through: a ``Write`` (built by an area's service, with the path from
``api.routes``) is stored in the outbox with its Idempotency-Key and sent; the caller gets one
``Outcome``. Also the outbox as the user sees it (list, send again, discard) and the drafts of
the forms, so that no screen touches ``store.outbox`` or ``store.drafts`` itself."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Any

from ..api.errors import ApiError, Unreachable
from ..store.backend import Backend
from ..store.drafts import Drafts
from ..store.local import LEGACY
from ..store.outbox import CONFLICT, NEEDS_ATTENTION, PENDING, Outbox, OutboxItem
from .outcome import Conflict, Outcome, outcome_of

__all__ = ["CONFLICT", "LEGACY", "NEEDS_ATTENTION", "OPEN_STATES", "PENDING", "DraftService", "OutboxItem", "OutboxService",
           "Write", "Writes"]

# The states a user still has to see: waiting, refused, in conflict.
OPEN_STATES = (PENDING, NEEDS_ATTENTION, CONFLICT)


def waiting_ids(outbox: Outbox, kind: str) -> set[int]:
    """The ids of the records of ``kind`` ("offering", "order") with a write still waiting in this
    identity's outbox (offline, or the server busy): their rows say "· ausstehend"."""
    ids = set()
    for item in outbox.items(PENDING):
        related, _, rest = (item.related or "").partition(":")
        if related == kind and rest.isdigit():
            ids.add(int(rest))
    return ids


@dataclass(frozen=True)
class Write:
    """One request that changes something, as the outbox stores it."""

    kind: str  # e.g. "order.create", "offering.patch"
    method: str
    path: str
    body: Any = None
    if_match: str | None = None
    current: str | None = None  # where the record's current version is read after a 412 (an api.routes path)


class Writes:
    def __init__(self, backend: Backend, outbox: Outbox):
        self._backend = backend
        self._outbox = outbox

    async def submit(self, write: Write, *, label: str, related: str | None = None) -> Outcome:
        """Store the write durably, try to send it now, and say how it ended."""
        item, _ = await self._backend.submit(write.kind, write.method, write.path, write.body, if_match=write.if_match,
                                             label=label, related=related)
        outcome = outcome_of(item)
        if isinstance(outcome, Conflict) and write.current:
            return await self._with_current(outcome, write.current)
        return outcome

    async def _with_current(self, conflict: Conflict, path: str) -> Conflict:
        """A 412: the version the user's change met, read once, so the screen can show it."""
        try:
            resp = await self._backend.api.request("GET", path)
        except (ApiError, Unreachable) as exc:
            return replace(conflict, current_error=str(getattr(exc, "detail", None) or exc))
        return replace(conflict, current=resp.data, etag=resp.etag)

    async def discard(self, item_id: int) -> None:
        """Drop a refused or conflicting write (the status line's counts follow)."""
        await asyncio.to_thread(self._outbox.discard, item_id)
        await self._backend.announce()

    def discard_now(self, item_id: int) -> None:
        """``discard`` for callers already in a thread (no announcement: the caller makes one)."""
        self._outbox.discard(item_id)

    async def announce(self) -> None:
        await self._backend.announce()


class OutboxService:
    """The writes the server has not accepted yet, for the outbox screen and the lists' marks.
    Reads are synchronous SQLite: call them in a thread worker."""

    def __init__(self, backend: Backend, outbox: Outbox):
        self._backend = backend
        self._outbox = outbox

    def open_items(self, *states: str, related: str | None = None) -> list[OutboxItem]:
        """This identity's writes in ``states`` (default: waiting, refused, in conflict)."""
        return self._outbox.items(*(states or OPEN_STATES), related=related)

    def others(self, *states: str) -> list[OutboxItem]:
        """Other identities' writes: listed, and sent only under their own sign-in."""
        return self._outbox.others(*(states or OPEN_STATES))

    @property
    def owner(self) -> str:
        """Whose writes are sent now (the signed-in identity)."""
        return self._outbox.owner

    def pending(self, kind_prefix: str = "") -> list[OutboxItem]:
        return [i for i in self._outbox.items(PENDING) if i.kind.startswith(kind_prefix)]

    async def send_again(self, item_id: int) -> None:
        await asyncio.to_thread(self._outbox.retry, item_id)
        await self._backend.flush()

    async def discard(self, item_id: int) -> None:
        await asyncio.to_thread(self._outbox.discard, item_id)
        await self._backend.announce()

    async def flush(self) -> None:
        await self._backend.flush()


class DraftService:
    """What a user typed into a form and has not sent yet (one per form key). Synchronous SQLite."""

    def __init__(self, drafts: Drafts):
        self._drafts = drafts

    def load(self, key: str) -> dict[str, Any] | None:
        return self._drafts.load(key)

    def save(self, key: str, values: dict[str, Any]) -> None:
        self._drafts.save(key, values)

    def delete(self, key: str) -> None:
        self._drafts.delete(key)


