"""Finding orders and invoices in the local cache, for support staff: by number, organisation,
offering, state and date range, across all organisations (support's cache holds all of them).

Reads only. The cache answers the indexed parts (number, state); names and dates are matched
here, in Python, case-insensitively (``münchen`` finds "Landeshauptstadt München").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

ORDER_STATES = ("interest", "proposed", "ordered", "active", "terminated", "withdrawn", "rejected", "cancelled")
INVOICE_STATES = ("issued", "paid", "cancelled")
SCAN_LIMIT = 200_000  # records read for a name or date search; far more than a marketplace holds


@dataclass(frozen=True)
class RecordQuery:
    kind: str = "orders"  # orders | invoices
    number: str = ""  # order id (``#`` allowed) or invoice number (exact, or a part of it)
    organisation: str = ""  # customer, provider or issuer name, any part
    offering: str = ""  # offering title, any part (orders)
    state: str = ""  # an order state or an invoice status
    since: date | None = None
    until: date | None = None

    @property
    def empty(self) -> bool:
        return not (self.number or self.organisation or self.offering or self.state or self.since or self.until)


def record_day(kind: str, record: dict[str, Any]) -> date | None:
    """The date a record is found by: an order's date of receipt, an invoice's issue date."""
    value = record.get("issue_date") if kind == "invoices" else record.get("created_at")
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def matches(kind: str, record: dict[str, Any], q: RecordQuery) -> bool:
    if q.state and (record.get("status") if kind == "invoices" else record.get("state")) != q.state:
        return False
    if q.organisation:
        needle = q.organisation.casefold()
        names = [(record.get(k) or {}).get("name") for k in ("customer", "provider", "issuer")]
        if not any(needle in str(n or "").casefold() for n in names):
            return False
    if q.offering:
        if kind == "invoices":
            return False  # an invoice covers a customer's year, not one offering
        if q.offering.casefold() not in str((record.get("offering") or {}).get("title") or "").casefold():
            return False
    if q.number and kind == "invoices" and q.number.casefold() not in str(record.get("number") or "").casefold():
        return False
    if q.since or q.until:
        day = record_day(kind, record)
        if day is None or (q.since and day < q.since) or (q.until and day > q.until):
            return False
    return True


def find(cache, q: RecordQuery, *, limit: int = 500) -> list[dict[str, Any]]:
    """The matching records, newest first (blocking: call it in a thread)."""
    if q.kind == "orders" and q.number:
        raw = q.number.strip().lstrip("#").strip()
        if not raw.isdigit():
            return []
        record = cache.get_record("orders", int(raw))
        return [record] if record is not None and matches("orders", record, q) else []
    if q.kind == "invoices" and q.number:
        exact = cache.invoice_by_number(q.number.strip())
        if exact is not None:
            return [exact] if matches("invoices", exact, q) else []
    where: dict[str, Any] = {}
    if q.state:
        where["state" if q.kind == "orders" else "status"] = q.state
    if q.empty:
        return cache.list_records(q.kind, limit=limit)
    found = []
    for record in cache.list_records(q.kind, where=where, limit=SCAN_LIMIT):
        if matches(q.kind, record, q):
            found.append(record)
            if len(found) >= limit:
                break
    return found
