"""The invoice check an auditor would sign, payments, partial credit notes, contract dates and
usage months — over real HTTP against the reference server in its own process.

Each test gets a fresh copy of the demo marketplace (``live_server``).
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from support import auth

from efa_tui.domain.orders import activation_window, add_months, termination_window

CHECK_XRECHNUNG = Path(__file__).resolve().parents[1].parent / "shared" / "validation" / "check-xrechnung"


def call(base: str, who: str, method: str, path: str, **kwargs) -> httpx.Response:
    headers = auth(who)
    if method == "POST":
        headers["Idempotency-Key"] = str(uuid.uuid4())
    return httpx.request(method, base + path, headers=headers, timeout=30, **kwargs)


def ok(resp: httpx.Response, status: int = 200) -> dict:
    assert resp.status_code == status, resp.text
    return resp.json()


def problem(resp: httpx.Response, status: int, type_: str | None = None) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    doc = resp.json()
    if type_:
        assert doc["type"].endswith(type_), doc
    return doc


def open_invoice(base: str, who: str = "customer") -> dict:
    """An issued invoice of the customer (this year's), with its lines."""
    items = ok(call(base, who, "GET", "/invoices", params={"status": "issued", "kind": "invoice", "limit": 100}))["items"]
    current = max(items, key=lambda x: x["year"])
    return ok(call(base, who, "GET", f"/invoices/{current['id']}"))


def review(base: str, invoice_id: int, action: str, **body) -> httpx.Response:
    return call(base, "customer", "POST", f"/invoices/{invoice_id}/review", json={"action": action, **body})


# --- sign-offs ---------------------------------------------------------------------------------------


def test_a_disputed_line_blocks_sachlich_richtig_until_resolved(live_server):
    inv = open_invoice(live_server)
    line = inv["lines"][0]
    ok(review(live_server, inv["id"], "dispute", line_ids=[line["id"]], reason="Leistung erst ab Mai erbracht"))
    refused = problem(review(live_server, inv["id"], "factual_ok"), 409, "disputed-lines")
    assert str(line["position"]) in refused["detail"] and "disputed" in refused["detail"]
    assert refused["disputed_lines"] == [line["id"]]
    # Rechnerisch richtig is a check of the arithmetic: a dispute about the service does not block it.
    ok(review(live_server, inv["id"], "arithmetic_ok"))
    resolved = ok(review(live_server, inv["id"], "resolve", line_ids=[line["id"]], reason="Beginn geklärt"))
    assert resolved["lines"][0]["dispute"] is None
    done = ok(review(live_server, inv["id"], "factual_ok"))
    assert done["review"]["factual_ok_by"] == "Anna Schmidt" and done["review"]["factual_ok_at"]
    history = done["review_history"]
    assert [h["action"] for h in history] == ["dispute", "arithmetic_ok", "resolve", "factual_ok"]
    assert all(h["by"] == "Anna Schmidt" and h["at"] for h in history)
    assert history[0]["line_ids"] == [line["id"]] and history[0]["reason"] == "Leistung erst ab Mai erbracht"


def test_no_dispute_next_to_both_sign_offs(live_server):
    inv = open_invoice(live_server)
    ok(review(live_server, inv["id"], "factual_ok"))
    ok(review(live_server, inv["id"], "arithmetic_ok"))
    refused = problem(review(live_server, inv["id"], "dispute", line_ids=[inv["lines"][0]["id"]], reason="doch nicht"), 409)
    assert "withdraw" in refused["detail"]
    problem(review(live_server, inv["id"], "factual_ok"), 409, "already-confirmed")
    listed = ok(call(live_server, "customer", "GET", "/invoices", params={"number": inv["number"]}))["items"][0]
    assert listed["disputed_lines"] == 0 and listed["review"]["factual_ok_at"] and listed["review"]["arithmetic_ok_at"]


def test_a_sign_off_is_withdrawn_before_payment_and_recorded(live_server):
    inv = open_invoice(live_server)
    ok(review(live_server, inv["id"], "factual_ok"))
    withdrawn = ok(review(live_server, inv["id"], "withdraw_factual", reason="Leistung doch nicht vollständig"))
    assert withdrawn["review"]["factual_ok_at"] is None and withdrawn["review"]["factual_ok_by"] is None
    last = withdrawn["review_history"][-1]
    assert last["action"] == "withdraw_factual" and last["by"] == "Anna Schmidt" and last["at"]
    problem(review(live_server, inv["id"], "withdraw_factual"), 409, "not-confirmed")
    ok(review(live_server, inv["id"], "arithmetic_ok"))
    ok(call(live_server, "operator", "POST", f"/invoices/{inv['id']}/payments",
            json={"value_date": date.today().isoformat(), "amount": "10.00", "bank_reference": "Abschlag"}), 201)
    refused = problem(review(live_server, inv["id"], "withdraw_arithmetic"), 409, "paid")
    assert "payment" in refused["detail"]


# --- payments ------------------------------------------------------------------------------------------


def test_partial_payments_with_value_date_amount_and_reference(live_server):
    inv = open_invoice(live_server, "operator")
    gross = Decimal(inv["gross"])
    today = date.today()
    path = f"/invoices/{inv['id']}/payments"
    first = ok(call(live_server, "operator", "POST", path,
                    json={"value_date": today.isoformat(), "amount": "1000.00", "bank_reference": "E2E-4711"}), 201)
    assert first["status"] == "issued" and first["partially_paid"] is True
    assert Decimal(first["paid_amount"]) == Decimal("1000.00") and Decimal(first["open_amount"]) == gross - 1000
    assert first["payments"][0] == {**first["payments"][0], "value_date": today.isoformat(), "amount": "1000.00",
                                    "bank_reference": "E2E-4711", "recorded_by": first["payments"][0]["recorded_by"]}
    too_much = problem(call(live_server, "operator", "POST", path, json={
        "value_date": today.isoformat(), "amount": str(gross), "bank_reference": "zu viel"}), 422)
    assert too_much["open_amount"] == first["open_amount"] and too_much["errors"][0]["field"] == "amount"
    future = problem(call(live_server, "operator", "POST", path, json={
        "value_date": (today + timedelta(days=3)).isoformat(), "amount": "1.00", "bank_reference": "x"}), 422)
    assert future["errors"][0]["field"] == "value_date"
    problem(call(live_server, "operator", "POST", path, json={"value_date": today.isoformat(), "amount": "1.00",
                                                            "bank_reference": ""}), 422)
    rest = ok(call(live_server, "operator", "POST", path, json={
        "value_date": today.isoformat(), "amount": first["open_amount"], "bank_reference": "E2E-4712"}), 201)
    assert rest["status"] == "paid" and rest["open_amount"] == "0.00" and rest["paid_at"].startswith(today.isoformat())
    assert [p["bank_reference"] for p in rest["payments"]] == ["E2E-4711", "E2E-4712"]
    problem(call(live_server, "operator", "POST", path, json={"value_date": today.isoformat(), "amount": "1.00",
                                                            "bank_reference": "x"}), 409, "invalid-state")
    problem(call(live_server, "customer", "POST", path, json={"value_date": today.isoformat(), "amount": "1.00",
                                                            "bank_reference": "x"}), 403)


def test_overdue_shows_the_open_amount(live_server):
    items = ok(call(live_server, "operator", "GET", "/invoices", params={"status": "issued", "limit": 1000}))["items"]
    late = next(x for x in items if x["overdue"])
    assert late["open_amount"] == late["gross"]
    paid = ok(call(live_server, "operator", "POST", f"/invoices/{late['id']}/payments", json={
        "value_date": date.today().isoformat(), "amount": "100.00", "bank_reference": "Teilzahlung"}), 201)
    assert paid["overdue"] is True and Decimal(paid["open_amount"]) == Decimal(late["gross"]) - 100


# --- partial credit notes ----------------------------------------------------------------------------


def test_a_partial_credit_note_for_a_disputed_line(live_server, tmp_path):
    inv = open_invoice(live_server)
    line = max(inv["lines"], key=lambda x: Decimal(x["net"]))
    ok(review(live_server, inv["id"], "dispute", line_ids=[line["id"]], reason="Nur 10 von 12 Monaten erbracht"))
    path = f"/invoices/{inv['id']}/credit-notes"
    problem(call(live_server, "operator", "POST", path, json={"line_id": line["id"], "net": str(Decimal(line["net"]) + 1),
                                                            "reason": "zu viel"}), 422)
    credit = ok(call(live_server, "operator", "POST", path, json={"line_id": line["id"], "net": "100.00",
                                                                "reason": "Zwei Monate nicht erbracht"}), 201)
    assert credit["kind"] == "credit_note" and credit["credit_scope"] == "partial"
    assert credit["cancels_invoice"] == inv["number"] and credit["net"] == "100.00"
    assert credit["lines"][0]["net"] == "100.00" and str(line["position"]) in credit["lines"][0]["name"]
    after = ok(call(live_server, "customer", "GET", f"/invoices/{inv['id']}"))
    assert after["status"] == "issued" and after["credited_amount"] == credit["gross"]
    assert Decimal(after["open_amount"]) == Decimal(inv["gross"]) - Decimal(credit["gross"])
    assert all(x["dispute"] is None for x in after["lines"])  # the credit note settles the dispute
    assert after["credit_notes"] == [{**after["credit_notes"][0], "number": credit["number"], "scope": "partial"}]
    ok(review(live_server, inv["id"], "factual_ok"))  # nothing disputed any more
    # A full cancellation over a partly credited invoice would credit twice: refused with the reason.
    problem(call(live_server, "operator", "POST", f"/invoices/{inv['id']}/cancel", json={"reason": "storno"}), 409, "partly-settled")
    # The customer's check of the credit note: its line is checked for its own arithmetic (no contract gives it).
    from efa_tui.api.models import Invoice, Order
    from efa_tui.store.invoice_detail import run_check

    order = Order.model_validate(ok(call(live_server, "customer", "GET", f"/orders/{line['order_id']}")))
    check = run_check(Invoice.model_validate(credit), {line["order_id"]: order}, None, {})
    assert check is not None and check.ok, check
    xml = call(live_server, "customer", "GET", f"/invoices/{credit['id']}/xrechnung")
    assert xml.status_code == 200
    assert b">381<" in xml.content and inv["number"].encode() in xml.content
    if CHECK_XRECHNUNG.exists():
        file = tmp_path / "credit.xml"
        file.write_bytes(xml.content)
        result = subprocess.run([sys.executable, str(CHECK_XRECHNUNG), str(file)], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr


# --- contract dates ------------------------------------------------------------------------------------


def _bound_order(base: str) -> dict:
    """A fresh binding order (state ordered) of the demo customer with the demo provider."""
    offerings = ok(call(base, "provider", "GET", "/offerings", params={"provider": _org(base, "provider"), "status": "published",
                                                                      "limit": 1000}))["items"]
    offering = offerings[0]
    order = ok(call(base, "customer", "POST", "/orders", json={"offering_id": offering["id"], "message": "Test"}), 201)
    ok(call(base, "provider", "POST", f"/orders/{order['id']}/transitions", json={"action": "propose"}))
    return ok(call(base, "customer", "POST", f"/orders/{order['id']}/transitions", json={"action": "order"}))


def _org(base: str, who: str) -> int:
    return ok(call(base, who, "GET", "/me"))["organization"]["id"]


def _move(base: str, who: str, order_id: int, **body) -> httpx.Response:
    return call(base, who, "POST", f"/orders/{order_id}/transitions", json=body)


def test_ordered_at_is_the_time_of_the_order_event(live_server):
    order = _bound_order(live_server)
    events = ok(call(live_server, "customer", "GET", f"/orders/{order['id']}/events"))["items"]
    assert order["ordered_at"] == next(e["at"] for e in events if e["action"] == "order")
    # The demo seed too: each seeded binding order is as old as its event, not the seeding time.
    for seeded in ok(call(live_server, "customer", "GET", "/orders", params={"state": "active", "limit": 5}))["items"]:
        events = ok(call(live_server, "customer", "GET", f"/orders/{seeded['id']}/events"))["items"]
        assert seeded["ordered_at"] == next(e["at"] for e in events if e["action"] == "order")
        assert seeded["ordered_at"][:10] <= seeded["start_date"]


def test_activation_not_before_the_binding_order_nor_absurdly_far(live_server):
    order = _bound_order(live_server)
    today = date.today()
    for start in ("0001-01-01", (today - timedelta(days=1)).isoformat()):
        refused = problem(_move(live_server, "provider", order["id"], action="activate", start_date=start), 422)
        assert refused["earliest_date"] == today.isoformat()
        assert today.isoformat() in refused["detail"] and refused["errors"][0]["field"] == "start_date"
    far = problem(_move(live_server, "provider", order["id"], action="activate", start_date="2999-01-01"), 422)
    assert far["latest_date"] == activation_window(today, today).latest.isoformat()
    started = ok(_move(live_server, "provider", order["id"], action="activate", start_date=today.isoformat()))
    assert started["state"] == "active" and started["start_date"] == today.isoformat()


def test_termination_respects_minimum_term_and_notice(live_server):
    order = _bound_order(live_server)
    today = date.today()
    active = ok(_move(live_server, "provider", order["id"], action="activate", start_date=today.isoformat()))
    window = termination_window(today, today, minimum_term_months=active["minimum_term_months"],
                                notice_months=active["notice_period_months"])
    assert window.earliest >= add_months(today, active["minimum_term_months"]) - timedelta(days=1)
    retro = problem(_move(live_server, "customer", order["id"], action="terminate", end_date=(today - timedelta(days=30)).isoformat()), 422)
    assert retro["earliest_date"] == window.earliest.isoformat() and window.earliest.isoformat() in retro["detail"]
    problem(_move(live_server, "customer", order["id"], action="terminate",
                  end_date=(window.earliest - timedelta(days=1)).isoformat()), 422)
    far = problem(_move(live_server, "customer", order["id"], action="terminate", end_date="9999-12-31"), 422)
    assert far["errors"][0]["code"] == "too_late"
    done = ok(_move(live_server, "customer", order["id"], action="terminate"))  # no date: the earliest allowed one
    assert done["state"] == "terminated" and done["end_date"] == window.earliest.isoformat()


# --- usage ------------------------------------------------------------------------------------------------


def _per_case_contract(base: str) -> dict:
    orders = ok(call(base, "provider", "GET", "/orders", params={"state": "active", "limit": 1000}))["items"]
    return next(o for o in orders if (o["fees"] or {}).get("distribution_key") == "per_case")


def test_usage_only_for_months_of_the_term(live_server):
    order = _per_case_contract(live_server)
    start = date.fromisoformat(order["start_date"])
    before = add_months(start, -1)
    refused = problem(call(live_server, "provider", "POST", "/usage", json={
        "order_id": order["id"], "year": before.year, "month": before.month, "cases": 5}), 422)
    assert refused["first_month"] == f"{start.year:04d}-{start.month:02d}" and refused["errors"][0]["field"] == "month"
    ahead = add_months(date.today(), 1)
    problem(call(live_server, "provider", "POST", "/usage", json={
        "order_id": order["id"], "year": ahead.year, "month": ahead.month, "cases": 5}), 422)


def test_replacing_a_reported_figure_names_the_old_one(live_server):
    order = _per_case_contract(live_server)
    reports = ok(call(live_server, "provider", "GET", "/usage", params={"order_id": order["id"]}))["items"]
    old = reports[0]
    month = {"order_id": order["id"], "year": old["year"], "month": old["month"]}
    refused = problem(call(live_server, "provider", "POST", "/usage", json={**month, "cases": old["cases"] + 1}), 409, "usage-exists")
    assert refused["current_cases"] == old["cases"] and str(old["cases"]) in refused["detail"]
    problem(call(live_server, "provider", "POST", "/usage", json={**month, "cases": old["cases"] + 1,
                                                                "replaces": old["cases"] + 7}), 409, "usage-exists")
    replaced = ok(call(live_server, "provider", "POST", "/usage", json={**month, "cases": old["cases"] + 1,
                                                                      "replaces": old["cases"]}))
    assert replaced["cases"] == old["cases"] + 1 and replaced["replaced_cases"] == old["cases"]
    again = ok(call(live_server, "provider", "GET", "/usage", params={"order_id": order["id"]}))["items"]
    assert next(r for r in again if r["id"] == old["id"])["cases"] == old["cases"] + 1


def test_demo_contracts_follow_the_date_rules(live_server):
    """The seeded history went through the same rules: no contract starts before its order."""
    for order in ok(call(live_server, "operator", "GET", "/orders", params={"limit": 1000}))["items"]:
        if order["start_date"] and order["ordered_at"]:
            assert order["start_date"] >= order["ordered_at"][:10], order["id"]
        if order["state"] == "terminated":
            start = date.fromisoformat(order["start_date"])
            assert date.fromisoformat(order["end_date"]) >= add_months(start, order["minimum_term_months"]) - timedelta(days=1)
