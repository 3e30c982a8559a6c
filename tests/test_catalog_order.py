"""The catalog in German order (DIN 5007-1: ä as a, ß as ss, case ignored), the same on SQLite and
PostgreSQL (a stored sort key compared by bytes), walked page by page with keyset cursors; and
substring search that finds the same on both."""

from __future__ import annotations

from fastapi.testclient import TestClient
from support import auth

TITLES = ["Zulassung Kfz", "Ärztliche Bescheinigung", "abfallkalender", "Straßenreinigung", "Strasse A",
          "Übergangsgeld", "Ubahn-Ausweis", "Öffnungszeiten", "Ortsrecht"]
# Expected: by the folded title (ä=a, ö=o, ü=u, ß=ss), ties by id, regardless of case.
EXPECTED = ["abfallkalender", "Ärztliche Bescheinigung", "Öffnungszeiten", "Ortsrecht", "Strasse A",
            "Straßenreinigung", "Ubahn-Ausweis", "Übergangsgeld", "Zulassung Kfz"]


def _make(client: TestClient) -> set[int]:
    ids = set()
    for title in TITLES:
        r = client.post("/offerings", json={"title": f"{title} Sortiertest", "category": "Bauen & Wohnen",
                                             "annual_fee": "10.00"}, headers=auth("provider"))
        assert r.status_code == 201, r.text
        ids.add(r.json()["id"])
    return ids


def _walk(client: TestClient, sort: str, limit: int) -> list[str]:
    out, cursor = [], None
    while True:
        params = {"sort": sort, "limit": limit, "status": "draft", "q": "sortiertest"}
        if cursor:
            params["cursor"] = cursor
        body = client.get("/offerings", params=params, headers=auth("provider")).json()
        out += [i["title"].removesuffix(" Sortiertest") for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            return out


def test_titles_sort_in_german_order_page_by_page(client: TestClient):
    _make(client)
    for limit in (1, 2, 4, 100):
        assert _walk(client, "title", limit) == EXPECTED, limit
        assert _walk(client, "-title", limit) == EXPECTED[::-1], limit


def test_a_renamed_offering_moves_to_its_new_place(client: TestClient):
    _make(client)
    first = client.get("/offerings", params={"sort": "title", "status": "draft", "q": "sortiertest", "limit": 1},
                       headers=auth("provider"))
    item = first.json()["items"][0]
    etag = client.get(f"/offerings/{item['id']}", headers=auth("provider")).headers["ETag"]
    r = client.patch(f"/offerings/{item['id']}", json={"title": "Zypresse Sortiertest"},
                     headers=auth("provider", **{"If-Match": etag}))
    assert r.status_code == 200, r.text
    assert _walk(client, "title", 3) == EXPECTED[1:] + ["Zypresse"]


def test_substring_search_finds_parts_of_compounds(client: TestClient):
    _make(client)
    found = client.get("/offerings", params={"q": "reinigung sortier", "status": "draft"}, headers=auth("provider")).json()
    assert [i["title"] for i in found["items"]] == ["Straßenreinigung Sortiertest"]
    found = client.get("/offerings", params={"q": "ÄRZTLICH", "status": "draft"}, headers=auth("provider")).json()
    assert [i["title"] for i in found["items"]] == ["Ärztliche Bescheinigung Sortiertest"]


def test_search_folds_german_spellings_both_ways(client: TestClient):
    """ä/ö/ü = ae/oe/ue and ß = ss, in the query and in the offerings (over HTTP, on SQLite and
    PostgreSQL, where the pg_trgm index serves the folded column)."""
    _make(client)
    for query, expected in (("strasse", {"Straßenreinigung", "Strasse A"}), ("Straße", {"Straßenreinigung", "Strasse A"}),
                            ("STRASSEN", {"Straßenreinigung"}), ("uebergangs", {"Übergangsgeld"}),
                            ("aerztlich", {"Ärztliche Bescheinigung"}), ("OEFFNUNG", {"Öffnungszeiten"}),
                            ("öffnung", {"Öffnungszeiten"}), ("ubahn", {"Ubahn-Ausweis"})):
        found = client.get("/offerings", params={"q": f"{query} sortiertest", "status": "draft"}, headers=auth("provider"))
        assert found.status_code == 200, found.text
        assert {i["title"].removesuffix(" Sortiertest") for i in found.json()["items"]} == expected, query
    # Published demo offerings, as a customer sees them.
    found = client.get("/offerings", params={"q": "fuehrerschein"}, headers=auth("customer")).json()["items"]
    assert found and all("Führerschein" in i["title"] or "führerschein" in i["summary"].lower() for i in found)
    assert {i["id"] for i in found} == {i["id"] for i in client.get(
        "/offerings", params={"q": "Führerschein"}, headers=auth("customer")).json()["items"]}


def test_order_search_folds_the_offering_but_matches_names_as_typed(client: TestClient):
    orders = client.get("/orders", params={"limit": 1000}, headers=auth("support")).json()["items"]
    order = next(o for o in orders if any(ch in o["offering"]["title"] for ch in "äöüß"))
    title = order["offering"]["title"]
    spelled = title.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    word = next(w for w in spelled.split() if len(w) >= 4 and w != title.lower().split()[spelled.split().index(w)])
    found = client.get("/orders", params={"q": word, "limit": 1000}, headers=auth("support")).json()["items"]
    assert order["id"] in {o["id"] for o in found}
    # A customer's name still matches as written (it is only lower-cased there).
    name = order["customer"]["name"]
    found = client.get("/orders", params={"q": name.split()[0], "limit": 1000}, headers=auth("support")).json()["items"]
    assert order["id"] in {o["id"] for o in found}
