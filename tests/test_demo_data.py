"""The shipped demo data (organisations, users, offerings) is complete and consistent."""

from __future__ import annotations

import json
import re
from collections import Counter
from decimal import Decimal, InvalidOperation
from importlib.resources import files

import pytest

from efa_tui.domain.leitweg import check_leitweg_id

BUNDESLAENDER = {"BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV", "NI", "NW", "RP", "SL", "SN", "ST", "SH", "TH"}
CATEGORIES = {
    "Arbeit & Ruhestand", "Bauen & Wohnen", "Bildung", "Ein- & Auswanderung", "Engagement & Hobby",
    "Familie & Kind", "Forschung & Förderung", "Gesundheit", "Mobilität & Reisen", "Querschnittsleistungen",
    "Recht & Ordnung", "Steuern & Zoll", "Umwelt", "Unternehmensführung & -entwicklung",
}
DISTRIBUTION_KEYS = {"fixed", "per_inhabitant", "per_case", "target_group"}
ORG_KEYS = {
    "key", "kind", "name", "short_name", "street", "postcode", "city", "bundesland", "email", "phone",
    "contact_name", "vat_id", "iban", "bic", "ags", "population", "leitweg_ids", "inhouse_operator",
    "customer_type",
}
OFFERING_KEYS = {
    "key", "provider", "title", "summary", "description", "category", "leika_key", "ozg_id", "bundeslaender",
    "maturity", "annual_fee", "one_time_fee", "distribution_key", "unit_price", "unit_label", "vat_rate",
    "contract_terms", "minimum_term_months", "notice_period_months", "contact_name", "contact_email",
    "contact_phone", "keywords", "status",
}


