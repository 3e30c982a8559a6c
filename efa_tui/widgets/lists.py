"""The one list and the one detail of the app's keyboard: vim keys everywhere, the row kept.

* `ListTable` — a `DataTable` of records, one row per record (row key = the record's id): row
  cursor, `j`/`k`, `g`/`G`, `ctrl+d`/`ctrl+u` (the same binding ids as `VirtualTable`'s, so one
  keymap line rebinds both), `fill()` keeps the cursor on the record it was on when the list is
  filled again (a reload after a detail closed, a sync, a language switch), and `selected()`
  answers the record under the cursor or says there is none.
* `DetailScroll` — a `VerticalScroll` for a detail's text: the same keys scroll it.

Screens with a short list use `ListTable`; the long ones (catalog, orders, invoices) use
`VirtualTable`, which has the same keys and keeps its row by key on a reload too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable

from .. import i18n
from .vim_keys import LIST_BINDINGS, vim_bindings


class ListTable(DataTable):
    """A list of records with the app's list keys; the cursor stays on its record across fills."""

    BINDINGS: ClassVar[list[BindingType]] = LIST_BINDINGS

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(cursor_type="row", zebra_stripes=True, id=id, classes=classes)
        self._remembered: str | None = None

    # --- the keys ------------------------------------------------------------------------------

    def action_cursor_top(self) -> None:
        if self.row_count:
            self.move_cursor(row=0)

    def action_cursor_bottom(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)

    def _half_page(self) -> int:
        return max(1, (self.scrollable_content_region.height - 1) // 2)

    def action_cursor_half_page_down(self) -> None:
        if self.row_count:
            self.move_cursor(row=min(self.row_count - 1, self.cursor_row + self._half_page()))

    def action_cursor_half_page_up(self) -> None:
        if self.row_count:
            self.move_cursor(row=max(0, self.cursor_row - self._half_page()))

    # --- the records -----------------------------------------------------------------------------

    @property
    def cursor_key(self) -> str | None:
        """The row key (the record's id, as text) under the cursor; None in an empty list."""
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001 - no row under the cursor
            return None

    def remember(self, key: Any | None = None) -> None:
        """The next `fill()` puts the cursor on this record (default: the one under the cursor):
        called before a detail opens, so that back from it lands on the row you came from even
        when the list was filled again meanwhile."""
        self._remembered = str(key) if key is not None else self.cursor_key

    def fill(self, rows: Iterable[tuple[Any, Sequence[Any]]]) -> None:
        """Show these (key, cells) rows instead of the ones shown; the cursor stays on the record
        it was on (or the remembered one), else at its place (clamped)."""
        keep = self._remembered or self.cursor_key
        index = self.cursor_row
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=str(key))
        if not self.row_count:
            return
        try:
            row = self.get_row_index(keep) if keep is not None else index
        except Exception:  # noqa: BLE001 - that record is gone
            row = index
        self._remembered = None if keep is not None and keep in self.rows else self._remembered
        self.move_cursor(row=max(0, min(row, self.row_count - 1)))

    def selected(self, records: dict[Any, Any] | Callable[[str], Any], *, none: str = "list.none_selected") -> Any | None:
        """The record under the cursor, looked up by its key; None (and a toast saying there is
        no row to act on) when the list is empty or the record is not there."""
        key = self.cursor_key
        record = None
        if key is not None:
            if callable(records):
                record = records(key)
            else:
                record = records.get(key)
                if record is None and key.lstrip("-").isdigit():
                    record = records.get(int(key))
        if record is None:
            self.notify(i18n.t(none), severity="warning")
        return record


class DetailScroll(VerticalScroll):
    """A detail's text: j/k a line, g/G to the start/end, ctrl+d/ctrl+u half a page."""

    BINDINGS: ClassVar[list[BindingType]] = vim_bindings(
        "detail", ("scroll_down", "scroll_up", "scroll_home", "scroll_end", "half_page_down", "half_page_up"))

    def action_half_page_down(self) -> None:
        self.scroll_relative(y=max(1, self.scrollable_content_region.height // 2), animate=False)

    def action_half_page_up(self) -> None:
        self.scroll_relative(y=-max(1, self.scrollable_content_region.height // 2), animate=False)
