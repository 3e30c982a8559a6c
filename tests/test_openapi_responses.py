"""The OpenAPI document names the body of every success answer, and the answers keep to it.

``tests/test_schemathesis.py`` fuzzes every operation with ``response_schema_conformance``; this
file checks the document's side of that bargain (no 2xx body documented as ``{}``, no model that
lets unnamed fields through) and walks every record of the demo marketplace as each role, so
that each kind of answer (a tombstone of a delta sync, a credit note, a dry run, a replaced usage
figure, a token with its secret and its replay without it) is checked against its schema at
least once, whatever the fuzzer happens to reach.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient
from support import auth

# 2xx answers without a body.
NO_BODY = {"204"}


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _success_answers(doc: dict[str, Any]):
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            for status, answer in op["responses"].items():
                if status.startswith("2") and status not in NO_BODY:
                    yield f"{method.upper()} {path} {status}", answer


def test_every_success_answer_of_every_operation_has_a_schema(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    answers = dict(_success_answers(doc))
    assert len(answers) >= 40
    missing = []
    for label, answer in answers.items():
        content = answer.get("content") or {}
        if not content or any(not media.get("schema") for media in content.values()):
            missing.append(label)
            continue
        json_schema = content.get("application/json", {}).get("schema")
        if json_schema is not None:
            resolved = _resolve(doc, json_schema)
            # An object with its fields named, and no field left unnamed.
            if not resolved.get("properties") or resolved.get("additionalProperties") is not False:
                missing.append(f"{label} (not a closed object: {json.dumps(resolved)[:120]})")
    assert not missing, "documented as {} or open:\n" + "\n".join(missing)


def test_every_model_of_an_answer_is_closed(client: TestClient) -> None:
    """Every object schema an answer refers to, also nested ones, names all its fields."""
    doc = client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    seen: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref is not None:
                name = ref.rsplit("/", 1)[1]
                if name not in seen:
                    seen.add(name)
                    visit(schemas[name])
                return
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    for _, answer in _success_answers(doc):
        visit(answer)
    open_ = [name for name in seen if schemas[name].get("type") == "object"
             and schemas[name].get("additionalProperties") is not False]
    assert not open_, f"open answer schemas: {sorted(open_)}"


class Conformance:
    """Checks answers against the schema the document gives their operation and status."""

    def __init__(self, client: TestClient):
        self.client = client
        self.doc = client.get("/openapi.json").json()
        self._validators: dict[tuple[str, str, str], Any] = {}
        self.checked: set[tuple[str, str, str]] = set()

    def _validator(self, method: str, template: str, status: str) -> Any:
        key = (method, template, status)
        if key not in self._validators:
            answer = self.doc["paths"]["/api/v1" + template][method]["responses"][status]
            schema = answer["content"]["application/json"]["schema"]
            root = {**schema, "components": self.doc["components"]}
            self._validators[key] = jsonschema_rs.Draft202012Validator(root)
        return self._validators[key]

    def call(self, who: str, method: str, template: str, expected: int, *, json_body: Any = None,
             headers: dict[str, str] | None = None, **ids: Any) -> dict[str, Any]:
        params = ids.pop("params", None)
        response = self.client.request(method, template.format(**ids), headers=auth(who, **(headers or {})),
                                       json=json_body, params=params)
        assert response.status_code == expected, f"{who} {method} {template}: {response.status_code} {response.text[:300]}"
        body = response.json()
        validator = self._validator(method.lower(), template, str(expected))
        errors = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(body)][:5]
        assert not errors, f"{who} {method} {template} {expected} does not match its schema:\n" + "\n".join(errors)
        self.checked.add((method.upper(), template, str(expected)))
        return body


@pytest.fixture
def wire(client: TestClient) -> Conformance:
    return Conformance(client)


@pytest.mark.parametrize("who", ["customer", "customer_nohouse", "provider", "support", "operator"])
def test_every_record_a_role_reads_matches_the_document(wire: Conformance, who: str) -> None:
    wire.call(who, "GET", "/me", 200)
    big = {"limit": 1000}
    offerings = wire.call(who, "GET", "/offerings", 200, params=big)["items"]
    for offering in offerings[:20]:
        wire.call(who, "GET", "/offerings/{offering_id}", 200, offering_id=offering["id"])
    # A delta sync from the start: every record this role ever saw, tombstones too, with a total.
    delta = wire.call(who, "GET", "/offerings", 200, params={**big, "updated_since": "2000-01-01T00:00:00Z"})
    assert "total" in delta
    for org in wire.call(who, "GET", "/organizations", 200, params=big)["items"]:
        wire.call(who, "GET", "/organizations/{org_id}", 200, org_id=org["id"])
    for order in wire.call(who, "GET", "/orders", 200, params=big)["items"]:
        wire.call(who, "GET", "/orders/{order_id}", 200, order_id=order["id"])
        wire.call(who, "GET", "/orders/{order_id}/events", 200, order_id=order["id"])
    for invoice in wire.call(who, "GET", "/invoices", 200, params=big)["items"]:
        wire.call(who, "GET", "/invoices/{invoice_id}", 200, invoice_id=invoice["id"])
    wire.call(who, "GET", "/usage", 200, params=big)
    me = wire.call(who, "GET", "/me", 200)
    users = wire.call(who, "GET", "/organizations/{org_id}/users", 200, org_id=me["organization"]["id"])["items"]
    for user in users:
        wire.call(who, "GET", "/users/{user_id}", 200, user_id=user["id"])
        wire.call(who, "GET", "/users/{user_id}/tokens", 200, user_id=user["id"])
    if who in ("support", "operator"):
        wire.call(who, "GET", "/audit", 200, params=big)
        for run in wire.call(who, "GET", "/billing/runs", 200, params=big)["items"]:
            wire.call(who, "GET", "/billing/runs/{run_id}", 200, run_id=run["id"])


def test_every_kind_of_write_answer_matches_the_document(wire: Conformance) -> None:
    """One write of every kind, as the role that may make it; each answer against its schema."""
    wire.call("operator", "GET", "/healthz", 200)
    wire.call("operator", "GET", "/readyz", 200)
    offering = wire.call("provider", "POST", "/offerings", 201, json_body={
        "title": "Digitale Hundesteuer", "category": "Steuern & Zoll", "annual_fee": "1200.00"})
    etag = wire.client.get(f"/offerings/{offering['id']}", headers=auth("provider")).headers["etag"]
    wire.call("provider", "PATCH", "/offerings/{offering_id}", 200, offering_id=offering["id"],
              json_body={"summary": "Hundesteuer online"}, headers={"If-Match": etag})
    wire.call("provider", "POST", "/offerings/{offering_id}/publish", 200, offering_id=offering["id"])
    order = wire.call("customer", "POST", "/orders", 201, json_body={"offering_id": offering["id"]})
    wire.call("provider", "POST", "/orders/{order_id}/transitions", 200, order_id=order["id"],
              json_body={"action": "propose"})
    wire.call("provider", "POST", "/offerings/{offering_id}/retire", 200, offering_id=offering["id"])
    # Tombstones in a delta sync: a draft discarded is gone for its provider.
    draft = wire.call("provider", "POST", "/offerings", 201, json_body={
        "title": "Entwurf", "category": "Steuern & Zoll", "annual_fee": "10.00"})
    assert wire.client.delete(f"/offerings/{draft['id']}", headers=auth("provider")).status_code == 204
    delta = wire.call("provider", "GET", "/offerings", 200, params={"updated_since": offering["created_at"]})
    assert any(item.get("tombstone") for item in delta["items"])

    # Usage: a new figure (201), the same month replaced (200 with the figure it replaced).
    usage_orders = [o for o in wire.client.get("/orders", headers=auth("provider"), params={"limit": 1000}).json()["items"]
                    if o["state"] == "active" and (o["fees"] or {}).get("distribution_key") == "per_case"]
    assert usage_orders, "the demo has a running per-case contract"
    order_id, start = usage_orders[0]["id"], date.fromisoformat(usage_orders[0]["start_date"])
    listed = wire.client.get("/usage", headers=auth("provider"), params={"order_id": order_id, "limit": 1000}).json()
    taken = {(u["year"], u["month"]) for u in listed["items"]}
    today = date.today()
    months = [(y, m) for y in range(start.year, today.year + 1) for m in range(1, 13)
              if (start.year, start.month) <= (y, m) <= (today.year, today.month) and (y, m) not in taken]
    assert months, "a month of the running contract without a figure yet"
    first = {"order_id": order_id, "year": months[0][0], "month": months[0][1]}
    wire.call("provider", "POST", "/usage", 201, json_body={**first, "cases": 3})
    wire.call("provider", "POST", "/usage", 200, json_body={**first, "cases": 4, "replaces": 3})

    # Invoices: the check, payments, a partial credit note, a cancellation (a credit note).
    invoices = wire.client.get("/invoices", headers=auth("customer"), params={"limit": 1000, "status": "issued",
                                                                               "kind": "invoice"}).json()["items"]
    assert len(invoices) >= 2
    one, two = invoices[0], invoices[1]
    wire.call("customer", "POST", "/invoices/{invoice_id}/review", 200, invoice_id=one["id"],
              json_body={"action": "arithmetic_ok"})
    detail = wire.client.get(f"/invoices/{one['id']}", headers=auth("operator")).json()
    wire.call("operator", "POST", "/invoices/{invoice_id}/credit-notes", 201, invoice_id=one["id"],
              json_body={"line_id": detail["lines"][0]["id"], "net": "1.00", "reason": "Kulanz"})
    wire.call("operator", "POST", "/invoices/{invoice_id}/payments", 201, invoice_id=one["id"],
              json_body={"value_date": one["issue_date"], "amount": "1.00", "bank_reference": "SEPA 1"})
    wire.call("operator", "POST", "/invoices/{invoice_id}/pay", 200, invoice_id=one["id"], json_body={})
    credit = wire.call("operator", "POST", "/invoices/{invoice_id}/cancel", 201, invoice_id=two["id"],
                       json_body={"reason": "falsch berechnet"})
    assert credit["kind"] == "credit_note"

    # Billing: a dry run (200, the preview).
    wire.call("operator", "POST", "/billing/runs", 200, json_body={"year": 2025, "dry_run": True})

    # Administration: an organisation, its accreditation, a user, a token with its secret and the
    # replay without it, the audit log.
    org = wire.call("operator", "POST", "/organizations", 201, json_body={
        "key": "gemeinde-test", "kind": "customer", "name": "Gemeinde Test"})
    etag = wire.client.get(f"/organizations/{org['id']}", headers=auth("operator")).headers["etag"]
    wire.call("operator", "PATCH", "/organizations/{org_id}", 200, org_id=org["id"], json_body={"city": "Testdorf"},
              headers={"If-Match": etag})
    wire.call("operator", "POST", "/organizations/{org_id}/accreditation", 200, org_id=org["id"],
              json_body={"state": "accredited", "reason": "geprüft"})
    user = wire.call("operator", "POST", "/organizations/{org_id}/users", 201, org_id=org["id"], json_body={
        "name": "Erste Nutzerin", "email": "erste@test.example", "role": "customer", "admin": True})
    etag = wire.client.get(f"/users/{user['id']}", headers=auth("operator")).headers["etag"]
    wire.call("operator", "PATCH", "/users/{user_id}", 200, user_id=user["id"], json_body={"name": "Erste"},
              headers={"If-Match": etag})
    again = {"Idempotency-Key": "token-once"}
    token = wire.call("operator", "POST", "/users/{user_id}/tokens", 201, user_id=user["id"],
                      json_body={"name": "Laptop"}, headers=again)
    replay = wire.call("operator", "POST", "/users/{user_id}/tokens", 201, user_id=user["id"],
                       json_body={"name": "Laptop"}, headers=again)
    assert token["token"] and replay["token"] is None
    wire.call("operator", "GET", "/audit", 200)

    documented = {(method.upper(), path.removeprefix("/api/v1"), status)
                  for path, ops in wire.doc["paths"].items() for method, op in ops.items()
                  for status in op["responses"] if status.startswith("2") and status not in NO_BODY
                  and "application/json" in op["responses"][status].get("content", {})}
    reads = {answer for answer in documented if answer[0] == "GET"}
    assert not (documented - reads) - wire.checked - {("POST", "/billing/runs", "201")}, \
        f"write answers not checked here: {sorted((documented - reads) - wire.checked)}"
