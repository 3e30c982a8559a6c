"""Billing runs: Jahresrechnungen per customer and calendar year, built from the contracts.

The amounts come from ``domain.pricing.year_charges`` (the one implementation of the rules) and
the split into invoices from ``domain.invoicing.split_by_category`` (taxable and non-taxable
parts on separate invoices). This module gathers the inputs and writes:

* ``plan`` works out what a run would create (the preview of ``dry_run``) without writing;
* ``execute`` runs it in **one** write transaction that first takes the year's counter row under
  lock (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the writing transaction is already
  ``BEGIN IMMEDIATE``), plans again under that lock and refuses when the gross total is not the
  one the operator confirmed — so two runs, also on two server processes, never bill twice, and
  a run never writes figures nobody saw;
* invoice numbers come from that counter: ``YYYY-NNNNNN``, unique and without gaps per year
  (a rolled-back transaction rolls its numbers back too). Credit notes share the sequence.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.numbers import NumberPattern, parse_pattern
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.engine import Connection

from ..domain.invoice_check import Contract
from ..domain.invoicing import (
    CREDIT_TRANSFER_SEPA,
    InvoiceTotals,
    credit_note_settlement,
    invoice_totals,
    split_by_category,
)
from ..domain.money import ZERO
from ..domain.pricing import Charge, DistributionKey, Fees, billed_units
from ..xrechnung.model import InvoiceDocument, InvoiceLineItem, Party
from . import changes as change_log
from . import db

log = logging.getLogger("efa_tui.server.billing")
PAYMENT_TERM_DAYS = 30  # default; the server's Settings.payment_term_days overrides it
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


_DE = Locale.parse("de_DE")


@lru_cache(maxsize=8)
def _pattern(digits: int) -> NumberPattern:
    return parse_pattern("#,##0." + "0" * digits)


@lru_cache(maxsize=65536)
def de_num(value: Decimal, digits: int = 2) -> str:
    """A number as German invoices write it (Babel's de_DE: 1.234,50). The locale and pattern are
    parsed once and equal amounts formatted once: a run of 10,000 contracts formats ~30,000
    numbers, and format_decimal parsed both every time (two thirds of the run's time)."""
    return _pattern(digits).apply(value, _DE)


def format_number(year: int, n: int) -> str:
    """Readable and sortable: the year and the running number of that year (2026-000042)."""
    return f"{year}-{n:06d}"


# --- numbers ------------------------------------------------------------------------------------


def _lock_year(conn: Connection, year: int) -> int:
    """The year's counter row, locked until the transaction ends; answers the last number used.

    The row is created on first use, starting after the highest number of that year already in
    the database (numbers of older releases were derived from ids)."""
    c = db.invoice_counters
    if conn.execute(select(c.c.year).where(c.c.year == year)).first() is None:
        prefix = f"{year}-"
        numbers = conn.execute(select(db.invoices.c.number).where(db.invoices.c.number.like(prefix + "%"))).scalars()
        start = max((int(n[len(prefix):]) for n in numbers if n[len(prefix):].isdigit()), default=0)
        # Two servers creating the row at once: the second one simply finds it.
        conn.execute(_insert_ignoring_conflict(conn, c).values(year=year, last_number=start))
    return conn.execute(select(c.c.last_number).where(c.c.year == year).with_for_update()).scalar_one()


def _insert_ignoring_conflict(conn: Connection, table):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    if conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing()
    return insert(table)


def take_number(conn: Connection, year: int) -> str:
    """The next invoice or credit note number of ``year``, inside the caller's write transaction."""
    last = _lock_year(conn, year)
    conn.execute(update(db.invoice_counters).where(db.invoice_counters.c.year == year).values(last_number=last + 1))
    return format_number(year, last + 1)


# --- what a run bills -----------------------------------------------------------------------------


def describe(charge: Charge, year: int, start: date, end: date | None) -> str:
    """How the amount came about, in German, for the invoice line (BT-154)."""
    if charge.kind == "one_time":
        return f"Einmaliges Entgelt {de_num(charge.unit_price)} €"
    if charge.kind == "per_case":
        return f"{de_num(charge.quantity, 0)} Fälle × {de_num(charge.unit_price)} € je Fall ({year})"
    units = billed_units(charge.kind, charge.quantity, charge.unit_price, charge.months)
    year_amount = (f"{de_num(charge.unit_price)} € im Jahr" if charge.kind == "annual" else
                   f"{de_num(charge.quantity, 3)} Tsd. {'Einwohner' if charge.kind == 'per_inhabitant' else 'Personen der Zielgruppe'}"
                   f" × {de_num(charge.unit_price)} € je 1.000 = {de_num(units.price, max(2, _decimals(units.price)))} € im Jahr")
    factor = f"{charge.months} von 12 Monaten"
    if charge.months == 12:
        return f"{year_amount}; {factor}, volles Jahr {year}"
    span = f"Vertragsbeginn {de_date(start)}" + (f", Vertragsende {de_date(end)}" if end and end.year == year else "")
    return f"{year_amount}; {factor} = {charge.months}/12 ({span}; anteilig nach vollen Kalendermonaten)"


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _contracts(conn: Connection, year: int) -> Sequence[Any]:
    o, off, c, lw = db.orders, db.offerings, db.organizations, db.organization_leitweg_ids
    default_leitweg = (select(lw.c.leitweg_id).where(lw.c.organization_id == c.c.id)
                       .order_by(lw.c.position).limit(1).scalar_subquery())
    return conn.execute(
        select(o, off.c.title.label("offering_title"), c.c.population, c.c.inhouse_operator_id,
               default_leitweg.label("customer_leitweg_id"), c.c.name.label("customer_name"))
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


def billing_key(customer_id: int, year: int, category: str, cancelled: int) -> str:
    """One live Jahresrechnung per customer, year and VAT category (the unique billing_key);
    ``cancelled`` counts the cancelled ones before it, so a cancelled invoice can be billed anew."""
    return f"invoice:{customer_id}:{year}:{category}:{cancelled}"


def _billed(conn: Connection, year: int) -> tuple[set[tuple[int, str]], dict[tuple[int, str], int]]:
    """(customer, category) pairs with a live invoice for the year, and how many cancelled ones each has.
    A key of an older release (``invoice:<customer>:<year>:<n>``) covers both categories."""
    i = db.invoices
    live: set[tuple[int, str]] = set()
    cancelled: dict[tuple[int, str], int] = defaultdict(int)
    for cid, status, key in conn.execute(select(i.c.customer_id, i.c.status, i.c.billing_key).where(i.c.year == year, i.c.kind == "invoice")):
        parts = key.split(":")
        categories = [parts[3]] if len(parts) == 5 else ["S", "O"]
        for cat in categories:
            if status == "cancelled":
                cancelled[(cid, cat)] += 1
            else:
                live.add((cid, cat))
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
    start = max(row.start_date, date(year, 1, 1))
    end = min(row.end_date, date(year, 12, 31)) if row.end_date else date(year, 12, 31)
    # The same Contract.charges the client's invoice check recomputes the lines with.
    for ch in contract_of(row).charges(year, cases=cases, first_invoice=first_invoice):
        out.append({
            "order_id": row.id, "offering_id": row.offering_id, "kind": ch.kind,
            "name": f"{row.offering_title} – {KIND_LABELS[ch.kind]} {year}"[:300],
            "description": describe(ch, year, row.start_date, row.end_date),
            "quantity": ch.quantity, "unit_price": ch.unit_price, "months": ch.months, "net": ch.net,
            "vat_rate": Decimal(row.vat_rate), "period_start": start, "period_end": end,
        })
    return out


@dataclass
class PlannedInvoice:
    customer_id: int
    customer_name: str
    issuer_id: int
    category: str  # S (taxable) or O (not subject to VAT, § 2b UStG)
    key: str
    leitweg_id: str
    lines: list[dict[str, Any]]
    totals: InvoiceTotals


@dataclass
class Plan:
    year: int
    contracts_total: int
    invoices: list[PlannedInvoice] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    @property
    def net_total(self) -> Decimal:
        return sum((p.totals.net for p in self.invoices), ZERO)

    @property
    def vat_total(self) -> Decimal:
        return sum((p.totals.vat for p in self.invoices), ZERO)

    @property
    def gross_total(self) -> Decimal:
        return sum((p.totals.gross for p in self.invoices), ZERO)


def plan(conn: Connection, year: int) -> Plan:
    """What a billing run for ``year`` would create now, and whom it would skip and why."""
    contracts = _contracts(conn, year)
    cases = _cases(conn, year)
    one_time_done = _one_time_billed(conn)
    live, cancelled = _billed(conn, year)
    by_customer: dict[int, list[Any]] = defaultdict(list)
    for row in contracts:
        by_customer[row.customer_id].append(row)
    result = Plan(year=year, contracts_total=len(contracts))
    for customer_id, rows in by_customer.items():
        first = rows[0]

        def skip(reason: str, detail: str, category: str | None = None, customer_id: Any = customer_id,
                 first: Any = first) -> None:
            result.skipped.append({"customer_id": customer_id, "customer_name": first.customer_name,
                                   "reason": reason, "detail": detail, "vat_category": category})

        if first.inhouse_operator_id is None:
            skip("no_operator", "no in-house relationship with an operator who could invoice")
            continue
        lines: list[dict[str, Any]] = []
        for row in rows:
            lines += contract_lines(row, year, cases=cases.get(row.id, 0), first_invoice=row.id not in one_time_done)
        if not lines:
            skip("nothing_to_bill", f"no billable months or usage in {year}")
            continue
        billed_already: list[str | None] = []
        for category, part in split_by_category(lines, lambda x: x["vat_rate"]):
            if (customer_id, category) in live:
                billed_already.append(category)
                continue
            result.invoices.append(PlannedInvoice(
                customer_id=customer_id, customer_name=first.customer_name, issuer_id=first.inhouse_operator_id,
                category=category, key=billing_key(customer_id, year, category, cancelled.get((customer_id, category), 0)),
                leitweg_id=_leitweg(rows), lines=part,
                totals=invoice_totals((x["net"], x["vat_rate"]) for x in part),
            ))
        if billed_already:
            # One entry per customer; the category only when its other part is still to be billed.
            partly = any(p.customer_id == customer_id for p in result.invoices)
            for which in (billed_already if partly else [None]):
                skip("already_billed", f"already invoiced for {year}", which)
    return result


def preview(p: Plan) -> dict[str, Any]:
    """The answer of a dry run: what a run would create, its totals, whom it skips and why."""
    return {
        "year": p.year, "dry_run": True, "contracts_total": p.contracts_total,
        "invoices_to_create": len(p.invoices),
        "net_total": f"{p.net_total:.2f}", "vat_total": f"{p.vat_total:.2f}", "gross_total": f"{p.gross_total:.2f}",
        "invoices": [{"customer": {"id": x.customer_id, "name": x.customer_name}, "vat_category": x.category,
                      "lines": len(x.lines), "net": f"{x.totals.net:.2f}", "gross": f"{x.totals.gross:.2f}"}
                     for x in p.invoices],
        "skipped": p.skipped,
    }


class FiguresChanged(Exception):
    """The run's gross total is not the confirmed one (something changed since the preview)."""

    def __init__(self, current: Plan):
        super().__init__("figures changed")
        self.current = current


def execute(conn: Connection, year: int, user_id: int | None, *, today: date, payment_days: int = PAYMENT_TERM_DAYS,
            confirm_gross_total: Decimal | None = None) -> int:
    """Bill ``year`` inside the caller's write transaction; answers the billing run's id.

    ``confirm_gross_total``: the gross total the operator confirmed from the preview; when the
    plan made under the year's lock differs, ``FiguresChanged`` is raised and nothing is written
    (None: the caller planned under the same lock itself, as the demo seed does)."""
    last = _lock_year(conn, year)  # serialises runs (and credit notes) of the year across processes
    p = plan(conn, year)
    if confirm_gross_total is not None and p.gross_total != confirm_gross_total:
        raise FiguresChanged(p)
    now = db.utcnow()
    run_id = db.new_id(conn.execute(db.billing_runs.insert().values(
        year=year, status="running", started_by=user_id, started_at=now, contracts_total=p.contracts_total,
    )))
    # Bulk writes, a handful of statements whatever the size of the run: the numbers in one step
    # of the counter (the same consecutive numbers, in plan order, as one take_number each), the
    # invoices in one INSERT … RETURNING, all their lines in one executemany, one log read.
    if p.invoices:
        conn.execute(update(db.invoice_counters).where(db.invoice_counters.c.year == year)
                     .values(last_number=last + len(p.invoices)))
        numbers = [format_number(year, last + n) for n in range(1, len(p.invoices) + 1)]
        made = conn.execute(db.invoices.insert().returning(db.invoices.c.id, db.invoices.c.number), [{
            "number": number, "kind": "invoice", "billing_key": item.key, "customer_id": item.customer_id,
            "issuer_id": item.issuer_id, "year": year, "period_start": date(year, 1, 1), "period_end": date(year, 12, 31),
            "issue_date": today, "due_date": today + timedelta(days=payment_days), "status": "issued",
            "net": item.totals.net, "vat": item.totals.vat, "gross": item.totals.gross, "leitweg_id": item.leitweg_id,
            "billing_run_id": run_id, "created_at": now, "updated_at": now,
        } for number, item in zip(numbers, p.invoices, strict=True)]).all()
        id_of = {number: invoice_id for invoice_id, number in made}
        ids = [id_of[number] for number in numbers]
        # One executemany (psycopg sends it as one pipeline): measured on PostgreSQL 15 it beat
        # multi-row INSERTs … RETURNING, whose statements SQLAlchemy renders in Python (1.6 s
        # against 3.2 s of CPU for 10,000 contracts).
        conn.execute(db.invoice_lines.insert(), [{**ln, "invoice_id": invoice_id, "position": n}
                                                 for invoice_id, item in zip(ids, p.invoices, strict=True)
                                                 for n, ln in enumerate(item.lines, 1)])
        change_log.record_many(conn, "invoice", ids, "issued")
    conn.execute(update(db.billing_runs).where(db.billing_runs.c.id == run_id).values(
        status="done", finished_at=db.utcnow(), invoices_created=len(p.invoices), contracts_billed=p.contracts_total,
        net_total=p.net_total, gross_total=p.gross_total, skipped=p.skipped))
    log.info("billing run %s for %s: %s invoices, %s skipped", run_id, year, len(p.invoices), len(p.skipped))
    return run_id


def _leitweg(rows: list[Any]) -> str:
    # The Leitweg-ID given with the order wins (a customer may route invoices per department);
    # with several contracts, the first contract's, falling back to the organisation's first.
    for row in rows:
        if row.leitweg_id:
            return row.leitweg_id
    return rows[0].customer_leitweg_id or ""


def credit_note(conn: Connection, invoice, now) -> int:
    """Cancel ``invoice`` (a row of invoices, issued) with a credit note repeating its lines; answers
    the credit note's id. Its number comes from the invoice's year sequence."""
    inv = db.invoices
    today = now.date()
    credit_id = db.new_id(conn.execute(inv.insert().values(
        number=take_number(conn, invoice.year), kind="credit_note", billing_key=f"credit:{invoice.id}",
        customer_id=invoice.customer_id, issuer_id=invoice.issuer_id, year=invoice.year,
        period_start=invoice.period_start, period_end=invoice.period_end, issue_date=today, due_date=today,
        status="issued", net=invoice.net, vat=invoice.vat, gross=invoice.gross, leitweg_id=invoice.leitweg_id,
        cancels_invoice_id=invoice.id, created_at=now, updated_at=now,
    )))
    skip = ("id", "invoice_id", "disputed_by", "disputed_at", "dispute_reason")
    lines = conn.execute(select(db.invoice_lines).where(db.invoice_lines.c.invoice_id == invoice.id)
                         .order_by(db.invoice_lines.c.position)).all()
    conn.execute(db.invoice_lines.insert(), [{**{k: v for k, v in x._mapping.items() if k not in skip}, "invoice_id": credit_id}
                                             for x in lines])
    conn.execute(update(inv).where(inv.c.id == invoice.id).values(status="cancelled", cancelled_at=now,
                                                                  version=invoice.version + 1, updated_at=now))
    return credit_id


# --- the XRechnung content of a stored invoice ------------------------------------------------------


def _open_before(conn: Connection, credit_note, invoice) -> Decimal:
    """What was open on ``invoice`` when ``credit_note`` was issued: its gross less the payments
    booked until then and the credit notes issued on it before (so the document never changes
    afterwards). An invoice marked paid before payments were booked one by one counts as paid whole."""
    pay, inv = db.invoice_payments, db.invoices
    paid = conn.execute(select(func.coalesce(func.sum(pay.c.amount), 0)).where(
        pay.c.invoice_id == credit_note.cancels_invoice_id, pay.c.recorded_at <= credit_note.created_at)).scalar_one()
    if not paid and invoice.paid_at is not None and invoice.paid_at <= credit_note.created_at:
        paid = invoice.gross
    credited = conn.execute(select(func.coalesce(func.sum(inv.c.gross), 0)).where(
        inv.c.cancels_invoice_id == credit_note.cancels_invoice_id, inv.c.kind == "credit_note",
        inv.c.id < credit_note.id)).scalar_one()
    return Decimal(invoice.gross) - Decimal(paid) - Decimal(credited)


def document(conn: Connection, invoice_id: int) -> InvoiceDocument:
    """The XRechnung content of an invoice or credit note, from the database."""
    inv = db.invoices
    row = conn.execute(select(inv).where(inv.c.id == invoice_id)).one()
    orgs = {o.id: o for o in conn.execute(select(db.organizations).where(db.organizations.c.id.in_((row.customer_id, row.issuer_id))))}
    seller, buyer = orgs[row.issuer_id], orgs[row.customer_id]
    lines = []
    for x in conn.execute(select(db.invoice_lines).where(db.invoice_lines.c.invoice_id == invoice_id).order_by(db.invoice_lines.c.position)):
        # The factor of a pro-rata line stays visible: months MON × the year's amount per 12 MON.
        units = billed_units(x.kind, Decimal(x.quantity), Decimal(x.unit_price), x.months)
        lines.append(InvoiceLineItem(
            line_id=str(x.position), name=x.name, description=x.description, quantity=units.quantity,
            unit_code=units.unit_code, unit_price=units.price, price_base_quantity=units.base_quantity,
            net=Decimal(x.net), vat_rate=Decimal(x.vat_rate), period_start=x.period_start, period_end=x.period_end,
        ))
    common = dict(
        number=row.number, issue_date=row.issue_date, currency="EUR", buyer_reference=row.leitweg_id,
        seller=_party(seller, seller_id=True), buyer=_party(buyer), bic=seller.bic or "", account_name=seller.name,
        period_start=row.period_start, period_end=row.period_end, lines=lines,
    )
    if row.kind != "credit_note":
        return InvoiceDocument(
            **common, type_code="380", due_date=row.due_date, iban=seller.iban or "",
            payment_terms=f"Zahlbar ohne Abzug bis {de_date(row.due_date)}",
            payment_means_code=CREDIT_TRANSFER_SEPA,
            note=f"Jahresrechnung {row.year} über die im EfA-Marktplatz bestellten Leistungen",
        )
    cancelled = conn.execute(select(inv.c.number, inv.c.issue_date, inv.c.paid_at, inv.c.gross)
                             .where(inv.c.id == row.cancels_invoice_id)).one()
    # The domain's rule: a credit note is a settlement note, never a payment instruction to the
    # customer; it is set off against what was open when it was issued, the rest refunded.
    settle = credit_note_settlement(Decimal(row.gross), _open_before(conn, row, cancelled))
    text = f"Keine Zahlung durch den Rechnungsempfänger: Gutschrift zur Rechnung {cancelled.number} vom {de_date(cancelled.issue_date)}."
    if settle.offset:
        text += f" {de_num(settle.offset)} € werden mit der offenen Forderung aus dieser Rechnung verrechnet."
    if settle.refund:
        text += f" {de_num(settle.refund)} € bereits gezahlt; der Rechnungssteller erstattet sie auf das Zahlungskonto."
    return InvoiceDocument(
        **common, type_code="381", due_date=None, iban="", payment_terms=text, payment_means_code=settle.means_code,
        preceding_invoice=cancelled.number, preceding_invoice_date=cancelled.issue_date,
        note=f"Gutschrift zur Stornierung der Rechnung {cancelled.number}",
    )


def _plain(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


def billed_json(line) -> dict[str, str]:
    """How a stored line is stated on the invoice (as in the XRechnung): quantity × price per base."""
    units = billed_units(line.kind, Decimal(line.quantity), Decimal(line.unit_price), line.months)
    price = units.price if _decimals(units.price) > 2 else units.price.quantize(Decimal("0.01"))
    return {"quantity": _plain(units.quantity), "unit_code": units.unit_code, "price": f"{price:f}",
            "base_quantity": _plain(units.base_quantity)}


def _party(org, *, seller_id: bool = False) -> Party:
    return Party(name=org.name, street=org.street, postcode=org.postcode, city=org.city, country=org.country or "DE",
                 vat_id=org.vat_id or "", contact_name=org.contact_name, phone=org.phone, email=org.email,
                 electronic_address=org.email,
                 # BT-29: the seller's identifier in the marketplace, so that a non-taxable invoice,
                 # which may not name the VAT id (BR-O-02), still identifies its seller (BR-CO-26).
                 identifier=f"EFA-MARKTPLATZ-{org.key.upper()}" if seller_id else "")
