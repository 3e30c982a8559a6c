"""The local cache (efa_tui/store/cache/): German catalog search, facets, paging, records,
and a file that survives damage.

The catalog comes from the reference server (the seeded demo marketplace over HTTP), so the
cache is tested on exactly what a sync would store. Search results are checked against a
plain-Python reading of the rules (``expected_ids``), not against hand-picked lists alone.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import unicodedata
from decimal import Decimal
from pathlib import Path

import platformdirs
import pytest
from fastapi.testclient import TestClient
from support import auth

from efa_tui.server.app import Settings, create_app
from efa_tui.store import cache as cache_module
from efa_tui.store.cache import Cache, Filters, OfferingRow, SearchPage, catalog_search, connection

HOSTILE = ['"', '""', "*", "NEAR(", "NEAR(bau antrag)", "-", "-bau", "[red]", "[red]x[/red]", "bau OR", "OR", "AND", "NOT",
           "title:bau", "bau*", "(", ")", "'", "\\", "%", "_", "a%", "^bau", "{title}: x", "bau\x1b[31m", "\x00", "ü\"ö"]


# --- the demo catalog, fetched from the reference server ------------------------------------------

@pytest.fixture(scope="module")
def demo(demo_template: Path, tmp_path_factory) -> dict[str, list[dict]]:
    """What a sync would store: every offering (support sees drafts and retired ones too), the
    organisations, orders with their events, and invoices."""
    path = tmp_path_factory.mktemp("cache-demo") / "marketplace.sqlite3"
    shutil.copy(demo_template, path)
    app = create_app(Settings(database_url=f"sqlite:///{path}", allow_demo_tokens=True))
    out: dict[str, list[dict]] = {}
    with TestClient(app, base_url="http://127.0.0.1/api/v1") as client:
        for kind, who in (("offerings", "support"), ("organizations", "support"), ("orders", "support"),
                          ("invoices", "operator")):
            items, cursor = [], None
            while True:
                r = client.get(f"/{kind}", headers=auth(who), params={"limit": 1000, **({"cursor": cursor} if cursor else {})})
                assert r.status_code == 200, r.text
                items += r.json()["items"]
                cursor = r.json()["next_cursor"]
                if not cursor:
                    break
            out[kind] = items
        events = []
        for order in out["orders"][:10]:
            r = client.get(f"/orders/{order['id']}/events", headers=auth("support"))
            assert r.status_code == 200, r.text
            events += [{**e, "order_id": order["id"]} for e in r.json()["items"]]
        out["order_events"] = events
    app.state.engine.dispose()
    assert len(out["offerings"]) >= 80 and {o["status"] for o in out["offerings"]} >= {"published", "draft", "retired"}
    return out


@pytest.fixture
def cache(demo) -> Cache:
    c = Cache(":memory:")
    assert c.upsert_offerings(demo["offerings"]) == len(demo["offerings"])
    yield c
    c.close()


# --- the rules, read plainly (the oracle) -----------------------------------------------------------

WORD = re.compile(r"[^\W_]+")


def _german(text: str) -> str:
    """Case, NFC, and the German spellings: ä/ö/ü as ae/oe/ue, ß as ss."""
    text = unicodedata.normalize("NFC", text).lower()
    for letter, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(letter, spelled)
    return text


def _text(item: dict) -> str:
    parts = [item["title"], item.get("summary"), item["provider"]["name"], item["category"], *item.get("keywords", [])]
    return _german("\n".join(p for p in parts if p))


def _matches(item: dict, query: str) -> bool:
    text = _text(item)
    words = WORD.findall(text)
    # Control characters in what the user typed separate words, like spaces.
    for term in _german(re.sub(r"[\x00-\x1f\x7f-\x9f]", " ", query)).split():
        if len(term) >= 3:
            if term not in text:  # substring: compounds match as typed
                return False
        elif tokens := WORD.findall(term):  # 1–2 characters: the start of a word
            if not all(any(w.startswith(t) for w in words) for t in tokens):
                return False
        elif term not in text:
            return False
    return True


def _passes(item: dict, f: Filters) -> bool:
    laender = item.get("bundeslaender") or []
    if f.category is not None and item["category"] != f.category:
        return False
    if f.provider_id is not None and item["provider"]["id"] != f.provider_id:
        return False
    if f.bundesland == "bundesweit" and laender:
        return False
    if f.bundesland not in (None, "bundesweit") and laender and f.bundesland not in laender:
        return False
    if f.status is not None and item["status"] != f.status:
        return False
    if f.inhouse_orderable is not None and (item["status"] == "published") != f.inhouse_orderable:
        return False
    return True


ANY_PUBLISHED = Filters()


def expected_ids(items: list[dict], query: str, f: Filters = ANY_PUBLISHED) -> set[int]:
    return {i["id"] for i in items if _matches(i, query) and _passes(i, f)}


def all_rows(c: Cache, query: str = "", f: Filters = ANY_PUBLISHED, sort: str = "title") -> list[OfferingRow]:
    page = c.search(query, filters=f, sort=sort, limit=100_000)
    assert len(page.rows) == page.total
    return page.rows


def titles(c: Cache, query: str, f: Filters = ANY_PUBLISHED) -> list[str]:
    return [r.title for r in all_rows(c, query, f)]


# --- German search --------------------------------------------------------------------------------

def test_bau_finds_compounds_wherever_bau_occurs(cache):
    found = titles(cache, "bau")
    assert "Digitaler Bauantrag" in found
    assert "Städtebauförderung – Antragstellung" in found  # "bau" inside a compound
    assert "Baumfällgenehmigung" in found


def test_antrag_finds_fuehrerscheinantrag(cache):
    found = titles(cache, "antrag")
    assert any(t.startswith("Führerscheinantrag") for t in found)
    assert "Digitaler Bauantrag" in found


def test_bauantrag_finds_every_bauantrag_offering(cache, demo):
    found = titles(cache, "bauantrag")
    assert len(found) >= 3
    assert {"Digitaler Bauantrag", "Bauantrag Online (vereinfachtes Verfahren)", "Bauantrag für Werbeanlagen"} <= set(found)
    assert {r.id for r in all_rows(cache, "bauantrag")} == expected_ids(demo["offerings"], "bauantrag")


def test_umlauts_and_case(cache):
    assert any(t.startswith("Führerscheinantrag") for t in titles(cache, "führer"))
    assert titles(cache, "FÜHRER") == titles(cache, "führer")
    decomposed = unicodedata.normalize("NFD", "führer")  # what some terminals send
    assert titles(cache, decomposed) == titles(cache, "führer")
    assert titles(cache, "BAUANTRAG") == titles(cache, "bauantrag")


GERMAN = ["Straßenreinigung", "Strasse A", "Führerschein Klasse B", "Fuehrerschein Umtausch", "Übergangsgeld",
          "Ärztliche Bescheinigung", "Aerztekammer Meldung", "Müllabfuhr"]


def _offering(i: int, title: str) -> dict:
    return {"id": 9000 + i, "title": title, "summary": "", "category": "Querschnittsleistungen", "status": "published",
            "provider": {"id": 1, "name": "Kommunale Dienste"}, "fees": {"annual_fee": "10.00"},
            "updated_at": "2026-01-01T00:00:00Z"}


@pytest.fixture
def german() -> Cache:
    c = Cache(":memory:")
    c.upsert_offerings(_offering(i, t) for i, t in enumerate(GERMAN))
    yield c
    c.close()


@pytest.mark.parametrize(("query", "expected"), [
    ("fuehrerschein", {"Führerschein Klasse B", "Fuehrerschein Umtausch"}),
    ("Führerschein", {"Führerschein Klasse B", "Fuehrerschein Umtausch"}),
    ("FÜHRER", {"Führerschein Klasse B", "Fuehrerschein Umtausch"}),
    ("strasse", {"Straßenreinigung", "Strasse A"}),
    ("Straße", {"Straßenreinigung", "Strasse A"}),
    ("STRASSE", {"Straßenreinigung", "Strasse A"}),
    ("straßenr", {"Straßenreinigung"}),
    ("uebergang", {"Übergangsgeld"}),
    ("ärzt", {"Ärztliche Bescheinigung", "Aerztekammer Meldung"}),
    ("aerzt", {"Ärztliche Bescheinigung", "Aerztekammer Meldung"}),
    ("muell", {"Müllabfuhr"}),
    ("ü", {"Übergangsgeld"}),  # a word start, folded: "ue"
    ("ue", {"Übergangsgeld"}),
    ("ma", set()),  # "Müll" starts with "mue", not "ma"
])
def test_german_spellings_fold_both_ways(german, query, expected):
    assert set(titles(german, query)) == expected
    assert german.count(query) == len(expected)
    assert sum(n for _, n in german.facets(query)["category"]) == len(expected)


def test_a_cache_folded_by_the_old_rule_is_reindexed_when_opened(tmp_path, demo):
    """An upgrade keeps the cache: its search text is recomputed from the stored documents, no sync."""
    path = tmp_path / "c.sqlite3"
    c = Cache(path)
    c.upsert_offerings(demo["offerings"])
    c.close()
    conn = sqlite3.connect(path)  # as the last release left it: lower() only, no folding version
    rows = conn.execute("SELECT id, doc FROM offering_docs").fetchall()
    old = []
    for oid, doc in rows:
        item = json.loads(doc)
        parts = [item["title"], item.get("summary"), item["provider"]["name"], item["category"], *item.get("keywords", [])]
        text = unicodedata.normalize("NFC", "\n".join(p for p in parts if p)).lower()
        old.append((text, " " + " ".join(WORD.findall(text)), oid))
    conn.executemany("UPDATE offering_text SET search_text = ?, words = ? WHERE id = ?", old)
    conn.execute("INSERT INTO offering_trigrams (offering_trigrams) VALUES ('rebuild')")
    conn.execute("INSERT INTO offering_words (offering_words) VALUES ('rebuild')")
    conn.execute("DELETE FROM meta WHERE key = 'search_fold'")
    conn.commit()
    conn.close()
    again = Cache(path)
    try:
        assert again.offering_count() == len(demo["offerings"])  # kept, not emptied for a resync
        for query in ("fuehrerschein", "eheschliessung", "führer", "b", "bauantrag"):
            assert {r.id for r in all_rows(again, query)} == expected_ids(demo["offerings"], query), query
        assert titles(again, "fuehrerschein")
    finally:
        again.close()


def test_every_word_must_match(cache, demo):
    both = titles(cache, "bauantrag werbeanlagen")
    assert both == ["Bauantrag für Werbeanlagen"]
    assert titles(cache, "bauantrag xyzzy") == []
    # Words may match in different fields: title and provider name here.
    dataport = {o["id"] for o in demo["offerings"] if o["provider"]["name"].startswith("Dataport")}
    hits = {r.id for r in all_rows(cache, "dataport antrag")}
    assert hits and hits <= dataport


def test_one_and_two_letter_queries_match_word_starts(cache, demo):
    for q in ("b", "B", "w", "ba", "fü", "ki", "e", "a b", "z"):
        assert {r.id for r in all_rows(cache, q)} == expected_ids(demo["offerings"], q), q
    # "b" matches the start of a word, not any b: "Abfallbehälter" counts through "behälter".
    assert "Digitaler Bauantrag" in titles(cache, "b")


@pytest.mark.parametrize("query", ["bau", "antrag", "führer", "bauantrag online", "anstalt", "wohn geld", "online-antrag",
                                   "ozg", "bund", "bund id", "e-akte", "(bbs)", "kfz", "a", "b a", "99", "-", "&"])
def test_search_equals_the_rules(cache, demo, query):
    for f in (Filters(), Filters(status=None), Filters(category="Bauen & Wohnen"), Filters(bundesland="BY", status=None)):
        assert {r.id for r in all_rows(cache, query, f)} == expected_ids(demo["offerings"], query, f), (query, f)
        assert cache.count(query, filters=f) == len(expected_ids(demo["offerings"], query, f))


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_input_is_literal_text(cache, demo, query):
    page = cache.search(query)
    assert isinstance(page, SearchPage)
    assert {r.id for r in all_rows(cache, query)} == expected_ids(demo["offerings"], query)
    cache.count(query)
    cache.facets(query)


def test_fts_operators_are_not_operators(cache):
    assert titles(cache, "bauantrag OR wohngeld") == []  # "or" is a word (and occurs nowhere)
    assert titles(cache, "bau*") == []
    assert titles(cache, "NEAR(bauantrag") == []


def test_empty_query_lists_the_catalog(cache, demo):
    assert cache.search("").total == len([o for o in demo["offerings"] if o["status"] == "published"])
    assert cache.search("   ", filters=Filters(status=None)).total == len(demo["offerings"])
    assert cache.offering_count() == len(demo["offerings"])


# --- filters, facets, sorting, paging --------------------------------------------------------------

def test_filters(cache, demo):
    items = demo["offerings"]
    by = all_rows(cache, "", Filters(bundesland="BY"))
    assert {r.id for r in by} == expected_ids(items, "", Filters(bundesland="BY"))
    nationwide = {o["id"] for o in items if not o["bundeslaender"] and o["status"] == "published"}
    assert nationwide and nationwide < {r.id for r in by}, "nationwide offerings count for every Land"
    assert {r.id for r in all_rows(cache, "", Filters(bundesland="bundesweit"))} == nationwide
    assert {r.id for r in all_rows(cache, "", Filters(bundesland="by"))} == {r.id for r in by}
    drafts = all_rows(cache, "", Filters(status="draft"))
    assert drafts and {r.status for r in drafts} == {"draft"}
    assert {r.id for r in all_rows(cache, "", Filters(status=None, inhouse_orderable=False))} == \
        {o["id"] for o in items if o["status"] != "published"}
    provider = items[0]["provider"]
    mine = all_rows(cache, "", Filters(provider_id=provider["id"]))
    assert mine and {r.provider_name for r in mine} == {provider["name"]}
    assert cache.provider_id(provider["name"]) == provider["id"]
    assert cache.search("", filters=Filters(category="gibt es nicht")).total == 0


def _manual_facets(items: list[dict], query: str, f: Filters) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {k: {} for k in ("category", "provider", "bundesland", "status", "inhouse_orderable")}
    leave_out = {"category": {"category": None}, "provider": {"provider_id": None}, "bundesland": {"bundesland": None},
                 "status": {"status": None}, "inhouse_orderable": {"inhouse_orderable": None}}
    for facet, counts in out.items():
        others = Filters(**{**f.__dict__, **leave_out[facet]})
        for item in items:
            if not (_matches(item, query) and _passes(item, others)):
                continue
            values = {"category": [item["category"]], "provider": [item["provider"]["name"]],
                      "bundesland": item["bundeslaender"] or ["bundesweit"], "status": [item["status"]],
                      "inhouse_orderable": ["ja" if item["status"] == "published" else "nein"]}[facet]
            for v in values:
                counts[v] = counts.get(v, 0) + 1
    nationwide = out["bundesland"].get("bundesweit", 0)  # they count in every Land too
    out["bundesland"] = {land: n + (nationwide if land != "bundesweit" else 0) for land, n in out["bundesland"].items()}
    return out


@pytest.mark.parametrize("query,f", [
    ("", Filters()), ("", Filters(status=None)), ("antrag", Filters()), ("bau", Filters(category="Bauen & Wohnen")),
    ("b", Filters(bundesland="BY", status=None)), ("online", Filters(status="draft")), ("xyzzy", Filters()),
    ("", Filters(inhouse_orderable=True, status=None)),
])
def test_facets_equal_a_manual_count(cache, demo, query, f):
    facets = cache.facets(query, filters=f)
    manual = _manual_facets(demo["offerings"], query, f)
    assert set(facets) == set(manual)
    for name, pairs in facets.items():
        assert dict(pairs) == manual[name], name
        assert pairs == sorted(pairs, key=lambda kv: (-kv[1], kv[0])), "by count, then value"
    # Picking a facet value yields as many offerings as it promised — a Land's count includes the
    # nationwide offerings, which its filter yields too (the walk: "Bayern (3)" gave 75).
    for facet, field in (("category", "category"), ("bundesland", "bundesland")):
        for value, n in facets[facet]:
            assert cache.count(query, filters=Filters(**{**f.__dict__, field: value})) == n, (facet, value)


def test_facet_of_a_filter_ignores_that_filter(cache):
    f = Filters(category="Bauen & Wohnen")
    facets = cache.facets("", filters=f)
    assert len(facets["category"]) > 5, "the other categories stay visible with their counts"
    assert sum(n for _, n in facets["provider"]) == cache.count("", filters=f)


def _sort_key(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold().replace("ä", "a").replace("ö", "o").replace("ü", "u").strip()


@pytest.mark.parametrize("sort", ["title", "provider", "annual_fee", "-annual_fee", "updated"])
def test_sorting_is_total_and_stable(cache, sort):
    rows = all_rows(cache, "", Filters(status=None), sort=sort)
    keys = {
        "title": lambda r: (_sort_key(r.title), r.id),
        "provider": lambda r: (_sort_key(r.provider_name), _sort_key(r.title), r.id),
        "annual_fee": lambda r: (r.annual_fee, r.id),
        "-annual_fee": lambda r: (-r.annual_fee, -r.id),
        "updated": lambda r: (tuple(-ord(ch) for ch in r.updated_at), -r.id),
    }
    assert rows == sorted(rows, key=keys[sort])
    assert all(isinstance(r.annual_fee, Decimal) and isinstance(r.one_time_fee, Decimal) for r in rows)
    with pytest.raises(ValueError):
        cache.search("", sort="nonsense")


@pytest.mark.parametrize("query,sort", [("", "title"), ("", "provider"), ("an", "title"), ("antrag", "-annual_fee"),
                                        ("e", "updated"), ("-", "title")])
def test_paging_windows_are_disjoint_and_cover_everything(cache, query, sort):
    f = Filters(status=None)
    everything = [r.id for r in all_rows(cache, query, f, sort)]
    seen: list[int] = []
    for offset in range(0, len(everything) + 10, 7):
        page = cache.search(query, filters=f, sort=sort, offset=offset, limit=7)
        assert page.total == len(everything) and page.offset == offset
        assert [r.id for r in page.rows] == everything[offset:offset + 7]
        seen += [r.id for r in page.rows]
    assert seen == everything and len(set(seen)) == len(seen)
    assert cache.search(query, filters=f, sort=sort, offset=len(everything) + 5).rows == []
    assert cache.search(query, filters=f, sort=sort, limit=0).rows == []



@pytest.mark.parametrize("words_first", [False, True])
@pytest.mark.parametrize("query", ["antrag b", "online a", "bau d", "e-akte e", "antrag xq", "b antrag", "wohn g z"])
def test_either_index_may_drive_a_mixed_query(cache, demo, monkeypatch, query, words_first):
    """Long words with short ones: the planner picks the prefix or the trigram index; both
    readings give exactly the rule's matches, counts and facets."""
    monkeypatch.setattr(Cache, "_plan", lambda self, conn, gen, q: q._replace(words_first=words_first and bool(q.long)))
    for f in (Filters(), Filters(category="Bauen & Wohnen"), Filters(bundesland="BY", status=None)):
        assert {r.id for r in all_rows(cache, query, f)} == expected_ids(demo["offerings"], query, f), (query, f)
        assert cache.count(query, filters=f) == len(expected_ids(demo["offerings"], query, f))
    facets = cache.facets(query)
    assert sum(n for _, n in facets["category"]) == len(expected_ids(demo["offerings"], query, Filters()))


