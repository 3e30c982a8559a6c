"""The invoice list without a screen: state, check state, filter, sort, totals, spending per
month/year/offering, and the CSV and JSON exports (the app and ``efa-tui invoice export`` share them).

Invoices come as the API's JSON dicts (from the cache or the server). Credit notes count
negative, so that an invoice and the credit note that cancels it add up to nothing.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ..domain.money import ZERO, money_str

STATES = ("open", "partly_paid", "overdue", "paid", "cancelled", "credit_note")
CHECKS = ("unchecked", "factual", "arithmetic", "checked", "disputed")
# What the state filter cycles through ("" = all; "unchecked" = not yet fully checked).
STATE_FILTERS = ("", "open", "overdue", "partly_paid", "paid", "cancelled", "unchecked")
SORTS = ("-number", "number", "due_date", "-gross", "state")


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else ZERO
    except ArithmeticError:
        return ZERO


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def open_amount(inv: dict[str, Any]) -> Decimal:
    """What is still to pay on an invoice: the server's figure (payments and partial credit notes
    deducted); a record from before payments were recorded: all of it while it is issued."""
    if inv.get("kind") == "credit_note" or inv.get("status") in ("paid", "cancelled"):
        return ZERO
    return _money(inv["open_amount"]) if inv.get("open_amount") not in (None, "") else _money(inv.get("gross"))


def invoice_state(inv: dict[str, Any], today: date) -> str:
    """offen, teilweise bezahlt, überfällig, bezahlt, storniert — or Gutschrift. Overdue is worked
    out from the due date and the open amount (the server's rule), so a cached invoice does not
    stay "offen" for ever."""
    if inv.get("status") == "cancelled":
        return "cancelled"
    if inv.get("status") == "paid":
        return "paid"
    if inv.get("kind") == "credit_note":
        return "credit_note"
    left = open_amount(inv)
    due = _day(inv.get("due_date"))
    if due is not None and due < today and left > 0:
        return "overdue"
    if _money(inv.get("paid_amount")) > 0 or (left == 0 and _money(inv.get("gross")) > 0):
        return "partly_paid" if left > 0 else "paid"
    return "open"


def check_state(inv: dict[str, Any]) -> str:
    """Where the invoice check stands: disputed lines win, then both confirmations, one, none."""
    if any((line or {}).get("dispute") for line in inv.get("lines") or ()):
        return "disputed"
    if inv.get("disputed_lines"):
        return "disputed"
    review = inv.get("review") or {}
    factual, arithmetic = bool(review.get("factual_ok_at")), bool(review.get("arithmetic_ok_at"))
    if factual and arithmetic:
        return "checked"
    return "factual" if factual else "arithmetic" if arithmetic else "unchecked"


def sign(inv: dict[str, Any]) -> int:
    return -1 if inv.get("kind") == "credit_note" else 1


def signed(inv: dict[str, Any], key: str) -> Decimal:
    return sign(inv) * _money(inv.get(key))


def party_name(inv: dict[str, Any], key: str) -> str:
    return str((inv.get(key) or {}).get("name") or "")


@dataclass(frozen=True)
class ListQuery:
    text: str = ""
    state: str = ""  # one of STATE_FILTERS
    year: int | None = None
    sort: str = "-number"


def _matches(inv: dict[str, Any], words: list[str]) -> bool:
    hay = " ".join([str(inv.get("number") or ""), party_name(inv, "issuer"), party_name(inv, "customer"),
                    str(inv.get("leitweg_id") or ""), str(inv.get("year") or "")]).casefold()
    return all(w in hay for w in words)


def _sort_key(sort: str, today: date):
    column = sort.lstrip("-")
    if column == "due_date":
        return lambda inv: (str(inv.get("due_date") or ""), str(inv.get("number") or ""))
    if column == "gross":
        return lambda inv: (signed(inv, "gross"), str(inv.get("number") or ""))
    if column == "state":
        return lambda inv: (STATES.index(invoice_state(inv, today)), str(inv.get("number") or ""))
    return lambda inv: str(inv.get("number") or "")


def select(invoices: Iterable[dict[str, Any]], query: ListQuery, today: date) -> list[dict[str, Any]]:
    """The rows to show: filtered by text (number, issuer, customer, Leitweg-ID), state, year; sorted."""
    words = query.text.casefold().split()
    out = []
    for inv in invoices:
        if query.year and inv.get("year") != query.year:
            continue
        if query.state == "unchecked":
            if inv.get("kind") == "credit_note" or invoice_state(inv, today) == "cancelled" or check_state(inv) == "checked":
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


def totals(invoices: Iterable[dict[str, Any]], today: date) -> Totals:
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


def _spent(inv: dict[str, Any]) -> bool:
    # A cancelled invoice and its credit note cancel out: neither is spending.
    return inv.get("kind") != "credit_note" and inv.get("status") != "cancelled"


def spending_by_year(invoices: Iterable[dict[str, Any]]) -> dict[int, Decimal]:
    """Gross per invoice year (the year billed), oldest first."""
    out: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for inv in invoices:
        if _spent(inv) and inv.get("year"):
            out[int(inv["year"])] += _money(inv.get("gross"))
    return dict(sorted(out.items()))


def spending_by_month(invoices: Iterable[dict[str, Any]], year: int) -> list[Decimal]:
    """Gross per month of the invoice date in ``year`` (12 values, January first)."""
    months = [ZERO] * 12
    for inv in invoices:
        issued = _day(inv.get("issue_date"))
        if _spent(inv) and issued is not None and issued.year == year:
            months[issued.month - 1] += _money(inv.get("gross"))
    return months


def offering_title(line: dict[str, Any], titles: dict[int, str] | None = None) -> str:
    """The offering a line bills: its title from the catalog, else the line name before " – "."""
    oid = line.get("offering_id")
    if titles and oid in titles:
        return titles[oid]
    return str(line.get("name") or "").split(" – ")[0] or f"#{oid}"


def spending_by_offering(invoices: Iterable[dict[str, Any]], titles: dict[int, str] | None = None) -> list[tuple[str, Decimal]]:
    """Net per offering from the invoices' lines, largest first. Net, because an invoice's VAT is
    computed per rate on the summed lines (EN 16931), so line grosses need not add up to it."""
    out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for inv in invoices:
        if not _spent(inv):
            continue
        for line in inv.get("lines") or ():
            out[offering_title(line, titles)] += _money(line.get("net"))
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


def _de_day(value: Any) -> str:
    d = _day(value)
    return d.strftime("%d.%m.%Y") if d else ""


def _text(value: Any) -> str:
    """Untrusted text for a spreadsheet: control characters out, and no cell that Excel or
    LibreOffice would run as a formula (CSV injection)."""
    text = "".join(ch for ch in str(value or "") if ch >= " " or ch == "\t").replace("\t", " ")
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _who(review: dict[str, Any], prefix: str) -> str:
    by, at = review.get(f"{prefix}_by"), review.get(f"{prefix}_at")
    return f"{_text(by)}, {_de_day(at)}" if at else ""


def to_csv(invoices: Iterable[dict[str, Any]], today: date, *, bom: bool = False) -> str:
    """Semicolon-separated, decimal comma, dates as 27.11.2026: what German spreadsheets open as is.
    Credit notes carry negative amounts. ``bom`` for files (Excel then reads UTF-8)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([label for _, label in CSV_COLUMNS])
    for inv in invoices:
        review = inv.get("review") or {}
        writer.writerow([
            _text(inv.get("number")), KIND_DE.get(str(inv.get("kind")), _text(inv.get("kind"))), inv.get("year") or "",
            _de_day(inv.get("period_start")), _de_day(inv.get("period_end")), _de_day(inv.get("issue_date")),
            _de_day(inv.get("due_date")), _text(party_name(inv, "issuer")), _text(party_name(inv, "customer")),
            _text(inv.get("leitweg_id")), _de_money(signed(inv, "net")), _de_money(signed(inv, "vat")),
            _de_money(signed(inv, "gross")), STATE_DE[invoice_state(inv, today)], CHECK_DE[check_state(inv)],
            _who(review, "factual_ok"), _who(review, "arithmetic_ok"), _text(inv.get("cancels_invoice")),
            _de_money(_money(inv.get("paid_amount"))), _de_money(open_amount(inv)),
        ])
    return ("\ufeff" if bom else "") + buf.getvalue()


def to_json(invoices: Iterable[dict[str, Any]], today: date) -> str:
    """For programs: ISO dates, amounts as strings with a decimal point (as the API sends them),
    credit notes negative, state and check state added."""
    rows = []
    for inv in invoices:
        review = inv.get("review") or {}
        rows.append({
            "number": inv.get("number"), "kind": inv.get("kind"), "year": inv.get("year"),
            "period_start": inv.get("period_start"), "period_end": inv.get("period_end"),
            "issue_date": inv.get("issue_date"), "due_date": inv.get("due_date"),
            "issuer": party_name(inv, "issuer"), "customer": party_name(inv, "customer"),
            "leitweg_id": inv.get("leitweg_id"), "currency": inv.get("currency") or "EUR",
            "net": money_str(signed(inv, "net")), "vat": money_str(signed(inv, "vat")), "gross": money_str(signed(inv, "gross")),
            "state": invoice_state(inv, today), "check": check_state(inv),
            "factual_ok_by": review.get("factual_ok_by"), "factual_ok_at": review.get("factual_ok_at"),
            "arithmetic_ok_by": review.get("arithmetic_ok_by"), "arithmetic_ok_at": review.get("arithmetic_ok_at"),
            "cancels_invoice": inv.get("cancels_invoice"), "paid_at": inv.get("paid_at"),
            "paid_amount": money_str(_money(inv.get("paid_amount"))), "open_amount": money_str(open_amount(inv)),
        })
    return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
