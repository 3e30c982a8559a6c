"""The other records (organisations, orders, invoices, order events) by their indexed columns,
and the sync bookkeeping (small JSON values by key)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from .connection import CacheFile, _dumps, without_surrogates
from .schema import RECORD_COLUMNS


class Records(CacheFile):
    """Plain records and sync state."""

    @staticmethod
    def _columns(kind: str) -> dict[str, Callable[[dict], Any]]:
        try:
            return RECORD_COLUMNS[kind]
        except KeyError:
            raise ValueError(f"unknown record kind {kind!r}; one of {', '.join(RECORD_COLUMNS)}") from None

    def upsert_records(self, kind: str, items: Iterable[dict]) -> int:
        """Store records of ``kind`` by id (tombstones delete); ``order_events`` carry ``order_id``."""
        columns = self._columns(kind)
        items = list(items)
        if not items:
            return 0
        gone = [(int(i["id"]),) for i in items if i.get("tombstone")]
        rows = []
        for item in items:
            if not item.get("tombstone"):
                doc = _dumps(item)
                if "\\ud" in doc:  # a surrogate escaped (a pair or a lone one): lone ones become U+FFFD
                    item = without_surrogates(item)
                    doc = _dumps(item)
                rows.append((int(item["id"]), *(get(item) for get in columns.values()), doc))
        names = ["id", *columns, "doc"]
        sql = (f"INSERT INTO {kind} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) ON CONFLICT (id) DO UPDATE SET "
               + ", ".join(f"{c} = excluded.{c}" for c in names[1:]))

        def work(conn: sqlite3.Connection) -> int:
            if gone:
                conn.executemany(f"DELETE FROM {kind} WHERE id = ?", gone)
            if rows:
                conn.executemany(sql, rows)
            return len(items)

        return self._write(work)

    def get_record(self, kind: str, id: int) -> dict | None:
        self._columns(kind)
        row = self._read(lambda c: c.execute(f"SELECT doc FROM {kind} WHERE id = ?", (int(id),)).fetchone())
        return json.loads(row[0]) if row else None

    def list_records(self, kind: str, *, where: dict | None = None, order_by: str = "-id", limit: int = 1000,
                     offset: int = 0) -> list[dict]:
        """Records of ``kind`` by their indexed columns: ``where={"state": "ordered", "customer_id": 7}``
        (a list or tuple means any of; None means null); ``order_by`` a column, ``-`` for descending."""
        allowed = {"id", *self._columns(kind)}
        conds: list[str] = []
        params: list[Any] = []
        for column, value in (where or {}).items():
            if column not in allowed:
                raise ValueError(f"cannot filter {kind} by {column!r}; one of {', '.join(sorted(allowed))}")
            if value is None:
                conds.append(f"{column} IS NULL")
            elif isinstance(value, (list, tuple, set, frozenset)):
                values = list(value)
                conds.append(f"{column} IN ({','.join('?' * len(values))})" if values else "0")
                params.extend(values)
            else:
                conds.append(f"{column} = ?")
                params.append(value)
        column = order_by.lstrip("-")
        if column not in allowed:
            raise ValueError(f"cannot sort {kind} by {order_by!r}; one of {', '.join(sorted(allowed))}")
        direction = "DESC" if order_by.startswith("-") else "ASC"
        order = f"{column} {direction}" + (f", id {direction}" if column != "id" else "")
        sql = (f"SELECT doc FROM {kind}{' WHERE ' + ' AND '.join(conds) if conds else ''} "
               f"ORDER BY {order} LIMIT ? OFFSET ?")
        rows = self._read(lambda c: c.execute(sql, [*params, max(0, int(limit)), max(0, int(offset))]).fetchall())
        return [json.loads(r[0]) for r in rows]

    def record_ids(self, kind: str) -> set[int]:
        """The ids of every stored record of ``kind``."""
        self._columns(kind)
        return {r[0] for r in self._read(lambda c: c.execute(f"SELECT id FROM {kind}").fetchall())}

    def invoice_by_number(self, number: str) -> dict | None:
        row = self._read(lambda c: c.execute(
            "SELECT doc FROM invoices WHERE number = ? ORDER BY id DESC LIMIT 1", (number,)).fetchone())
        return json.loads(row[0]) if row else None

    # --- sync bookkeeping ----------------------------------------------------------------------------

    def get_state(self, key: str) -> Any | None:
        row = self._read(lambda c: c.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone())
        return json.loads(row[0]) if row else None

    def set_state(self, key: str, value: Any) -> None:
        """Remember a small JSON value (``None`` forgets the key)."""
        if value is None:
            self._write(lambda c: c.execute("DELETE FROM state WHERE key = ?", (key,)))
        else:
            text = _dumps(value)
            self._write(lambda c: c.execute(
                "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, text)))