def test_the_planner_drives_by_the_smaller_index(cache):
    from efa_tui.store.cache.catalog_search import _Query

    with cache._connection() as conn:
        gen = cache._gen(conn)
        broad, narrow = _Query.parse("an e"), _Query.parse("xyzzyq e")
        assert not cache._plan(conn, gen, narrow).words_first  # the trigram side finds nothing
        assert cache._plan(conn, gen, _Query.parse("antrag xq")).words_first  # no word starts with "xq"
        assert cache._plan(conn, gen, broad) == broad  # no long word: nothing to plan


@pytest.mark.parametrize("sort", ["title", "annual_fee", "-annual_fee", "updated"])
@pytest.mark.parametrize("query", ["an", "e", "bau", "antrag b", "online"])
def test_shallow_windows_by_scanning_the_sort_index(cache, monkeypatch, query, sort):
    """When the walk gives up, shallow windows come from the sort index scanned against the FTS
    candidates; they must equal the windows of the full sorted list."""
    f = Filters(status=None)
    everything = [r.id for r in all_rows(cache, query, f, sort)]
    assert everything
    scanned = []
    original = Cache._scan_window

    def spy(*args, **kwargs):
        found = original(*args, **kwargs)
        scanned.append(found)
        return found

    monkeypatch.setattr(catalog_search, "_FEW", 0)  # no query counts as few
    monkeypatch.setattr(catalog_search, "_WALK_ROWS", -1)  # the walk always gives up
    monkeypatch.setattr(catalog_search, "_SCAN_WINDOW", 20)
    monkeypatch.setattr(Cache, "_scan_window", staticmethod(spy))
    for filters in (f, Filters(category="Bauen & Wohnen", status=None)):
        expected = [r.id for r in all_rows(cache, query, filters, sort)] if filters != f else everything
        cache._memo.clear()
        cache._orders.clear()
        for offset in range(0, len(expected) + 7, 7):
            page = cache.search(query, filters=filters, sort=sort, offset=offset, limit=7)
            assert [r.id for r in page.rows] == expected[offset:offset + 7], (query, sort, offset)
    assert any(found for found in scanned)  # the scan did run (and the deeper windows sorted everything)


