"""``?``: every binding active on the screen you came from, with its binding id for the keymap."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from .. import i18n
from .localize import localize_bindings


def binding_rows(screen: Screen) -> list[tuple[str, str, str]]:
    """(keys, description, binding id) of every active binding, one row per action."""
    rows: dict[tuple[str, str], list[str]] = {}
    for key, active in screen.active_bindings.items():
        b = active.binding
        label = b.description or b.action
        rows.setdefault((label, b.id or ""), []).append(screen.app.get_key_display(b) if b.key == key else key)
    return sorted(((" ".join(dict.fromkeys(keys)), label, bid) for (label, bid), keys in rows.items()),
                  key=lambda r: r[1].lower())


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "key.back", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 100; height: 90%; border: round $primary; background: $surface; padding: 0 1; }
    """

    def __init__(self, rows: list[tuple[str, str, str]], **kwargs):
        super().__init__(**kwargs)
        self.rows = rows
        localize_bindings(self)

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_edge=False)
        table.add_column(i18n.t("help.key"), style="bold", no_wrap=True)
        table.add_column(i18n.t("help.action"))
        table.add_column(i18n.t("help.id"), style="dim", no_wrap=True)
        for keys, label, bid in self.rows:
            table.add_row(Text(keys), Text(label), Text(bid))
        with VerticalScroll():
            yield Static(Text(i18n.t("help.title"), style="bold"))
            yield Static(Text(i18n.t("help.intro"), style="dim"))
            yield Static(table)
