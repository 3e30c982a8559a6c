"""One invoice with everything its check needs, from the server — or from the cache, offline.

The check recomputes each line from the contract it names, so besides the invoice (with its
lines: the synced list holds invoices without lines) it needs each contract's agreed fees and
term (the order), the customer's population (per-inhabitant fees) and the cases reported for
the year (per-case fees). These are read from their own resources, not from the invoice: the
check should not trust the document it checks. Reads run concurrently; any that fails for
lack of a connection falls back to the cache, and what is not known stays unknown
(``cases`` None: the per-case lines are then checked for their own arithmetic only).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ..api import routes
from ..api.errors import ApiError, Unreachable
from ..domain.invoice_check import BilledLine, Contract, InvoiceCheck, check_invoice
from ..domain.pricing import DistributionKey, Fees

log = logging.getLogger("efa_tui.store")


@dataclass
class InvoiceDetail:
    invoice: dict[str, Any]
    online: bool  # False: the invoice (and maybe more) came from the cache
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    cases: dict[int, int | None] = field(default_factory=dict)
    population: int | None = None
    check: InvoiceCheck | None = None  # None: the lines are not known (offline, never opened)

    @property
    def has_lines(self) -> bool:
        return self.invoice.get("lines") is not None


def _dec(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def contract_from_order(order: dict[str, Any], population: int | None) -> Contract | None:
    """The contract an order became, or None when it has no agreed fees or no start yet."""
    fees = order.get("fees") or {}
    start = order.get("start_date")
    if not fees or fees.get("annual_fee") is None or not start:
        return None
    return Contract(
        order_id=int(order["id"]),
        fees=Fees(annual_fee=_dec(fees.get("annual_fee")) or Decimal(0), one_time_fee=_dec(fees.get("one_time_fee")) or Decimal(0),
                  distribution_key=DistributionKey(fees.get("distribution_key") or "fixed"),
                  unit_price=_dec(fees.get("unit_price")), vat_rate=_dec(fees.get("vat_rate")) or Decimal(0)),
        start=date.fromisoformat(start[:10]),
        end=date.fromisoformat(order["end_date"][:10]) if order.get("end_date") else None,
        population=population,
        target_group_size=order.get("target_group_size"),
    )


def billed_lines(invoice: dict[str, Any]) -> list[BilledLine]:
    return [
        BilledLine(position=int(x.get("position") or n), order_id=x.get("order_id"), kind=str(x.get("kind") or ""),
                   quantity=_dec(x.get("quantity")) or Decimal(0), unit_price=_dec(x.get("unit_price")) or Decimal(0),
                   months=int(x.get("months") or 0), net=_dec(x.get("net")) or Decimal(0),
                   vat_rate=_dec(x.get("vat_rate")) or Decimal(0), line_id=x.get("id"), vat=_dec(x.get("vat")),
                   gross=_dec(x.get("gross")))
        for n, x in enumerate(invoice.get("lines") or (), 1)
    ]


def run_check(invoice: dict[str, Any], orders: dict[int, dict[str, Any]], population: int | None,
              cases: dict[int, int | None]) -> InvoiceCheck | None:
    if invoice.get("lines") is None:
        return None
    contracts = {oid: c for oid, order in orders.items() if (c := contract_from_order(order, population)) is not None}
    return check_invoice(
        int(invoice.get("year") or 0), billed_lines(invoice), contracts,
        stated_net=_dec(invoice.get("net")) or Decimal(0), stated_vat=_dec(invoice.get("vat")) or Decimal(0),
        stated_gross=_dec(invoice.get("gross")) or Decimal(0), cases=cases,
        credit_note=invoice.get("kind") == "credit_note",
    )


async def _get(api, path: str, **params: Any) -> Any:
    return (await api.request("GET", path, params=params or None)).data


async def _cases(api, order_id: int, year: int) -> int:
    total = 0
    async for report in api.iter_items(routes.USAGE, {"order_id": order_id, "year": year}, limit=100):
        total += int(report.get("cases") or 0)
    return total


async def load_detail(api, cache, invoice: dict[str, Any], *, offline: bool = False) -> InvoiceDetail:
    """The invoice in full with its check. ``invoice`` is what the list had (maybe without lines);
    ``offline``: the backend knows the server is away, so only the cache is read (no retries)."""
    invoice_id = int(invoice["id"])
    online = not offline
    full = None
    if online:
        try:
            full = await _get(api, routes.invoice(invoice_id))
            # Keep the lines for next time (offline): the synced list item has none.
            await asyncio.to_thread(cache.upsert_records, "invoices", [full])
        except Unreachable:
            online = False
    if full is None:
        full = await asyncio.to_thread(cache.get_record, "invoices", invoice_id) or invoice
    detail = InvoiceDetail(full, online)
    lines = full.get("lines") or []
    order_ids = sorted({int(x["order_id"]) for x in lines if x.get("order_id")})
    customer_id = (full.get("customer") or {}).get("id")
    year = int(full.get("year") or 0)

    async def order(oid: int) -> tuple[int, dict[str, Any] | None]:
        if detail.online:
            try:
                return oid, await _get(api, routes.order(oid))
            except Unreachable:
                pass
            except ApiError as exc:  # 404: not the customer's contract (or gone)
                log.info("order %s for invoice %s: %s", oid, invoice_id, exc)
                return oid, None
        return oid, await asyncio.to_thread(cache.get_record, "orders", oid)

    async def population() -> int | None:
        if not customer_id:
            return None
        org = None
        if detail.online:
            try:
                org = await _get(api, routes.organization(customer_id))
            except (Unreachable, ApiError):
                org = None
        if org is None:
            org = await asyncio.to_thread(cache.get_record, "organizations", int(customer_id))
        return (org or {}).get("population")

    found, pop = await asyncio.gather(asyncio.gather(*(order(oid) for oid in order_ids)), population())
    detail.population = pop
    detail.orders = {oid: o for oid, o in found if o is not None}
    per_case = [oid for oid, o in detail.orders.items() if (o.get("fees") or {}).get("distribution_key") == "per_case"]
    if detail.online and per_case:
        try:
            counts = await asyncio.gather(*(_cases(api, oid, year) for oid in per_case))
            detail.cases = dict(zip(per_case, counts, strict=True))
        except (Unreachable, ApiError) as exc:
            log.info("usage for invoice %s not available: %s", invoice_id, exc)
            detail.cases = {oid: None for oid in per_case}
    else:
        detail.cases = {oid: None for oid in per_case}
    for oid in detail.orders:
        detail.cases.setdefault(oid, 0)
    detail.check = run_check(full, detail.orders, pop, detail.cases)
    return detail