# --- writes -------------------------------------------------------------------------------------------

def test_tombstones_and_updates(cache, demo):
    items = demo["offerings"]
    digital = next(o for o in items if o["title"] == "Digitaler Bauantrag")
    before = cache.count("bauantrag")
    assert cache.get_offering(digital["id"]) == digital
    n = cache.upsert_offerings([{"id": digital["id"], "tombstone": True, "status": "deleted", "updated_at": "2030-01-01T00:00:00Z"}])
    assert n == 1
    assert cache.get_offering(digital["id"]) is None
    assert cache.count("bauantrag") == before - 1
    assert digital["id"] not in {r.id for r in all_rows(cache, "", Filters(status=None))}
    assert sum(n for _, n in cache.facets("", filters=Filters(status=None))["status"]) == len(items) - 1
    # Back, renamed: the old words are gone from the index, the new ones found.
    renamed = {**digital, "title": "Neubau-Genehmigung Digital", "summary": "Genehmigung für Neubauten", "keywords": ["Neubau"],
               "updated_at": "2030-01-02T00:00:00.000000Z"}
    cache.upsert_offerings([renamed])
    assert "Neubau-Genehmigung Digital" in titles(cache, "neubau")
    assert "Neubau-Genehmigung Digital" in titles(cache, "bau")
    assert cache.count("bauantrag") == before - 1
    assert cache.get_offering(digital["id"])["title"] == "Neubau-Genehmigung Digital"
    # Status change moves it between facet values.
    cache.upsert_offerings([{**renamed, "status": "retired"}])
    assert "Neubau-Genehmigung Digital" not in titles(cache, "neubau")
    assert "Neubau-Genehmigung Digital" in titles(cache, "neubau", Filters(status="retired"))
    assert cache.remove_offerings([digital["id"], 10**9]) == 1
    assert cache.count("neubau", filters=Filters(status=None)) == 0
    # Unchanged items again: nothing changes.
    cache.upsert_offerings(items)
    assert cache.count("", filters=Filters(status=None)) == len(items)
    assert {r.id for r in all_rows(cache, "bauantrag")} == expected_ids(items, "bauantrag")


