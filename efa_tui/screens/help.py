"""``?``: every binding active on the screen you came from, with its binding id for the keymap."""

from __future__ import annotations

from collections.abc import Callable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from .. import i18n
from ..widgets.chrome import TEXTUAL_KEYS
from ..widgets.lists import DetailScroll
from .base import AppModal

# Textual's built-in bindings (widgets and app) by action → message id.
BUILTIN = {
    "app.focus_next": "builtin.focus_next", "app.focus_previous": "builtin.focus_previous",
    "focus_next": "builtin.focus_next", "focus_previous": "builtin.focus_previous",
    "quit": "builtin.quit", "app.quit": "builtin.quit", "command_palette": "key.palette",
    "copy": "builtin.copy", "screen.copy_text": "builtin.copy", "cut": "builtin.cut", "paste": "builtin.paste",
    "scroll_up": "builtin.scroll_up", "scroll_down": "builtin.scroll_down", "scroll_left": "builtin.scroll_left",
    "scroll_right": "builtin.scroll_right", "scroll_home": "builtin.scroll_home", "scroll_end": "builtin.scroll_end",
    "page_up": "builtin.page_up", "page_down": "builtin.page_down", "page_left": "builtin.page_left",
    "page_right": "builtin.page_right", "submit": "builtin.submit", "select_all": "builtin.select_all",
    "cursor_left": "builtin.cursor_left", "cursor_right": "builtin.cursor_right", "home": "builtin.home", "end": "builtin.end",
    "cursor_left_word": "builtin.cursor_left_word", "cursor_right_word": "builtin.cursor_right_word",
    "delete_left": "builtin.delete_left", "delete_right": "builtin.delete_right",
    "delete_left_word": "builtin.delete_left_word", "delete_right_word": "builtin.delete_right_word",
    "delete_left_all": "builtin.delete_left_all", "delete_right_all": "builtin.delete_right_all",
    "app.toggle_dark": "builtin.toggle_dark", "maximize": "builtin.maximize", "screen.maximize": "builtin.maximize",
    "minimize": "builtin.minimize", "screen.minimize": "builtin.minimize",
}


def binding_rows(screen: Screen) -> list[tuple[str, str, str]]:
    """(keys, description, binding id) of every active binding, one row per action."""
    rows: dict[tuple[str, str], list[str]] = {}
    for key, active in screen.active_bindings.items():
        b = active.binding
        # Textual's own bindings (no id) come with English descriptions: ours where we know them.
        known = BUILTIN.get(b.action) or TEXTUAL_KEYS.get(b.action)
        if not b.id and known:
            label = i18n.t(known)
        else:  # widgets' bindings carry message ids (screens translate theirs: localize.py)
            label = i18n.t(b.description) if b.description in i18n.MESSAGES else (b.description or b.action)
        rows.setdefault((label, b.id or ""), []).append(screen.app.get_key_display(b) if b.key == key else key)
    return sorted(((" ".join(dict.fromkeys(keys)), label, bid) for (label, bid), keys in rows.items()),
                  key=lambda r: r[1].lower())


class HelpScreen(AppModal):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "key.back", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 100; height: 90%; border: round $primary; background: $surface; padding: 0 1; }
    """

    def __init__(self, rows: list[tuple[str, str, str]] | Callable[[], list[tuple[str, str, str]]], **kwargs):
        """``rows``: or a function that reads them — now (with the keys active on the screen below
        before the help covered it), and again after a language switch (the labels anew)."""
        super().__init__(**kwargs)
        self._reread = rows if callable(rows) else None
        self.rows = rows() if callable(rows) else rows

    async def relabel(self) -> None:
        if self._reread is not None:
            self.rows = self._reread()
        await super().relabel()

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_edge=False)
        table.add_column(i18n.t("help.key"), style="bold", no_wrap=True)
        table.add_column(i18n.t("help.action"))
        table.add_column(i18n.t("help.id"), style="dim", no_wrap=True)
        for keys, label, bid in self.rows:
            table.add_row(Text(keys), Text(label), Text(bid))
        with DetailScroll():
            yield Static(Text(i18n.t("help.title"), style="bold"))
            yield Static(Text(i18n.t("help.intro"), style="dim"))
            yield Static(table)
