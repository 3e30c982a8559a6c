"""VirtualTable: only the visible rows are fetched (in threads) and rendered; keys, messages,
obsolete generations, empty state and hostile cell text."""

from __future__ import annotations

import importlib.util
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from textual import on
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from efa_tui.text import clean
from efa_tui.widgets.virtual_table import Column, VirtualTable, column_widths, fit_cell

ROOT = Path(__file__).resolve().parent.parent
SIZE = (80, 24)
N = 100_000
COLUMNS = [Column("title", "Titel"), Column("n", "Nummer", width=10, align="right")]
MAIN_THREAD = threading.main_thread().ident


def _load_bench() -> Any:
    spec = importlib.util.spec_from_file_location("table_compare", ROOT / "bench" / "table_compare.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class RecordingSource:
    """`n` generated rows ("<prefix> <i>", "<i>"); records every call and the thread it ran in.

    `gate`, if given, blocks `count()` (gate_count) and/or `fetch()` at offsets >= gate_offset
    until it is set; `finished` is set when a gated call returned.
    """

    def __init__(self, n: int, prefix: str = "row", *, gate: threading.Event | None = None,
                 gate_count: bool = False, gate_offset: int | None = None,
                 cells: Callable[[int], Sequence[str]] | None = None) -> None:
        self.n = n
        self.prefix = prefix
        self.gate = gate
        self.gate_count = gate_count
        self.gate_offset = gate_offset
        self.cells = cells
        self.calls: list[tuple[str, int, int, int]] = []  # (method, offset, limit, thread id)
        self.finished = threading.Event()

    def _wait(self) -> None:
        assert self.gate is not None
        self.gate.wait(10)
        self.finished.set()

    def count(self) -> int:
        self.calls.append(("count", 0, 0, threading.get_ident()))
        if self.gate is not None and self.gate_count:
            self._wait()
        return self.n

    def fetch(self, offset: int, limit: int) -> list[tuple[Any, Sequence[str]]]:
        self.calls.append(("fetch", offset, limit, threading.get_ident()))
        if self.gate is not None and self.gate_offset is not None and offset >= self.gate_offset:
            self._wait()
        end = min(self.n, offset + limit)
        if self.cells is not None:
            return [(f"{self.prefix}-{i}", self.cells(i)) for i in range(offset, end)]
        return [(f"{self.prefix}-{i}", (f"{self.prefix} {i}", str(i))) for i in range(offset, end)]

    @property
    def fetched_rows(self) -> int:
        return sum(limit for method, _offset, limit, _thread in self.calls if method == "fetch")


class TableApp(App):
    def __init__(self, source: RecordingSource | None, *, columns: Sequence[Column] = COLUMNS,
                 empty_text: str = "") -> None:
        super().__init__()
        self.source = source
        self.columns = columns
        self.empty_text = empty_text
        self.messages: list[Any] = []

    def compose(self) -> ComposeResult:
        yield VirtualTable(self.columns, id="table", empty_text=self.empty_text)

    def on_mount(self) -> None:
        table = self.query_one(VirtualTable)
        if self.source is not None:
            table.set_source(self.source)
        table.focus()

    @on(VirtualTable.RowHighlighted)
    @on(VirtualTable.RowSelected)
    @on(VirtualTable.Loaded)
    def _record(self, message: Any) -> None:
        self.messages.append(message)

    def of(self, kind: type) -> list[Any]:
        return [m for m in self.messages if isinstance(m, kind)]


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await pilot.pause(0.005)
    await pilot.pause()


def lines(table: VirtualTable) -> list[str]:
    return [table.render_line(y).text for y in range(table.size.height)]


def shown(table: VirtualTable, text: str) -> bool:
    return any(text in line for line in lines(table))


async def loaded(pilot: Pilot, total: int | None = None) -> VirtualTable:
    table = pilot.app.query_one(VirtualTable)
    await wait_for(pilot, lambda: not table.is_loading and table.total == (table.total if total is None else total)
                   and table.row_at(table.scroll_offset.y) is not None)
    return table


# --- first paint ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_first_paint_fetches_only_the_visible_window_in_a_thread() -> None:
    source = RecordingSource(N)
    app = TableApp(source)
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot, N)
        screen = lines(table)
        assert "Titel" in screen[0] and "Nummer" in screen[0]
        assert screen[1].startswith(" row 0 ") and screen[1].rstrip().endswith(" 0")
        assert screen[23].startswith(" row 22 ")
        assert table.virtual_size.height == N + 1
        assert 0 < source.fetched_rows < 1_000
        assert source.calls and all(thread != MAIN_THREAD for *_rest, thread in source.calls)
        assert [m.total for m in app.of(VirtualTable.Loaded)] == [N]
        highlighted = app.of(VirtualTable.RowHighlighted)
        assert (highlighted[-1].index, highlighted[-1].key) == (0, "row-0")
        assert table.cursor_key == "row-0"
        # the composed screen (not only render_line) shows them too, once the next frame is out
        await wait_for(pilot, lambda: "row&#160;22" in app.export_screenshot())
        assert "Titel" in app.export_screenshot()


