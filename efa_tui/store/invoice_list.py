"""The invoice list without a screen: state, check state, filter, sort, totals, spending per
month/year/offering, and the CSV and JSON exports (the app and ``efa-tui invoice export`` share them).

Invoices come as ``api.models.Invoice`` (the service reads them from the cache, the CLI from the server). Credit notes count
negative, so that an invoice and the credit note that cancels it add up to nothing.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ..api.models import Invoice, InvoiceLine, Ref
from ..domain.money import ZERO, money_str

STATES = ("open", "partly_paid", "overdue", "paid", "cancelled", "credit_note")
CHECKS = ("unchecked", "factual", "arithmetic", "checked", "disputed")
# What the state filter cycles through ("" = all; "unchecked" = not yet fully checked).
STATE_FILTERS = ("", "open", "overdue", "partly_paid", "paid", "cancelled", "unchecked")
SORTS = ("-number", "number", "due_date", "-gross", "state")


def open_amount(inv: Invoice) -> Decimal:
    """What is still to pay on an invoice: the server's figure (payments and partial credit notes
    deducted); a record from before payments were recorded: all of it while it is issued."""
    if inv.kind == "credit_note" or inv.status in ("paid", "cancelled"):
        return ZERO
    return inv.open_amount if "open_amount" in inv.model_fields_set else inv.gross


def invoice_state(inv: Invoice, today: date) -> str:
    """offen, teilweise bezahlt, überfällig, bezahlt, storniert — or Gutschrift. Overdue is worked
    out from the due date and the open amount (the server's rule), so a cached invoice does not
    stay "offen" for ever."""
    if inv.status == "cancelled":
        return "cancelled"
    if inv.status == "paid":
        return "paid"
    if inv.kind == "credit_note":
        return "credit_note"
    left = open_amount(inv)
    due = inv.due_date
    if due is not None and due < today and left > 0:
        return "overdue"
    if inv.paid_amount > 0 or (left == 0 and inv.gross > 0):
        return "partly_paid" if left > 0 else "paid"
    return "open"


def check_state(inv: Invoice) -> str:
    """Where the invoice check stands: disputed lines win, then both confirmations, one, none."""
    if any(line.dispute for line in inv.lines or ()):
        return "disputed"
    if inv.disputed_lines:
        return "disputed"
    factual, arithmetic = inv.review.factual_ok_at is not None, inv.review.arithmetic_ok_at is not None
    if factual and arithmetic:
        return "checked"
    return "factual" if factual else "arithmetic" if arithmetic else "unchecked"


def sign(inv: Invoice) -> int:
    return -1 if inv.kind == "credit_note" else 1


def signed(inv: Invoice, key: str) -> Decimal:
    """``net``, ``vat`` or ``gross``, negative for a credit note."""
    amount: Decimal = getattr(inv, key)
    return sign(inv) * amount


def party_name(inv: Invoice, key: str) -> str:
    """The name of the ``issuer`` or the ``customer``."""
    party: Ref | None = getattr(inv, key)
    return party.name if party else ""


@dataclass(frozen=True)
class ListQuery:
    text: str = ""
    state: str = ""  # one of STATE_FILTERS
    year: int | None = None
    sort: str = "-number"


def _matches(inv: Invoice, words: list[str]) -> bool:
    hay = " ".join([inv.number, party_name(inv, "issuer"), party_name(inv, "customer"),
                    inv.leitweg_id, str(inv.year or "")]).casefold()
    return all(w in hay for w in words)


def _sort_key(sort: str, today: date) -> Callable[[Invoice], Any]:
    column = sort.lstrip("-")
    if column == "due_date":
        return lambda inv: (inv.due_date.isoformat() if inv.due_date else "", inv.number)
    if column == "gross":
        return lambda inv: (signed(inv, "gross"), inv.number)
    if column == "state":
        return lambda inv: (STATES.index(invoice_state(inv, today)), inv.number)
    return lambda inv: inv.number


def select(invoices: Iterable[Invoice], query: ListQuery, today: date) -> list[Invoice]:
    """The rows to show: filtered by text (number, issuer, customer, Leitweg-ID), state, year; sorted."""
    words = query.text.casefold().split()
    out = []
    for inv in invoices:
        if query.year and inv.year != query.year:
            continue
        if query.state == "unchecked":
            if inv.kind == "credit_note" or invoice_state(inv, today) == "cancelled" or check_state(inv) == "checked":
                continue
        elif query.state and invoice_state(inv, today) != query.state:
            continue
        if words and not _matches(inv, words):
            continue
        out.append(inv)
    out.sort(key=_sort_key(query.sort, today), reverse=query.sort.startswith("-"))
    return out


@dataclass(frozen=True)
class Totals:
    count: int
    net: Decimal
    vat: Decimal
    gross: Decimal
    open_gross: Decimal  # still to pay (open and overdue)


def totals(invoices: Iterable[Invoice], today: date) -> Totals:
    count, net, vat, gross, open_gross = 0, ZERO, ZERO, ZERO, ZERO
    for inv in invoices:
        count += 1
        net += signed(inv, "net")
        vat += signed(inv, "vat")
        gross += signed(inv, "gross")
        if invoice_state(inv, today) in ("open", "partly_paid", "overdue"):
            open_gross += open_amount(inv)
    return Totals(count, net, vat, gross, open_gross)


# --- spending ----------------------------------------------------------------------------------


def _spent(inv: Invoice) -> bool:
    # A cancelled invoice and its credit note cancel out: neither is spending.
    return inv.kind != "credit_note" and inv.status != "cancelled"


def spending_by_year(invoices: Iterable[Invoice]) -> dict[int, Decimal]:
    """Gross per invoice year (the year billed), oldest first."""
    out: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for inv in invoices:
        if _spent(inv) and inv.year:
            out[inv.year] += inv.gross
    return dict(sorted(out.items()))


def spending_by_month(invoices: Iterable[Invoice], year: int) -> list[Decimal]:
    """Gross per month of the invoice date in ``year`` (12 values, January first)."""
    months = [ZERO] * 12
    for inv in invoices:
        issued = inv.issue_date
        if _spent(inv) and issued is not None and issued.year == year:
            months[issued.month - 1] += inv.gross
    return months


def offering_title(line: InvoiceLine, titles: dict[int, str] | None = None) -> str:
    """The offering a line bills: its title from the catalog, else the line name before " – "."""
    oid = line.offering_id
    if titles and oid in titles:
        return titles[oid]
    return line.name.split(" – ")[0] or f"#{oid}"


def spending_by_offering(invoices: Iterable[Invoice], titles: dict[int, str] | None = None) -> list[tuple[str, Decimal]]:
    """Net per offering from the invoices' lines, largest first. Net, because an invoice's VAT is
    computed per rate on the summed lines (EN 16931), so line grosses need not add up to it."""
    out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for inv in invoices:
        if not _spent(inv):
            continue
        for line in inv.lines or ():
            out[offering_title(line, titles)] += line.net
    return sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))


# --- export ------------------------------------------------------------------------------------

CSV_COLUMNS: Sequence[tuple[str, str]] = (
    ("number", "Rechnungsnummer"), ("kind", "Art"), ("year", "Jahr"), ("period_start", "Leistungszeitraum von"),
    ("period_end", "Leistungszeitraum bis"), ("issue_date", "Rechnungsdatum"), ("due_date", "Fällig am"),
    ("issuer", "Rechnungssteller"), ("customer", "Rechnungsempfänger"), ("leitweg_id", "Leitweg-ID"),
    ("net", "Netto (EUR)"), ("vat", "USt (EUR)"), ("gross", "Brutto (EUR)"), ("state", "Status"),
    ("check", "Prüfung"), ("factual_ok", "sachlich richtig (von, am)"), ("arithmetic_ok", "rechnerisch richtig (von, am)"),
    ("cancels_invoice", "storniert Rechnung"), ("paid_amount", "bezahlt (EUR)"), ("open_amount", "offen (EUR)"),
)
STATE_DE = {"open": "offen", "partly_paid": "teilweise bezahlt", "overdue": "überfällig", "paid": "bezahlt", "cancelled": "storniert",
            "credit_note": "Gutschrift"}
CHECK_DE = {"unchecked": "ungeprüft", "factual": "sachlich richtig", "arithmetic": "rechnerisch richtig",
            "checked": "sachlich und rechnerisch richtig", "disputed": "beanstandet"}
KIND_DE = {"invoice": "Rechnung", "credit_note": "Gutschrift"}


def _de_money(value: Decimal) -> str:
    return money_str(value).replace(".", ",")


def _de_day(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def _text(value: Any) -> str:
    """Untrusted text for a spreadsheet: control characters out, and no cell that Excel or
    LibreOffice would run as a formula (CSV injection)."""
    text = "".join(ch for ch in str(value or "") if ch >= " " or ch == "\t").replace("\t", " ")
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _who(by: str | None, at: datetime | None) -> str:
    return f"{_text(by)}, {_de_day(at.date())}" if at else ""


def _wire(value: date | datetime | None) -> str | None:
    """A date or a moment as the API writes it (``2026-11-28``, ``2026-11-28T09:30:00.000000Z``)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds") + "Z"
    return value.isoformat()


def to_csv(invoices: Iterable[Invoice], today: date, *, bom: bool = False) -> str:
    """Semicolon-separated, decimal comma, dates as 27.11.2026: what German spreadsheets open as is.
    Credit notes carry negative amounts. ``bom`` for files (Excel then reads UTF-8)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([label for _, label in CSV_COLUMNS])
    for inv in invoices:
        review = inv.review
        writer.writerow([
            _text(inv.number), KIND_DE.get(inv.kind, _text(inv.kind)), inv.year or "",
            _de_day(inv.period_start), _de_day(inv.period_end), _de_day(inv.issue_date),
            _de_day(inv.due_date), _text(party_name(inv, "issuer")), _text(party_name(inv, "customer")),
            _text(inv.leitweg_id), _de_money(signed(inv, "net")), _de_money(signed(inv, "vat")),
            _de_money(signed(inv, "gross")), STATE_DE[invoice_state(inv, today)], CHECK_DE[check_state(inv)],
            _who(review.factual_ok_by, review.factual_ok_at), _who(review.arithmetic_ok_by, review.arithmetic_ok_at),
            _text(inv.cancels_invoice), _de_money(inv.paid_amount), _de_money(open_amount(inv)),
        ])
    return ("\ufeff" if bom else "") + buf.getvalue()


def to_json(invoices: Iterable[Invoice], today: date) -> str:
    """For programs: ISO dates, amounts as strings with a decimal point (as the API sends them),
    credit notes negative, state and check state added."""
    rows = []
    for inv in invoices:
        review = inv.review
        rows.append({
            "number": inv.number, "kind": inv.kind, "year": inv.year,
            "period_start": _wire(inv.period_start), "period_end": _wire(inv.period_end),
            "issue_date": _wire(inv.issue_date), "due_date": _wire(inv.due_date),
            "issuer": party_name(inv, "issuer"), "customer": party_name(inv, "customer"),
            "leitweg_id": inv.leitweg_id, "currency": inv.currency or "EUR",
            "net": money_str(signed(inv, "net")), "vat": money_str(signed(inv, "vat")), "gross": money_str(signed(inv, "gross")),
            "state": invoice_state(inv, today), "check": check_state(inv),
            "factual_ok_by": review.factual_ok_by, "factual_ok_at": _wire(review.factual_ok_at),
            "arithmetic_ok_by": review.arithmetic_ok_by, "arithmetic_ok_at": _wire(review.arithmetic_ok_at),
            "cancels_invoice": inv.cancels_invoice, "paid_at": _wire(inv.paid_at),
            "paid_amount": money_str(inv.paid_amount), "open_amount": money_str(open_amount(inv)),
        })
    return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
