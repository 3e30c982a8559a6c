"""Billing: Jahresrechnungen from contracts, exactly once — also with two server processes at once —
and every demo invoice a valid XRechnung."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from efa_tui.domain.pricing import billable_months
from efa_tui.server import db
from efa_tui.xrechnung.validate import is_valid, validate_xrechnung
from support import auth, start_server, stop_server

CHECK_XRECHNUNG = Path(__file__).resolve().parents[1].parent / "shared" / "validation" / "check-xrechnung"
NEXT_YEAR = date.today().year + 1


def _run(client_or_http, year: int, k: str | None = None):
    return client_or_http.post("/billing/runs", json={"year": year},
                               headers=auth("operator", **{"Idempotency-Key": k or str(uuid.uuid4())}))


def _invoice_count(db_url: str, year: int) -> tuple[int, int]:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(db.invoices.c.customer_id).where(db.invoices.c.year == year, db.invoices.c.kind == "invoice")).all()
    engine.dispose()
    return len(rows), len({r[0] for r in rows})


def test_billing_twice_creates_no_duplicate(client, db_url):
    first = _run(client, NEXT_YEAR)
    assert first.status_code == 201
    summary = first.json()
    assert summary["status"] == "done" and summary["invoices_created"] > 0
    assert summary["contracts_billed"] == summary["contracts_total"]
    second = _run(client, NEXT_YEAR).json()
    assert second["invoices_created"] == 0
    assert {s["reason"] for s in second["skipped"]} == {"already_billed"}
    total, customers = _invoice_count(db_url, NEXT_YEAR)
    assert total == customers == summary["invoices_created"]


def test_billing_from_two_server_processes_at_once(db_url):
    """Two replicas on one database race for the same year: one invoice per customer all the same."""
    servers = [start_server(db_url) for _ in range(2)]
    try:
        answers: list[httpx.Response] = []

        def bill(base: str) -> None:
            with httpx.Client(base_url=base, timeout=120) as http:
                answers.append(_run(http, NEXT_YEAR))

        threads = [threading.Thread(target=bill, args=(base,)) for _, base in servers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for proc, _ in servers:
            stop_server(proc)
    assert [a.status_code for a in answers] == [201, 201]
    created = sum(a.json()["invoices_created"] for a in answers)
    total, customers = _invoice_count(db_url, NEXT_YEAR)
    assert total == customers == created > 0


def test_invoice_numbers_are_readable_and_unique(client):
    items = client.get("/invoices", params={"limit": 1000}, headers=auth("operator")).json()["items"]
    numbers = [i["number"] for i in items]
    assert len(numbers) == len(set(numbers)) > 20
    assert all(len(n) == 11 and n[4] == "-" and n[:4].isdigit() and n[5:].isdigit() for n in numbers)


def test_invoice_lines_follow_the_contracts_to_the_cent(client):
    """Recompute the demo customer's invoice lines for next year from its contracts."""
    _run(client, NEXT_YEAR)
    invoice = client.get("/invoices", params={"year": NEXT_YEAR}, headers=auth("customer")).json()["items"][0]
    detail = client.get(f"/invoices/{invoice['id']}", headers=auth("customer")).json()
    me = client.get("/me", headers=auth("customer")).json()["organization"]
    for line in detail["lines"]:
        order = client.get(f"/orders/{line['order_id']}", headers=auth("customer")).json()
        fees = order["fees"]
        start = date.fromisoformat(order["start_date"])
        end = date.fromisoformat(order["end_date"]) if order["end_date"] else None
        months = billable_months(start, end, NEXT_YEAR)
        if line["kind"] == "annual":
            expected = (D(fees["annual_fee"]) * months / 12).quantize(D("0.01"))
        elif line["kind"] == "per_inhabitant":
            expected = (D(me["population"]) / 1000 * D(fees["unit_price"]) * months / 12).quantize(D("0.01"))
        elif line["kind"] == "target_group":
            expected = (D(order["target_group_size"]) / 1000 * D(fees["unit_price"]) * months / 12).quantize(D("0.01"))
        elif line["kind"] == "per_case":
            expected = D(line["quantity"]) * D(fees["unit_price"])
        else:
            continue
        assert D(line["net"]) == expected, line
        assert line["months"] in (months, 0)
    nets = sum(D(x["net"]) for x in detail["lines"])
    assert D(detail["net"]) == nets
    assert D(detail["gross"]) == D(detail["net"]) + D(detail["vat"])
    assert D(detail["vat"]) == sum(D(g["tax"]) for g in detail["vat_breakdown"])


