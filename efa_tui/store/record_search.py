"""Finding orders and invoices in the local cache, for support staff: by number, organisation,
offering, state and date range, across all organisations (support's cache holds all of them).

Reads only. The cache answers the indexed parts (number, state); names and dates are matched
here, in Python, folded by the catalog's rule (``cache.fold``: case, ä ↔ ae, ß ↔ ss, both ways —
``muenchen`` finds "Landeshauptstadt München", ``Straße`` finds "Hauptstrasse").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .. import formatting
from ..api.models import Invoice, Order
from ..domain.orders import PHASES
from .cache import fold
from .invoice_list import STATES, invoice_state
from .order_list import phase

# The states a record is found by are the words its row shows — an order's phase (a terminated
# contract still runs or has ended), an invoice's state as the invoices list names it (offen,
# überfällig, Gutschrift …): support's filter said "gestellt" and had no "Beendet" (walk F4, F6).
ORDER_STATES = PHASES
INVOICE_STATES = STATES
SCAN_LIMIT = 200_000  # records read for a name or date search; far more than a marketplace holds


@dataclass(frozen=True)
class RecordQuery:
    kind: str = "orders"  # orders | invoices
    number: str = ""  # order id (``#`` allowed) or invoice number (exact, or a part of it)
    organisation: str = ""  # customer, provider or issuer name, any part
    offering: str = ""  # offering title, any part (orders)
    state: str = ""  # an order's phase (ORDER_STATES) or an invoice's state (INVOICE_STATES)
    since: date | None = None
    until: date | None = None

    @property
    def empty(self) -> bool:
        return not (self.number or self.organisation or self.offering or self.state or self.since or self.until)


Found = Order | Invoice


def record_day(record: Found) -> date | None:
    """The date a record is found by: an order's date of receipt, an invoice's issue date."""
    if isinstance(record, Invoice):
        return record.issue_date
    return record.created_at.date() if record.created_at else None


def _names(record: Found) -> list[str]:
    parties = (record.customer, record.provider) if isinstance(record, Order) else (record.customer, record.issuer)
    return [p.name for p in parties if p is not None]


def record_state(record: Found, today: date) -> str:
    """The state its row shows (what the state filter compares)."""
    return invoice_state(record, today) if isinstance(record, Invoice) else phase(record, today)


def matches(record: Found, q: RecordQuery, today: date | None = None) -> bool:
    if q.state and record_state(record, today or formatting.today()) != q.state:
        return False
    if q.organisation:
        needle = fold(q.organisation)
        if not any(needle in fold(n) for n in _names(record)):
            return False
    if q.offering:
        if isinstance(record, Invoice):
            return False  # an invoice covers a customer's year, not one offering
        if fold(q.offering) not in fold(record.offering.title if record.offering else ""):
            return False
    if q.number and isinstance(record, Invoice) and q.number.casefold() not in record.number.casefold():
        return False
    if q.since or q.until:
        day = record_day(record)
        if day is None or (q.since and day < q.since) or (q.until and day > q.until):
            return False
    return True


def _typed(kind: str, record: dict[str, Any]) -> Found:
    return Invoice.model_validate(record) if kind == "invoices" else Order.model_validate(record)


def _indexed(q: RecordQuery) -> dict[str, Any]:
    """What the cache's index answers of the state filter: the stored state a phase comes from
    (the rest is worked out per record, from dates and amounts)."""
    if not q.state:
        return {}
    if q.kind == "orders":
        return {"state": "terminated" if q.state in ("terminating", "ended") else q.state}
    return {"status": "cancelled"} if q.state == "cancelled" else {}


def find(cache, q: RecordQuery, *, limit: int = 500, today: date | None = None) -> list[Found]:
    """The matching records (``Order`` or ``Invoice``), newest first (blocking: call it in a thread)."""
    today = today or formatting.today()
    if q.kind == "orders" and q.number:
        raw = q.number.strip().lstrip("#").strip()
        if not raw.isdigit():
            return []
        record = cache.get_record("orders", int(raw))
        order = _typed("orders", record) if record is not None else None
        return [order] if order is not None and matches(order, q, today) else []
    if q.kind == "invoices" and q.number:
        exact = cache.invoice_by_number(q.number.strip())
        if exact is not None:
            invoice = _typed("invoices", exact)
            return [invoice] if matches(invoice, q, today) else []
    where = _indexed(q)
    if q.empty:
        return [_typed(q.kind, r) for r in cache.list_records(q.kind, limit=limit)]
    found: list[Found] = []
    for raw_record in cache.list_records(q.kind, where=where, limit=SCAN_LIMIT):
        record = _typed(q.kind, raw_record)
        if matches(record, q, today):
            found.append(record)
            if len(found) >= limit:
                break
    return found
