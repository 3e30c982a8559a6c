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
from decimal import Decimal
from typing import Any

from ..api import routes
from ..api.errors import ApiError, Unreachable
from ..api.models import Invoice, Order, Organization, as_invoice, as_order
from ..domain.invoice_check import BilledLine, Contract, InvoiceCheck, check_invoice
from ..domain.pricing import DistributionKey, Fees

log = logging.getLogger("efa_tui.store")


@dataclass
class InvoiceDetail:
    invoice: Invoice
    online: bool  # False: the invoice (and maybe more) came from the cache
    orders: dict[int, Order] = field(default_factory=dict)
    cases: dict[int, int | None] = field(default_factory=dict)
    population: int | None = None
    check: InvoiceCheck | None = None  # None: the lines are not known (offline, never opened)

    @property
    def has_lines(self) -> bool:
        return self.invoice.lines is not None


def contract_from_order(order: Order, population: int | None) -> Contract | None:
    """The contract an order became, or None when it has no agreed fees or no start yet."""
    fees = order.fees
    if fees is None or fees.annual_fee is None or order.start_date is None:
        return None
    return Contract(
        order_id=order.id,
        fees=Fees(annual_fee=fees.annual_fee, one_time_fee=fees.one_time_fee or Decimal(0),
                  distribution_key=DistributionKey(fees.distribution_key or "fixed"),
                  unit_price=fees.unit_price, vat_rate=fees.vat_rate or Decimal(0)),
        start=order.start_date,
        end=order.end_date,
        population=population,
        target_group_size=order.target_group_size,
    )


def billed_lines(invoice: Invoice) -> list[BilledLine]:
    return [
        BilledLine(position=x.position or n, order_id=x.order_id, kind=x.kind,
                   quantity=x.quantity, unit_price=x.unit_price or Decimal(0),
                   months=x.months or 0, net=x.net,
                   vat_rate=x.vat_rate, line_id=x.id, vat=x.vat if "vat" in x.model_fields_set else None,
                   gross=x.gross if "gross" in x.model_fields_set else None)
        for n, x in enumerate(invoice.lines or (), 1)
    ]


def run_check(invoice: Invoice, orders: dict[int, Order], population: int | None,
              cases: dict[int, int | None]) -> InvoiceCheck | None:
    if invoice.lines is None:
        return None
    contracts = {oid: c for oid, order in orders.items() if (c := contract_from_order(order, population)) is not None}
    return check_invoice(
        invoice.year or 0, billed_lines(invoice), contracts,
        stated_net=invoice.net, stated_vat=invoice.vat, stated_gross=invoice.gross, cases=cases,
        credit_note=invoice.kind == "credit_note",
    )



async def _get(api, path: str, **params: Any) -> Any:
    return (await api.request("GET", path, params=params or None)).data


async def _cases(api, order_id: int, year: int) -> int:
    total = 0
    async for report in api.iter_items(routes.USAGE, {"order_id": order_id, "year": year}, limit=100):
        total += int(report.get("cases") or 0)
    return total


async def load_detail(api, cache, invoice: Invoice, *, offline: bool = False) -> InvoiceDetail:
    """The invoice in full with its check. ``invoice`` is what the list had (maybe without lines);
    ``offline``: the backend knows the server is away, so only the cache is read (no retries)."""
    invoice_id = invoice.id
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
        full = await asyncio.to_thread(cache.get_record, "invoices", invoice_id)
    detail = InvoiceDetail(as_invoice(full) or invoice, online)
    lines = detail.invoice.lines or []
    order_ids = sorted({x.order_id for x in lines if x.order_id})
    customer_id = detail.invoice.customer.id if detail.invoice.customer else None
    year = detail.invoice.year or 0

    async def order(oid: int) -> tuple[int, Order | None]:
        if detail.online:
            try:
                return oid, as_order(await _get(api, routes.order(oid)))
            except Unreachable:
                pass
            except ApiError as exc:  # 404: not the customer's contract (or gone)
                log.info("order %s for invoice %s: %s", oid, invoice_id, exc)
                return oid, None
        return oid, as_order(await asyncio.to_thread(cache.get_record, "orders", oid))

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
        return Organization.model_validate(org).population if org else None

    found, pop = await asyncio.gather(asyncio.gather(*(order(oid) for oid in order_ids)), population())
    detail.population = pop
    detail.orders = {oid: o for oid, o in found if o is not None}
    per_case = [oid for oid, o in detail.orders.items() if o.fees is not None and o.fees.distribution_key == "per_case"]
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
    detail.check = run_check(detail.invoice, detail.orders, pop, detail.cases)
    return detail
