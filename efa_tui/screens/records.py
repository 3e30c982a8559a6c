"""One record in full, as the server sent it (sanitized JSON): support staff read raw records."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from .. import formatting, i18n
from ..text import clean
from ..widgets.detail_text import DetailText
from ..widgets.lists import DetailScroll
from .base import AppScreen


class RecordScreen(AppScreen):
    """One record as the server sent it, pretty and sanitized (support staff read raw records):
    scrollable with the usual keys, copyable to the terminal's clipboard (OSC 52, works over SSH)."""

    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "key.back", id="record.back"),
        Binding("c", "copy", "support.key.copy", id="record.copy"),
    ]
    DEFAULT_CSS = "RecordScreen #record { padding: 0 1; }"

    def __init__(self, title: str, record: dict[str, Any], **kwargs):
        super().__init__(**kwargs)
        self.title_text = title
        self.record = record
        # What is shown is what is copied: pretty JSON, control characters removed (json.dumps
        # escapes C0 ones itself; clean() takes the C1 ones a terminal would act on).
        self.body = clean(json.dumps(self.record, ensure_ascii=False, indent=2), multiline=True)

    def on_mount(self) -> None:
        self.query_one("#record", DetailScroll).focus()

    def compose(self) -> ComposeResult:
        yield DetailScroll(Static(Text(clean(self.title_text), style="bold")), DetailText(Text(self.body)), id="record")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.body)
        self.notify(i18n.t("support.copied", n=formatting.number(len(self.body))))