@pytest.mark.asyncio
async def test_placeholder_while_a_block_is_on_its_way() -> None:
    gate = threading.Event()
    source = RecordingSource(N, gate=gate, gate_offset=1_000)
    app = TableApp(source)
    try:
        async with app.run_test(size=SIZE) as pilot:
            table = await loaded(pilot, N)
            table.move_cursor(50_000)
            await pilot.pause()
            assert table.cursor == 50_000 and table.cursor_key is None
            assert lines(table)[1].strip() == "…" and lines(table)[23].strip() == "…"
            assert not app.of(VirtualTable.RowHighlighted)[-1].index == 50_000
            gate.set()
            await wait_for(pilot, lambda: shown(table, "row 50000"))
            assert table.cursor_key == "row-50000"
            assert app.of(VirtualTable.RowHighlighted)[-1].key == "row-50000"
    finally:
        gate.set()


# --- keys ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_keys_move_the_cursor_and_scroll() -> None:
    source = RecordingSource(N)
    app = TableApp(source)
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot, N)
        rows = table.size.height - 1  # 23 rows under the header

        await pilot.press("j", "j", "down", "k")
        assert table.cursor == 2 and table.cursor_key == "row-2"
        assert app.of(VirtualTable.RowHighlighted)[-1].key == "row-2"

        await pilot.press("G")  # shift+g arrives as key "G"
        assert table.cursor == N - 1
        await wait_for(pilot, lambda: shown(table, f"row {N - 1}"))
        screen = lines(table)
        assert "Titel" in screen[0], "header is sticky"
        assert screen[-1].startswith(f" row {N - 1} ")
        assert table.scroll_offset.y == N - rows
        await wait_for(pilot, lambda: app.of(VirtualTable.RowHighlighted)[-1].index == N - 1)
        assert app.of(VirtualTable.RowHighlighted)[-1].key == f"row-{N - 1}"
        assert source.fetched_rows < 2_000

        await pilot.press("g")
        assert table.cursor == 0 and table.scroll_offset.y == 0
        assert lines(table)[1].startswith(" row 0 ")

        await pilot.press("pagedown")
        assert table.cursor == rows and table.scroll_offset.y == rows
        await pilot.press("ctrl+d")
        assert table.cursor == rows + rows // 2
        await pilot.press("ctrl+u", "pageup")
        assert table.cursor == 0 and table.scroll_offset.y == 0
        await pilot.press("k")  # clamped at the top
        assert table.cursor == 0

        await pilot.press("end")
        assert table.cursor == N - 1
        await pilot.press("j")  # clamped at the bottom
        assert table.cursor == N - 1
        await pilot.press("home")
        assert table.cursor == 0
        await pilot.press("shift+g")  # what a kitty-protocol terminal may send instead of "G"
        assert table.cursor == N - 1
        await pilot.press("g")
        assert table.cursor == 0
        await wait_for(pilot, lambda: shown(table, "row 22"))
        assert all(thread != MAIN_THREAD for *_rest, thread in source.calls)
        assert len(table._blocks) <= table.max_blocks


