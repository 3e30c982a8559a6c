"""A keystroke's search (``search(exact=False)``) of a broad query whose matches bunch up in sort
order: the rows come from one scan of the sort index against the FTS candidates, without
counting the matches (the count comes after, when the typing pauses); a query with further
words is tested against them once, and answers exactly when few match."""

from __future__ import annotations

import pytest

from efa_tui.store.cache import Cache, Filters, catalog_search
from efa_tui.store.cache.catalog_search import _implies, _Query


def _offering(i: int, title: str, category: str) -> dict:
    return {
        "id": i + 1, "title": title, "summary": "", "description": "", "category": category,
        "leika_key": str(99000000000000 + i), "ozg_id": f"R-{i}", "bundeslaender": [], "maturity": 1,
        "provider": {"id": 7, "name": "Dataport"},
        "fees": {"annual_fee": f"{1000 + i}.00", "one_time_fee": "0.00", "distribution_key": "fixed", "unit_price": None,
                 "unit_label": None, "vat_rate": "19.00"},
        "contract_terms": "", "minimum_term_months": 12, "notice_period_months": 3, "contact": {}, "keywords": [],
        "status": "published" if i % 7 else "draft", "version": 1, "created_at": "2026-01-01T00:00:00Z",
        "updated_at": f"2026-01-{1 + i % 28:02d}T00:00:00Z", "published_at": "2026-01-01T00:00:00Z"}


@pytest.fixture
def bunched(tmp_path, monkeypatch):
    """600 offerings: in title order 300 about building first, then 300 about Kita places (every
    match of "kita" lies behind the first 300 rows, beyond a short walk)."""
    monkeypatch.setattr(catalog_search, "_FEW", 50)
    monkeypatch.setattr(catalog_search, "_BLIND_ROWS", 100)  # a walk of 100 rows; windows up to 25
    cache = Cache(tmp_path / "c.sqlite3")
    cache.upsert_offerings(
        [_offering(i, f"Antrag Baugenehmigung {['Nord', 'Süd'][i % 2]} {i}", "Bauen & Wohnen") for i in range(300)]
        + [_offering(i, f"Zulassung Kita-Platz {['Nord', 'Süd'][i % 2]} {i}", "Familie & Kind") for i in range(300, 600)])
    yield cache
    cache.close()


