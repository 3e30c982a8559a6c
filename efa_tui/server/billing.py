"""Billing runs: one Jahresrechnung per customer and calendar year, built from the contracts.

The amounts come from ``domain.pricing.year_charges`` (the one implementation of the rules);
this module only gathers the inputs, writes invoices and keeps runs safe to repeat: a customer
already billed for the year is skipped, and the unique ``billing_key`` stops a concurrent run
on another server process from writing a second invoice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from ..domain.invoice_check import Contract
from ..domain.invoicing import invoice_totals
from ..domain.money import ZERO
from ..domain.pricing import Charge, DistributionKey, Fees
from . import changes as change_log
from . import db

log = logging.getLogger("efa_tui.server.billing")
PAYMENT_DAYS = 30
BILLED_STATES = ("active", "terminated")

KIND_LABELS = {
    "annual": "Jahresentgelt",
    "one_time": "Einmaliges Entgelt",
    "per_inhabitant": "Entgelt nach Einwohnerzahl",
    "target_group": "Entgelt nach Zielgruppengröße",
    "per_case": "Nutzungsentgelt nach Fallzahl",
}


def de_date(d: date) -> str:
    return d.strftime("%d.%m.%Y")


def de_num(value: Decimal, digits: int = 2) -> str:
    return format_decimal(value, format="#,##0." + "0" * digits, locale="de_DE")


def invoice_number(year: int, invoice_id: int) -> str:
    """Readable and unique: the year and the database id (2026-000042)."""
    return f"{year}-{invoice_id:06d}"


def describe(charge: Charge, year: int, start: date, end: date | None) -> str:
    """How the amount came about, in German, for the invoice line (BT-154)."""
    if charge.kind == "one_time":
        return f"Einmaliges Entgelt {de_num(charge.unit_price)} €"
    if charge.kind == "per_case":
        return f"{de_num(charge.quantity, 0)} Fälle × {de_num(charge.unit_price)} € je Fall ({year})"
    base = (f"{de_num(charge.unit_price)} € im Jahr" if charge.kind == "annual" else
            f"{de_num(charge.quantity, 3)} Tsd. {'Einwohner' if charge.kind == 'per_inhabitant' else 'Personen der Zielgruppe'}"
            f" × {de_num(charge.unit_price)} € je 1.000 im Jahr")
    if charge.months == 12:
        return f"{base}, volles Jahr {year}"
    span = f"Vertragsbeginn {de_date(start)}" + (f", Vertragsende {de_date(end)}" if end and end.year == year else "")
    return f"{base} × {charge.months}/12 Monate ({span}; anteilig nach vollen Kalendermonaten)"


def _contracts(conn: Connection, year: int) -> list[Any]:
    o, off, c = db.orders, db.offerings, db.organizations
    return conn.execute(
        select(o, off.c.title.label("offering_title"), c.c.population, c.c.inhouse_operator_id,
               c.c.leitweg_id.label("customer_leitweg_id"))
        .join(off, off.c.id == o.c.offering_id)
        .join(c, c.c.id == o.c.customer_id)
        .where(o.c.state.in_(BILLED_STATES), o.c.start_date <= date(year, 12, 31),
               or_(o.c.end_date.is_(None), o.c.end_date >= date(year, 1, 1)))
        .order_by(o.c.customer_id, o.c.id)
    ).all()


def _cases(conn: Connection, year: int) -> dict[int, int]:
    u = db.usage_reports
    rows = conn.execute(select(u.c.order_id, func.sum(u.c.cases)).where(u.c.year == year).group_by(u.c.order_id))
    return {order_id: int(total) for order_id, total in rows}


def _one_time_billed(conn: Connection) -> set[int]:
    i, line = db.invoices, db.invoice_lines
    rows = conn.execute(
        select(line.c.order_id).distinct().join(i, i.c.id == line.c.invoice_id)
        .where(line.c.kind == "one_time", i.c.kind == "invoice", i.c.status != "cancelled")
    )
    return {r[0] for r in rows}


def _billed(conn: Connection, year: int) -> tuple[set[int], dict[int, int]]:
    """Customers with a live invoice for the year, and how many cancelled ones each has."""
    i = db.invoices
    live: set[int] = set()
    cancelled: dict[int, int] = defaultdict(int)
    for cid, status in conn.execute(select(i.c.customer_id, i.c.status).where(i.c.year == year, i.c.kind == "invoice")):
        if status == "cancelled":
            cancelled[cid] += 1
        else:
            live.add(cid)
    return live, cancelled


def fees_of(row) -> Fees:
    return Fees(
        annual_fee=Decimal(row.annual_fee), one_time_fee=Decimal(row.one_time_fee),
        distribution_key=DistributionKey(row.distribution_key),
        unit_price=None if row.unit_price is None else Decimal(row.unit_price),
        vat_rate=Decimal(row.vat_rate),
    )


def contract_of(row) -> Contract:
    return Contract(order_id=row.id, fees=fees_of(row), start=row.start_date, end=row.end_date,
                    population=row.population, target_group_size=row.target_group_size)


def contract_lines(row, year: int, *, cases: int, first_invoice: bool) -> list[dict[str, Any]]:
    """The invoice lines of one contract for one year, as rows for invoice_lines."""
    out = []
    # The same Contract.charges the client's invoice check recomputes the lines with.
    for ch in contract_of(row).charges(year, cases=cases, first_invoice=first_invoice):
        start = max(row.start_date, date(year, 1, 1))
        end = min(row.end_date, date(year, 12, 31)) if row.end_date else date(year, 12, 31)
        out.append({
            "order_id": row.id, "offering_id": row.offering_id, "kind": ch.kind,
            "name": f"{row.offering_title} – {KIND_LABELS[ch.kind]} {year}"[:300],
            "description": describe(ch, year, row.start_date, row.end_date),
            "quantity": ch.quantity, "unit_price": ch.unit_price, "months": ch.months, "net": ch.net,
            "vat_rate": Decimal(row.vat_rate), "period_start": start, "period_end": end,
        })
    return out


def start_run(engine: Engine, year: int, user_id: int | None) -> int:
    with db.writing(engine) as conn:
        return conn.execute(db.billing_runs.insert().values(
            year=year, status="running", started_by=user_id, started_at=db.utcnow())).inserted_primary_key[0]


def run_billing(engine: Engine, run_id: int, year: int, today: date | None = None) -> dict[str, Any]:
    """Bill every customer with contracts in ``year``; safe to run twice or in parallel."""
    today = today or db.utcnow().date()
    with db.reading(engine) as conn:
        contracts = _contracts(conn, year)
        cases = _cases(conn, year)
        one_time_done = _one_time_billed(conn)
        live, cancelled = _billed(conn, year)
    by_customer: dict[int, list[Any]] = defaultdict(list)
    for row in contracts:
        by_customer[row.customer_id].append(row)
    skipped: list[dict[str, Any]] = []
    created = billed = 0
    net_total = gross_total = ZERO
    with db.writing(engine) as conn:
        conn.execute(update(db.billing_runs).where(db.billing_runs.c.id == run_id).values(contracts_total=len(contracts)))
    for customer_id, rows in by_customer.items():
        first = rows[0]
        if customer_id in live:
            skipped.append({"customer_id": customer_id, "reason": "already_billed", "detail": f"already invoiced for {year}"})
            billed += len(rows)
            continue
        if first.inhouse_operator_id is None:
            skipped.append({"customer_id": customer_id, "reason": "no_operator",
                            "detail": "no in-house relationship with an operator who could invoice"})
            billed += len(rows)
            continue
        lines: list[dict[str, Any]] = []
        for row in rows:
            lines += contract_lines(row, year, cases=cases.get(row.id, 0), first_invoice=row.id not in one_time_done)
        billed += len(rows)
        if not lines:
            skipped.append({"customer_id": customer_id, "reason": "nothing_to_bill", "detail": f"no billable months or usage in {year}"})
            continue
        totals = invoice_totals((ln["net"], ln["vat_rate"]) for ln in lines)
        key = f"invoice:{customer_id}:{year}:{cancelled.get(customer_id, 0)}"
        try:
            with db.writing(engine) as conn:
                invoice_id = conn.execute(db.invoices.insert().values(
                    kind="invoice", billing_key=key, customer_id=customer_id, issuer_id=first.inhouse_operator_id,
                    year=year, period_start=date(year, 1, 1), period_end=date(year, 12, 31), issue_date=today,
                    due_date=today + timedelta(days=PAYMENT_DAYS), status="issued", net=totals.net, vat=totals.vat,
                    gross=totals.gross, leitweg_id=_leitweg(rows), billing_run_id=run_id,
                    created_at=db.utcnow(), updated_at=db.utcnow(),
                )).inserted_primary_key[0]
                conn.execute(update(db.invoices).where(db.invoices.c.id == invoice_id).values(number=invoice_number(year, invoice_id)))
                conn.execute(db.invoice_lines.insert(), [{**ln, "invoice_id": invoice_id, "position": n} for n, ln in enumerate(lines, 1)])
                conn.execute(update(db.billing_runs).where(db.billing_runs.c.id == run_id).values(contracts_billed=billed))
                change_log.record(conn, "invoice", invoice_id, "issued")
        except IntegrityError:
            # Another run (maybe another server process) billed this customer a moment ago.
            skipped.append({"customer_id": customer_id, "reason": "already_billed", "detail": "billed by a concurrent run"})
            continue
        created += 1
        net_total += totals.net
        gross_total += totals.gross
    summary = {"invoices_created": created, "contracts_billed": billed, "net_total": net_total,
               "gross_total": gross_total, "skipped": skipped}
    with db.writing(engine) as conn:
        conn.execute(update(db.billing_runs).where(db.billing_runs.c.id == run_id).values(
            status="done", finished_at=db.utcnow(), **summary))
    log.info("billing run %s for %s: %s invoices, %s skipped", run_id, year, created, len(skipped))
    return summary


def _leitweg(rows: list[Any]) -> str:
    # The Leitweg-ID given with the order wins (a customer may route invoices per department);
    # with several contracts, the first contract's, falling back to the organisation's.
    for row in rows:
        if row.leitweg_id:
            return row.leitweg_id
    return rows[0].customer_leitweg_id or ""

