"""A table for very many rows (100,000 and more) that renders only what is on screen.

`VirtualTable` is a Line API widget: `render_line(y)` builds one `Strip` per visible line, the
scrollable height is the row count plus the header, and no per-row widget or renderable exists.
Rows come from a `RowSource`; both `count()` and `fetch()` run in thread workers, never on the
event loop. A source that also has `window(offset, limit)` answers the total and the first rows
in one read (one cache transaction per keystroke in a filter instead of two). Fetched rows are
kept in blocks (`block_size` rows, least recently used of `max_blocks` kept); a line whose block is still on its way renders as a dim "…".

Cells are untrusted text. They are drawn as plain segments (no markup), control characters and
escape sequences are removed by `text.clean` (the one rule for server text) before anything is
cached, and widths are measured in terminal cells, so CJK and emoji truncate with "…" without
breaking the layout.

`set_source()` replaces the data (a new filter, a new sort, a sync finished). Every call starts a
new generation; a worker of an older generation may still finish, but its result is dropped.
Until the new count and first window arrive the previous rows stay on screen, so typing in a
filter does not flicker.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, Protocol, runtime_checkable

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events, on
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from ..text import clean
from .vim_keys import LIST_BINDINGS, keys_wait_for_what_opens

__all__ = ["Column", "RowSource", "VirtualTable", "column_widths", "content_widths", "fit_cell"]

BLOCK_SIZE = 200
"""Rows fetched per `RowSource.fetch` call (one cache block)."""
MAX_BLOCKS = 20
"""Blocks kept in the cache (least recently used are dropped)."""
GAP = 1
"""Blank cells between two columns."""
LEAD = 1
"""Blank cells before the first column."""
MIN_FLEX_WIDTH = 10
"""Width a flexible column gets before fixed columns are shrunk to make room."""
MIN_WIDTH = 3
"""No column is shrunk below this; if even that does not fit, the table scrolls sideways."""
ELLIPSIS = "…"

Row = tuple[Any, tuple[str, ...]]

_CENTS = re.compile(r"[.,]\d{2}(?=\D*$)")  # "1.234,56 €" / "€1,234.56": the cents, before any unit


def fit_cell(text: str, width: int, align: str = "left", shorten: Callable[[str, int], str] | None = None) -> str:
    """Pad or truncate `text` to exactly `width` terminal cells ("…" marks a cut). An amount
    (right-aligned) too wide for its column first drops its cents, so that it keeps its unit
    ("1.150.600 €", not "1.150.600,0…"); a column with `shorten` (an organisation's name:
    org_names.fit_name) writes its text short before anything is cut."""
    if width <= 0:
        return ""
    if shorten is not None and cell_len(text) > width:
        text = shorten(text, width)
    length = cell_len(text)
    if length > width and align == "right" and _CENTS.search(text):
        text = _CENTS.sub("", text)
        length = cell_len(text)
    if length > width:
        text = set_cell_size(text, width - 1) + ELLIPSIS  # set_cell_size pads a split wide char
        length = width
    padding = " " * (width - length)
    return padding + text if align == "right" else text + padding


@dataclass(frozen=True)
class Column:
    """One table column."""

    key: str
    label: str
    """Header text (already translated by the caller; treated as untrusted too)."""
    width: int | None = None
    """The most cells it takes: it is as wide as its header and its widest text among the first
    rows of a source (up to this), so that a short column leaves room to the others; `None`
    shares the remaining width with the other flexible columns."""
    align: str = "left"
    """"left" or "right" (money is right-aligned)."""
    shorten: Callable[[str, int], str] | None = None
    """How a text too wide is written short before it is cut (names: org_names.fit_name)."""
    min_width: int = MIN_FLEX_WIDTH
    """A flexible column's least width before the fixed ones shrink: a catalog title beside the
    facet panel at 80 columns kept 10 cells ("Abfallbehäl…") while a provider kept 16."""

    def __post_init__(self) -> None:
        if self.align not in ("left", "right"):
            raise ValueError(f"Column {self.key!r}: align must be 'left' or 'right', not {self.align!r}")
        if self.width is not None and self.width < 1:
            raise ValueError(f"Column {self.key!r}: width must be at least 1")


@runtime_checkable
class RowSource(Protocol):
    """The rows of a table. Both methods are called in a worker thread, never on the event loop."""

    def count(self) -> int: ...

    def fetch(self, offset: int, limit: int) -> Sequence[tuple[Any, Sequence[str]]]:
        """Rows `offset` .. `offset + limit - 1` as (row key, cell texts in column order)."""
        ...

# Optional on a source: ``window(offset, limit) -> (total, rows)``, the total and `fetch(offset,
# limit)` from one snapshot (VirtualTable then loads a new source with one call).


def _shrink(widths: dict[int, int], budget: int) -> dict[int, int]:
    """Scale `widths` down proportionally to sum to `budget` (each at least `MIN_WIDTH`)."""
    total = sum(widths.values())
    if total <= budget:
        return dict(widths)
    budget = max(budget, MIN_WIDTH * len(widths))
    scaled = {i: max(MIN_WIDTH, width * budget // total) for i, width in widths.items()}
    spare = budget - sum(scaled.values())  # what rounding down left over, widest columns first
    for i in sorted(widths, key=lambda i: -widths[i]):
        if spare <= 0:
            break
        if scaled[i] < widths[i]:
            scaled[i] += 1
            spare -= 1
    return scaled


def content_widths(rows: Sequence[Row], columns: int) -> tuple[int, ...]:
    """The widest text of each column among `rows` (in terminal cells)."""
    widths = [0] * columns
    for _key, cells in rows:
        for i, cell in enumerate(cells[:columns]):
            length = cell_len(cell)
            if length > widths[i]:
                widths[i] = length
    return tuple(widths)


def column_widths(columns: Sequence[Column], available: int, content: Sequence[int] | None = None) -> list[int]:
    """Cell widths of `columns` for a table `available` cells wide (gap and lead included).

    Fixed columns get their width — or, given the widest `content` of each column, only what
    that and the header need (never more than the width) — and flexible ones share the rest. If that leaves a flexible
    column narrower than its `min_width`, fixed columns shrink proportionally (not below
    `MIN_WIDTH`): left-aligned text first, right-aligned (numbers, money: a cut amount would
    mislead) only if that is not enough. If the table still does not fit, it scrolls sideways.
    """
    count = len(columns)
    if count == 0:
        return []
    usable = max(0, available - LEAD - GAP * (count - 1))
    flexible = [i for i, column in enumerate(columns) if column.width is None]
    wanted = {i: c.width for i, c in enumerate(columns) if c.width is not None}
    if content is not None:
        wanted = {i: min(width, max(MIN_WIDTH, cell_len(clean(columns[i].label)), content[i] if i < len(content) else 0))
                  for i, width in wanted.items()}
    texts = {i: width for i, width in wanted.items() if columns[i].align != "right"}
    numbers = {i: width for i, width in wanted.items() if columns[i].align == "right"}
    budget = usable - sum(columns[i].min_width for i in flexible)
    texts = _shrink(texts, budget - sum(numbers.values()))
    numbers = _shrink(numbers, budget - sum(texts.values()))
    fixed = texts | numbers
    fixed_total = sum(fixed.values())
    widths = [0] * count
    for i, width in fixed.items():
        widths[i] = width
    if flexible:
        rest = max(usable - fixed_total, MIN_WIDTH * len(flexible))
        share, extra = divmod(rest, len(flexible))
        for n, i in enumerate(flexible):
            widths[i] = max(MIN_WIDTH, share + (1 if n < extra else 0))
    return widths


def _visible_top(top: int, cursor: int, total: int, rows: int) -> int:
    """First visible row after a reload: `top` clamped to the rows there are, moved just
    enough to show `cursor`."""
    top = max(0, min(top, total - rows))
    if cursor < top:
        top = cursor
    elif cursor >= top + rows:
        top = cursor - rows + 1
    return max(0, top)


class _SourceLoaded(Message, bubble=False):
    """Internal: a source's count and first window arrived (posted from a worker thread)."""

    def __init__(self, generation: int, source: RowSource, total: int, blocks: dict[int, list[Row]],
                 keep_cursor: bool, error: BaseException | None = None, content: tuple[int, ...] | None = None) -> None:
        super().__init__()
        self.content = content
        self.generation = generation
        self.source = source
        self.total = total
        self.blocks = blocks
        self.keep_cursor = keep_cursor
        self.error = error