@pytest.mark.asyncio
async def test_block_cache_stays_bounded_while_jumping_around() -> None:
    source = RecordingSource(N)
    app = TableApp(source)
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot, N)
        for target in range(0, N, N // 40):
            table.move_cursor(target)
            await wait_for(pilot, lambda target=target: table.cursor_key == f"row-{target}")
            assert len(table._blocks) <= table.max_blocks
        assert source.fetched_rows <= 40 * 3 * table.block_size  # the window, never everything
        assert all(thread != MAIN_THREAD for *_rest, thread in source.calls)


@pytest.mark.asyncio
async def test_enter_and_double_click_post_row_selected() -> None:
    app = TableApp(RecordingSource(N))
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot, N)
        await pilot.press("j", "j", "enter")
        await pilot.pause()
        selected = app.of(VirtualTable.RowSelected)
        assert [(m.index, m.key, m.table) for m in selected] == [(2, "row-2", table)]

        await pilot.click(VirtualTable, offset=(5, 5))  # line 5 = row 4
        assert table.cursor == 4 and len(app.of(VirtualTable.RowSelected)) == 1
        await pilot.double_click(VirtualTable, offset=(5, 5))
        await pilot.pause()
        assert app.of(VirtualTable.RowSelected)[-1].key == "row-4"


@pytest.mark.asyncio
async def test_bindings_have_ids_an_app_keymap_can_rebind() -> None:
    ids = {binding.id for binding in VirtualTable.BINDINGS}  # type: ignore[union-attr]
    assert {"table.down", "table.up", "table.page_down", "table.page_up", "table.half_page_down",
            "table.half_page_up", "table.top", "table.bottom", "table.select"} <= ids
    assert not any("ctrl+b" in binding.key for binding in VirtualTable.BINDINGS)  # type: ignore[union-attr]
    app = TableApp(RecordingSource(1_000))
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot, 1_000)
        app.set_keymap({"table.down": "n", "table.bottom": "b"})
        await pilot.press("n", "n")
        assert table.cursor == 2
        await pilot.press("b")
        assert table.cursor == 999


# --- sources ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_newer_source_obsoletes_an_older_one() -> None:
    gate = threading.Event()
    slow = RecordingSource(7_777, "old", gate=gate, gate_count=True)
    try:
        app = TableApp(RecordingSource(N, "a"))
        async with app.run_test(size=SIZE) as pilot:
            table = await loaded(pilot, N)
            await pilot.press("j")

            table.set_source(slow)
            await wait_for(pilot, lambda: bool(slow.calls))  # its count() is now blocked
            assert table.is_loading and table.total == N and shown(table, "a 0"), "old rows stay until new ones"

            table.set_source(RecordingSource(50, "new"))
            await loaded(pilot, 50)
            gate.set()  # now let the obsolete generation finish ...
            assert slow.finished.wait(5)
            await app.workers.wait_for_complete()
            for _ in range(5):
                await pilot.pause(0.01)
            # ... and check that it changed nothing
            assert table.total == 50 and table.cursor == 0 and table.cursor_key == "new-0"
            assert lines(table)[1].startswith(" new 0 ") and not shown(table, "old")
            assert not any(method == "fetch" for method, *_rest in slow.calls)
            assert [m.total for m in app.of(VirtualTable.Loaded)] == [N, 50]
            assert app.of(VirtualTable.RowHighlighted)[-1].key == "new-0"
    finally:
        gate.set()


@pytest.mark.asyncio
async def test_a_block_of_a_replaced_source_is_ignored() -> None:
    gate = threading.Event()
    first = RecordingSource(N, "c", gate=gate, gate_offset=1_000)
    try:
        app = TableApp(first)
        async with app.run_test(size=SIZE) as pilot:
            table = await loaded(pilot, N)
            await pilot.press("G")
            await wait_for(pilot, lambda: any(offset >= 1_000 for _m, offset, _l, _t in first.calls))
            table.set_source(RecordingSource(N, "d"))
            await loaded(pilot, N)
            gate.set()
            assert first.finished.wait(5)
            await app.workers.wait_for_complete()
            await pilot.pause(0.02)
            keys = [key for rows in table._blocks.values() for key, _cells in rows]
            assert keys and all(key.startswith("d-") for key in keys)
            assert lines(table)[1].startswith(" d 0 ") and table.cursor == 0
    finally:
        gate.set()


