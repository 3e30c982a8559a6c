"""Rechnungsprüfung: every line recomputed from its contract with the billing rules; a tampered
line on the server is flagged with the right expected amount and difference; sums re-added."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import create_engine, select, update

from efa_tui.api.client import ApiClient
from efa_tui.api.models import Invoice
from efa_tui.domain.invoice_check import (
    AMOUNT,
    CASES_UNKNOWN,
    MONTHS,
    NOT_BILLED,
    NOT_IN_CONTRACT,
    UNIT_PRICE,
    BilledLine,
    Contract,
    LineStatus,
    check_invoice,
)
from efa_tui.domain.invoicing import invoice_totals
from efa_tui.domain.pricing import DistributionKey, Fees
from efa_tui.server import db
from efa_tui.store.cache import Cache
from efa_tui.store.invoice_detail import load_detail

FIXED = Contract(1, Fees(D("4800.00"), D("0.00"), DistributionKey.FIXED, None, D("19.00")), date(2026, 8, 1))
PER_CASE = Contract(2, Fees(D("1200.00"), D("0.00"), DistributionKey.PER_CASE, D("0.90"), D("19.00")), date(2025, 1, 1))
INHABITANTS = Contract(3, Fees(D("0.00"), D("500.00"), DistributionKey.PER_INHABITANT, D("12.50"), D("0.00")),
                       date(2026, 3, 15), population=148_372)


def _line(pos, order_id, kind, qty, price, months, net, rate="19.00") -> BilledLine:
    return BilledLine(pos, order_id, kind, D(qty), D(price), months, D(net), D(rate))


def _check(lines, contracts=(FIXED, PER_CASE, INHABITANTS), cases=None, **stated):
    totals = invoice_totals((x.net, x.vat_rate) for x in lines)
    kw = {"stated_net": totals.net, "stated_vat": totals.vat, "stated_gross": totals.gross, **stated}
    return check_invoice(2026, lines, {c.order_id: c for c in contracts}, cases=cases if cases is not None else {2: 2404}, **kw)


def _right_lines() -> list[BilledLine]:
    # 4,800 € a year from 1 Aug: 5/12 = 2,000.00; per case 2,404 × 0.90 = 2,163.60;
    # per inhabitant: starts 15 Mar → April to December = 9 months; 148.372 × 12.50 × 9/12 = 1,390.99 (half-up)
    return [
        _line(1, 1, "annual", "1", "4800.00", 5, "2000.00"),
        _line(2, 2, "annual", "1", "1200.00", 12, "1200.00"),
        _line(3, 2, "per_case", "2404", "0.90", 0, "2163.60"),
        _line(4, 3, "one_time", "1", "500.00", 0, "500.00", "0.00"),
        _line(5, 3, "per_inhabitant", "148.372", "12.50", 9, "1390.99", "0.00"),
    ]


def test_a_right_invoice_passes_every_line_and_sum():
    result = _check(_right_lines())
    assert [x.status for x in result.lines] == [LineStatus.OK] * 5
    assert result.sums.ok and result.ok
    assert result.difference == D("0.00")
    assert result.lines[4].expected_net == D("1390.99") and result.lines[4].expected_months == 9


def test_a_wrong_amount_is_flagged_with_expected_and_difference():
    lines = _right_lines()
    lines[0] = _line(1, 1, "annual", "1", "4800.00", 6, "2400.00")  # a month too many
    result = _check(lines)
    bad = result.lines[0]
    assert bad.status is LineStatus.WRONG
    assert bad.expected_net == D("2000.00") and bad.difference == D("400.00")
    assert set(bad.reasons) == {MONTHS, AMOUNT}
    assert result.wrong_lines == (bad,) and not result.ok
    assert result.sums.ok  # the invoice adds up; it is the line that is wrong
    assert result.difference == D("476.00")  # 400 net + 19 % VAT


def test_a_unit_price_other_than_agreed_is_named():
    lines = _right_lines()
    lines[2] = _line(3, 2, "per_case", "2404", "0.95", 0, "2283.80")
    bad = _check(lines).lines[2]
    assert bad.status is LineStatus.WRONG and UNIT_PRICE in bad.reasons
    assert bad.expected_net == D("2163.60") and bad.difference == D("120.20")


def test_sums_are_readded_to_the_cent():
    result = _check(_right_lines(), stated_gross=D("7951.22"))
    assert all(x.ok for x in result.lines)
    assert not result.sums.gross_ok and not result.ok
    assert result.sums.net_ok and result.sums.vat_ok


def test_missing_contract_charge_and_foreign_contract():
    lines = _right_lines()[:2] + [_line(3, 99, "annual", "1", "100.00", 12, "100.00")]
    result = _check(lines, cases={2: 2404})
    foreign = next(x for x in result.lines if x.order_id == 99)
    assert foreign.status is LineStatus.NO_CONTRACT and foreign.expected_net == D("0")
    missing = [x for x in result.lines if x.status is LineStatus.MISSING]
    assert {(x.order_id, x.kind) for x in missing} == {(2, "per_case")}
    assert missing[0].expected_net == D("2163.60") and missing[0].difference == D("-2163.60")
    assert NOT_BILLED in missing[0].reasons


def test_a_charge_the_contract_does_not_give():
    lines = _right_lines() + [_line(6, 1, "one_time", "1", "300.00", 0, "300.00")]
    bad = _check(lines).lines[5]
    assert bad.status is LineStatus.WRONG and NOT_IN_CONTRACT in bad.reasons and bad.difference == D("300.00")


def test_unknown_cases_leave_the_per_case_line_unverified_but_check_its_arithmetic():
    result = _check(_right_lines(), cases={})
    line = result.lines[2]
    assert line.status is LineStatus.UNVERIFIED and CASES_UNKNOWN in line.reasons
    assert not result.ok and not result.wrong_lines
    lines = _right_lines()
    lines[2] = _line(3, 2, "per_case", "2404", "0.90", 0, "2263.60")  # 2404 × 0.90 is not 2263.60
    assert _check(lines, cases={}).lines[2].status is LineStatus.WRONG


def test_billing_and_check_use_one_rule():
    """The server's billing builds its lines with Contract.charges: what it bills, the check accepts."""
    from types import SimpleNamespace

    from efa_tui.server.billing import contract_lines

    row = SimpleNamespace(id=3, offering_id=7, offering_title="Wohngeld digital", annual_fee=D("0.00"),
                          one_time_fee=D("500.00"), distribution_key="per_inhabitant", unit_price=D("12.50"),
                          vat_rate=D("0.00"), start_date=date(2026, 3, 15), end_date=None, population=148_372,
                          target_group_size=None)
    billed = contract_lines(row, 2026, cases=0, first_invoice=True)
    lines = [BilledLine(n, 3, x["kind"], x["quantity"], x["unit_price"], x["months"], x["net"], x["vat_rate"])
             for n, x in enumerate(billed, 1)]
    result = _check(lines, contracts=(INHABITANTS,), cases={3: 0})
    assert [x.status for x in result.lines] == [LineStatus.OK, LineStatus.OK]
    assert [x.net for x in lines] == [D("500.00"), D("1390.99")]