def _spy(cache: Cache, name: str) -> list:
    calls: list = []
    original = getattr(cache, name)

    def spy(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    setattr(cache, name, spy)
    return calls


@pytest.mark.parametrize("query", ["kita", "ki", "platz"])
def test_a_bunched_broad_query_answers_its_rows_first_and_counts_after(bunched, query):
    exact = bunched.search(query, limit=20)
    assert exact.exact and exact.total == 257  # the published ones among 300
    bunched._memo.clear()
    bunched._orders.clear()
    counted = _spy(bunched, "_count")
    first = bunched.search(query, limit=20, exact=False)
    assert not first.exact and not counted, "the rows came with a count"
    assert [r.id for r in first.rows] == [r.id for r in exact.rows]
    assert 50 < first.total <= 600  # an estimate
    deeper = bunched.search(query, offset=20, limit=20, exact=False)
    assert [r.id for r in deeper.rows] == [r.id for r in bunched.search(query, offset=20, limit=20).rows]
    assert bunched.count(query) == 257 and counted
    again = bunched.search(query, limit=20, exact=False)
    assert again.exact and again.total == 257


def test_a_broad_word_with_a_further_word_that_nothing_has_is_exact_at_once(bunched):
    """ "kita a": 300 candidates of "kita" (and as many words starting with a, so the planner
    drives by "kita"), none with a word starting with a. Testing them is what counting would
    do; the answer is exact and empty, from that one pass."""
    bunched._memo.clear()
    counted = _spy(bunched, "_count")
    page = bunched.search("kita a", limit=20, exact=False)
    assert page.exact and page.total == 0 and page.rows == [] and not counted
    page = bunched.search("kita nord 31", limit=20, exact=False)  # 311, 331, … 391, but not the drafts
    assert page.exact and not counted
    assert sorted(r.title for r in page.rows) == sorted(
        f"Zulassung Kita-Platz Nord {i}" for i in range(310, 400) if "31" in str(i) and i % 2 == 0 and i % 7)


def test_typing_on_does_not_walk_again_where_a_broader_query_gave_up(bunched):
    walked = _spy(bunched, "_walk_blind")
    for typed in ("k", "ki", "kit", "kita"):
        page = bunched.search(typed, limit=20, exact=False)
        assert [r.id for r in page.rows] == [r.id for r in bunched.search(typed, limit=20).rows]
    # "k" walked and gave up ("kit" is a substring query, not a word prefix: not narrower than "ki")
    assert len(walked) == 2, walked


@pytest.mark.parametrize("sort", ["title", "annual_fee", "-annual_fee", "updated"])
@pytest.mark.parametrize("filters", [Filters(), Filters(status=None), Filters(category="Familie & Kind")])
@pytest.mark.parametrize(("few", "in_words"), [(50, 6), (5000, 0), (5000, 1000)])
def test_rows_first_are_the_exact_rows_while_typing(bunched, monkeypatch, sort, filters, few, in_words):
    """Whatever way a keystroke's search takes, its rows are the exact search's, and a total it
    calls exact is. ``in_words``: prefixes tested row by row (0) or looked up in the prefix
    index (1000) among the few."""
    monkeypatch.setattr(catalog_search, "_FEW", few)
    monkeypatch.setattr(catalog_search, "_IN_WORDS", in_words)
    for typed in ("k", "ki", "kit", "kita", "kita ", "kita n", "kita no", "kita nor", "kita nord", "kita nord 3",
                  "a", "an", "antrag", "antrag s", "antrag sü", "platz", "platz s", "platz s -", "platz n 3", "z", "zu x",
                  "-", "nord 5"):
        for offset in (0, 20, 40):
            page = bunched.search(typed, filters=filters, sort=sort, offset=offset, limit=20, exact=False)
            truth = bunched.search(typed, filters=filters, sort=sort, offset=offset, limit=20)
            assert [r.id for r in page.rows] == [r.id for r in truth.rows], (typed, offset)
            if page.exact:
                assert page.total == truth.total, (typed, offset)
        bunched._memo.clear()  # the next query meets an empty memo too, not only the counted one
        bunched._orders.clear()


@pytest.mark.parametrize(("narrow", "broad", "implied"), [
    ("bauan", "baua", True), ("antrag no", "antrag n", True), ("ki", "k", True), ("kita nord", "nord", True),
    ("antrag nor", "antrag no", False),  # "nor" is found inside words, "no" only at their start
    ("kit", "ki", False), ("baua", "bauan", False), ("kita", "kita x", False), ("a-b", "-", True), ("ab", "-", False),
])
def test_which_query_narrows_which(narrow, broad, implied):
    assert _implies(_Query.parse(narrow), _Query.parse(broad)) is implied


def test_the_planner_counts_the_long_words_once_while_a_prefix_grows(bunched):
    """ "kita n", "kita no", …: the trigram side's count is probed once and reused as far as it
    went; each plan is the one a fresh probe makes."""
    typed = ("kita n", "kita no", "kita s", "kita sue", "kita z", "antrag n", "antrag no")
    with bunched._connection() as conn:
        gen = bunched._gen(conn)
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        try:
            plans = [bunched._plan(conn, gen, _Query.parse(t)) for t in typed]
        finally:
            conn.set_trace_callback(None)
        probes = [s for s in statements if "offering_trigrams MATCH" in s]
        assert len(probes) == 2, probes  # one for "kita", one for "antrag"
        for t, plan in zip(typed, plans, strict=True):
            bunched._memo.clear()
            assert bunched._plan(conn, gen, _Query.parse(t)) == plan, t
