"""What changed in the local data, told to whoever listens (the app turns it into a Textual
signal for the screens): a sync brought new rows of a kind, the server's answer to a write was
cached, an outbox item was delivered or refused. Lists reload on these, not on every return.

Headless. ``publish`` may be called from a thread worker: the listeners are always called on the
event loop the first listener subscribed from.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("efa_tui.store")

KINDS = frozenset({"organizations", "offerings", "orders", "invoices", "usage", "outbox"})


@dataclass(frozen=True)
class DataChanged:
    """Rows of ``kind`` changed: those with ``ids``, or any (empty ``ids``: a sync, a bulk change)."""

    kind: str
    ids: frozenset[int] = frozenset()

    @classmethod
    def of(cls, kind: str, ids: Iterable[Any] = ()) -> DataChanged:
        return cls(kind, frozenset(int(i) for i in ids))

    def touches(self, kind: str, record_id: int | None = None) -> bool:
        """Does this change concern ``kind`` (and, when given, the record ``record_id``)?"""
        return self.kind == kind and (record_id is None or not self.ids or int(record_id) in self.ids)


Listener = Callable[[DataChanged], Any]


class Changes:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def subscribe(self, listener: Listener) -> None:
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            pass
        self._listeners.append(listener)

    def publish(self, change: DataChanged) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._call(change)
        else:
            loop.call_soon_threadsafe(self._call, change)

    def _call(self, change: DataChanged) -> None:
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:  # noqa: BLE001 - one listener's bug must not stop the others
                log.exception("change listener failed for %s", change)