def test_untrusted_text_is_stored_verbatim(cache, demo):
    evil = {**demo["offerings"][0], "id": 999_999, "title": "[red]x[/red] \x1b[31mrot", "summary": None, "keywords": None}
    cache.upsert_offerings([evil])
    assert cache.get_offering(999_999)["title"] == evil["title"]
    assert [r.title for r in all_rows(cache, "[red]x[/red]")] == [evil["title"]]
    # The escape character is no text: the index sees a space there.
    assert [r.title for r in all_rows(cache, "[31mrot")] == [evil["title"]]
    assert evil["title"] in [r.title for r in all_rows(cache, "rot")]


def test_records(demo):
    c = Cache(":memory:")
    for kind in ("organizations", "orders", "invoices", "order_events"):
        assert c.upsert_records(kind, demo[kind]) == len(demo[kind])
        first = demo[kind][0]
        assert c.get_record(kind, first["id"]) == first
        assert len(c.list_records(kind, limit=100_000)) == len(demo[kind])
    orders = demo["orders"]
    state = orders[0]["state"]
    listed = c.list_records("orders", where={"state": state})
    assert {o["id"] for o in listed} == {o["id"] for o in orders if o["state"] == state}
    assert [o["id"] for o in listed] == sorted((o["id"] for o in listed), reverse=True)
    customer = orders[0]["customer"]["id"]
    mine = c.list_records("orders", where={"customer_id": customer, "state": [state, "ordered"]}, order_by="updated_at")
    assert {o["id"] for o in mine} == {o["id"] for o in orders if o["customer"]["id"] == customer and o["state"] in (state, "ordered")}
    assert [o["updated_at"] for o in mine] == sorted(o["updated_at"] for o in mine)
    assert len(c.list_records("orders", limit=2, offset=1)) == min(2, len(orders) - 1)
    events = c.list_records("order_events", where={"order_id": orders[0]["id"]}, order_by="id")
    assert events and all(e["order_id"] == orders[0]["id"] for e in events)
    invoice = demo["invoices"][0]
    assert c.invoice_by_number(invoice["number"]) == invoice
    assert c.invoice_by_number("1999-9999") is None
    providers = c.list_records("organizations", where={"kind": "provider"})
    assert providers and {p["kind"] for p in providers} == {"provider"}
    c.upsert_records("orders", [{"id": orders[0]["id"], "tombstone": True}])
    assert c.get_record("orders", orders[0]["id"]) is None
    with pytest.raises(ValueError):
        c.upsert_records("users", [])
    with pytest.raises(ValueError):
        c.list_records("orders", where={"doc": "x"})
    with pytest.raises(ValueError):
        c.list_records("orders", order_by="-doc; DROP TABLE orders")
    c.close()


