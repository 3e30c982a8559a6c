"""Money and ids at the API, over HTTP: an amount is a string of ASCII digits with at most two
decimals; a JSON number, an exponent or other digits are refused with 422 at the field (Decimal()
would read "1e5" and "١٢٣"); an id is a JSON integer, never a boolean or a string."""

from __future__ import annotations

import uuid

import pytest
from support import auth

OFFERING = {"title": "Geldprobe", "category": "Querschnittsleistungen", "annual_fee": "1200.00"}
BAD_AMOUNTS = [1200, 1200.5, "1e5", "1E5", "١٢٣", "１２３", "12.345", "-5.00", " 12.00", "12,00", "", "NaN", True]


def _hdr(who: str) -> dict[str, str]:
    return auth(who, **{"Idempotency-Key": str(uuid.uuid4())})


def _field_errors(r) -> list[str]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return [e["field"] for e in r.json()["errors"]]


@pytest.mark.parametrize("amount", BAD_AMOUNTS, ids=repr)
def test_offering_amounts_are_strict(client, amount):
    r = client.post("/offerings", json={**OFFERING, "annual_fee": amount}, headers=_hdr("provider"))
    assert _field_errors(r) == ["annual_fee"]


@pytest.mark.parametrize("amount", ["1200", "1200.5", "1200.50", "0.00"])
def test_offering_amounts_as_strings_are_taken(client, amount):
    r = client.post("/offerings", json={**OFFERING, "annual_fee": amount}, headers=_hdr("provider"))
    assert r.status_code == 201, r.text
    assert r.json()["fees"]["annual_fee"] == f"{float(amount):.2f}"


@pytest.mark.parametrize("field", ["vat_rate", "one_time_fee", "unit_price"])
def test_other_money_fields_of_an_offering_too(client, field):
    r = client.post("/offerings", json={**OFFERING, "distribution_key": "per_case", "unit_price": "1.00", field: 19},
                    headers=_hdr("provider"))
    assert _field_errors(r) == [field]


def test_proposed_fees_are_strict(client):
    interests = client.get("/orders", params={"state": "interest"}, headers=auth("provider")).json()["items"]
    order = interests[0]["id"]
    fees = {"annual_fee": "1e5", "one_time_fee": "0.00", "distribution_key": "fixed", "vat_rate": "19.00"}
    r = client.post(f"/orders/{order}/transitions", json={"action": "propose", "fees": fees}, headers=_hdr("provider"))
    assert _field_errors(r) == ["fees.annual_fee"]
    r = client.post(f"/orders/{order}/transitions", json={"action": "propose", "fees": {**fees, "annual_fee": 100000}},
                    headers=_hdr("provider"))
    assert _field_errors(r) == ["fees.annual_fee"]


@pytest.mark.parametrize("value", [True, False, "12", 1.0])
def test_a_boolean_or_string_is_never_an_id(client, value):
    assert _field_errors(client.post("/orders", json={"offering_id": value}, headers=_hdr("customer"))) == ["offering_id"]
    usage = {"order_id": value, "year": 2026, "month": 1, "cases": 3}
    assert _field_errors(client.post("/usage", json=usage, headers=_hdr("provider"))) == ["order_id"]


def test_the_openapi_document_says_amounts_are_strings(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    fee = schemas["OfferingCreate"]["properties"]["annual_fee"]
    assert fee["type"] == "string" and fee["pattern"].startswith("^[0-9]")
