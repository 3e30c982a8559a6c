"""Every endpoint over HTTP: its happy path once, and the edge cases clients rely on.

Runs against the seeded demo marketplace (a fresh copy per test). Expectations come from the
"API contract" of DESIGN.md.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support import auth

from efa_tui.domain.collation import sort_key

MONEY = re.compile(r"^\d+\.\d{2}$")
BAUANTRAG_TITLES = {"Digitaler Bauantrag", "Bauantrag Online (vereinfachtes Verfahren)", "Bauantrag für Werbeanlagen"}
NEW_OFFERING = {"title": "Digitale Hundesteuer", "category": "Steuern & Zoll", "annual_fee": "1200", "one_time_fee": "250.5"}

# --- helpers -------------------------------------------------------------------------------------

_seeded: dict[tuple, Any] = {}  # seeded ids are the same in every test's copy of the demo database


def get_items(client: TestClient, who: str, path: str, **params: Any) -> list[dict]:
    r = client.get(path, headers=auth(who), params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["next_cursor"] is None, "the demo data should fit one big page"
    return doc["items"]


def walk(client: TestClient, who: str, path: str, limit: int, **params: Any) -> list[dict]:
    """All items of a list, page by page along next_cursor."""
    out: list[dict] = []
    cursor = None
    for _ in range(1000):
        r = client.get(path, headers=auth(who), params={"limit": limit, **params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        doc = r.json()
        assert len(doc["items"]) <= limit
        if doc["next_cursor"]:
            assert len(doc["items"]) == limit, "only the last page may be short"
        out += doc["items"]
        cursor = doc["next_cursor"]
        if not cursor:
            return out
    raise AssertionError("pagination does not end")


def org_id(client: TestClient, who: str) -> int:
    key = ("org", who)
    if key not in _seeded:
        _seeded[key] = client.get("/me", headers=auth(who)).json()["organization"]["id"]
    return _seeded[key]


def first_id(client: TestClient, who: str, path: str, check=lambda item: True, **params: Any) -> int:
    key = (who, path, check.__name__, tuple(sorted(params.items())))
    if key not in _seeded:
        found = [x for x in get_items(client, who, path, **params) if check(x)]
        assert found, f"the demo data has no {path} {params} for {who}"
        _seeded[key] = found[0]["id"]
    return _seeded[key]


def own_published_offering(client: TestClient, who: str = "provider") -> int:
    return first_id(client, who, "/offerings", provider=org_id(client, who), status="published")


def per_case(item: dict) -> bool:
    return item["fees"] is not None and item["fees"]["distribution_key"] == "per_case"


def billed_yearly(item: dict) -> bool:
    return item["fees"] is not None and item["fees"]["distribution_key"] != "per_case"


def assert_problem(r, status: int, type_: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    doc = r.json()
    assert {"type", "title", "status", "detail"} <= doc.keys(), doc
    assert doc["status"] == status and doc["title"] and doc["detail"]
    if type_:
        assert doc["type"] == f"/problems/{type_}", doc
    return doc


def assert_money(value: Any) -> None:
    assert isinstance(value, str) and MONEY.match(value), f"money must be a string with two decimals: {value!r}"


def new_draft(client: TestClient, who: str = "provider", **fields: Any) -> dict:
    r = client.post("/offerings", headers=auth(who), json={**NEW_OFFERING, **fields})
    assert r.status_code == 201, r.text
    return r.json()


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- health and the OpenAPI document ---------------------------------------------------------------


def test_healthz_and_openapi_answer_without_token(client: TestClient) -> None:
    for url in ("/healthz", "http://127.0.0.1/healthz"):
        r = client.get(url)
        assert r.status_code == 200 and r.json()["status"] == "ok"
    r = client.get("/openapi.json")  # i.e. /api/v1/openapi.json
    assert r.status_code == 200
    spec = r.json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/offerings", "/api/v1/orders/{order_id}/transitions", "/api/v1/invoices/{invoice_id}/xrechnung"} <= spec["paths"].keys()


# --- /me and /organizations -------------------------------------------------------------------------


def test_me_names_user_role_and_organisation(client: TestClient) -> None:
    expected = {"customer": ("customer", "Landeshauptstadt München", True), "customer2": ("customer", "Freie und Hansestadt Hamburg", True),
                "customer_nohouse": ("customer", "Stadt Jena", False), "provider": ("provider", "AKDB", False),
                "provider2": ("provider", "Dataport", False), "support": ("support", "govdigital", False),
                "operator": ("operator", "govdigital", False)}
    for who, (role, org, can_order) in expected.items():
        r = client.get("/me", headers=auth(who))
        assert r.status_code == 200 and r.headers["ETag"]
        me = r.json()
        assert me["role"] == role and me["organization"]["name"].startswith(org) and isinstance(me["organization"]["id"], int)
        assert me["can_order"] is can_order
        assert (me["can_order_reason"] is None) is can_order
    assert "Inhouse" in client.get("/me", headers=auth("customer_nohouse")).json()["can_order_reason"]


def test_organizations_list_filters_and_item(client: TestClient) -> None:
    providers = get_items(client, "customer", "/organizations", kind="provider")
    # Every organisation with the role provider (some also order: Hamburg's kind says customer).
    assert providers and all("provider" in o["roles"] for o in providers)
    assert {o["kind"] for o in providers} == {"provider", "customer"}
    assert org_id(client, "provider") in {o["id"] for o in providers}
    r = client.get(f"/organizations/{org_id(client, 'customer')}", headers=auth("customer"))
    assert r.status_code == 200 and r.json()["name"] == "Landeshauptstadt München" and r.json()["inhouse"] is True
    assert client.get(f"/organizations/{org_id(client, 'customer')}", headers=auth("customer", **{"If-None-Match": r.headers["ETag"]})).status_code == 304
    assert_problem(client.get("/organizations/999999", headers=auth("customer")), 404, "not-found")


def test_operator_registers_an_organisation(client: TestClient) -> None:
    body = {"key": "gemeinde-musterstadt", "kind": "customer", "name": "Gemeinde Musterstadt", "ags": "09162000",
            "leitweg_id": "04011000-1234512345-06"}
    r = client.post("/organizations", headers=auth("operator"), json=body)
    assert r.status_code == 201, r.text
    org = r.json()
    assert r.headers["Location"] == f"/api/v1/organizations/{org['id']}"
    assert org["name"] == "Gemeinde Musterstadt" and org["inhouse"] is False
    assert_problem(client.post("/organizations", headers=auth("operator"), json=body), 409, "conflict")
    bad = assert_problem(client.post("/organizations", headers=auth("operator"), json={**body, "key": "x2", "leitweg_id": "04011000-1234512345-07"}), 422)
    assert bad["errors"][0]["field"] == "leitweg_id"
    bad = assert_problem(client.post("/organizations", headers=auth("operator"), json={**body, "key": "Großbuchstaben"}), 422)
    assert [e["field"] for e in bad["errors"]] == ["key"]


def test_patch_organization_needs_if_match_and_grants_inhouse(client: TestClient) -> None:
    jena = org_id(client, "customer_nohouse")
    govdigital = org_id(client, "operator")
    r = client.get(f"/organizations/{jena}", headers=auth("operator"))
    tag = r.headers["ETag"]
    change = {"inhouse_operator_id": govdigital}
    assert_problem(client.patch(f"/organizations/{jena}", headers=auth("operator"), json=change), 428, "if-match-required")
    assert_problem(client.patch(f"/organizations/{jena}", headers=auth("operator", **{"If-Match": '"organization-1-v99"'}), json=change), 412, "stale-etag")
    assert_problem(client.patch(f"/organizations/{jena}", headers=auth("operator", **{"If-Match": tag}), json={"inhouse_operator_id": org_id(client, "provider")}), 422)
    # Before: Jena may browse but not order; after the operator sets up the relationship it may.
    assert client.get("/me", headers=auth("customer_nohouse")).json()["can_order"] is False
    r = client.patch(f"/organizations/{jena}", headers=auth("operator", **{"If-Match": tag}), json=change)
    assert r.status_code == 200, r.text
    assert r.json()["inhouse_operator_id"] == govdigital and r.json()["version"] == 2 and r.headers["ETag"] != tag
    assert client.get("/me", headers=auth("customer_nohouse")).json()["can_order"] is True
    assert_problem(client.patch(f"/organizations/{jena}", headers=auth("operator", **{"If-Match": tag}), json=change), 412, "stale-etag")


# --- /offerings: paging, filters, sorting, conditional GET, delta sync ---------------------------------


@pytest.mark.parametrize("who", ["customer", "support"])
@pytest.mark.parametrize("sort", ["id", "title", "-annual_fee", "updated_at"])
def test_pagination_walks_the_whole_catalog(client: TestClient, who: str, sort: str) -> None:
    big = [x["id"] for x in get_items(client, who, "/offerings", sort=sort)]
    walked = [x["id"] for x in walk(client, who, "/offerings", 7, sort=sort)]
    assert len(walked) == len(set(walked)), "duplicates across pages"
    assert walked == big, "gaps or a different order across pages"
    assert len(big) > 7 * 5


@pytest.mark.parametrize(("path", "params"), [
    ("/orders", {}), ("/orders", {"sort": "updated_at"}), ("/invoices", {}), ("/invoices", {"sort": "gross"}),
    ("/organizations", {}), ("/usage", {}), ("/offerings", {"updated_since": "2000-01-01T00:00:00Z"}),
])
def test_pagination_of_the_other_lists(client: TestClient, path: str, params: dict) -> None:
    big = [x["id"] for x in get_items(client, "operator", path, **params)]
    walked = [x["id"] for x in walk(client, "operator", path, 9, **params)]
    assert walked == big and len(set(walked)) == len(walked) > 9


@pytest.mark.parametrize("cursor", [
    "!!!not-base64", "abc", b64(b'{"a": 1}'), b64(b"[]"), b64(b"[1]"), b64(b"[1, 2, 3]"), b64(b'["x", "y"]'),
])
def test_invalid_cursor_is_400(client: TestClient, cursor: str) -> None:
    r = client.get("/offerings", headers=auth("customer"), params={"cursor": cursor, "sort": "annual_fee"})
    assert_problem(r, 400, "invalid-cursor")


@pytest.mark.parametrize(("sort", "cursor"), [
    ("title", b64(b'[{"a": 1}, 1]')), ("title", b64(b"[[1], 1]")), ("id", b64(b"[1, 99999999999999999999999]")),
])
def test_crafted_cursor_is_400_not_500(client: TestClient, sort: str, cursor: str) -> None:
    r = client.get("/offerings", headers=auth("customer"), params={"cursor": cursor, "sort": sort})
    assert_problem(r, 400, "invalid-cursor")


def test_q_finds_bauantrag_case_insensitively_and_by_substring(client: TestClient) -> None:
    catalog = get_items(client, "customer", "/offerings")
    found = get_items(client, "customer", "/offerings", q="bauantrag")
    titles = {x["title"] for x in found}
    assert BAUANTRAG_TITLES <= titles
    assert {x["title"] for x in catalog if "bauantrag" in x["title"].lower()} <= titles
    for x in found:
        text = " ".join([x["title"], x["summary"], x["description"], *x["keywords"]]).lower()
        assert "bauantrag" in text, x["title"]
    ids = [x["id"] for x in found]
    assert [x["id"] for x in get_items(client, "customer", "/offerings", q="BauAntrag")] == ids
    assert set(ids) <= {x["id"] for x in get_items(client, "customer", "/offerings", q="uantra")}  # a substring
    # Every word must occur.
    both = get_items(client, "customer", "/offerings", q="bauantrag werbeanlagen")
    assert [x["title"] for x in both] == ["Bauantrag für Werbeanlagen"]
    # LIKE wildcards are text, not patterns.
    assert get_items(client, "customer", "/offerings", q="%") == []
    assert get_items(client, "customer", "/offerings", q="_") == []


@pytest.mark.parametrize(("param", "value", "keep"), [
    ("category", "Bauen & Wohnen", lambda x, v, orgs: x["category"] == v),
    ("provider", "provider2", lambda x, v, orgs: x["provider"]["id"] == orgs["provider2"]),
    ("bundesland", "BY", lambda x, v, orgs: x["bundeslaender"] == [] or "BY" in x["bundeslaender"]),
    ("bundesland", "by", lambda x, v, orgs: x["bundeslaender"] == [] or "BY" in x["bundeslaender"]),
    ("distribution_key", "per_case", lambda x, v, orgs: x["fees"]["distribution_key"] == "per_case"),
])
def test_catalog_filters(client: TestClient, param: str, value: str, keep) -> None:
    orgs = {"provider2": org_id(client, "provider2")}
    catalog = get_items(client, "customer", "/offerings")
    query = orgs["provider2"] if value == "provider2" else value
    found = get_items(client, "customer", "/offerings", **{param: query})
    expected = [x["id"] for x in catalog if keep(x, value, orgs)]
    assert expected and len(expected) < len(catalog), "the filter should select a proper subset"
    assert [x["id"] for x in found] == expected


def test_status_filter_shows_retired_but_never_foreign_drafts(client: TestClient) -> None:
    catalog = {x["id"] for x in get_items(client, "customer", "/offerings")}
    retired = get_items(client, "customer", "/offerings", status="retired")
    assert retired and {x["status"] for x in retired} == {"retired"}
    assert not catalog & {x["id"] for x in retired}, "the plain catalog hides retired offerings"
    assert get_items(client, "customer", "/offerings", status="draft") == []
    drafts = get_items(client, "support", "/offerings", status="draft")
    assert drafts and {x["status"] for x in drafts} == {"draft"}


def test_sort_by_title_and_descending_annual_fee(client: TestClient) -> None:
    titles = [x["title"] for x in get_items(client, "customer", "/offerings", sort="title")]
    assert titles == sorted(titles, key=sort_key)  # German order (DIN 5007-1): tests/test_catalog_order.py
    assert [x["title"] for x in get_items(client, "customer", "/offerings", sort="-title")] == sorted(titles, key=sort_key, reverse=True)
    fees = [Decimal(x["fees"]["annual_fee"]) for x in get_items(client, "customer", "/offerings", sort="-annual_fee")]
    assert fees == sorted(fees, reverse=True) and fees[0] > fees[-1]
    assert_problem(client.get("/offerings", headers=auth("customer"), params={"sort": "price"}), 422, "validation")


def test_etag_and_if_none_match_on_list_and_item(client: TestClient) -> None:
    r = client.get("/offerings", headers=auth("customer"), params={"category": "Bildung"})
    tag = r.headers["ETag"]
    again = client.get("/offerings", headers=auth("customer", **{"If-None-Match": tag}), params={"category": "Bildung"})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == tag
    weak = client.get("/offerings", headers=auth("customer", **{"If-None-Match": f'"other", W/{tag}'}), params={"category": "Bildung"})
    assert weak.status_code == 304
    assert client.get("/offerings", headers=auth("customer", **{"If-None-Match": '"other"'}), params={"category": "Bildung"}).status_code == 200

    offering = own_published_offering(client)
    r = client.get(f"/offerings/{offering}", headers=auth("customer"))
    item_tag = r.headers["ETag"]
    assert client.get(f"/offerings/{offering}", headers=auth("customer", **{"If-None-Match": item_tag})).status_code == 304
    # After a change the old ETag no longer matches, on the item and on the list.
    provider_tag = client.get(f"/offerings/{offering}", headers=auth("provider")).headers["ETag"]
    assert client.patch(f"/offerings/{offering}", headers=auth("provider", **{"If-Match": provider_tag}), json={"summary": "Neu"}).status_code == 200
    changed = client.get(f"/offerings/{offering}", headers=auth("customer", **{"If-None-Match": item_tag}))
    assert changed.status_code == 200 and changed.headers["ETag"] != item_tag and changed.json()["summary"] == "Neu"
    list_tag = client.get("/offerings", headers=auth("customer")).headers["ETag"]
    assert client.get("/offerings", headers=auth("customer", **{"If-None-Match": list_tag})).status_code == 304


def test_item_etag_changes_when_its_representation_changes(client: TestClient) -> None:
    order = first_id(client, "provider", "/orders", state="ordered")
    r = client.get(f"/orders/{order}", headers=auth("provider"))
    tag, offering = r.headers["ETag"], r.json()["offering"]["id"]
    offering_tag = client.get(f"/offerings/{offering}", headers=auth("provider")).headers["ETag"]
    assert client.patch(f"/offerings/{offering}", headers=auth("provider", **{"If-Match": offering_tag}),
                        json={"title": "Umbenannt"}).status_code == 200
    r = client.get(f"/orders/{order}", headers=auth("provider", **{"If-None-Match": tag}))
    assert r.status_code == 200 and r.json()["offering"]["title"] == "Umbenannt"


def test_updated_since_returns_changes_and_tombstones(client: TestClient) -> None:
    changed, retired = [x["id"] for x in get_items(client, "provider", "/offerings", provider=org_id(client, "provider"), status="published")[:2]]
    since = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    tag = client.get(f"/offerings/{changed}", headers=auth("provider")).headers["ETag"]
    assert client.patch(f"/offerings/{changed}", headers=auth("provider", **{"If-Match": tag}), json={"summary": "Geändert"}).status_code == 200
    assert client.post(f"/offerings/{retired}/retire", headers=auth("provider")).status_code == 200

    delta = get_items(client, "customer", "/offerings", updated_since=since)
    assert [x["id"] for x in delta] == [changed, retired]  # in change order
    assert delta[0]["summary"] == "Geändert" and "tombstone" not in delta[0]
    assert delta[1]["tombstone"] is True and delta[1]["id"] == retired
    assert "title" not in delta[1], "a tombstone carries no content"
    # The provider still sees its retired offering in full.
    own = {x["id"]: x for x in get_items(client, "provider", "/offerings", updated_since=since)}
    assert own[retired]["status"] == "retired" and "tombstone" not in own[retired]
    # Nothing changed since now.
    assert get_items(client, "customer", "/offerings", updated_since=datetime.now(UTC).isoformat()) == []
    assert_problem(client.get("/offerings", headers=auth("customer"), params={"updated_since": "yesterday"}), 422, "validation")


@pytest.mark.parametrize("path", ["/offerings", "/orders", "/invoices", "/organizations"])
def test_updated_since_out_of_range_is_not_500(client: TestClient, path: str) -> None:
    r = client.get(path, headers=auth("support"), params={"updated_since": "0001-01-01T00:00:00+01:00"})
    assert r.status_code in (200, 422), r.text
    if r.status_code == 422:
        assert assert_problem(r, 422, "validation")["errors"][0]["field"] == "updated_since"


def test_deleted_draft_comes_back_as_tombstone(client: TestClient) -> None:
    draft = new_draft(client)["id"]
    since = datetime.now(UTC).isoformat()
    assert client.delete(f"/offerings/{draft}", headers=auth("provider")).status_code == 204
    for who in ("provider", "support"):  # both had the draft in their cache
        delta = {x["id"]: x for x in get_items(client, who, "/offerings", updated_since=since)}
        assert delta.get(draft, {}).get("tombstone") is True, who


# --- /offerings: writes ------------------------------------------------------------------------------


def test_offering_lifecycle(client: TestClient) -> None:
    r = client.post("/offerings", headers=auth("provider"), json=NEW_OFFERING)
    assert r.status_code == 201, r.text
    offering = r.json()
    oid = offering["id"]
    assert r.headers["Location"] == f"/api/v1/offerings/{oid}"
    assert offering["status"] == "draft" and offering["provider"]["id"] == org_id(client, "provider")
    assert offering["fees"] == {"annual_fee": "1200.00", "one_time_fee": "250.50", "distribution_key": "fixed",
                                "unit_price": None, "unit_label": None, "vat_rate": "19.00"}
    tag = r.headers["ETag"]

    assert_problem(client.patch(f"/offerings/{oid}", headers=auth("provider"), json={"summary": "x"}), 428, "if-match-required")
    assert_problem(client.patch(f"/offerings/{oid}", headers=auth("provider", **{"If-Match": '"offering-1-v9"'}), json={"summary": "x"}), 412, "stale-etag")
    bad = assert_problem(client.patch(f"/offerings/{oid}", headers=auth("provider", **{"If-Match": tag}), json={"title": None}), 422)
    assert bad["errors"][0]["field"] == "title"
    r = client.patch(f"/offerings/{oid}", headers=auth("provider", **{"If-Match": tag}),
                     json={"summary": "Hundesteuer online an- und abmelden", "distribution_key": "per_inhabitant", "unit_price": "12.5"})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["fees"]["unit_price"] == "12.50" and r.headers["ETag"] != tag
    assert_problem(client.patch(f"/offerings/{oid}", headers=auth("provider", **{"If-Match": tag}), json={"summary": "x"}), 412)

    r = client.post(f"/offerings/{oid}/publish", headers=auth("provider"))
    assert r.status_code == 200 and r.json()["status"] == "published" and r.json()["published_at"]
    assert oid in {x["id"] for x in get_items(client, "customer", "/offerings")}
    assert_problem(client.delete(f"/offerings/{oid}", headers=auth("provider")), 409, "invalid-state")
    r = client.post(f"/offerings/{oid}/retire", headers=auth("provider"))
    assert r.status_code == 200 and r.json()["status"] == "retired"
    assert client.get(f"/offerings/{oid}", headers=auth("customer")).json()["status"] == "retired"
    tag = client.get(f"/offerings/{oid}", headers=auth("provider")).headers["ETag"]
    assert_problem(client.patch(f"/offerings/{oid}", headers=auth("provider", **{"If-Match": tag}), json={"summary": "x"}), 409, "invalid-state")

    draft = new_draft(client)["id"]
    r = client.delete(f"/offerings/{draft}", headers=auth("provider"))
    assert r.status_code == 204 and r.content == b""
    assert_problem(client.get(f"/offerings/{draft}", headers=auth("provider")), 404, "not-found")


@pytest.mark.parametrize(("change", "field"), [
    ({"category": "Astrologie"}, "category"),
    ({"annual_fee": "zwölf"}, "annual_fee"),
    ({"annual_fee": "-1.00"}, "annual_fee"),
    ({"annual_fee": "1.005"}, "annual_fee"),
    ({"title": "x" * 201}, "title"),
    ({"title": "   "}, "title"),
    ({"distribution_key": "per_moon"}, "distribution_key"),
    ({"bundeslaender": ["BY", "XX"]}, "bundeslaender.1"),
    ({"title": None}, "title"),
])
def test_post_offering_with_a_wrong_field_names_it(client: TestClient, change: dict, field: str) -> None:
    r = client.post("/offerings", headers=auth("provider"), json={**NEW_OFFERING, **change})
    doc = assert_problem(r, 422, "validation")
    assert [e["field"] for e in doc["errors"]] == [field]
    assert all(e["message"] and e["code"] for e in doc["errors"])


def test_post_offering_without_required_field_names_it(client: TestClient) -> None:
    body = {k: v for k, v in NEW_OFFERING.items() if k != "title"} | {"titel": "Tippfehler"}
    doc = assert_problem(client.post("/offerings", headers=auth("provider"), json=body), 422, "validation")
    assert [e["field"] for e in doc["errors"]] == ["title"]


@pytest.mark.parametrize("change", [{"distribution_key": "per_case"}, {"unit_price": "1.00"}])
def test_post_offering_unit_price_error_names_the_field(client: TestClient, change: dict) -> None:
    doc = assert_problem(client.post("/offerings", headers=auth("provider"), json={**NEW_OFFERING, **change}), 422, "validation")
    assert [e["field"] for e in doc["errors"]] == ["unit_price"]


# --- /orders --------------------------------------------------------------------------------------------


def test_order_flow_from_interest_to_termination(client: TestClient) -> None:
    offering = own_published_offering(client)
    r = client.post("/orders", headers=auth("customer"), json={"offering_id": offering, "message": "Bitte um ein Angebot.",
                                                                "desired_start": f"{date.today().year}-01-01"})
    assert r.status_code == 201, r.text
    order = r.json()
    oid = order["id"]
    assert r.headers["Location"] == f"/api/v1/orders/{oid}"
    assert order["state"] == "interest" and order["fees"] is None and order["allowed_actions"] == ["withdraw"]
    assert order["customer"]["id"] == org_id(client, "customer") and order["provider"]["id"] == org_id(client, "provider")
    assert order["leitweg_id"], "defaults to the organisation's Leitweg-ID"

    def move(who: str, body: dict) -> dict:
        resp = client.post(f"/orders/{oid}/transitions", headers=auth(who), json=body)
        assert resp.status_code == 200, resp.text
        return resp.json()

    proposed = move("provider", {"action": "propose", "note": "Wie besprochen", "fees": {"annual_fee": "999.9", "one_time_fee": "0"}})
    assert proposed["state"] == "proposed"
    assert proposed["fees"]["annual_fee"] == "999.90" and proposed["fees"]["one_time_fee"] == "0.00"
    assert client.get(f"/orders/{oid}", headers=auth("customer")).json()["allowed_actions"] == ["order", "withdraw"]
    ordered = move("customer", {"action": "order", "note": "Verbindlich"})
    assert ordered["state"] == "ordered" and ordered["ordered_by"] == "Anna Schmidt" and ordered["ordered_at"]
    # The contract starts on the day of the binding order at the earliest (domain/orders.py) and
    # runs at least its minimum term.
    start = date.today().isoformat()
    active = move("provider", {"action": "activate", "start_date": start})
    assert active["state"] == "active" and active["start_date"] == start
    done = move("customer", {"action": "terminate", "note": "Umstieg", "end_date": f"{date.today().year + 2}-12-31"})
    assert done["state"] == "terminated" and done["end_date"] == f"{date.today().year + 2}-12-31" and done["allowed_actions"] == []

    r = client.get(f"/orders/{oid}/events", headers=auth("support"))
    assert r.status_code == 200
    events = r.json()["items"]
    assert [(e["action"], e["from_state"], e["to_state"]) for e in events] == [
        ("create", None, "interest"), ("propose", "interest", "proposed"), ("order", "proposed", "ordered"),
        ("activate", "ordered", "active"), ("terminate", "active", "terminated")]
    assert [e["actor"]["role"] for e in events] == ["customer", "provider", "customer", "provider", "customer"]
    assert events[1]["note"] == "Wie besprochen" and events[2]["data"]["annual_fee"] == "999.90"
    assert all(e["at"] for e in events)


def test_order_transition_refusals(client: TestClient) -> None:
    ordered = first_id(client, "customer", "/orders", state="ordered")
    doc = assert_problem(client.post(f"/orders/{ordered}/transitions", headers=auth("customer"), json={"action": "withdraw"}), 409, "invalid-transition")
    assert doc["state"] == "ordered" and doc["allowed_actions"] == ["cancel"]
    doc = assert_problem(client.post(f"/orders/{ordered}/transitions", headers=auth("customer"), json={"action": "fly"}), 422, "validation")
    assert doc["errors"][0]["field"] == "action"
    doc = assert_problem(client.post(f"/orders/{ordered}/transitions", headers=auth("customer"),
                                     json={"action": "cancel", "fees": {"annual_fee": "1.00"}}), 422, "validation")
    interest = first_id(client, "provider", "/orders", state="interest")
    doc = assert_problem(client.post(f"/orders/{interest}/transitions", headers=auth("provider"), json={"action": "reject"}), 422, "validation")
    assert doc["errors"][0]["field"] == "note"
    stale = assert_problem(client.post(f"/orders/{interest}/transitions", headers=auth("provider", **{"If-Match": '"order-1-v99"'}),
                                       json={"action": "reject", "note": "Nein"}), 412, "stale-etag")
    assert stale["current_etag"]


def test_customer_without_inhouse_relationship_may_not_order(client: TestClient) -> None:
    r = client.post("/orders", headers=auth("customer_nohouse"), json={"offering_id": own_published_offering(client)})
    doc = assert_problem(r, 403, "not-inhouse")
    assert "Inhouse" in doc["detail"]
    assert get_items(client, "customer_nohouse", "/orders") == []


@pytest.mark.parametrize("leitweg", ["04011000-1234512345-07", "abc", "1-06", "04011000-12345#12345-06"])
def test_wrong_leitweg_id_on_order_is_422(client: TestClient, leitweg: str) -> None:
    r = client.post("/orders", headers=auth("customer"), json={"offering_id": own_published_offering(client), "leitweg_id": leitweg})
    doc = assert_problem(r, 422, "validation")
    assert doc["errors"][0]["field"] == "leitweg_id"
    assert doc["errors"][0]["message"]


def test_order_with_valid_leitweg_and_unpublished_offering(client: TestClient) -> None:
    r = client.post("/orders", headers=auth("customer"), json={"offering_id": own_published_offering(client), "leitweg_id": "992-90009-96"})
    assert r.status_code == 201 and r.json()["leitweg_id"] == "992-90009-96"
    draft = new_draft(client)["id"]
    doc = assert_problem(client.post("/orders", headers=auth("customer"), json={"offering_id": draft}), 422, "validation")
    assert doc["errors"][0]["field"] == "offering_id"
    doc = assert_problem(client.post("/orders", headers=auth("customer"), json={"offering_id": 999999}), 422, "validation")
    assert doc["errors"][0]["field"] == "offering_id"


def test_orders_list_filters(client: TestClient) -> None:
    mine = get_items(client, "customer", "/orders")
    assert [x["id"] for x in mine] == sorted((x["id"] for x in mine), reverse=True), "newest first by default"
    both = get_items(client, "customer", "/orders", state=["ordered", "active"])
    assert both and {x["state"] for x in both} <= {"ordered", "active"}
    assert [x["id"] for x in both] == [x["id"] for x in mine if x["state"] in ("ordered", "active")]
    by_provider = get_items(client, "support", "/orders", provider_id=org_id(client, "provider2"))
    assert by_provider and {x["provider"]["id"] for x in by_provider} == {org_id(client, "provider2")}
    assert_problem(client.get("/orders", headers=auth("customer"), params={"state": "lost"}), 422, "validation")


@pytest.mark.parametrize("path", ["/organizations", "/orders", "/invoices"])
def test_q_on_the_other_lists(client: TestClient, path: str) -> None:
    if path == "/organizations":
        assert [o["id"] for o in get_items(client, "customer", path, q="HAMBURG")] == [org_id(client, "customer2")]
    elif path == "/orders":
        mine = get_items(client, "customer", path)
        word = mine[0]["offering"]["title"].split()[0]
        assert mine[0]["id"] in {x["id"] for x in get_items(client, "customer", path, q=word.upper())}
        assert get_items(client, "customer", path, q="hamburg") == [], "only the customer's own orders"
    else:
        found = get_items(client, "support", path, q="münchen")
        assert found and {x["customer"]["id"] for x in found} == {org_id(client, "customer")}
        number = found[0]["number"]
        assert [x["number"] for x in get_items(client, "support", path, q=number)] == [number]


def test_idempotency_key_replays_and_refuses_reuse(client: TestClient) -> None:
    body = {"offering_id": own_published_offering(client), "message": "Einmal bitte"}
    headers = auth("customer", **{"Idempotency-Key": "bestellung-42"})
    first = client.post("/orders", headers=headers, json=body)
    again = client.post("/orders", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert len([x for x in get_items(client, "customer", "/orders") if x["message"] == "Einmal bitte"]) == 1
    assert_problem(client.post("/orders", headers=headers, json={**body, "message": "Anders"}), 422, "idempotency-key-reused")
    assert_problem(client.post("/orders", headers=auth("customer", **{"Idempotency-Key": "x" * 201}), json=body), 400)


# --- /usage ---------------------------------------------------------------------------------------------


def test_usage_report_and_list(client: TestClient) -> None:
    contract = first_id(client, "provider", "/orders", per_case, state="active")
    # The running month: inside the term, not reported yet (the demo reports the months before it).
    body = {"order_id": contract, "year": date.today().year, "month": date.today().month, "cases": 321}
    r = client.post("/usage", headers=auth("provider"), json=body)
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["cases"] == 321 and report["order_id"] == contract
    # A correction of the same month replaces the number, when it names the number it replaces.
    assert_problem(client.post("/usage", headers=auth("provider"), json={**body, "cases": 300}), 409, "usage-exists")
    again = client.post("/usage", headers=auth("provider"), json={**body, "cases": 300, "replaces": 321})
    assert again.status_code == 200 and again.json()["id"] == report["id"] and again.json()["cases"] == 300
    listed = get_items(client, "provider", "/usage", order_id=contract, year=date.today().year)
    assert {x["order_id"] for x in listed} == {contract}
    assert [x["cases"] for x in listed if x["id"] == report["id"]] == [300]

    not_per_case = first_id(client, "provider", "/orders", billed_yearly, state="active")
    doc = assert_problem(client.post("/usage", headers=auth("provider"), json={**body, "order_id": not_per_case}), 422)
    assert doc["errors"][0]["field"] == "order_id"
    not_running = first_id(client, "provider", "/orders", per_case, state="ordered")
    assert_problem(client.post("/usage", headers=auth("provider"), json={**body, "order_id": not_running}), 409, "invalid-state")
    doc = assert_problem(client.post("/usage", headers=auth("provider"), json={**body, "month": 13}), 422)
    assert doc["errors"][0]["field"] == "month"


# --- /billing/runs ---------------------------------------------------------------------------------------


def test_billing_run_and_its_progress(client: TestClient) -> None:
    year = date.today().year
    r = client.post("/billing/runs", headers=auth("operator"), json={"year": year, "confirm_gross_total": "0.00"})
    assert r.status_code == 201, r.text
    run = r.json()
    assert r.headers["Location"] == f"/api/v1/billing/runs/{run['id']}"
    assert run["status"] == "done" and run["year"] == year
    # The demo has already billed this year: a repeat bills nobody twice.
    assert run["invoices_created"] == 0 and run["skipped"]
    assert_money(run["net_total"])
    assert_money(run["gross_total"])
    runs = get_items(client, "support", "/billing/runs")
    assert runs[0]["id"] == run["id"], "newest first"
    r = client.get(f"/billing/runs/{run['id']}", headers=auth("support"))
    assert r.status_code == 200 and r.json() == run
    assert_problem(client.get("/billing/runs/999999", headers=auth("operator")), 404, "not-found")
    assert_problem(client.post("/billing/runs", headers=auth("operator"), json={"year": 1999}), 422, "validation")


# --- /invoices -------------------------------------------------------------------------------------------


def test_invoice_list_item_and_money(client: TestClient) -> None:
    invoices = get_items(client, "customer", "/invoices")
    assert invoices and {x["customer"]["id"] for x in invoices} == {org_id(client, "customer")}
    last_year = get_items(client, "customer", "/invoices", year=date.today().year - 1)
    assert last_year and {x["year"] for x in last_year} == {date.today().year - 1}
    issued = get_items(client, "support", "/invoices", status="issued")
    assert issued and {x["status"] for x in issued} == {"issued"}
    number = invoices[0]["number"]
    assert [x["number"] for x in get_items(client, "customer", "/invoices", number=number)] == [number]

    r = client.get(f"/invoices/{invoices[0]['id']}", headers=auth("customer"))
    assert r.status_code == 200
    invoice = r.json()
    assert invoice["currency"] == "EUR" and invoice["lines"] and invoice["leitweg_id"]
    for key in ("net", "vat", "gross"):
        assert_money(invoice[key])
    for line in invoice["lines"]:
        for key in ("unit_price", "net", "vat_rate", "vat", "gross"):
            assert_money(line[key])
    assert sum(Decimal(x["net"]) for x in invoice["lines"]) == Decimal(invoice["net"])
    assert Decimal(invoice["net"]) + Decimal(invoice["vat"]) == Decimal(invoice["gross"])
    assert client.get(f"/invoices/{invoice['id']}", headers=auth("customer", **{"If-None-Match": r.headers["ETag"]})).status_code == 304


def test_money_fields_are_strings_with_two_decimals(client: TestClient) -> None:
    for offering in get_items(client, "support", "/offerings"):
        fees = offering["fees"]
        for key in ("annual_fee", "one_time_fee", "vat_rate"):
            assert_money(fees[key])
        if fees["unit_price"] is not None:
            assert_money(fees["unit_price"])
    for order in get_items(client, "support", "/orders"):
        if order["fees"]:
            for key in ("annual_fee", "one_time_fee", "vat_rate"):
                assert_money(order["fees"][key])
    for invoice in get_items(client, "support", "/invoices"):
        for key in ("net", "vat", "gross"):
            assert_money(invoice[key])
    for run in get_items(client, "operator", "/billing/runs"):
        assert_money(run["net_total"])
        assert_money(run["gross_total"])


def test_xrechnung_is_xml(client: TestClient) -> None:
    invoice = first_id(client, "customer", "/invoices")
    r = client.get(f"/invoices/{invoice}/xrechnung", headers=auth("customer"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/xml")
    assert r.content.startswith(b"<?xml")
    assert b"urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0" in r.content
    number = client.get(f"/invoices/{invoice}", headers=auth("customer")).json()["number"]
    assert number in r.headers["Content-Disposition"]
    assert client.get(f"/invoices/{invoice}/xrechnung", headers=auth("customer", **{"If-None-Match": r.headers["ETag"]})).status_code == 304


def test_invoice_review_by_the_customer(client: TestClient) -> None:
    invoice = first_id(client, "customer", "/invoices", status="issued")
    r = client.post(f"/invoices/{invoice}/review", headers=auth("customer"), json={"action": "factual_ok"})
    assert r.status_code == 200, r.text
    assert r.json()["review"]["factual_ok_by"] == "Anna Schmidt" and r.json()["review"]["factual_ok_at"]
    r = client.post(f"/invoices/{invoice}/review", headers=auth("customer"), json={"action": "arithmetic_ok"})
    assert r.json()["review"]["arithmetic_ok_by"] == "Anna Schmidt"
    line = r.json()["lines"][0]["id"]
    # A line is disputed only after "sachlich richtig" is withdrawn (never beanstandet beside both sign-offs).
    assert_problem(client.post(f"/invoices/{invoice}/review", headers=auth("customer"),
                               json={"action": "dispute", "line_ids": [line], "reason": "Nicht bestellt"}), 409, "confirmed")
    assert client.post(f"/invoices/{invoice}/review", headers=auth("customer"), json={"action": "withdraw_factual"}).status_code == 200
    r = client.post(f"/invoices/{invoice}/review", headers=auth("customer"),
                    json={"action": "dispute", "line_ids": [line], "reason": "Nicht bestellt"})
    assert r.status_code == 200
    assert r.json()["lines"][0]["dispute"]["reason"] == "Nicht bestellt"
    assert_problem(client.post(f"/invoices/{invoice}/review", headers=auth("customer"), json={"action": "dispute", "line_ids": [line]}), 422)
    doc = assert_problem(client.post(f"/invoices/{invoice}/review", headers=auth("customer"),
                                     json={"action": "dispute", "line_ids": [999999], "reason": "?"}), 422)
    assert doc["errors"][0]["field"] == "line_ids"


def test_operator_marks_paid_and_cancels_with_credit_note(client: TestClient) -> None:
    to_pay, to_cancel = (x["id"] for x in get_items(client, "operator", "/invoices", status="issued", kind="invoice")[:2])
    r = client.post(f"/invoices/{to_pay}/pay", headers=auth("operator"))
    assert r.status_code == 200 and r.json()["status"] == "paid" and r.json()["paid_at"]
    assert client.post(f"/invoices/{to_pay}/pay", headers=auth("operator")).json()["status"] == "paid"  # already: no change
    assert_problem(client.post(f"/invoices/{to_pay}/cancel", headers=auth("operator"), json={"reason": "x"}), 409, "invalid-state")

    original = client.get(f"/invoices/{to_cancel}", headers=auth("operator")).json()
    r = client.post(f"/invoices/{to_cancel}/cancel", headers=auth("operator"), json={"reason": "Falsche Leitweg-ID"})
    assert r.status_code == 201, r.text
    credit = r.json()
    assert credit["kind"] == "credit_note" and credit["cancels_invoice"] == original["number"]
    assert credit["gross"] == original["gross"] and len(credit["lines"]) == len(original["lines"])
    assert client.get(f"/invoices/{to_cancel}", headers=auth("operator")).json()["status"] == "cancelled"
    assert_problem(client.post(f"/invoices/{to_cancel}/pay", headers=auth("operator")), 409, "invalid-state")
    assert_problem(client.post(f"/invoices/{to_cancel}/cancel", headers=auth("operator"), json={"reason": ""}), 422, "validation")
    xml = client.get(f"/invoices/{credit['id']}/xrechnung", headers=auth("operator"))
    assert xml.status_code == 200 and xml.content.startswith(b"<?xml") and b"381" in xml.content


# --- errors ---------------------------------------------------------------------------------------------


def test_unknown_path_and_method_are_problems(client: TestClient) -> None:
    assert_problem(client.get("/nowhere", headers=auth("customer")), 404)
    assert_problem(client.get("http://127.0.0.1/", headers=auth("customer")), 404)
    assert_problem(client.get("/orders/999999", headers=auth("customer")), 404, "not-found")
    r = client.put("/offerings", headers=auth("provider"), json={})
    assert_problem(r, 405)
    assert "GET" in r.headers["Allow"]
    assert_problem(client.delete("/orders/1", headers=auth("customer")), 405)
    doc = assert_problem(client.get("/orders/abc", headers=auth("customer")), 422, "validation")
    assert doc["errors"][0]["field"] == "order_id"


def test_body_over_one_mebibyte_is_413(client: TestClient) -> None:
    body = json.dumps({"offering_id": 1, "message": "x" * (1024 * 1024)}).encode()
    r = client.post("/orders", headers=auth("customer", **{"Content-Type": "application/json"}), content=body)
    assert_problem(r, 413, "too-large")
    small = json.dumps({"offering_id": own_published_offering(client), "message": "x" * 4000}).encode()
    assert client.post("/orders", headers=auth("customer", **{"Content-Type": "application/json"}), content=small).status_code == 201


def test_chunked_body_over_one_mebibyte_is_413(client: TestClient) -> None:
    def chunks():
        yield b'{"offering_id": 1, "message": "'
        for _ in range(12):
            yield b"x" * (100 * 1024)
        yield b'"}'

    r = client.post("/orders", headers=auth("customer", **{"Content-Type": "application/json"}), content=chunks())
    assert_problem(r, 413, "too-large")


def test_malformed_json_is_422_with_errors(client: TestClient) -> None:
    r = client.post("/orders", headers=auth("customer", **{"Content-Type": "application/json"}), content=b'{"offering_id": ')
    doc = assert_problem(r, 422, "validation")
    assert doc["errors"] and all({"field", "message", "code"} <= e.keys() for e in doc["errors"])
    assert doc["errors"][0]["code"] == "json_invalid"
    # Well-formed JSON of the wrong shape names every wrong field.
    r = client.post("/orders", headers=auth("customer"), json={"offering_id": "eins", "leitweg_id": 5, "target_group_size": -1})
    doc = assert_problem(r, 422, "validation")
    assert {e["field"] for e in doc["errors"]} == {"offering_id", "leitweg_id", "target_group_size"}
    r = client.post("/orders", headers=auth("customer"), json=[1, 2])
    assert assert_problem(r, 422, "validation")["errors"][0]["field"] == "body"


def test_malformed_json_error_names_the_body(client: TestClient) -> None:
    r = client.post("/orders", headers=auth("customer", **{"Content-Type": "application/json"}), content=b'{"offering_id": ')
    doc = assert_problem(r, 422, "validation")
    assert [e["field"] for e in doc["errors"]] == ["body"]


@pytest.mark.parametrize(("path", "params"), [
    ("/offerings", {"limit": 0}), ("/offerings", {"limit": 1001}), ("/offerings", {"status": "lost"}),
    ("/offerings", {"distribution_key": "per_moon"}), ("/offerings", {"provider": "AKDB"}),
    ("/invoices", {"year": 1800}), ("/orders", {"sort": "title"}),
])
def test_bad_query_parameters_are_422_naming_them(client: TestClient, path: str, params: dict) -> None:
    doc = assert_problem(client.get(path, headers=auth("customer"), params=params), 422, "validation")
    assert {e["field"] for e in doc["errors"]} == set(params)
