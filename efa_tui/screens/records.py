"""Areas whose screens come with later issues (orders, invoices, support, my offerings): until
then they list what is cached, and show one record in full (sanitized JSON)."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from .. import formatting, i18n
from ..store.cache import Cache
from ..text import clean
from .localize import localize_bindings


class AreaScreen(Screen):
    """A plain list of the cached records of one kind, newest first."""

    BINDINGS = [Binding("r", "app.refresh", "key.refresh", id="area.refresh")]
    DEFAULT_CSS = "AreaScreen VerticalScroll { padding: 0 1; }"

    def __init__(self, cache: Cache, kind: str, **kwargs):
        super().__init__(**kwargs)
        self.cache = cache
        self.kind = kind
        localize_bindings(self)

    def compose(self) -> ComposeResult:
        yield VerticalScroll(Static(id="list"))

    def on_mount(self) -> None:
        self.app.mount_chrome(self)
        self.load()

    def on_screen_resume(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        kind = "orders" if self.kind == "support" else self.kind
        records = self.cache.list_records(kind, limit=200) if kind in ("orders", "invoices") else []
        self.app.call_from_thread(self._show, records)

    def _show(self, records: list[dict[str, Any]]) -> None:
        text = Text(i18n.t("area.coming", n=formatting.number(len(records))) + "\n\n", style="dim")
        for rec in records[:200]:
            text.append(summary_line(self.kind, rec) + "\n")
        self.query_one("#list", Static).update(text)


def summary_line(kind: str, rec: dict[str, Any]) -> str:
    if kind == "invoices":
        return (f"{clean(rec.get('number'))}  {clean((rec.get('customer') or {}).get('name'))}  "
                f"{formatting.money(rec.get('gross'))}  {clean(rec.get('status'))}")
    return (f"#{rec.get('id')}  {clean((rec.get('offering') or {}).get('title'))}  "
            f"{clean((rec.get('customer') or {}).get('name'))}  {clean(rec.get('state'))}")


class RecordScreen(Screen):
    """One record as the server sent it, pretty and sanitized (support staff read raw records):
    scrollable with the usual keys, copyable to the terminal's clipboard (OSC 52, works over SSH)."""

    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "key.back", id="record.back"),
        Binding("c", "copy", "support.key.copy", id="record.copy"),
        Binding("j", "scroll('down')", "support.key.down", show=False, id="record.down"),
        Binding("k", "scroll('up')", "support.key.up", show=False, id="record.up"),
    ]
    DEFAULT_CSS = "RecordScreen #record { padding: 0 1; }"

    def __init__(self, title: str, record: dict[str, Any], **kwargs):
        super().__init__(**kwargs)
        self.title_text = title
        self.record = record
        # What is shown is what is copied: pretty JSON, control characters removed (json.dumps
        # escapes C0 ones itself; clean() takes the C1 ones a terminal would act on).
        self.body = clean(json.dumps(self.record, ensure_ascii=False, indent=2), multiline=True)
        localize_bindings(self)

    def on_mount(self) -> None:
        self.app.mount_chrome(self)
        self.query_one("#record", VerticalScroll).focus()

    def compose(self) -> ComposeResult:
        yield VerticalScroll(Static(Text(clean(self.title_text), style="bold")), Static(Text(self.body)), id="record")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.body)
        self.notify(i18n.t("support.copied", n=formatting.number(len(self.body))))

    def action_scroll(self, direction: str) -> None:
        box = self.query_one("#record", VerticalScroll)
        box.scroll_down() if direction == "down" else box.scroll_up()