# --- against the reference server: a tampered line in its database -------------------------------


def _tamper(db_url: str, number_like: str = "2026-%") -> tuple[int, int, D]:
    """Add 100.00 to one line of München's 2026 invoice (and to the invoice's totals, so that
    the invoice still adds up: only the recomputation from the contract can find it)."""
    engine = create_engine(db_url)
    inv, ln = db.invoices, db.invoice_lines
    with engine.begin() as conn:
        row = conn.execute(select(inv).where(inv.c.customer_id == 15, inv.c.number.like(number_like),
                                             inv.c.kind == "invoice")).first()
        line = conn.execute(select(ln).where(ln.c.invoice_id == row.id, ln.c.kind == "annual")
                            .order_by(ln.c.position.desc())).first()
        extra = D("100.00")
        vat = (extra * D(line.vat_rate) / 100).quantize(D("0.01"))
        conn.execute(update(ln).where(ln.c.id == line.id).values(net=D(line.net) + extra))
        conn.execute(update(inv).where(inv.c.id == row.id).values(
            net=D(row.net) + extra, vat=D(row.vat) + vat, gross=D(row.gross) + extra + vat))
    engine.dispose()
    return row.id, line.id, D(line.net)


@pytest.fixture
def tampered(db_url):
    return _tamper(db_url)


async def test_tampered_line_on_the_server_is_flagged(tampered, live_server, tmp_path):
    invoice_id, line_id, original = tampered
    cache = Cache(tmp_path / "cache.sqlite3")
    async with ApiClient(live_server, "demo-customer") as api:
        detail = await load_detail(api, cache, Invoice(id=invoice_id))
    cache.close()
    check = detail.check
    assert detail.online and check is not None
    assert check.sums.ok, "the tampered invoice still adds up"
    wrong = check.wrong_lines
    assert [x.line_id for x in wrong] == [line_id]
    assert wrong[0].expected_net == original
    assert wrong[0].difference == D("100.00")
    assert AMOUNT in wrong[0].reasons
    # every other line of the demo invoice matches its contract
    assert all(x.ok for x in check.lines if x.line_id != line_id)


async def test_untampered_demo_invoices_pass_the_check(live_server, tmp_path):
    cache = Cache(tmp_path / "cache.sqlite3")
    async with ApiClient(live_server, "demo-operator") as api:
        items = [x async for x in api.iter_items("/invoices", {"kind": "invoice"})]
        assert len(items) > 20
        for item in items:
            detail = await load_detail(api, cache, Invoice.model_validate(item))
            assert detail.check is not None
            assert detail.check.sums.ok, item["number"]
            assert not detail.check.wrong_lines, (item["number"], detail.check.wrong_lines)
    cache.close()


async def test_offline_the_check_runs_on_the_cached_invoice(tampered, live_server, tmp_path):
    invoice_id, line_id, original = tampered
    cache = Cache(tmp_path / "cache.sqlite3")
    async with ApiClient(live_server, "demo-customer") as api:
        from efa_tui.store.sync import sync_all

        await sync_all(api, cache)
        await load_detail(api, cache, Invoice(id=invoice_id))  # opened once online: lines cached
    async with ApiClient("http://127.0.0.1:9/api/v1", "demo-customer", retry_attempts=1) as dead:
        detail = await load_detail(dead, cache, Invoice(id=invoice_id))
    cache.close()
    assert not detail.online and detail.check is not None
    bad = detail.check.wrong_lines
    assert [x.line_id for x in bad] == [line_id] and bad[0].expected_net == original
