"""A select that takes what is typed while it is closed, as a select box in a browser does."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual import events
from textual.widgets import Select

TYPED_WITHIN_S = 0.8  # keys closer together than this are one word ("85"), as Textual's open list counts them


class TypeSelect(Select):
    """Typing on the closed select picks the first option whose text holds what was typed, the
    earliest place winning: "85" → "#85 Land Berlin – Kfz-Zulassung". Textual's closed select
    dropped every character (a provider typed the contract's number and nothing happened); the
    open list searches by itself (Textual's own)."""

    def __init__(self, options: Sequence[tuple[Text | str, Any]], **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        self._choices = [(str(label.plain if isinstance(label, Text) else label).lower(), value) for label, value in options]
        self._typed = ""
        self._typed_at = 0.0

    def check_consume_key(self, key: str, character: str | None = None) -> bool:
        # A letter is a choice here, not a shortcut of the screen; space opens the list (Textual's).
        return character is not None and character.isprintable() and character != " "

    def set_options(self, options: Any) -> Any:
        options = list(options)
        self._choices = [(str(label.plain if isinstance(label, Text) else label).lower(), value) for label, value in options]
        return super().set_options(options)

    async def _on_key(self, event: events.Key) -> None:
        if self.expanded or not event.character or not self.check_consume_key(event.key, event.character):
            return
        event.stop()
        event.prevent_default()
        now = time.monotonic()
        self._typed = (self._typed if now - self._typed_at < TYPED_WITHIN_S else "") + event.character.lower()
        self._typed_at = now
        found = [(label.find(self._typed), i) for i, (label, _) in enumerate(self._choices) if self._typed in label]
        if found:
            self.value = self._choices[min(found)[1]][1]
