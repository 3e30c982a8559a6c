"""Text fields that take a burst of keys in the order it was typed.

Textual's `Input` and `TextArea` type a character in their own key handler, but their editing
keys (backspace, ←, ctrl+u …) and Tab are bindings, run only once the key has bubbled up to
the app (Textual issue #6605, PR #6631 open upstream). Keys that arrive together — a fast typist,
a paste, an SSH link that sends them in one packet — then run out of order: `51⌫0` gave "50"
only by luck, `ab ctrl+u cd` left the field empty, `Titel Tab Kurz` put "TitelKurz" into the
title and moved the focus afterwards. The walk found a fee proposal sent with another amount than
the one typed.

Here a field runs the bindings of a key it receives at once, in its place among the characters
(the same lookup Textual's app would make later: the field's own bindings first, then the
screen's and the app's), and a key that reaches a field which has lost the focus meanwhile (it
was typed right after a Tab, or an Enter that opened the next screen) goes back to the app, to be
delivered like a key typed now: to the field that has the focus, or held while a screen opens.
Every text field of the app is one of these (`TextField`, and `TextBox` in text_box.py: the
catalog's filter is a `TextField`, and Textual's `TextArea` is not imported before a form needs it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.widgets import Input

if TYPE_CHECKING:
    from textual.widget import Widget


class InOrderKeys:
    """The key handling of `TextField` and `TextBox` (a mixin before Textual's widget)."""

    async def _on_key(self, event: events.Key) -> None:
        widget: Widget = self  # type: ignore[assignment]
        app = widget.app
        if app.focused is not widget:
            # Forwarded here before a key typed just before it moved the focus away.
            event.stop()
            event.prevent_default()  # not typed here (Input/TextArea._on_key)
            app.post_message(events.Key(event.key, event.character))
            return
        if event.is_printable or self._types(event.key):
            return  # typed by the field's own handler, next in line
        holds = getattr(app, "_holds_keys", None)
        if holds is not None and holds():
            return  # a screen is opening: the app keeps the key for it (EfaApp._on_key)
        # Private, but the very lookup App._on_key makes for a key that bubbled up to it.
        if await app._check_bindings(event.key):
            event.stop()
            event.prevent_default()

    def _types(self, key: str) -> bool:
        """Whether the field's own key handler takes this non-printable key as text."""
        return False


class TextField(InOrderKeys, Input):
    """A one-line text field (Textual's `Input`) that keeps the order of the keys typed."""

