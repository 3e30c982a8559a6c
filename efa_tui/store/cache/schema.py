"""The tables of the cache file and the version that guards them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...domain.collation import SEARCH_FOLD_VERSION

# Bump on every change of the tables below: an older file is then emptied and rebuilt.
SCHEMA_VERSION = 1

SCHEMA = [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
    "INSERT INTO meta (key, value) VALUES ('offerings_gen', 0)",
    # The rule the search text was folded by (a newer one re-indexes in place: CatalogIndex._refold).
    f"INSERT INTO meta (key, value) VALUES ('search_fold', {SEARCH_FOLD_VERSION})",
    "CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    """CREATE TABLE facet_keys (
        fkey INTEGER PRIMARY KEY, category TEXT NOT NULL, provider_id INTEGER, provider_name TEXT NOT NULL,
        status TEXT NOT NULL, laender TEXT NOT NULL,
        UNIQUE (category, provider_id, provider_name, status, laender))""",
    """CREATE TABLE offerings (
        id INTEGER PRIMARY KEY, fkey INTEGER NOT NULL, title_key TEXT NOT NULL, provider_key TEXT NOT NULL,
        annual_fee_cents INTEGER NOT NULL, updated_at TEXT NOT NULL)""",
    # Every sort index ends in fkey: a filter is checked in the index, and rows skipped by
    # OFFSET are never read from the table. Each index costs bulk loads dearly (random
    # inserts dirty most of its pages in every batch), so there are only these; sorting by
    # provider goes provider by provider along the title index (see _by_provider).
    "CREATE INDEX ix_offerings_fkey ON offerings (fkey)",
    "CREATE INDEX ix_offerings_title ON offerings (title_key, id, fkey)",
    "CREATE INDEX ix_offerings_fee ON offerings (annual_fee_cents, id, fkey)",
    "CREATE INDEX ix_offerings_updated ON offerings (updated_at, id, fkey)",
    # How many offerings each fkey has, kept by the writers: filter totals without a query.
    "CREATE TABLE facet_counts (fkey INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
    # The FTS indexes are kept up to date by upsert_offerings itself, not by triggers: an FTS5
    # insert from a trigger flushes the index on every row (4x slower bulk loads, measured).
    "CREATE TABLE offering_text (id INTEGER PRIMARY KEY, search_text TEXT NOT NULL, words TEXT NOT NULL)",
    # Text is lower-cased in Python before it gets here (and so is the query): case_sensitive
    # keeps the index byte-equal to the instr() tests that stand in for it.
    """CREATE VIRTUAL TABLE offering_trigrams USING fts5(
        search_text, content='offering_text', content_rowid='id', tokenize='trigram case_sensitive 1', columnsize=0)""",
    # Prefix queries need no positions: detail=none keeps this index small.
    """CREATE VIRTUAL TABLE offering_words USING fts5(
        words, content='offering_text', content_rowid='id', tokenize='unicode61 remove_diacritics 0',
        prefix='1 2', detail=none, columnsize=0)""",
    # Merge segments less eagerly: halves the indexing time of a bulk load, queries stay as fast.
    "INSERT INTO offering_trigrams (offering_trigrams, rank) VALUES ('automerge', 16)",
    "INSERT INTO offering_words (offering_words, rank) VALUES ('automerge', 16)",
    # Batches merged by the writer thread stay in memory until their commit (one segment each).
    "INSERT INTO offering_trigrams (offering_trigrams, rank) VALUES ('hashsize', 16777216)",
    "INSERT INTO offering_words (offering_words, rank) VALUES ('hashsize', 16777216)",
    """CREATE TABLE offering_docs (
        id INTEGER PRIMARY KEY, title TEXT NOT NULL, summary TEXT NOT NULL, provider_id INTEGER,
        provider_name TEXT NOT NULL, category TEXT NOT NULL, status TEXT NOT NULL, annual_fee TEXT NOT NULL,
        one_time_fee TEXT NOT NULL, distribution_key TEXT NOT NULL, updated_at TEXT NOT NULL, doc TEXT NOT NULL)""",
]


def _ref(name: str) -> Callable[[dict], Any]:
    """The id of a referenced record: ``{"offering": {"id": 3}}`` or ``{"offering_id": 3}``."""
    def get(item: dict) -> Any:
        value = item.get(f"{name}_id")
        if value is None and isinstance(item.get(name), dict):
            value = item[name].get("id")
        return value
    return get


def _field(name: str) -> Callable[[dict], Any]:
    return lambda item: item.get(name)


# Plain records: the indexed columns of each kind and how to read them from the server's JSON.
RECORD_COLUMNS: dict[str, dict[str, Callable[[dict], Any]]] = {
    "organizations": {"kind": _field("kind"), "name": _field("name"), "updated_at": _field("updated_at")},
    "orders": {"state": _field("state"), "offering_id": _ref("offering"), "customer_id": _ref("customer"),
               "provider_id": _ref("provider"), "updated_at": _field("updated_at")},
    "invoices": {"number": _field("number"), "year": _field("year"), "status": _field("status"),
                 "customer_id": _ref("customer"), "updated_at": _field("updated_at")},
    "order_events": {"order_id": _field("order_id"), "at": _field("at")},
}

for _kind, _cols in RECORD_COLUMNS.items():
    SCHEMA.append(f"CREATE TABLE {_kind} (id INTEGER PRIMARY KEY, {', '.join(_cols)}, doc TEXT NOT NULL)")
    SCHEMA.extend(f"CREATE INDEX ix_{_kind}_{c} ON {_kind} ({c}, id)" for c in _cols)

# Tables whose last page is read at open time: a truncated file fails there, not later.
_PROBE_TABLES = ("meta", "state", "facet_keys", "facet_counts", "offerings", "offering_text", "offering_docs", *RECORD_COLUMNS)
