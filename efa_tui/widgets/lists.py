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

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from .. import i18n
from ..org_names import fit_name
from .vim_keys import LIST_BINDINGS, keys_wait_for_what_opens, vim_bindings


class ListTable(DataTable):
    """A list of records with the app's list keys; the cursor stays on its record across fills."""

    BINDINGS: ClassVar[list[BindingType]] = LIST_BINDINGS

    def __init__(self, *, id: str | None = None, classes: str | None = None,  # noqa: A002 - Textual's name
                 flex: Sequence[str] = (), opens: bool = False, names: Sequence[str] = ()) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id, classes=classes)
        self.names = tuple(names)
        """Keys of the columns that hold organisations' names: written short where cut
        (org_names: "LH München", not "Landeshauptstad…")."""
        self._full_names: dict[tuple[str, str], Text] = {}  # (row key, column key) → the whole name
        self._remembered: str | None = None
        self.opens = opens
        """`Enter` on a row opens a screen (its detail, its form): the keys typed after it wait for that."""
        self.flex = tuple(flex)
        """Keys of the columns that share the width the others leave (names, titles)."""

    # --- the columns -----------------------------------------------------------------------------

    def fit_columns(self) -> None:
        """Columns sized by their content: every column not in `flex` as wide as its header and
        its widest cell (a number, a state, a date is never cut), the `flex` ones share the rest
        (a long name is cut there, with "…"). Called after every fill and resize; without `flex`
        Textual's own sizing stays."""
        flex = [c for c in self.columns.values() if c.key.value in self.flex]
        if not flex or not self.size.width:
            return
        pad = 2 * self.cell_padding
        scrollbar = self.styles.scrollbar_size_vertical if self.row_count > max(0, self.size.height - self.header_height) else 0
        available = self.size.width - scrollbar
        used = 0
        for column in self.columns.values():
            if column in flex:
                continue
            column.auto_width, column.width = False, _natural_width(self, column.key, column.label)
            used += column.width + pad
        rest = max(MIN_FLEX_WIDTH * len(flex), available - used - pad * len(flex))
        share, extra = divmod(rest, len(flex))
        for n, column in enumerate(flex):
            column.auto_width, column.width = False, share + (1 if n < extra else 0)
        for (row, key), name in self._full_names.items():
            short = fit_name(name.plain, self.columns[ColumnKey(key)].width)
            # A Text as the screen gave it (a plain str would be read as markup).
            self.update_cell(row, key, Text(short, style=name.style, no_wrap=True, overflow="ellipsis"), update_width=False)
        self._clear_caches()
        self._require_update_dimensions = True
        self.refresh()

    def on_resize(self, _event: events.Resize) -> None:
        self.fit_columns()

    # --- the keys ------------------------------------------------------------------------------

    def action_select_cursor(self) -> None:
        if self.opens and self.row_count:
            keys_wait_for_what_opens(self)
        super().action_select_cursor()

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
        self._full_names = {}
        names = [(i, column.key.value) for i, column in enumerate(self.columns.values()) if column.key.value in self.names]
        for key, cells in rows:
            self.add_row(*cells, key=str(key))
            for i, column_key in names:
                if i < len(cells) and isinstance(cells[i], Text):
                    self._full_names[(str(key), str(column_key))] = cells[i]
        self.fit_columns()
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


MIN_FLEX_WIDTH = 10
"""A flexible column gets at least this many cells (then the table scrolls sideways)."""


def _natural_width(table: DataTable, key: Any, label: Any) -> int:
    """The cells a column needs: its header and its widest cell."""
    widest = cell_len(label.plain if isinstance(label, Text) else str(label))
    for cell in table.get_column(key):
        widest = max(widest, cell_len(cell.plain if isinstance(cell, Text) else str(cell)))
    return widest


class DetailScroll(VerticalScroll):
    """A detail's text: j/k a line, g/G to the start/end, ctrl+d/ctrl+u half a page."""

    BINDINGS: ClassVar[list[BindingType]] = vim_bindings(
        "detail", ("scroll_down", "scroll_up", "scroll_home", "scroll_end", "half_page_down", "half_page_up"))

    def action_half_page_down(self) -> None:
        self.scroll_relative(y=max(1, self.scrollable_content_region.height // 2), animate=False)

    def action_half_page_up(self) -> None:
        self.scroll_relative(y=-max(1, self.scrollable_content_region.height // 2), animate=False)