def test_state(tmp_path):
    c = Cache(tmp_path / "c.sqlite3")
    assert c.get_state("sync:offerings") is None
    c.set_state("sync:offerings", {"since": "2026-01-01T00:00:00Z", "etag": 'W/"x"'})
    c.set_state("n", 3)
    c.close()
    c = Cache(tmp_path / "c.sqlite3")
    assert c.get_state("sync:offerings") == {"since": "2026-01-01T00:00:00Z", "etag": 'W/"x"'}
    assert c.get_state("n") == 3
    c.set_state("n", None)
    assert c.get_state("n") is None
    c.close()


# --- the file ---------------------------------------------------------------------------------------

def test_default_path_is_the_user_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(platformdirs, "user_cache_dir", lambda app: str(tmp_path / "xdg" / app))
    c = Cache()
    assert c.path == tmp_path / "xdg" / "efa-tui" / "cache.sqlite3" and c.path.exists()
    c.close()
    memory = Cache(":memory:")
    assert memory.path is None and memory.recovered_from is None
    memory.close()


def test_file_settings(tmp_path, demo):
    c = Cache(tmp_path / "c.sqlite3")
    c.upsert_offerings(demo["offerings"])
    conn = sqlite3.connect(tmp_path / "c.sqlite3")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == cache_module.SCHEMA_VERSION
    conn.close()
    with c._connection() as conn:
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    c.close()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "zeroed header", "empty wal garbage"])
def test_corrupt_file_is_moved_aside_and_rebuilt(tmp_path, demo, caplog, damage):
    path = tmp_path / "cache.sqlite3"
    c = Cache(path)
    c.upsert_offerings(demo["offerings"] * 1)
    c.upsert_records("orders", demo["orders"])
    c.set_state("sync:offerings", {"since": "2026-01-01"})
    c.close()
    size = path.stat().st_size
    if damage == "garbage":
        path.write_bytes(os.urandom(4096) + b"this is not a database" * 100)
    elif damage == "truncated":
        with open(path, "r+b") as fh:
            fh.truncate(size // 3)
    elif damage == "zeroed header":
        with open(path, "r+b") as fh:
            fh.write(b"\0" * 100)
    else:
        path.write_bytes(b"")
        Path(f"{path}-wal").write_bytes(os.urandom(10_000))
    caplog.set_level("WARNING", logger="efa_tui.store")
    c = Cache(path)
    if damage == "empty wal garbage":
        # An empty file is a valid empty database and a WAL with a bad header is ignored by
        # SQLite: nothing to recover, it just starts empty.
        assert c.recovered_from is None
    else:
        assert c.recovered_from is not None and c.recovered_from.exists()
        assert c.recovered_from.name.startswith("cache.sqlite3.corrupt-")
        assert any("moved it to" in r.getMessage() for r in caplog.records)
    assert c.path == path
    assert c.offering_count() == 0 and c.get_state("sync:offerings") is None  # a fresh start: the next sync loads all
    c.upsert_offerings(demo["offerings"])
    assert "Digitaler Bauantrag" in titles(c, "bauantrag")
    c.close()
    again = Cache(path)
    assert again.recovered_from is None and again.offering_count() == len(demo["offerings"])
    again.close()


def test_unreadable_directory_falls_back_to_memory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    c = Cache(blocker / "sub" / "cache.sqlite3")  # parent is a file: cannot be created
    assert c.path is None
    c.upsert_offerings([{"id": 1, "title": "Notbetrieb", "status": "published", "provider": {"id": 1, "name": "P"},
                         "category": "Umwelt", "fees": {"annual_fee": "1.00"}}])
    assert titles(c, "notbetrieb") == ["Notbetrieb"]
    c.close()


def _forget_page_caches(c: Cache) -> None:
    """As if the damage had happened before these connections read anything."""
    for conn in c._idle:
        conn.close()
    c._idle.clear()
    c._memo.clear()
    c._orders.clear()


def test_corruption_found_later_resets_the_cache(tmp_path, demo):
    path = tmp_path / "cache.sqlite3"
    c = Cache(path)
    c.upsert_offerings(demo["offerings"])
    c.set_state("sync:offerings", {"since": "x"})
    _damage_pages(c, path)
    assert c.search("bauantrag").total == 0  # reads recover: empty, no exception
    assert c.recovered_from is not None
    assert c.get_state("sync:offerings") is None
    c.upsert_offerings(demo["offerings"])
    assert c.search("bauantrag").total == len(expected_ids(demo["offerings"], "bauantrag"))
    c.close()


def _damage_pages(c: Cache, path) -> None:
    """Overwrite every page but the first behind the open connection (the file keeps its size,
    so mmap stays valid), and make the connection forget what it had read."""
    with c._connection() as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with open(path, "r+b") as fh:
        fh.seek(page_size)
        fh.write(b"\xff" * (path.stat().st_size - page_size))
    _forget_page_caches(c)


@pytest.mark.parametrize("size", ["bulk", "single"])
def test_a_write_that_meets_corruption_resets_and_says_so(tmp_path, demo, size):
    path = tmp_path / "cache.sqlite3"
    c = Cache(path)
    c.upsert_offerings(demo["offerings"])
    assert c.offering_count() == len(demo["offerings"])  # a read waits for the writer thread
    _damage_pages(c, path)
    if size == "bulk":
        page = [{**o, "id": 50_000 + i} for i, o in enumerate(demo["offerings"] * 2)]
        c.upsert_offerings(page)  # written behind: the failure comes with the next write
        with pytest.raises(cache_module.CacheReset):
            c.set_state("sync:offerings", {"since": "2030-01-01"})  # so sync never records what was lost
    else:
        with pytest.raises(cache_module.CacheReset):
            c.upsert_offerings(demo["offerings"][:5])
    assert c.recovered_from is not None and c.offering_count() == 0
    assert c.get_state("sync:offerings") is None
    c.upsert_offerings(demo["offerings"][:5])
    assert c.offering_count() == 5
    c.close()


def test_schema_version_change_rebuilds(tmp_path, demo):
    path = tmp_path / "cache.sqlite3"
    c = Cache(path)
    c.upsert_offerings(demo["offerings"])
    c.set_state("sync:offerings", {"since": "2026-01-01"})
    c.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.execute("CREATE TABLE leftover_from_another_version (x)")
    conn.commit()
    conn.close()
    c = Cache(path)
    assert c.recovered_from is None
    assert c.offering_count() == 0 and c.get_state("sync:offerings") is None
    with c._connection() as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "leftover_from_another_version" not in tables
    c.upsert_offerings(demo["offerings"])
    assert c.count("bauantrag") == len(expected_ids(demo["offerings"], "bauantrag"))
    c.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == cache_module.SCHEMA_VERSION
    conn.close()


# --- threads ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["file", "memory"])
def test_concurrent_reads_while_upserting(tmp_path, demo, where):
    c = Cache(tmp_path / "c.sqlite3" if where == "file" else ":memory:")
    items = demo["offerings"]
    c.upsert_offerings(items)
    published = len(expected_ids(items, ""))
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader(query: str) -> None:
        try:
            while not stop.is_set():
                page = c.search(query, limit=20)
                assert page.total >= len(expected_ids(items, query)), query
                assert len(page.rows) <= 20
                c.facets(query)
                assert c.get_offering(items[0]["id"]) is not None
        except BaseException as exc:  # noqa: B036 - reported to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(q,)) for q in ("", "bau", "b", "antrag online")]
    for t in threads:
        t.start()
    try:
        for round_ in range(15):
            # Two copies a round: 172 items, a bulk batch (written behind on a file cache).
            extra = [{**o, "id": 100_000 + round_ * 1000 + i, "title": f"{o['title']} Kopie {round_}"}
                     for i, o in enumerate(items * 2)]
            c.upsert_offerings(extra)
            if round_ % 5 == 0:
                c.set_state("round", round_)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors, errors[:3]
    assert c.count("") == published * 31
    assert c.count("kopie") == published * 30
    c.close()


def test_short_lived_threads_share_pooled_connections(tmp_path, demo):
    """The TUI runs each query in a new worker thread: connections must not pile up."""
    c = Cache(tmp_path / "c.sqlite3")
    c.upsert_offerings(demo["offerings"])
    results: list[int] = []
    for _ in range(60):
        t = threading.Thread(target=lambda: results.append(c.search("bau").total))
        t.start()
        t.join()
    assert len(set(results)) == 1 and len(results) == 60
    assert len(c._idle) <= connection._POOL_SIZE and not c._busy
    c.close()
    with pytest.raises(sqlite3.ProgrammingError):
        c.search("bau")


# --- layering -----------------------------------------------------------------------------------------

def test_cache_imports_no_ui_no_http_no_server():
    code = ("import sys, efa_tui.store.cache; bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'httpx') "
            "or m.startswith('efa_tui.server')]; print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# --- timing at 100,000 offerings (printed, not asserted) --------------------------------------------

SERVICES = ["Bauantrag", "Wohngeld", "Elterngeld", "Gewerbeanmeldung", "Ummeldung", "Führerscheinantrag", "Hundesteuer",
            "Anwohnerparken", "Baumfällgenehmigung", "Sondernutzung", "Eheschließung", "Geburtsurkunde", "Kita-Platz",
            "Meldebescheinigung", "Fischereischein", "Neubauförderung", "Schwerbehindertenausweis", "Aufenthaltstitel"]
KINDS = ["Online-Antrag", "Digitaler", "Portal", "Service", "Assistent", "Fachverfahren-Anbindung", "Nachweisabruf"]
REGIONS = ["Nord", "Süd", "Ost", "West", "Mitte", "Land", "Stadt", "Kreis", "Plus", "Kompakt"]
CATEGORIES = ["Bauen & Wohnen", "Familie & Kind", "Mobilität & Reisen", "Steuern & Zoll", "Querschnittsleistungen", "Umwelt"]
PROVIDERS = [(3, "AKDB Anstalt für Kommunale Datenverarbeitung in Bayern"), (4, "Dataport Anstalt des öffentlichen Rechts"),
             (5, "Komm.ONE Anstalt des öffentlichen Rechts"), (6, "ekom21 – KGRZ Hessen"), (7, "Lecos GmbH")]


def generated(n: int) -> list[dict]:
    """Offerings shaped like the server's, with titles like the demo generator's."""
    combos = itertools.islice(itertools.cycle(itertools.product(KINDS, SERVICES, REGIONS)), n)
    out = []
    for i, (kind, service, region) in enumerate(combos):
        provider_id, provider = PROVIDERS[i % len(PROVIDERS)]
        out.append({
            "id": i + 1, "title": f"{kind} {service} {region} {i + 1}", "summary": f"{service}: digital beantragen und bearbeiten.",
            "description": f"Generiertes Angebot {i + 1} für Lasttests: {service} über FIT-Connect.",
            "category": CATEGORIES[i % len(CATEGORIES)], "leika_key": str(99000000000000 + i), "ozg_id": f"GEN-{i + 1}",
            "bundeslaender": [] if i % 3 else ["BY", "HE"], "maturity": i % 5,
            "provider": {"id": provider_id, "name": provider},
            "fees": {"annual_fee": f"{1200 + (i * 37) % 40000}.00", "one_time_fee": f"{(i * 13) % 5000}.00",
                     "distribution_key": "fixed", "unit_price": None, "unit_label": None, "vat_rate": "19.00"},
            "contract_terms": "Mindestlaufzeit 12 Monate, Kündigung mit 3 Monaten Frist.", "minimum_term_months": 12,
            "notice_period_months": 3, "contact": {"name": "Service-Desk", "email": "service@example.org", "phone": "+49 30 000000"},
            "keywords": [service, "generiert"], "status": "published" if i % 97 else "draft", "version": 1,
            "created_at": "2026-01-01T00:00:00.000000Z", "updated_at": f"2026-01-{1 + i // 5000:02d}T00:00:00.000000Z",
            "published_at": "2026-01-01T00:00:00.000000Z",
        })
    return out


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def test_timing_at_100k(tmp_path, capsys):
    n = int(os.environ.get("EFA_CACHE_BENCH_N", "100000"))
    items = generated(n)
    c = Cache(tmp_path / "bench.sqlite3")
    t = time.perf_counter()
    for i in range(0, n, 1000):
        c.upsert_offerings(items[i:i + 1000])
    assert c.offering_count() == n  # waits for the writer thread
    load = time.perf_counter() - t
    c.close()
    c = Cache(tmp_path / "bench.sqlite3")  # a new process's view: nothing memoized
    groups = {"one-letter": ["b", "w", "e", "a", "s", "k"], "two-letter": ["ba", "an", "wo", "ki", "fü", "st"],
              "broad": ["bau", "antrag", "online antrag", "steuer", "gewerbe anmeldung", "führer"],
              "rare": ["xyzzy", "digitaler bauantrag nord", "neubau kompakt 77", "12345", "kfz"]}
    lines = [f"cache timing at {n} offerings: load {load:.2f} s ({n / load:,.0f}/s)"]
    for group, queries in groups.items():
        cold, again = [], []
        for q in queries:
            c._memo.clear()
            c._orders.clear()
            t = time.perf_counter()
            page = c.search(q, limit=100)
            cold.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            c.search(q, offset=min(page.total, 100), limit=100)
            again.append((time.perf_counter() - t) * 1000)
        lines.append(f"  search {group:10s} first page p50 {statistics.median(cold):6.1f} ms  p95 {_pct(cold, 95):6.1f} ms"
                     f"   next page p50 {statistics.median(again):5.1f} ms")
    for q in ("", "b", "bau", "antrag"):
        c._memo.clear()
        t = time.perf_counter()
        total = c.count(q)
        tc = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        c.facets(q)
        tf = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        c.facets(q, filters=Filters(category="Bauen & Wohnen"))
        tr = (time.perf_counter() - t) * 1000
        lines.append(f"  q={q!r:9} total {total:6d}  count {tc:6.1f} ms  facets {tf:6.1f} ms  facets after a filter change {tr:5.2f} ms")
    c._memo.clear()
    t = time.perf_counter()
    middle = c.search("", offset=n // 2, limit=40)
    lines.append(f"  rows {n // 2}..{n // 2 + 40} of the catalog: {(time.perf_counter() - t) * 1000:.1f} ms")
    assert len(middle.rows) == 40
    c.close()
    with capsys.disabled():
        print("\n" + "\n".join(lines))


def test_an_offering_with_a_lone_surrogate_is_stored_with_U_FFFD(tmp_path, demo):
    """JSON may carry "\\ud800" (a lone surrogate): the fast encoder refuses it, the cache still stores
    the offering (in a page of the demo catalog), with U+FFFD in the surrogate's place (SQLite
    cannot store it, a terminal cannot show it); the other offerings come back as they came."""
    c = Cache(tmp_path / "c.sqlite3")
    page = [{**o, "updated_at": "2030-01-01T00:00:00Z"} for o in demo["offerings"]]
    page[0] = {**page[0], "description": "Bau\ud800antrag"}  # only in the stored document
    assert c.upsert_offerings(page) == len(page)
    assert c.get_offering(page[0]["id"])["description"] == "Bau\ufffdantrag"
    assert c.get_offering(page[1]["id"]) == page[1]
