"""Usage reports from a CSV file: cases per contract (or customer) and month, as a provider's
billing system exports them.

Accepted, so that an Excel export works as saved:

* UTF-8 (with or without BOM) or Windows-1252; separator ``;`` (German Excel), ``,`` or tab;
* a header line naming the columns, in German or English, in any order:
  ``Bestellung``/``Vertrag``/``order_id`` (the order number, ``#`` allowed) or ``Kunde``/``customer``
  (a customer name that has exactly one per-case contract), then either ``Zeitraum``/``period``
  (``2026-03``, ``03/2026``, ``03.2026``) or ``Jahr``/``year`` and ``Monat``/``month``, and
  ``Fälle``/``Anzahl``/``cases`` (``1.234`` reads as one thousand two hundred thirty-four).

Every line is checked; each problem names its line, in the user's language. Nothing is sent
unless the whole file is fine (the screen decides) — a half-imported month is worse than none.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from .. import formatting, i18n
from ..api.models import Order, UsageReport
from ..domain.collation import sort_key
from ..domain.orders import usage_months

MAX_CASES = 100_000_000
_ORDER = ("bestellung", "bestellnummer", "vertrag", "vertragsnummer", "auftrag", "order", "order_id", "contract")
_CUSTOMER = ("kunde", "kundin", "nachnutzer", "organisation", "customer")
_PERIOD = ("zeitraum", "periode", "abrechnungsmonat", "period")
_YEAR = ("jahr", "year")
_MONTH = ("monat", "month")
_CASES = ("fälle", "faelle", "anzahl", "fallzahl", "cases", "count")
_PERIOD_FORMS = (re.compile(r"^(\d{4})-(\d{1,2})$"), re.compile(r"^(\d{1,2})[/.](\d{4})$"))


@dataclass(frozen=True)
class UsageLine:
    line: int
    order_id: int
    year: int
    month: int
    cases: int

    def body(self, replaces: int | None = None) -> dict[str, int]:
        """The report; ``replaces``: the figure already reported that the user agreed to replace."""
        body = {"order_id": self.order_id, "year": self.year, "month": self.month, "cases": self.cases}
        if replaces is not None:
            body["replaces"] = replaces
        return body


@dataclass(frozen=True)
class LineError:
    line: int  # 0: the file as a whole
    message: str  # translated

    def __str__(self) -> str:
        return i18n.t("usage.err.line", line=self.line, message=self.message) if self.line else self.message


@dataclass
class UsageImport:
    lines: list[UsageLine]
    errors: list[LineError]

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.lines)


def decode(data: bytes) -> str:
    """The file's text: UTF-8 if it is that, else Windows-1252 (what German Excel writes)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    for i, name in enumerate(header):
        if name.strip().lower().lstrip("#").strip() in names:
            return i
    return None


def _month(year: int, month: int) -> tuple[int, int] | None:
    return (year, month) if 1 <= month <= 12 and 2000 <= year <= 2100 else None


def parse_period(text: str) -> tuple[int, int] | None:
    """ "2026-03", "03/2026" or "03.2026" → (2026, 3): in a file and in the report form alike."""
    text = text.strip()
    for n, form in enumerate(_PERIOD_FORMS):
        m = form.match(text)
        if m:
            return _month(int(m[1]), int(m[2])) if n == 0 else _month(int(m[2]), int(m[1]))
    return None


def future_problem(period: tuple[int, int], today: date) -> str | None:
    """Usage is reported for months that are over or running, never ahead."""
    return i18n.t("usage.err.future", month=period[1], year=period[0]) if period > (today.year, today.month) else None


def term_problem(order: Order, period: tuple[int, int], today: date) -> str | None:
    """Usage is reported only for months of the contract's term, up to the current month (the
    server's rule: domain.orders.usage_months)."""
    start = order.start_date
    if start is None:
        return None  # not known here (an old cache row): the server checks it
    months = usage_months(start, order.end_date, today)
    if months is None:
        return i18n.t("usage.err.not_started")
    if months[0] <= period <= months[1]:
        return None
    return i18n.t("usage.err.outside_term", period=f"{period[1]:02d}/{period[0]}", first=f"{months[0][1]:02d}/{months[0][0]}",
                  last=f"{months[1][1]:02d}/{months[1][0]}")


def reported(reports: Sequence[UsageReport]) -> dict[tuple[int, int, int], int]:
    """(order id, year, month) → the cases reported for it."""
    return {(r.order_id, r.year, r.month): r.cases for r in reports}


def replacements(lines: list[UsageLine], reports: Sequence[UsageReport]) -> dict[int, int]:
    """The file's lines that replace a figure already reported with another: line number → old figure."""
    known = reported(reports)
    out = {}
    for line in lines:
        old = known.get((line.order_id, line.year, line.month))
        if old is not None and old != line.cases:
            out[line.line] = old
    return out


def parse_cases(text: str, *, language: str | None = "de") -> int | None:
    """A count of cases, None if it is none. A file is read the German Excel way ("1.234" is one
    thousand two hundred thirty-four) whatever the UI language, as German Excel wrote it; the
    report form passes ``language=None``: typed in the user's own notation."""
    try:
        return formatting.parse_count(text, MAX_CASES, language=language)
    except formatting.InputError:
        return None