def _load(name: str) -> dict:
    resource = files("efa_tui.server.demo") / "data" / name
    return json.loads(resource.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def orgs_doc() -> dict:
    return _load("organizations.json")


@pytest.fixture(scope="module")
def orgs(orgs_doc) -> list[dict]:
    return orgs_doc["organizations"]


@pytest.fixture(scope="module")
def by_key(orgs) -> dict[str, dict]:
    return {o["key"]: o for o in orgs}


@pytest.fixture(scope="module")
def offerings() -> list[dict]:
    return _load("offerings.json")["offerings"]


def _kind(orgs, kind):
    return [o for o in orgs if o["kind"] == kind]


def _iban_ok(iban: str) -> bool:
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", iban):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _money(value: str) -> Decimal:
    assert isinstance(value, str), value
    assert re.fullmatch(r"\d+\.\d{2}", value), value
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the regex already guards this
        pytest.fail(f"not a decimal: {value!r}")


def test_counts(orgs, offerings):
    assert len(_kind(orgs, "operator")) == 2
    assert len(_kind(orgs, "provider")) == 12
    assert len(_kind(orgs, "customer")) >= 32
    assert len(offerings) >= 65
    assert {o["kind"] for o in orgs} == {"operator", "provider", "customer"}


def test_unique_keys(orgs, offerings, orgs_doc):
    org_keys = [o["key"] for o in orgs]
    assert len(org_keys) == len(set(org_keys))
    off_keys = [o["key"] for o in offerings]
    assert len(off_keys) == len(set(off_keys))
    tokens = [u["token"] for u in orgs_doc["users"]]
    assert len(tokens) == len(set(tokens))
    for key in org_keys + off_keys:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", key), key


def test_organization_fields(orgs):
    for o in orgs:
        assert set(o) - {"roles"} == ORG_KEYS, o["key"]  # roles: when more than its kind
        assert o["bundesland"] in BUNDESLAENDER, o["key"]
        assert re.fullmatch(r"\d{5}", o["postcode"]), o["key"]
        assert o["phone"].startswith("+49 "), o["key"]
        assert "@" in o["email"], o["key"]
        for field in ("name", "short_name", "street", "city", "contact_name"):
            assert o[field], (o["key"], field)
        if o["kind"] in ("operator", "provider"):
            assert re.fullmatch(r"DE\d{9}", o["vat_id"]), o["key"]
            for field in ("ags", "population", "inhouse_operator", "customer_type"):
                assert o[field] is None, (o["key"], field)
            assert o["leitweg_ids"] == [], o["key"]
        if o["kind"] == "operator":
            assert o["iban"] and o["bic"], o["key"]
        else:
            assert o["iban"] is None and o["bic"] is None, o["key"]
        if o["kind"] == "customer":
            assert o["vat_id"] is None, o["key"]
            assert o["customer_type"] in ("kommune", "kreis", "land"), o["key"]
            assert isinstance(o["population"], int) and o["population"] > 0, o["key"]
            if o["customer_type"] == "land":
                assert re.fullmatch(r"\d{2}", o["ags"]), o["key"]
            else:
                assert re.fullmatch(r"\d{8}", o["ags"]), o["key"]


def test_operators(by_key):
    assert by_key["govdigital"]["kind"] == "operator"
    assert by_key["fitko"]["kind"] == "operator"


def test_operator_ibans_valid(orgs):
    for o in _kind(orgs, "operator"):
        assert o["iban"].startswith("DE") and len(o["iban"]) == 22, o["iban"]
        assert _iban_ok(o["iban"]), o["iban"]
        assert re.fullmatch(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?", o["bic"]), o["bic"]
    assert not _iban_ok("DE00100500000190458712")  # the check itself rejects a wrong IBAN


def test_customer_leitweg_ids_valid(orgs):
    for c in _kind(orgs, "customer"):
        assert c["leitweg_ids"], c["key"]
        for value in c["leitweg_ids"]:
            result = check_leitweg_id(value)
            assert result.ok, (c["key"], value, result.reason_en)
            # The coarse part is the customer's AGS.
            assert value.split("-")[0] == c["ags"], c["key"]
    # The demo shows the list: one organisation routes invoices to two offices.
    assert any(len(c["leitweg_ids"]) == 2 for c in orgs)


def test_one_demo_organisation_orders_and_provides(by_key):
    assert by_key["hamburg"]["roles"] == ["customer", "provider"] and by_key["hamburg"]["kind"] == "customer"


def test_customers_order_and_inhouse(orgs):
    customers = _kind(orgs, "customer")
    assert customers[0]["key"] == "muenchen" and customers[0]["inhouse_operator"] == "govdigital"
    assert customers[1]["key"] == "hamburg" and customers[1]["inhouse_operator"] == "fitko"
    without = [c for c in customers if c["inhouse_operator"] is None]
    assert len(without) >= 4
    assert {c["bundesland"] for c in customers} == BUNDESLAENDER
    assert {c["customer_type"] for c in customers} == {"kommune", "kreis", "land"}


def test_references_resolve(orgs, by_key, offerings, orgs_doc):
    operators = {o["key"] for o in _kind(orgs, "operator")}
    providers = {o["key"] for o in _kind(orgs, "provider")}
    for c in _kind(orgs, "customer"):
        assert c["inhouse_operator"] is None or c["inhouse_operator"] in operators, c["key"]
    for off in offerings:
        assert off["provider"] in providers, off["key"]
    for u in orgs_doc["users"]:
        assert u["org"] in by_key, u["token"]
    # Every provider offers something; AKDB and Dataport offer several.
    per_provider = Counter(off["provider"] for off in offerings)
    assert set(per_provider) == providers
    assert per_provider["akdb"] >= 3 and per_provider["dataport"] >= 3


def test_demo_users(orgs_doc, by_key):
    users = {u["token"]: u for u in orgs_doc["users"]}
    expected = {
        "demo-customer": ("muenchen", "customer"),
        "demo-customer-2": ("hamburg", "customer"),
        "demo-provider": ("akdb", "provider"),
        "demo-provider-2": ("dataport", "provider"),
        "demo-support": ("govdigital", "support"),
        "demo-operator": ("govdigital", "operator"),
    }
    for token, (org, role) in expected.items():
        assert token in users, token
        assert (users[token]["org"], users[token]["role"]) == (org, role), token
    nohouse = users["demo-customer-nohouse"]
    assert nohouse["role"] == "customer"
    assert by_key[nohouse["org"]]["kind"] == "customer"
    assert by_key[nohouse["org"]]["inhouse_operator"] is None
    for u in orgs_doc["users"]:
        assert set(u) == {"token", "org", "role", "name", "email"}, u["token"]
        assert u["name"] and "@" in u["email"], u["token"]


def test_offering_fields(offerings):
    for off in offerings:
        assert set(off) == OFFERING_KEYS, off["key"]
        assert off["category"] in CATEGORIES, off["key"]
        assert re.fullmatch(r"\d{14}", off["leika_key"]), off["key"]
        assert re.fullmatch(r"OZG-\d{4}", off["ozg_id"]), off["key"]
        assert set(off["bundeslaender"]) <= BUNDESLAENDER, off["key"]
        assert off["maturity"] in range(0, 5), off["key"]
        assert off["minimum_term_months"] in (12, 24), off["key"]
        assert off["notice_period_months"] in (3, 6), off["key"]
        assert 2 <= len(off["keywords"]) <= 5, off["key"]
        assert off["status"] in ("published", "draft", "retired"), off["key"]
        for field in ("title", "summary", "description", "contract_terms", "contact_name", "contact_phone"):
            assert off[field], (off["key"], field)
        assert "@" in off["contact_email"], off["key"]


def test_categories_and_distribution_keys(offerings):
    assert {o["category"] for o in offerings} == CATEGORIES
    keys = Counter(o["distribution_key"] for o in offerings)
    assert set(keys) == DISTRIBUTION_KEYS
    for key in ("per_inhabitant", "per_case", "target_group"):
        assert keys[key] >= 8, key


def test_money_fields(offerings):
    for off in offerings:
        annual = _money(off["annual_fee"])
        one_time = _money(off["one_time_fee"])
        assert Decimal("1200") <= annual <= Decimal("60000"), off["key"]
        assert Decimal("0") <= one_time <= Decimal("25000"), off["key"]
        assert off["vat_rate"] in ("19.00", "0.00"), off["key"]
        _money(off["vat_rate"])
        if off["distribution_key"] == "fixed":
            assert off["unit_price"] is None and off["unit_label"] is None, off["key"]
        else:
            assert _money(off["unit_price"]) > 0, off["key"]
            assert off["unit_label"], off["key"]


def test_statuses(offerings):
    statuses = Counter(o["status"] for o in offerings)
    assert statuses["draft"] == 2
    assert statuses["retired"] == 2


def test_bauantrag_searchable(offerings):
    hits = [o for o in offerings if "bauantrag" in o["title"].lower()]
    assert len(hits) >= 3
