"""The app's signals, as the screens subscribe to them (instead of the app calling hooks a
screen may or may not have):

* ``data_changed`` — ``DataChanged(kind, ids)``: a sync, a write's answer or the outbox changed
  the local data; a list reloads when its kinds changed (not on every return to it);
* ``identity_changed`` — ``/me`` answered (who is signed in, with role and organisation);
* ``language_changed`` — the UI language switched: texts are made anew.

A subscription ends by itself when the screen is removed (Textual's ``Signal``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from textual.screen import Screen

from ..services import DataChanged


def on_data_changed(screen: Screen, kinds: Iterable[str], callback: Callable[[DataChanged], Any]) -> None:
    """Call ``callback(change)`` when data of one of ``kinds`` changed."""
    wanted = frozenset(kinds)

    def changed(change: DataChanged) -> None:
        if change.kind in wanted:
            callback(change)

    screen.app.data_changed.subscribe(screen, changed)


def on_identity_changed(screen: Screen, callback: Callable[[dict[str, Any]], Any]) -> None:
    screen.app.identity_changed.subscribe(screen, callback)


def on_language_changed(screen: Screen, relabel: Callable[[], Awaitable[Any]]) -> None:
    """Run ``relabel()`` after a language switch; a screen rebuilt by ``recompose()`` gets its
    chrome and its focus back, so a key pressed next goes where it went before."""

    async def changed(_language: str) -> None:
        focused = screen.focused.id if screen.focused is not None else None
        await relabel()
        screen.app.redecorate(screen, focused)

    screen.app.language_changed.subscribe(screen, changed)