def parse(data: bytes | str, contracts: Mapping[int, Order], *, today: date) -> UsageImport:
    """Read the file and check each line against the contracts it may report on (order id →
    order, only per-case contracts that are or were running)."""
    text = decode(data) if isinstance(data, bytes) else data
    result = UsageImport([], [])
    try:
        rows = [(n, row) for n, row in enumerate(_reader(text), start=1) if any(cell.strip() for cell in row)]
    except csv.Error as exc:  # e.g. one cell beyond the csv module's limit: a message, not a traceback
        result.errors.append(LineError(0, i18n.t("usage.err.csv", reason=str(exc))))
        return result
    if not rows:
        result.errors.append(LineError(0, i18n.t("usage.err.empty")))
        return result
    header_line, header = rows[0]
    cols = {"order": _column(header, _ORDER), "customer": _column(header, _CUSTOMER), "period": _column(header, _PERIOD),
            "year": _column(header, _YEAR), "month": _column(header, _MONTH), "cases": _column(header, _CASES)}
    missing = []
    if cols["order"] is None and cols["customer"] is None:
        missing.append(i18n.t("usage.col.order"))
    if cols["period"] is None and (cols["year"] is None or cols["month"] is None):
        missing.append(i18n.t("usage.col.period"))
    if cols["cases"] is None:
        missing.append(i18n.t("usage.col.cases"))
    if missing:
        result.errors.append(LineError(header_line, i18n.t("usage.err.header", missing=", ".join(missing))))
        return result
    by_customer: dict[str, list[int]] = {}
    for oid, order in contracts.items():
        name = _customer(order).strip().casefold()
        by_customer.setdefault(name, []).append(oid)
    seen: dict[tuple[int, int, int], int] = {}
    for line, row in rows[1:]:
        def cell(key: str, row=row) -> str:
            index = cols[key]
            return row[index].strip() if index is not None and index < len(row) else ""

        problems: list[str] = []
        order_id = _order_id(cell("order"), cell("customer"), contracts, by_customer, cols["order"] is not None, problems)
        if cols["period"] is not None:
            period = parse_period(cell("period"))
            if period is None:
                problems.append(i18n.t("usage.err.period", value=cell("period")))
        else:
            year, month = cell("year"), cell("month")
            period = _month(int(year), int(month)) if year.isdigit() and month.isdigit() else None
            if period is None:
                problems.append(i18n.t("usage.err.period", value=f"{month}/{year}"))
        if period is not None and (future := future_problem(period, today)):
            problems.append(future)
            period = None
        if period is not None and order_id is not None and (outside := term_problem(contracts[order_id], period, today)):
            problems.append(outside)
            period = None
        cases = parse_cases(cell("cases"))
        if cases is None:
            problems.append(i18n.t("usage.err.cases", value=cell("cases")))
        if problems or order_id is None or period is None or cases is None:
            result.errors.extend(LineError(line, p) for p in problems)
            continue
        key = (order_id, *period)
        if key in seen:
            result.errors.append(LineError(line, i18n.t("usage.err.duplicate", other=seen[key])))
            continue
        seen[key] = line
        result.lines.append(UsageLine(line, order_id, period[0], period[1], cases))
    if not result.lines and not result.errors:
        result.errors.append(LineError(0, i18n.t("usage.err.empty")))
    return result


def _reader(text: str):
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=";,\t")
    except csv.Error:
        # One column, or too few lines to tell: German Excel's separator unless commas dominate.
        return csv.reader(io.StringIO(text), delimiter=";" if sample.count(";") >= sample.count(",") else ",")
    return csv.reader(io.StringIO(text), dialect)


def _order_id(order_text: str, customer_text: str, contracts: Mapping[int, Order],
              by_customer: dict[str, list[int]], by_order: bool, problems: list[str]) -> int | None:
    if by_order and order_text:
        raw = order_text.lstrip("#").strip()
        if not raw.isdigit():
            problems.append(i18n.t("usage.err.order", value=order_text))
            return None
        oid = int(raw)
        if oid not in contracts:
            problems.append(i18n.t("usage.err.not_contract", order=oid))
            return None
        return oid
    if customer_text:
        ids = by_customer.get(customer_text.casefold(), [])
        if len(ids) == 1:
            return ids[0]
        problems.append(i18n.t("usage.err.customer_none" if not ids else "usage.err.customer_many", customer=customer_text))
        return None
    problems.append(i18n.t("usage.err.no_order"))
    return None


REPORTABLE_STATES = ("active", "terminated")


def per_case_contracts(orders: Sequence[Order]) -> dict[int, Order]:
    """Order id → order, for the contracts usage may be reported on: billed per case, running or ended."""
    return {o.id: o for o in orders
            if o.state in REPORTABLE_STATES and o.fees is not None and o.fees.distribution_key == "per_case"}


def _customer(order: Order) -> str:
    return order.customer.name if order.customer else ""


def _offering(order: Order) -> str:
    return order.offering.title if order.offering else ""


def usage_rows(contracts: Mapping[int, Order], reports: Sequence[UsageReport]) -> list[tuple]:
    """Cases per customer and period: (customer, offering, order id, year, month, cases), by customer
    and newest period first; a contract without reports shows once with year/month/cases None."""
    rows: list[tuple] = []
    reported = set()
    for r in reports:
        order = contracts.get(r.order_id)
        if order is None:
            continue
        reported.add(r.order_id)
        rows.append((_customer(order), _offering(order), r.order_id, r.year, r.month, r.cases))
    for oid, order in contracts.items():
        if oid not in reported:
            rows.append((_customer(order), _offering(order), oid, None, None, None))
    rows.sort(key=lambda r: (sort_key(r[0]), sort_key(r[1]), -(r[3] or 0), -(r[4] or 0)))  # German order (Ä with A)
    return rows
