"""A keystroke in the catalog filter reads the cache once: the table source answers the total and
the visible rows from one search (it used to count, then search: two reads, two snapshots)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from app_support import make_app, settle

from efa_tui.screens.catalog import CatalogScreen
from efa_tui.widgets.virtual_table import VirtualTable


@contextmanager
def counted_reads(cache) -> Iterator[list]:
    """Every read the cache makes meanwhile (the work function it runs), in order."""
    reads: list = []
    original = cache._read

    def counted(work):
        reads.append(work)
        return original(work)

    cache._read = counted
    try:
        yield reads
    finally:
        del cache._read


async def test_one_cache_read_per_keystroke(server, tmp_path):
    app = make_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        everything = app.screen.query_one(VirtualTable).total
        assert isinstance(app.screen, CatalogScreen) and everything > 0
        with counted_reads(app.session.cache) as reads:
            await pilot.press("slash")
            await settle(pilot)
            for ch in "bau":
                reads.clear()
                await pilot.press(ch)
                await settle(pilot)
                assert len(reads) == 1, f"{len(reads)} cache reads for one keystroke ({ch!r})"
        assert 0 < app.screen.query_one(VirtualTable).total < everything


# --- broad queries: the rows first, the exact count after ------------------------------------------

SERVICES = ["Bauantrag", "Wohngeld", "Elterngeld", "Gewerbeanmeldung", "Kita-Platz"]


def _broad_cache(path, n: int = 600):
    from efa_tui.store.cache import Cache

    cache = Cache(path)
    cache.upsert_offerings({
        "id": i + 1, "title": f"{['Digitaler', 'Online'][i % 2]} {SERVICES[i % 5]}antrag {['Nord', 'Süd'][i % 2]} {i + 1}",
        "summary": "", "description": "", "category": "Bauen & Wohnen", "leika_key": str(99000000000000 + i),
        "ozg_id": f"G-{i}", "bundeslaender": [], "maturity": 1, "provider": {"id": 7, "name": "AKDB"},
        "fees": {"annual_fee": f"{1000 + i}.00", "one_time_fee": "0.00", "distribution_key": "fixed", "unit_price": None,
                 "unit_label": None, "vat_rate": "19.00"},
        "contract_terms": "", "minimum_term_months": 12, "notice_period_months": 3, "contact": {}, "keywords": [],
        "status": "published", "version": 1, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "published_at": "2026-01-01T00:00:00Z"} for i in range(n))
    return cache


def test_a_broad_query_answers_its_rows_first_and_counts_after(tmp_path, monkeypatch):
    """search(exact=False) of a broad query: the same rows as the exact search, an estimate for
    the total (marked), without counting the matches; count() then says it exactly, and from then
    on the search is exact again."""
    from efa_tui.store.cache import catalog_search

    monkeypatch.setattr(catalog_search, "_FEW", 50)  # 600 offerings: every query past 50 matches is broad
    cache = _broad_cache(tmp_path / "c.sqlite3")
    exact = cache.search("antrag n", limit=40)
    assert exact.exact and exact.total == 300
    cache._memo.clear()
    cache._orders.clear()
    counted = []
    original = cache._count

    def spy(*args, **kwargs):
        counted.append(args)
        return original(*args, **kwargs)

    cache._count = spy
    first = cache.search("antrag n", limit=40, exact=False)
    assert not first.exact and not counted, "the rows came with a count"
    assert [r.id for r in first.rows] == [r.id for r in exact.rows]
    assert 100 < first.total <= 600  # an estimate: about half of them match
    assert cache.count("antrag n") == 300 and counted
    again = cache.search("antrag n", limit=40, exact=False)
    assert again.exact and again.total == 300
    # A query that is not broad is exact at once (all its matches are read anyway).
    narrow = cache.search("antrag nord 59", limit=40, exact=False)
    assert narrow.exact and narrow.total == len(narrow.rows)
    cache.close()


async def test_the_catalog_shows_a_broad_query_at_once_and_its_count_when_typing_pauses(tmp_path, monkeypatch):
    """In the app: typing a broad query repaints its rows with "etwa N von M", in one cache read;
    when the typing pauses the exact count replaces it, and the table's length follows."""
    from app_support import screen_text

    from efa_tui.app import EfaApp
    from efa_tui.config import Config, Profile, _named
    from efa_tui.session import Session
    from efa_tui.store.cache import catalog_search

    monkeypatch.setattr(catalog_search, "_FEW", 50)
    _broad_cache(tmp_path / "cache.sqlite3").close()
    profile = _named(Profile(server_url="http://127.0.0.1:9/api/v1", token_source="demo"), "test")
    session = Session.open(Config(), profile, cache_path=tmp_path / "cache.sqlite3", local_path=tmp_path / "local.sqlite3")
    app = EfaApp(session, language="de", theme="textual-dark", start_network=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(VirtualTable)
        assert table.total == 600
        await pilot.press("slash")
        await settle(pilot)
        with counted_reads(app.session.cache) as reads:
            for ch in "antrag ":
                await pilot.press("space" if ch == " " else ch)
            await settle(pilot)
            reads.clear()
            await pilot.press("n")  # the rows at once, with an estimate, in one read
            await app.workers.wait_for_complete()
            await pilot.pause()
            kinds = [work.__qualname__.split(".")[1] for work in reads]
            assert kinds[:1] == ["search"] and "search" not in kinds[1:], kinds  # one read for the rows
            assert kinds[1:] in ([], ["count"]), kinds  # and the exact count, once the timer ran
            assert not app.screen._source.exact
            if not kinds[1:]:
                assert "etwa" in screen_text(app)
            for _ in range(100):  # the count comes once the typing pauses (a timer)
                await pilot.pause(0.05)
                await settle(pilot)
                if table.total == 300:
                    break
        assert table.total == 300 and "300 von 600 Angeboten" in screen_text(app) and "etwa" not in screen_text(app)
