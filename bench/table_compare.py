"""Time to first rows on screen: efa-tui's VirtualTable versus Textual's stock DataTable.

Both apps run headless at 80x24 (``App.run_test``); the clock starts before ``run_test`` and
stops when the table's first data line shows row 0. VirtualTable counts and fetches one block
in a thread worker; DataTable gets every row through ``add_rows`` on the event loop.

Prints ``name: value`` lines (not a test):

    .venv/bin/python bench/table_compare.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import DataTable  # noqa: E402

from efa_tui.widgets.virtual_table import Column, VirtualTable  # noqa: E402

SIZE = (80, 24)
COLUMNS = [
    Column("title", "Titel"),
    Column("provider", "Anbieter", width=22),
    Column("category", "Kategorie", width=16),
    Column("annual_fee", "Jahresentgelt", width=14, align="right"),
]
TIMEOUT_S = 60.0

Row = tuple[Any, Sequence[str]]


def make_rows(n: int) -> list[Row]:
    """`n` catalog-like rows: (key, (title, provider, category, fee))."""
    return [
        (f"off-{i:06d}", (f"Leistung {i:06d} Bürgerservice", f"Anbieter {i % 97}", f"Kategorie {i % 13}",
                          f"{i % 9000 + 100:,}.{i % 100:02d} €".replace(",", ".")))
        for i in range(n)
    ]


class ListSource:
    """A RowSource over an in-memory list."""

    def __init__(self, rows: Sequence[Row]) -> None:
        self.rows = rows

    def count(self) -> int:
        return len(self.rows)

    def fetch(self, offset: int, limit: int) -> list[Row]:
        return list(self.rows[offset:offset + limit])


class VirtualTableApp(App):
    def __init__(self, rows: Sequence[Row]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield VirtualTable(COLUMNS, id="table")

    def on_mount(self) -> None:
        table = self.query_one(VirtualTable)
        table.set_source(ListSource(self.rows))
        table.focus()


class DataTableApp(App):
    def __init__(self, rows: Sequence[Row]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield DataTable(id="table", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*(column.label for column in COLUMNS))
        table.add_rows([cells for _key, cells in self.rows])
        table.focus()


async def _first_rows_s(app: App, first_cell: str) -> float:
    first_cell = first_cell[:15]  # the title column is truncated with "…" at 80 columns
    start = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one("#table")
        while first_cell not in table.render_line(1).text:
            if time.perf_counter() - start > TIMEOUT_S:
                raise TimeoutError(f"first row not painted after {TIMEOUT_S} s")
            await pilot.pause()
        elapsed = time.perf_counter() - start
    return elapsed


async def measure_virtual_table(rows: Sequence[Row]) -> float:
    """Seconds from ``run_test`` start until VirtualTable shows row 0."""
    return await _first_rows_s(VirtualTableApp(rows), rows[0][1][0])


async def measure_datatable(rows: Sequence[Row]) -> float:
    """Seconds from ``run_test`` start until DataTable (``add_rows``) shows row 0."""
    return await _first_rows_s(DataTableApp(rows), rows[0][1][0])


def virtual_table_first_rows_s(rows: Sequence[Row]) -> float:
    return asyncio.run(measure_virtual_table(rows))


def datatable_first_rows_s(rows: Sequence[Row]) -> float:
    return asyncio.run(measure_datatable(rows))


def compare(n: int) -> dict[str, float]:
    """Measure both tables with `n` rows and print ``name: value`` lines."""
    rows = make_rows(n)
    figures = {
        "virtual_table_first_rows_s": virtual_table_first_rows_s(rows),
        "datatable_first_rows_s": datatable_first_rows_s(rows),
    }
    print(f"rows: {n}")
    for name, value in figures.items():
        print(f"{name}: {value:.3f}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    compare(parser.parse_args().rows)


if __name__ == "__main__":
    main()