@pytest.mark.asyncio
async def test_keep_cursor_keeps_place_after_a_refresh() -> None:
    app = TableApp(RecordingSource(N))
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot, N)
        table.move_cursor(500)
        await wait_for(pilot, lambda: shown(table, "row 500"))
        table.set_source(RecordingSource(N, "fresh"), keep_cursor=True)
        await wait_for(pilot, lambda: shown(table, "fresh 500"))
        assert table.cursor == 500 and table.cursor_key == "fresh-500"
        table.set_source(RecordingSource(100, "small"), keep_cursor=True)  # cursor gets clamped
        await wait_for(pilot, lambda: shown(table, "small 99"))
        assert table.cursor == 99 and table.cursor_key == "small-99"


@pytest.mark.asyncio
async def test_empty_source_shows_empty_text() -> None:
    app = TableApp(RecordingSource(0), empty_text="Keine Treffer")
    async with app.run_test(size=SIZE) as pilot:
        table = pilot.app.query_one(VirtualTable)
        await wait_for(pilot, lambda: len(app.of(VirtualTable.Loaded)) == 1)
        assert table.total == 0 and table.cursor == 0 and table.cursor_key is None
        screen = lines(table)
        assert "Titel" in screen[0]
        assert sum("Keine Treffer" in line for line in screen) == 1
        await pilot.press("j", "G", "enter")
        assert not app.of(VirtualTable.RowSelected) and not app.of(VirtualTable.RowHighlighted)
        table.empty_text = "Nichts im Cache"
        await pilot.pause()
        assert shown(table, "Nichts im Cache")


@pytest.mark.asyncio
async def test_a_failing_source_reports_and_does_not_crash() -> None:
    class Broken(RecordingSource):
        def count(self) -> int:
            raise RuntimeError("database is locked")

    failures: list[VirtualTable.LoadFailed] = []

    class FailApp(TableApp):
        @on(VirtualTable.LoadFailed)
        def _failed(self, message: VirtualTable.LoadFailed) -> None:
            failures.append(message)

    app = FailApp(Broken(10))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(failures))
        assert "database is locked" in str(failures[0].error)
        assert app.query_one(VirtualTable).total == 0


# --- untrusted text and widths -----------------------------------------------------------------

HOSTILE = ("[bold red]X[/]", "\x1b[31mrot\x1b[0m", "\x1b]52;c;AAAA\x07", "\x9b2J\x00\x7f",
           "漢字のタイトル漢字のタイトル漢字のタイトル漢字のタイトル", "👍🏽 Emoji 👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍")


@pytest.mark.asyncio
async def test_hostile_cells_render_literally_and_without_controls() -> None:
    columns = [Column("a", "[b]Titel[/b]"), Column("b", "B", width=12), Column("c", "C", width=14),
               Column("d", "D", width=12, align="right")]

    def cells(i: int) -> Sequence[str]:
        return [HOSTILE[(i + k) % len(HOSTILE)] for k in range(4)]

    app = TableApp(RecordingSource(60, cells=cells), columns=columns)
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot, 60)
        strips = [table.render_line(y) for y in range(table.size.height)]
        text = "\n".join(strip.text for strip in strips)
        for bad in ("\x1b", "\x07", "\x9b", "\x00", "\x7f"):
            assert bad not in text
        assert not any(segment.control for strip in strips for segment in strip)
        assert "[b]Titel[/b]" in strips[0].text
        assert "[bold red]X[/]" in text
        assert "rot" in text and "[31m" not in text  # the escape sequence goes whole, not just its ESC
        assert all(strip.cell_length == table.size.width for strip in strips)
        assert all(cell_len(strip.text) == table.size.width for strip in strips)
        assert "…" in text  # CJK / emoji cells were cut with an ellipsis


def test_sanitize_and_fit_cells() -> None:
    assert clean("\x1b]52;c;AAAA\x07") == ""
    assert clean("a\tb\nc\u202ed") == "a b cd"
    assert clean(None) == ""
    assert fit_cell("abc", 5) == "abc  " and fit_cell("abc", 5, "right") == "  abc"
    assert fit_cell("abcdef", 4) == "abc…"
    assert fit_cell("漢字漢字", 5) == "漢字…" and cell_len(fit_cell("漢字漢字", 4)) == 4
    assert fit_cell("1.234,56 €", 12, "right") == "  1.234,56 €"
    with pytest.raises(ValueError):
        Column("x", "X", align="center")