def test_contract_starting_mid_year_is_billed_pro_rata_and_one_time_fee_once(client):
    me = client.get("/me", headers=auth("provider")).json()
    offering = client.get("/offerings", params={"provider": me["organization"]["id"]},
                          headers=auth("provider")).json()["items"][0]
    hdr = lambda who: auth(who, **{"Idempotency-Key": str(uuid.uuid4())})  # noqa: E731
    order = client.post("/orders", json={"offering_id": offering["id"]}, headers=hdr("customer2")).json()
    client.post(f"/orders/{order['id']}/transitions", json={"action": "propose", "fees": {
        "annual_fee": "1200.00", "one_time_fee": "350.00", "distribution_key": "fixed", "vat_rate": "19.00"}}, headers=hdr("provider"))
    client.post(f"/orders/{order['id']}/transitions", json={"action": "order"}, headers=hdr("customer2"))
    start = date(NEXT_YEAR, 3, 15)  # April … December: 9 months
    client.post(f"/orders/{order['id']}/transitions", json={"action": "activate", "start_date": start.isoformat()}, headers=hdr("provider"))
    _run(client, NEXT_YEAR)
    inv = client.get("/invoices", params={"year": NEXT_YEAR}, headers=auth("customer2")).json()["items"][0]
    lines = [x for x in client.get(f"/invoices/{inv['id']}", headers=auth("customer2")).json()["lines"] if x["order_id"] == order["id"]]
    assert [(x["kind"], x["months"], x["net"]) for x in lines] == [("annual", 9, "900.00"), ("one_time", 0, "350.00")]
    assert "9/12" in lines[0]["description"]
    _run(client, NEXT_YEAR + 1)
    inv2 = client.get("/invoices", params={"year": NEXT_YEAR + 1}, headers=auth("customer2")).json()["items"][0]
    lines2 = [x for x in client.get(f"/invoices/{inv2['id']}", headers=auth("customer2")).json()["lines"] if x["order_id"] == order["id"]]
    assert [(x["kind"], x["months"], x["net"]) for x in lines2] == [("annual", 12, "1200.00")]


def test_paid_overdue_and_credit_note(client):
    invoices = client.get("/invoices", params={"limit": 1000}, headers=auth("operator")).json()["items"]
    assert any(i["overdue"] for i in invoices), "the demo keeps two of last year's invoices open and overdue"
    issued = next(i for i in invoices if i["status"] == "issued" and not i["overdue"])
    paid = client.post(f"/invoices/{issued['id']}/pay", headers=auth("operator"))
    assert paid.json()["status"] == "paid"
    other = next(i for i in invoices if i["status"] == "issued" and i["id"] != issued["id"])
    credit = client.post(f"/invoices/{other['id']}/cancel", json={"reason": "falscher Leistungszeitraum"}, headers=auth("operator"))
    assert credit.status_code == 201
    body = credit.json()
    assert body["kind"] == "credit_note" and body["cancels_invoice"] == other["number"] and body["gross"] == other["gross"]
    assert client.get(f"/invoices/{other['id']}", headers=auth("operator")).json()["status"] == "cancelled"
    xml = client.get(f"/invoices/{body['id']}/xrechnung", headers=auth("operator")).content
    assert b"<ram:TypeCode>381</ram:TypeCode>" in xml and other["number"].encode() in xml
    assert is_valid(validate_xrechnung(xml))


def test_review_is_recorded_and_visible_to_the_operator(client):
    invoice = client.get("/invoices", headers=auth("customer")).json()["items"][0]
    detail = client.get(f"/invoices/{invoice['id']}", headers=auth("customer")).json()
    hdr = auth("customer", **{"Idempotency-Key": str(uuid.uuid4())})
    assert client.post(f"/invoices/{invoice['id']}/review", json={"action": "arithmetic_ok"}, headers=hdr).status_code == 200
    line = detail["lines"][0]
    disputed = client.post(f"/invoices/{invoice['id']}/review", json={"action": "dispute", "line_ids": [line["id"]],
                           "reason": "Leistung erst ab Mai erbracht"}, headers=auth("customer"))
    assert disputed.status_code == 200
    seen = client.get(f"/invoices/{invoice['id']}", headers=auth("operator")).json()
    assert seen["review"]["arithmetic_ok_by"] == "Anna Schmidt" and seen["review"]["arithmetic_ok_at"]
    assert seen["review"]["factual_ok_by"] is None
    assert seen["lines"][0]["dispute"]["reason"] == "Leistung erst ab Mai erbracht"
    no_reason = client.post(f"/invoices/{invoice['id']}/review", json={"action": "dispute", "line_ids": [line["id"]]},
                            headers=auth("customer"))
    assert no_reason.status_code == 422


def test_every_demo_invoice_is_a_valid_xrechnung(client):
    items = client.get("/invoices", params={"limit": 1000}, headers=auth("operator")).json()["items"]
    assert len(items) > 20
    for item in items:
        resp = client.get(f"/invoices/{item['id']}/xrechnung", headers=auth("operator"))
        assert resp.headers["content-type"].startswith("application/xml")
        findings = [f for f in validate_xrechnung(resp.content) if f.severity == "fatal"]
        assert not findings, (item["number"], findings)
        assert item["leitweg_id"].encode() in resp.content


def test_demo_invoices_pass_the_official_en16931_rules(client, tmp_path):
    if not CHECK_XRECHNUNG.exists():
        pytest.skip("../shared/validation not present: official EN 16931 1.3.16 rules not run")
    files = []
    for item in client.get("/invoices", params={"limit": 5}, headers=auth("operator")).json()["items"]:
        path = tmp_path / f"{item['number']}.xml"
        path.write_bytes(client.get(f"/invoices/{item['id']}/xrechnung", headers=auth("operator")).content)
        files.append(str(path))
    result = subprocess.run([sys.executable, str(CHECK_XRECHNUNG), *files], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_billing_is_enforced_in_the_database(db_url):
    """The unique billing_key is what stops duplicates, whatever the application code does."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        row = conn.execute(select(db.invoices).limit(1)).one()
        before = conn.execute(select(func.count()).select_from(db.invoices)).scalar_one()
    values = {k: v for k, v in row._mapping.items() if k not in ("id", "number")}
    with pytest.raises(Exception, match="UNIQUE|unique"):
        with engine.begin() as conn:
            conn.execute(db.invoices.insert().values(**values))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.invoices)).scalar_one() == before
    engine.dispose()
