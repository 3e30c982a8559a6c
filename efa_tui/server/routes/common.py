"""Pieces every resource route uses: paging parameters, keyset pagination, money fields."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Query
from pydantic import BeforeValidator, Field, WithJsonSchema
from sqlalchemy import tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement, Select

from .. import changes, wording
from ..http import decode_cursor, encode_cursor
from ..problems import ApiProblem

MAX_LIMIT = 1000
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size")]
Cursor = Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")]
UpdatedSince = Annotated[
    datetime | None,
    Query(description="delta sync: only records changed at or after this time (ISO 8601, UTC); "
          "records gone from view come back as tombstones"),
]
SyncPosition = Annotated[
    int | None,
    Query(ge=0, le=2**63 - 1, description="delta sync: only records changed since this position in the change "
          "log — pass the sync_position of the previous answer's first page unchanged (0: everything); records gone "
          "from view come back as tombstones. Unlike updated_since, a change committed late is never skipped"),
]
# Money on the wire: a string of ASCII digits with at most two decimals ("1234.50"); never
# negative here. A JSON number (binary floating point), an exponent ("1e5") or other digits
# ("١٢٣", which Decimal() would read) are refused with 422 at the field.
AMOUNT_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
_AMOUNT = re.compile(AMOUNT_PATTERN, re.ASCII)


def _strict_amount(value: Any) -> Any:
    if isinstance(value, Decimal):
        return value  # from Python (the demo seed); JSON never yields a Decimal
    if not isinstance(value, str):
        raise wording.Refused('an amount is a string such as "1234.50", not a JSON number',
                              'ein Betrag ist ein Text wie "1234.50", keine JSON-Zahl')
    if not _AMOUNT.fullmatch(value):
        raise wording.Refused('an amount has the digits 0-9 and at most two decimals, such as "1234.50"',
                              'ein Betrag besteht aus den Ziffern 0–9 mit höchstens zwei Nachkommastellen, wie "1234.50"')
    return Decimal(value)


def _amount(examples: list[str]) -> Any:
    return WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN, "examples": examples})


Money = Annotated[Decimal, BeforeValidator(_strict_amount), Field(ge=0, max_digits=12, decimal_places=2),
                  _amount(["1234.50"])]
VatRate = Annotated[Decimal, BeforeValidator(_strict_amount), Field(ge=0, le=100, max_digits=5, decimal_places=2),
                    _amount(["19.00"])]
# An id in a request body: a JSON integer only — never a boolean (true is not 1) or a string.
Id = Annotated[int, Field(ge=1, le=2**31 - 1, strict=True)]


def naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise ApiProblem(422, "updated_since lies outside the calendar", type="validation",
                         detail_de="„geändert seit“ liegt außerhalb des Kalenders",
                         errors=[{"field": "updated_since", "message": "out of range",
                                  "message_de": "außerhalb des zulässigen Bereichs", "code": "range"}]) from None


def sync_select(conn: Connection, query: Select, *, kind: str, id_col, user, sync_position: int | None,
                with_position: bool = True) -> tuple[Select, dict[str, Any]]:
    """A delta sync: ``query`` narrowed to the records changed since the position ``sync_position``
    (all of them when it is None or 0, lies before a purged change or is of another database),
    and what the answer says besides its items: ``sync_position``, the position to ask next time
    (also answered to ``updated_since``, so that a client moves from timestamps to positions),
    and ``resync: true`` when the asked position could not be continued."""
    d = changes.delta(conn, kind, user, sync_position or 0)
    if d.ids is not None and sync_position is not None:
        query = query.where(id_col.in_(d.ids))
    extra: dict[str, Any] = {"sync_position": d.position} if with_position else {}
    if d.resync and sync_position is not None:
        extra["resync"] = True
    return query, extra


def parse_sort(sort: str, allowed: dict[str, Any]) -> tuple[str, Any, bool]:
    desc = sort.startswith("-")
    name = sort.lstrip("-")
    if name not in allowed:
        raise ApiProblem(422, f"sort must be one of {', '.join(sorted(allowed))} (prefix - for descending)",
                         type="validation",
                         detail_de=f"Die Sortierung muss einer dieser Werte sein: {', '.join(sorted(allowed))} "
                                   "(mit vorangestelltem - absteigend)",
                         errors=[{"field": "sort", "message": "unknown sort key",
                                  "message_de": "unbekannter Sortierschlüssel", "code": "enum"}])
    return name, allowed[name], desc


def _cursor_value(name: str, raw: Any) -> Any:
    # A cursor comes back from the client: trust nothing in it.
    if raw is None:
        return None
    if not isinstance(raw, (str, int)) or isinstance(raw, bool):
        raise ValueError("cursor value of a wrong type")
    if name in ("updated_at", "created_at"):
        return datetime.fromisoformat(str(raw))
    if name in ("annual_fee", "gross", "net"):
        value = Decimal(str(raw))
        if not value.is_finite() or abs(value) >= Decimal(10) ** 15:
            raise ValueError("cursor amount out of range")
        return value
    if name == "id":
        return _cursor_id(raw)
    return str(raw)[:500]


def _cursor_id(raw: Any) -> int:
    value = int(raw)
    if not 0 <= value < 2**63:
        raise ValueError("cursor id out of range")
    return value


_CURSOR_DE = "Ungültiger Cursor für diese Sortierung"


def keyset(query: Select, name: str, col, id_col, desc: bool, cursor: str | None) -> Select:
    """Order by (col, id) and continue after the cursor — stable under inserts, no OFFSET scans."""
    values = decode_cursor(cursor)
    if values is not None:
        if len(values) != 2:
            raise ApiProblem(400, "invalid cursor for this sort order", type="invalid-cursor", detail_de=_CURSOR_DE)
        try:
            value, last_id = _cursor_value(name, values[0]), _cursor_id(values[1])
        except (TypeError, ValueError, ArithmeticError):
            raise ApiProblem(400, "invalid cursor for this sort order", type="invalid-cursor",
                             detail_de=_CURSOR_DE) from None
        if col is id_col:
            cond: ColumnElement = id_col < last_id if desc else id_col > last_id
        else:
            # A row comparison: both databases seek in the (…, col, id) index with it, where
            # "col > v OR (col = v AND id > last)" used the index only for the leading columns.
            after = tuple_(col, id_col)
            cond = after < tuple_(value, last_id) if desc else after > tuple_(value, last_id)
        query = query.where(cond)
    if col is id_col:
        return query.order_by(id_col.desc() if desc else id_col)
    return query.order_by(col.desc() if desc else col, id_col.desc() if desc else id_col)


def page(rows: Sequence[Any], limit: int, name: str, key: str = "id",
         column: str | None = None) -> tuple[list[Any], str | None]:
    """Cut the extra row fetched to learn whether another page exists. ``column``: the row's
    attribute the sort runs on, when it is not ``name`` (title sorts by title_sort)."""
    if len(rows) <= limit:
        return list(rows), None
    rows = list(rows[:limit])
    last = rows[-1]
    raw = getattr(last, key if name == "id" else (column or name))
    if isinstance(raw, datetime):
        raw = raw.isoformat()
    return rows, encode_cursor([raw if name != "id" else last.id, getattr(last, key)])


def like_terms(q: str, fold: Callable[[str], str] = str.lower) -> list[str]:
    """Search terms for a portable LIKE: folded (lower-cased, or ``search_fold`` against a
    column folded by it), wildcards escaped; one per word, in the order typed."""
    terms = []
    for word in q.split():
        word = fold(word)
        word = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        if word:
            terms.append(f"%{word}%")
    return terms[:8]