def test_column_widths_fit_80_columns() -> None:
    catalog = [Column("title", "Titel"), Column("provider", "Anbieter", width=22),
               Column("category", "Kategorie", width=20), Column("fee", "Entgelt", width=14, align="right"),
               Column("key", "Schlüssel", width=14)]
    for available in (78, 80, 100, 200):
        widths = column_widths(catalog, available)
        assert 1 + sum(widths) + len(widths) - 1 <= available
        assert widths[0] >= 10 and min(widths) >= 3
    assert column_widths(catalog, 78)[3] == 14, "money is not cut while text columns can give"
    wide = column_widths(catalog, 200)
    assert wide[1:] == [22, 20, 14, 14] and wide[0] == 200 - 1 - 4 - 70
    assert column_widths([Column("a", "A"), Column("b", "B")], 21) == [10, 9]


@pytest.mark.asyncio
async def test_layout_follows_the_terminal_width() -> None:
    columns = [Column("title", "Titel"), Column("provider", "Anbieter", width=22),
               Column("category", "Kategorie", width=20), Column("fee", "Entgelt", width=14, align="right"),
               Column("key", "Schlüssel", width=14)]

    def cells(i: int) -> Sequence[str]:
        return [f"Titel {i} " + "x" * 60, "Anbieter", "Kategorie", f"{i},00 €", "k"]

    app = TableApp(RecordingSource(N, cells=cells), columns=columns)
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot, N)
        assert table.virtual_size.width <= table.scrollable_content_region.width, "no sideways scrolling at 80"
        row = lines(table)[1]
        assert row.startswith(" Titel 0 x") and "…" in row and "0,00 €" in row
        await pilot.resize_terminal(140, 30)
        await wait_for(pilot, lambda: table.size.width == 140)
        row = lines(table)[1]
        assert cell_len(row) == 140 and "Titel 0 " + "x" * 40 in row
        assert shown(table, "row") is False and shown(table, "Titel 28 ")


# --- benchmark (printed, not asserted) ------------------------------------------------------------


def test_print_first_rows_virtual_table_vs_datatable(capsys: pytest.CaptureFixture[str]) -> None:
    bench = _load_bench()
    figures = bench.compare(N)
    with capsys.disabled():
        print()
        for name, value in figures.items():
            print(f"{name}: {value:.3f}")
    assert set(figures) == {"virtual_table_first_rows_s", "datatable_first_rows_s"}


class WindowSource(RecordingSource):
    """A source that answers the total and a window in one call (as the catalog's does)."""

    def window(self, offset: int, limit: int) -> tuple[int, list[tuple[Any, Sequence[str]]]]:
        self.calls.append(("window", offset, limit, threading.get_ident()))
        end = min(self.n, offset + limit)
        return self.n, [(f"{self.prefix}-{i}", (f"{self.prefix} {i}", str(i))) for i in range(offset, end)]


@pytest.mark.asyncio
async def test_a_window_source_is_loaded_with_one_call() -> None:
    source = WindowSource(N)
    app = TableApp(source)
    async with app.run_test(size=SIZE) as pilot:
        table = await loaded(pilot, N)
        assert [(method, offset) for method, offset, *_ in source.calls] == [("window", 0)]
        assert lines(table)[1].startswith(" row 0 ")
        # a reload that keeps the cursor far down a shorter list still shows the cursor's rows
        table.move_cursor(5_000)
        await pilot.pause()
        shorter = WindowSource(6_000, "new")
        table.set_source(shorter, keep_cursor=True)
        await wait_for(pilot, lambda: table.total == 6_000 and not table.is_loading)
        assert table.cursor_key == "new-5000"
        assert "new 5000" in "".join(lines(table))


def test_an_amount_too_wide_for_its_column_keeps_its_unit() -> None:
    assert fit_cell("1.150.600,00 €", 12, "right") == " 1.150.600 €"
    assert fit_cell("€1,150,600.00", 11, "right") == " €1,150,600"
    assert fit_cell("20.594,83 €", 12, "right") == " 20.594,83 €"  # fits: unchanged
    assert fit_cell("01.01.2027", 8, "right").endswith("…")  # a date is no amount
