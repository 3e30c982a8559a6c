"""The server's refusals say why in German too (``detail_de``), and the client shows it.

A German user read "In diesem Zustand nicht möglich." and then "Server: a retired offering cannot
be edited; publish it again first": the problem type in German, the server's own words in English.
Every ``ApiProblem`` of the server now gives its detail in both languages; the client's German
line 2 is the German one.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from support import auth

from efa_tui import i18n
from efa_tui.api.errors import ApiError

SERVER = Path(__file__).resolve().parent.parent / "efa_tui" / "server"


def _calls(tree: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)
            and (getattr(n.func, "id", None) == "ApiProblem" or getattr(n.func, "attr", None) == "ApiProblem")]


def _problem_literals(tree: ast.AST) -> list[ast.Dict]:
    """Problem documents written as dict literals (``{"type": "/problems/…", …, "detail": …}``)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            if {"type", "detail"} <= keys:
                type_value = next(v for k, v in zip(node.keys, node.values, strict=True)
                                  if isinstance(k, ast.Constant) and k.value == "type")
                if isinstance(type_value, ast.Constant) and str(type_value.value).startswith("/problems/"):
                    out.append(node)
    return out


def test_every_refusal_of_the_server_gives_its_detail_in_german() -> None:
    missing, found = [], 0
    for path in sorted(SERVER.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = path.relative_to(SERVER.parent.parent)
        for call in _calls(tree):
            found += 1
            if not any(k.arg == "detail_de" or k.arg is None for k in call.keywords):
                missing.append(f"{where}:{call.lineno}")
        for doc in _problem_literals(tree):
            found += 1
            if "detail_de" not in {k.value for k in doc.keys if isinstance(k, ast.Constant)}:
                missing.append(f"{where}:{doc.lineno}")
    assert found > 50, "the scan found the server's refusals"
    assert not missing, "refusals without detail_de (German for the German client):\n" + "\n".join(missing)


def _retired_offering(client: TestClient) -> tuple[int, str]:
    """One of the provider's offerings, retired: its id and ETag."""
    me = client.get("/me", headers=auth("provider")).json()["organization"]["id"]
    items = client.get("/offerings", headers=auth("provider"),
                       params={"provider": me, "status": "published", "limit": 1}).json()["items"]
    offering_id = items[0]["id"]
    assert client.post(f"/offerings/{offering_id}/retire", headers=auth("provider")).status_code == 200
    r = client.get(f"/offerings/{offering_id}", headers=auth("provider"))
    assert r.status_code == 200 and r.json()["status"] == "retired"
    return offering_id, r.headers["etag"]


def test_a_refusal_reaches_the_german_client_in_german(client: TestClient) -> None:
    offering_id, etag = _retired_offering(client)
    r = client.patch(f"/offerings/{offering_id}", headers=auth("provider", **{"If-Match": etag}), json={"title": "Neu"})
    assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json")
    doc = r.json()
    assert doc["type"] == "/problems/invalid-state"
    assert doc["detail"] == "a retired offering cannot be edited; publish it again first"  # unchanged: clients read it
    assert doc["detail_de"] == ("Ein zurückgezogenes Angebot kann nicht bearbeitet werden; "
                                "veröffentlichen Sie es zuerst wieder")

    i18n.set_language("de")
    said = i18n.problem(doc).splitlines()
    assert said == ["In diesem Zustand nicht möglich.", f"Server: {doc['detail_de']}"]
    assert "retired" not in i18n.problem(doc) and "publish" not in i18n.problem(doc)

    i18n.set_language("en")
    assert i18n.problem(doc).splitlines()[-1] == f"Server: {doc['detail']}"


def test_a_refusal_raised_as_api_error_reaches_the_german_client_in_german(client: TestClient) -> None:
    offering_id, etag = _retired_offering(client)
    r = client.patch(f"/offerings/{offering_id}", headers=auth("provider", **{"If-Match": etag}), json={"title": "Neu"})
    error = ApiError.from_response(httpx.Response(r.status_code, headers=r.headers, content=r.content))
    i18n.set_language("de")
    assert i18n.problem(error).splitlines()[-1] == f"Server: {r.json()['detail_de']}"


@pytest.mark.parametrize(("who", "method", "path", "body", "status", "german"), [
    ("provider", "get", "/offerings/999999", None, 404, "Angebot 999999 nicht gefunden"),
    ("customer", "post", "/offerings", {"title": "X", "category": "Steuern & Zoll", "annual_fee": "1"}, 403,
     "Dafür braucht es die Rolle „Bereitsteller“; Ihre Rolle ist „Kunde“"),
    ("nobody-knows-this-token", "get", "/offerings", None, 401, "Unbekanntes Token"),
    ("provider", "get", "/offerings?sort=colour", None, 422, "Die Sortierung muss einer dieser Werte sein"),
])
def test_refusals_of_several_kinds_answer_in_both_languages(client: TestClient, who: str, method: str, path: str,
                                                            body: dict | None, status: int, german: str) -> None:
    r = client.request(method.upper(), path, headers=auth(who), json=body)
    assert r.status_code == status, r.text
    doc = r.json()
    assert german in doc["detail_de"] and doc["detail"] and doc["detail_de"] != doc["detail"]


def test_a_refused_order_step_names_the_step_and_states_in_german(client: TestClient) -> None:
    orders = client.get("/orders", headers=auth("customer"), params={"limit": 1000}).json()["items"]
    active = next(o for o in orders if o["state"] == "active")
    r = client.post(f"/orders/{active['id']}/transitions", headers=auth("customer"), json={"action": "withdraw"})
    assert r.status_code == 409, r.text
    assert r.json()["detail_de"].startswith("Der Schritt „Zurückziehen“ ist bei einer Bestellung im Status „Aktiv“ "
                                            "nicht möglich (nur im Status ")


def test_field_errors_of_a_422_say_why_in_german_too(client: TestClient) -> None:
    r = client.post("/offerings", headers=auth("provider"),
                    json={"title": " ", "category": "Steuern & Zoll", "annual_fee": "1.234", "distribution_key": "per_case"})
    assert r.status_code == 422, r.text
    errors = {e["field"]: e for e in r.json()["errors"]}
    assert errors["title"]["message_de"] == "darf nicht leer sein"
    assert errors["annual_fee"]["message_de"].startswith("ein Betrag besteht aus den Ziffern 0–9")
    assert errors["unit_price"]["message_de"] == "Der Verteilschlüssel „je Fall“ braucht einen Preis je Einheit"
    # The fields by the names the forms give them, not as the API spells them.
    assert r.json()["detail_de"] == "Ungültige Eingabe: Jahresentgelt, Titel, Preis je Einheit"


def _api_fields(client: TestClient) -> set[str]:
    """Every field of a request body (dotted below the top) and every query parameter of the API."""
    spec = client.get("/openapi.json").json()
    schemas, names = spec["components"]["schemas"], set()

    def walk(schema: dict, prefix: str = "") -> None:
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in schema.get(key, ()):
                walk(sub, prefix)
        if "items" in schema:
            walk(schema["items"], prefix)
        for name, sub in schema.get("properties", {}).items():
            names.add(prefix + name)
            walk(sub, f"{prefix}{name}.")

    for operations in spec["paths"].values():
        for op in operations.values():
            names.update(p["name"] for p in op.get("parameters", ()) if p.get("in") == "query")
            if body := op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema"):
                walk(body)
    return names


def test_every_field_of_the_api_has_a_german_name(client: TestClient) -> None:
    from efa_tui.server import wording

    fields = _api_fields(client)
    assert {"annual_fee", "fees.annual_fee", "leitweg_ids", "sort"} <= fields, "the scan found the API's fields"
    unnamed = sorted(f for f in fields if wording.field(f) == f)
    assert not unnamed, f"fields a German refusal would name as the API spells them: {unnamed}"


def test_german_refusals_do_not_spell_the_apis_field_names(client: TestClient) -> None:
    """No German text of the server says "unit_price", "confirm_gross_total" or "null": the
    German line is for a user of the client, who knows the form's words."""
    codes = {f.rsplit(".", 1)[-1] for f in _api_fields(client) if "_" in f} | {"null"}
    found = []
    for path in sorted(SERVER.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            german: list[ast.AST] = []
            if isinstance(node, ast.keyword) and node.arg in ("detail_de", "de"):
                german.append(node.value)
            elif isinstance(node, ast.Dict):
                german += [v for k, v in zip(node.keys, node.values, strict=True)
                           if isinstance(k, ast.Constant) and k.value in ("detail_de", "message_de")]
            for value in german:
                for part in ast.walk(value):
                    if isinstance(part, ast.Constant) and isinstance(part.value, str):
                        if spelled := sorted(set(re.findall(r"[a-z_]+", part.value)) & codes):
                            found.append(f"{path.name}:{part.lineno} {spelled}: {part.value!r}")
    assert not found, "\n".join(found)


def test_a_field_cleared_by_null_is_named_in_german(client: TestClient) -> None:
    me = client.get("/me", headers=auth("provider")).json()["organization"]["id"]
    offering = client.get("/offerings", headers=auth("provider"), params={"provider": me, "limit": 1}).json()["items"][0]
    etag = client.get(f"/offerings/{offering['id']}", headers=auth("provider")).headers["etag"]
    r = client.patch(f"/offerings/{offering['id']}", headers=auth("provider", **{"If-Match": etag}),
                     json={"annual_fee": None})
    assert r.status_code == 422, r.text
    assert r.json()["detail_de"] == "„Jahresentgelt“ muss angegeben werden und darf nicht leer sein"
    assert r.json()["detail"] == "annual_fee cannot be null"  # the English one for the API's readers, unchanged


def test_the_allowed_values_of_a_field_are_named_as_the_client_names_them(client: TestClient) -> None:
    r = client.post("/offerings", headers=auth("provider"),
                    json={"title": "Neu", "category": "Steuern & Zoll", "annual_fee": "1", "distribution_key": "flat"})
    assert r.status_code == 422, r.text
    said = next(e for e in r.json()["errors"] if e["field"] == "distribution_key")["message_de"]
    assert "„fest“" in said and "„je Einwohner“" in said and "per_inhabitant" not in said, said
