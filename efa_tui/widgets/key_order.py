"""Keys from the terminal reach the widgets one at a time, in the order they were typed.

Textual's app hands a key to the widget focused at that moment and goes on with the next at once;
the widget handles it later, in its own task. A key that moves the focus (Tab) thus moved it only
once its field had worked through it, and on a busy machine a burst arrives in packets meanwhile:
the next packet went to the field focused by then, the keys still queued in the field before
followed it there later (text_fields.py sends them on) — into whichever field had the focus by
then. The helper walk saw a summary "hreibung mit Umlauten Kurz: …" on a loaded machine.

So the app waits: after a key handed to the focused widget it sends a marker after it, which comes
back to the app (it bubbles up) once the widget has handled the key before it; keys that arrive
meanwhile are kept and handed on, in order, when it is back. A marker lost with its widget (a
form closed by that very key) holds nothing: a widget gone, or no longer on the screen on top,
releases the keys at once, and a marker not back within `LOST_S` does too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual import events
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget

LOST_S = 1.0
"""The longest a key waits for the one before it (a marker that cannot come back)."""


class KeyHandled(Message):
    """Back at the app: the widget it was sent to has handled the key sent before it."""


class KeyOrder:
    """The app's side: which key is on its way, and the keys that wait for it."""

    def __init__(self, hand_on: Callable[[events.Key], Awaitable[None]],
                 set_timer: Callable[[float, Callable[[], object]], Timer]) -> None:
        self._hand_on = hand_on  # the app's handling of a key, past this wait
        self._set_timer = set_timer
        self._marker: KeyHandled | None = None
        self._target: Widget | None = None
        self._waiting: list[events.Key] = []
        self._timer: Timer | None = None

    async def take(self, key: events.Key) -> None:
        """A key from the terminal: handed on now, or kept until the one before has been handled."""
        if self._marker is not None and not self._still_handling():
            self._clear()
        if self._marker is not None or self._waiting:
            self._waiting.append(key)
            await self.release()
            return
        await self._hand_on(key)

    def sent(self, target: Widget) -> None:
        """A key was handed to ``target``: the next waits until it has handled it."""
        marker = KeyHandled()
        self._marker, self._target = marker, target
        target.post_message(marker)
        self._timer = self._set_timer(LOST_S, self._lost)

    async def handled(self, marker: KeyHandled) -> None:
        if marker is not self._marker:
            return  # one given up on (lost, or its widget gone)
        self._clear()
        await self.release()

    async def release(self) -> None:
        """The keys kept go on, in order, until one of them is on its way again."""
        while self._waiting and self._marker is None:
            await self._hand_on(self._waiting.pop(0))

    def _still_handling(self) -> bool:
        target = self._target
        return (target is not None and target.is_attached and target.is_running
                and target.screen is target.app.screen)

    def _clear(self) -> None:
        self._marker = self._target = None
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    async def _lost(self) -> None:
        self._timer = None
        if self._marker is not None:
            self._clear()
            await self.release()