class _BlockFetched(Message, bubble=False):
    """Internal: one block of rows arrived, or failed (posted from a worker thread)."""

    def __init__(self, generation: int, block: int, rows: list[Row] | None,
                 error: BaseException | None = None) -> None:
        super().__init__()
        self.generation = generation
        self.block = block
        self.rows = rows
        self.error = error


class VirtualTable(ScrollView, can_focus=True):
    """A scrolling table over a `RowSource`; only the visible rows are fetched and rendered."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *LIST_BINDINGS,  # j/k, g/G, ctrl+d/ctrl+u: the same keys and ids as every other list
        Binding("pagedown", "cursor_page_down", "table.key.page_down", show=False, id="table.page_down"),
        Binding("pageup", "cursor_page_up", "table.key.page_up", show=False, id="table.page_up"),
        Binding("enter", "select_cursor", "table.key.select", show=False, id="table.select"),
    ]
    """
    | Key(s) | ID | Action |
    | :- | :- | :- |
    | down, j | table.down | Cursor one row down. |
    | up, k | table.up | Cursor one row up. |
    | pagedown | table.page_down | One page down. |
    | pageup | table.page_up | One page up. |
    | ctrl+d | table.half_page_down | Half a page down. |
    | ctrl+u | table.half_page_up | Half a page up. |
    | home, g | table.top | First row. |
    | end, G | table.bottom | Last row ("G"; "shift+g" from kitty-protocol terminals without text). |
    | enter | table.select | Post `RowSelected` for the cursor row. |
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-table--header",
        "virtual-table--cursor",
        "virtual-table--row-odd",
        "virtual-table--placeholder",
        "virtual-table--empty",
    }

    DEFAULT_CSS = """
    VirtualTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        width: 1fr;

        & > .virtual-table--header {
            background: $panel;
            color: $foreground;
            text-style: bold;
        }
        & > .virtual-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .virtual-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .virtual-table--row-odd {
            background: $surface-lighten-1 50%;
        }
        & > .virtual-table--placeholder {
            color: $text-muted;
            text-style: dim;
        }
        & > .virtual-table--empty {
            color: $text-muted;
            text-style: italic;
        }

        /* ANSI themes (16 colours; NO_COLOR drops every colour): text styles only */
        &:ansi > .virtual-table--header {
            background: ansi_default;
            color: ansi_default;
            text-style: bold underline;
        }
        &:ansi > .virtual-table--cursor {
            background: ansi_default;
            color: ansi_default;
            text-style: reverse;
        }
        &:ansi:focus > .virtual-table--cursor {
            background: ansi_default;
            color: ansi_default;
            text-style: bold reverse;
        }
        &:ansi > .virtual-table--row-odd {
            background: ansi_default;
        }
    }
    """

    class _RowMessage(Message):
        """A message about one row: its index and the key the source gave it."""

        def __init__(self, table: VirtualTable, index: int, key: Any) -> None:
            super().__init__()
            self.table = table
            self.index = index
            self.key = key

        @property
        def control(self) -> VirtualTable:
            return self.table

    class RowHighlighted(_RowMessage):
        """The cursor moved to a row whose data is loaded (also after a new source loaded)."""

    class RowSelected(_RowMessage):
        """Enter (or a double click) on a row."""

    class Loaded(Message):
        """A new source's count and first window are in and on screen."""

        def __init__(self, table: VirtualTable, total: int) -> None:
            super().__init__()
            self.table = table
            self.total = total

        @property
        def control(self) -> VirtualTable:
            return self.table

    class LoadFailed(Message):
        """`count()` or `fetch()` raised in a worker (the error is attached).

        A failed `set_source()` keeps the previous rows on screen (no `Loaded`); a failed block
        keeps its lines at "…" until the next `set_source()`.
        """

        def __init__(self, table: VirtualTable, error: BaseException) -> None:
            super().__init__()
            self.table = table
            self.error = error

        @property
        def control(self) -> VirtualTable:
            return self.table

    cursor: reactive[int] = reactive(0, init=False)
    """Index of the highlighted row (clamped to the rows there are)."""
    empty_text: reactive[str] = reactive("")
    """Shown when the source has no rows (e.g. "Keine Treffer")."""

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
        empty_text: str = "",
        zebra_stripes: bool = False,
        block_size: int = BLOCK_SIZE,
        max_blocks: int = MAX_BLOCKS,
        opens: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.opens = opens
        """`Enter` on a row opens a screen (its detail): the keys typed after it wait for that.
        Not for a table whose rows open nothing (the outbox): they would wait for the hold's end."""
        if not columns:
            raise ValueError("VirtualTable needs at least one column")
        self._columns: tuple[Column, ...] = tuple(columns)
        self._labels = tuple(clean(column.label) for column in self._columns)
        self.set_reactive(VirtualTable.empty_text, empty_text)
        self.zebra_stripes = zebra_stripes
        self.block_size = max(1, block_size)
        self.max_blocks = max(2, max_blocks)
        self._source: RowSource | None = None  # the source whose rows are on screen
        self._total = 0
        self._generation = 0  # bumped by every set_source()
        self._shown_generation = 0  # generation of the rows on screen (0: nothing loaded yet)
        self._loading = False
        self._deferred: tuple[RowSource, bool] | None = None  # set_source() before mounting
        self._blocks: OrderedDict[int, list[Row]] = OrderedDict()
        self._in_flight: set[int] = set()
        self._failed: set[int] = set()
        self._pending_highlight = False
        self._pending_select: int | None = None
        self._layout_for = -1  # available width the column widths were computed for
        self._widths: list[int] = []
        self._content: tuple[int, ...] | None = None  # widest text per column among the first rows
        self._line_width = 0

    # --- public API -------------------------------------------------------------------------

    @property
    def columns(self) -> tuple[Column, ...]:
        return self._columns

    @property
    def total(self) -> int:
        """Rows in the current source (0 until the first source has loaded)."""
        return self._total

    def set_total(self, source: RowSource, total: int) -> None:
        """The exact total of ``source``, when its first window only estimated it (a broad
        query's rows come first, its count after): rows beyond it go, the cursor stays on them."""
        if source is not self._source or self._loading or total == self._total:
            return
        self._total = max(0, int(total))
        last = (self._total - 1) // self.block_size if self._total else -1
        for block in [b for b in self._blocks if b > last]:
            del self._blocks[block]
        self.set_reactive(VirtualTable.cursor, self.validate_cursor(self.cursor))
        self._update_virtual_size()
        self.refresh()
        self.call_after_refresh(self._after_load)

    @property
    def is_loading(self) -> bool:
        """A `set_source()` is still counting / fetching its first window."""
        return self._loading

    @property
    def cursor_key(self) -> Any | None:
        """Key of the highlighted row, or None (no rows, or its block is not loaded yet)."""
        row = self.row_at(self.cursor) if self._total else None
        return None if row is None else row[0]

    def row_at(self, index: int) -> Row | None:
        """(key, sanitized cells) of row `index` if it is in the cache, else None (no fetch)."""
        if not 0 <= index < self._total:
            return None
        block, offset = divmod(index, self.block_size)
        rows = self._blocks.get(block)
        if rows is None or offset >= len(rows):
            return None
        return rows[offset]

    def set_source(self, source: RowSource, *, keep_cursor: bool = False) -> None:
        """Show the rows of `source`: count and visible window are fetched in a thread worker.

        A newer call obsoletes an older one (its worker is cancelled, its results are dropped).
        The previous rows stay visible until the new ones are in; then `Loaded` is posted.
        With `keep_cursor` the cursor index and scroll position are kept (clamped), e.g. after
        a background sync; otherwise the table starts at the top.
        """
        self._generation += 1
        self._loading = True
        if not self.is_attached:
            self._deferred = (source, keep_cursor)
            return
        self._deferred = None
        self._start_load(source, keep_cursor)

    def move_cursor(self, index: int) -> None:
        """Highlight row `index` (clamped) and scroll it into view."""
        self.cursor = index
        self._scroll_cursor_into_view()

    # --- workers (thread side) ----------------------------------------------------------------

    def _start_load(self, source: RowSource, keep_cursor: bool) -> None:
        rows = self._view_rows()
        first = self.scroll_offset.y if keep_cursor else 0
        cursor = self.cursor if keep_cursor else 0
        work = partial(self._load_in_thread, source, self._generation, keep_cursor, first, cursor, rows)
        self.run_worker(work, name="virtual-table load", group="virtual-table-load", exclusive=True,
                        thread=True, exit_on_error=False)

    def _obsolete(self, generation: int) -> bool:
        return generation != self._generation or get_current_worker().is_cancelled

    def _fetch_rows(self, source: RowSource, block: int, total: int) -> list[Row]:
        """Fetch and sanitize one block (in a worker thread)."""
        offset = block * self.block_size
        limit = min(self.block_size, total - offset)
        return self._clean_rows(source.fetch(offset, limit), limit)

    def _clean_rows(self, fetched: Sequence[tuple[Any, Sequence[str]]], limit: int) -> list[Row]:
        width = len(self._columns)
        padding = ("",) * width
        rows: list[Row] = []
        for key, cells in list(fetched)[:max(0, limit)]:
            texts = tuple(clean(cell) for cell in list(cells)[:width])
            rows.append((key, texts + padding[len(texts):]))
        return rows

    def _load_in_thread(self, source: RowSource, generation: int, keep_cursor: bool,
                        first: int, cursor: int, view_rows: int) -> None:
        blocks: dict[int, list[Row]] = {}
        try:
            window = getattr(source, "window", None)
            if callable(window):
                # The block of the old top row (or the first), with the total, in one read; a
                # cursor kept near the end of a shorter list may need another block below.
                guess = (first if keep_cursor else 0) // self.block_size
                counted, fetched = window(guess * self.block_size, self.block_size)
                total = max(0, int(counted))
                if guess * self.block_size < total:
                    blocks[guess] = self._clean_rows(fetched, min(self.block_size, total - guess * self.block_size))
            else:
                total = max(0, int(source.count()))
            if self._obsolete(generation):
                return
            if total:
                first = _visible_top(first, min(cursor, total - 1), total, view_rows) if keep_cursor else 0
                last = min(total, first + max(1, view_rows)) - 1
                for block in range(first // self.block_size, last // self.block_size + 1):
                    if self._obsolete(generation):
                        return
                    if block not in blocks:
                        blocks[block] = self._fetch_rows(source, block, total)
                blocks = {b: rows for b, rows in blocks.items() if first // self.block_size <= b <= last // self.block_size}
        except Exception as error:  # the source is app code (SQLite, HTTP): report, don't crash
            if not self._obsolete(generation):
                self.post_message(_SourceLoaded(generation, source, 0, {}, keep_cursor, error))
            return
        if not self._obsolete(generation):
            # Columns sized by the first rows shown (not by every block that scrolls in: the
            # columns keep their place while the user scrolls; a new filter or sort sizes them again).
            # An empty list keeps the columns as they were (the header does not jump while typing).
            shown = [row for rows in blocks.values() for row in rows]
            content = content_widths(shown, len(self._columns)) if shown else None
            self.post_message(_SourceLoaded(generation, source, total, blocks, keep_cursor, content=content))

    def _fetch_in_thread(self, source: RowSource, generation: int, block: int, total: int) -> None:
        if generation != self._shown_generation or get_current_worker().is_cancelled:
            self.post_message(_BlockFetched(generation, block, None))
            return
        try:
            rows = self._fetch_rows(source, block, total)
        except Exception as error:
            self.post_message(_BlockFetched(generation, block, None, error))
            return
        self.post_message(_BlockFetched(generation, block, rows))

    # --- results (event loop side) ---------------------------------------------------------------

    @on(_SourceLoaded)
    def _source_loaded(self, message: _SourceLoaded) -> None:
        message.stop()
        if message.generation != self._generation:
            return  # a newer set_source() is under way
        self._loading = False
        if message.error is not None:  # count() or the first fetch failed: keep what is shown
            self.refresh()
            self.post_message(self.LoadFailed(self, message.error))
            return
        old_key = self.cursor_key if message.keep_cursor else None  # the record under the cursor, before
        self._source = message.source
        self._shown_generation = message.generation
        self._blocks.clear()
        self._in_flight.clear()
        self._failed.clear()
        self._pending_select = None
        self._total = message.total
        if message.content is not None and message.content != self._content:
            self._content = message.content
            self._layout_for = -1  # the columns follow the new rows' widths
        for block, rows in sorted(message.blocks.items()):
            self._store(block, rows)
        cursor = self.validate_cursor(self.cursor if message.keep_cursor else 0)
        if old_key is not None:
            # The cursor stays on its record when rows came or went above it (a new order, a
            # sync): found among the rows fetched around it, else it keeps its place.
            cursor = next((block * self.block_size + i for block, rows in message.blocks.items()
                           for i, row in enumerate(rows) if row[0] == old_key), cursor)
        self.set_reactive(VirtualTable.cursor, cursor)
        if message.keep_cursor:  # same top row as the thread fetched (never below the old one)
            top = _visible_top(self.scroll_offset.y, cursor, self._total, self._view_rows())
            self.scroll_to(y=top, animate=False, force=True)
        else:
            self.scroll_to(0, 0, animate=False, force=True)
        self._update_virtual_size()
        self.refresh()
        self.post_message(self.Loaded(self, self._total))
        self._pending_highlight = True
        self._announce_highlight()
        # the new virtual size is applied at the next layout; then fix scroll and fill the view
        self.call_after_refresh(self._after_load)

    def _after_load(self) -> None:
        self._scroll_cursor_into_view()
        self._ensure_window()

    @on(_BlockFetched)
    def _block_fetched(self, message: _BlockFetched) -> None:
        message.stop()
        if message.generation != self._shown_generation:
            return  # rows of a replaced source
        self._in_flight.discard(message.block)
        if message.rows is None:
            if message.error is not None:
                self._failed.add(message.block)  # no retry loop; the next set_source() retries
                self.post_message(self.LoadFailed(self, message.error))
            return
        self._store(message.block, message.rows)
        self.refresh()
        self._announce_highlight()
        if self._pending_select is not None and self._pending_select == self.cursor:
            self.action_select_cursor()

    def _store(self, block: int, rows: list[Row]) -> None:
        self._blocks[block] = rows
        self._blocks.move_to_end(block)
        if len(self._blocks) > self.max_blocks:
            keep = set(self._window_blocks())
            for old in list(self._blocks):
                if len(self._blocks) <= self.max_blocks:
                    break
                if old not in keep:
                    del self._blocks[old]

    def _window_blocks(self) -> range:
        """Blocks of the visible rows plus a page above and below."""
        if not self._total:
            return range(0)
        rows = self._view_rows()
        top = self.scroll_offset.y
        low = max(0, top - rows)
        high = min(self._total - 1, top + 2 * rows)
        return range(low // self.block_size, high // self.block_size + 1)

    def _ensure_window(self) -> None:
        """Start a thread worker for every block near the viewport that is not cached."""
        source = self._source
        if source is None or not self._total or not self.is_attached:
            return
        for block in self._window_blocks():
            if block in self._blocks:
                self._blocks.move_to_end(block)
                continue
            if block in self._in_flight or block in self._failed:
                continue
            self._in_flight.add(block)
            work = partial(self._fetch_in_thread, source, self._shown_generation, block, self._total)
            self.run_worker(work, name=f"virtual-table block {block}", group="virtual-table-fetch",
                            thread=True, exit_on_error=False)

    def _announce_highlight(self) -> None:
        if not self._pending_highlight or not self._total:
            return
        row = self.row_at(self.cursor)
        if row is not None:
            self._pending_highlight = False
            self.post_message(self.RowHighlighted(self, self.cursor, row[0]))

    # --- geometry -------------------------------------------------------------------------------

    def _view_rows(self) -> int:
        """Data rows that fit under the header."""
        return max(1, self.scrollable_content_region.height - 1)

    def _relayout(self) -> None:
        available = self.scrollable_content_region.width
        if available == self._layout_for and self._widths:
            return
        self._layout_for = available
        self._widths = column_widths(self._columns, available, self._content)
        self._line_width = LEAD + sum(self._widths) + GAP * (len(self._widths) - 1)

    def _update_virtual_size(self) -> None:
        self._relayout()
        size = Size(self._line_width, self._total + 1)
        if self.virtual_size == size:
            return
        if not self.is_attached or not self.container_size:
            self.virtual_size = size
            return
        # Not through the reactive: it asks for a layout of the whole screen, and then the next
        # frame repaints every widget (about 10 ms at 120x40) on each keystroke of a filter. The
        # table's own box does not change; the scrollbars follow here, and showing or hiding
        # one still asks for a layout (those are reactives with layout=True).
        self.set_reactive(VirtualTable.virtual_size, size)
        self._scroll_update(size)
        self.refresh()

    def _scroll_cursor_into_view(self) -> None:
        if not self._total:
            return
        rows = self._view_rows()
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + rows:
            self.scroll_to(y=self.cursor - rows + 1, animate=False)

    def on_mount(self) -> None:
        self._update_virtual_size()
        if self._deferred is not None:
            source, keep_cursor = self._deferred
            self._deferred = None
            self._start_load(source, keep_cursor)

    def on_resize(self, _event: events.Resize) -> None:
        self._update_virtual_size()
        self._scroll_cursor_into_view()
        self._ensure_window()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._ensure_window()

    def validate_cursor(self, value: int) -> int:
        return max(0, min(int(value), self._total - 1)) if self._total > 0 else 0

    def watch_cursor(self, old_value: int, new_value: int) -> None:
        if self._pending_select is not None and self._pending_select != new_value:
            self._pending_select = None
        self._scroll_cursor_into_view()
        self._pending_highlight = True
        self._announce_highlight()

    # --- actions ----------------------------------------------------------------------------------

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor - 1)

    def _page(self, delta: int) -> None:
        """Scroll by `delta` rows and move the cursor with it (it keeps its place on screen)."""
        self.scroll_to(y=self.scroll_offset.y + delta, animate=False)
        self.move_cursor(self.cursor + delta)

    def action_cursor_page_down(self) -> None:
        self._page(self._view_rows())

    def action_cursor_page_up(self) -> None:
        self._page(-self._view_rows())

    def action_cursor_half_page_down(self) -> None:
        self._page(max(1, self._view_rows() // 2))

    def action_cursor_half_page_up(self) -> None:
        self._page(-max(1, self._view_rows() // 2))

    def action_cursor_top(self) -> None:
        self.move_cursor(0)

    def action_cursor_bottom(self) -> None:
        self.move_cursor(self._total - 1)

    def action_select_cursor(self) -> None:
        if not self._total:
            return
        if self.opens:
            keys_wait_for_what_opens(self)
        row = self.row_at(self.cursor)
        if row is None:
            self._pending_select = self.cursor  # posted when its block arrives
            return
        self._pending_select = None
        self.post_message(self.RowSelected(self, self.cursor, row[0]))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = self.scroll_offset.y + offset.y - 1
        if index >= self._total:
            return
        if index == self.cursor and event.chain >= 2:
            self.action_select_cursor()
        else:
            self.move_cursor(index)

    # --- rendering --------------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        # Column widths follow the width left of the vertical scrollbar, which can change
        # without a Resize event (scrollbar shown/hidden); recompute cheaply before painting.
        previous = self._line_width
        self._relayout()
        if self._line_width != previous:
            self.call_later(self._update_virtual_size)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        scroll_x, scroll_y = self.scroll_offset
        if not self._widths:
            self._relayout()
        if y == 0:
            strip = self._header_strip(base)
        else:
            strip = self._body_strip(scroll_y + y - 1, y, base)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _cells_strip(self, texts: Sequence[str], style: Style, *, header: bool = False) -> Strip:
        parts = [" " * LEAD]
        gap = " " * GAP
        for n, (column, text, width) in enumerate(zip(self._columns, texts, self._widths, strict=False)):
            if n:
                parts.append(gap)
            parts.append(fit_cell(text, width, column.align, None if header else column.shorten))
        line = "".join(parts)
        line_width = max(self._line_width, self.size.width)
        return Strip([Segment(line, style)], cell_len(line)).extend_cell_length(line_width, style)

    def _header_strip(self, base: Style) -> Strip:
        return self._cells_strip(self._labels, base + self.get_component_rich_style("virtual-table--header"), header=True)

    def _message_strip(self, y: int, base: Style, line_width: int) -> Strip:
        """A line of an empty table: "…" while the first source loads, else `empty_text`."""
        if self._shown_generation == 0:
            if y != 1 or not self._loading:
                return Strip.blank(line_width, base)
            text, component = " " * LEAD + ELLIPSIS, "virtual-table--placeholder"
        else:
            height = self.scrollable_content_region.height
            if y != max(1, height // 2) or not self.empty_text:
                return Strip.blank(line_width, base)
            width = self.scrollable_content_region.width
            text, component = clean(self.empty_text), "virtual-table--empty"
            space = width - cell_len(text)
            text = " " * (space // 2) + text if space > 0 else fit_cell(text, width)
        style = base + self.get_component_rich_style(component, partial=True)
        return Strip([Segment(text, style)], cell_len(text)).extend_cell_length(line_width, base)

    def _body_strip(self, index: int, y: int, base: Style) -> Strip:
        line_width = max(self._line_width, self.size.width)
        if self._total == 0:
            return self._message_strip(y, base, line_width)
        if index >= self._total:
            return Strip.blank(line_width, base)
        style = base
        if self.zebra_stripes and index % 2:
            style = style + self.get_component_rich_style("virtual-table--row-odd")
        if index == self.cursor:
            style = style + self.get_component_rich_style("virtual-table--cursor")
        block_index, offset = divmod(index, self.block_size)
        block = self._blocks.get(block_index)
        if block is None:  # on its way (a worker was started when the view moved here)
            style = style + self.get_component_rich_style("virtual-table--placeholder", partial=True)
            text = " " * LEAD + ELLIPSIS
            return Strip([Segment(text, style)], cell_len(text)).extend_cell_length(line_width, style)
        self._blocks.move_to_end(block_index)
        if offset >= len(block):  # the source returned fewer rows than it counted
            return Strip.blank(line_width, style)
        return self._cells_strip(block[offset][1], style)
