"""A keystroke in the catalog filter reads the cache once: the table source answers the total and
the visible rows from one search (it used to count, then search: two reads, two snapshots)."""

from __future__ import annotations

from app_support import make_app, settle

from efa_tui.screens.catalog import CatalogScreen
from efa_tui.widgets.virtual_table import VirtualTable


async def test_one_cache_read_per_keystroke(server, tmp_path):
    app = make_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        everything = app.screen.query_one(VirtualTable).total
        assert isinstance(app.screen, CatalogScreen) and everything > 0
        cache = app.session.cache
        reads = []
        original = cache._read

        def counted(work):
            reads.append(work)
            return original(work)

        cache._read = counted
        try:
            await pilot.press("slash")
            await settle(pilot)
            for ch in "bau":
                reads.clear()
                await pilot.press(ch)
                await settle(pilot)
                assert len(reads) == 1, f"{len(reads)} cache reads for one keystroke ({ch!r})"
        finally:
            del cache._read
        assert 0 < app.screen.query_one(VirtualTable).total < everything
