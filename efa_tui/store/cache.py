"""The local cache: the server's records in SQLite, and the catalog search that runs on them.

Everything here can be thrown away and fetched again, so the file lives in the platformdirs
*cache* dir with ``synchronous=NORMAL``: a power cut may lose the last sync, never the file.
A file that cannot be read (garbage, truncated, not a database) is moved aside to
``<name>.corrupt-<timestamp>`` and the cache starts empty; a file of another schema version is
emptied and rebuilt. Both reset the sync bookkeeping, so the next sync loads everything again.

Records are stored as the server's JSON text plus a few indexed columns. Offerings get more:

* ``offerings`` — sort keys and ``fkey``, one small row per offering (sorting, paging, filters);
* ``facet_keys`` — every distinct (category, provider, status, Länder) combination, interned as
  ``fkey``, and ``facet_counts`` — how many offerings each has. A filter becomes a set of
  fkeys; one ``GROUP BY fkey`` over the matches of a query (the "cube") answers every facet
  count of that query for any filters, in Python;
* ``offering_text`` — the folded search text and its words, the content of two FTS5 indexes:
  ``offering_trigrams`` (trigram tokenizer: substring search for words of 3+ characters, so
  "bau" finds "Neubau" and "Bauantrag") and ``offering_words`` (unicode61 with a prefix index
  for 1–2 characters: a short word matches the *start* of a word, "b" finds "Bauantrag" but
  not "Abfall"; any "b" anywhere would match nearly everything);
* ``offering_docs`` — the JSON and the columns a result row shows.

Search semantics: case-insensitive (text and query are lower-cased, NFC); the query is split at
whitespace; every word must match somewhere in title, summary, provider name, category or
keywords (AND); everything the user types is literal text (no FTS syntax). Umlauts are not
transliterated: "führer" finds "Führerscheinantrag", "fuehrer" does not.

How a search runs (figures at 100,000 offerings): a query with at most ``_FEW`` candidates
reads them all in one FTS lookup and sorts them (the total is their number); a broad one counts
in the FTS index and fills the page by walking the sort index, testing each row
(``instr`` on the folded text, equal to the index lookups); a deep page of a broad query sorts
all matches once. Totals, cubes and sorted match lists are memoized per (query, filters) until
the next write to offerings (a generation counter in the file, read in the same snapshot).

Thread-safety: connections are pooled (WAL lets readers run beside the writer; a fresh worker
thread gets a warm connection); writes serialize on a lock. A file cache writes offerings
behind, in a writer thread (see ``upsert_offerings``), which also checkpoints the WAL when it
runs out of work. ``":memory:"`` (tests) writes at once and uses one shared connection behind
the lock.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import threading
import time
import unicodedata
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache, partial
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import platformdirs

from ..domain.collation import sort_key

log = logging.getLogger("efa_tui.store")

# Bump on every change of the tables below: an older file is then emptied and rebuilt.
SCHEMA_VERSION = 1

T = TypeVar("T")


def default_path() -> Path:
    return Path(platformdirs.user_cache_dir("efa-tui")) / "cache.sqlite3"


# --- public value types -------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    """Catalog filters; ``None`` means "any". ``bundesland`` is a two-letter code (nationwide
    offerings match every Land) or ``"bundesweit"`` for the nationwide ones only."""

    category: str | None = None
    provider_id: int | None = None
    bundesland: str | None = None
    status: str | None = "published"
    inhouse_orderable: bool | None = None


@dataclass(frozen=True)
class OfferingRow:
    id: int
    title: str
    provider_name: str
    provider_id: int | None
    category: str
    annual_fee: Decimal
    one_time_fee: Decimal
    distribution_key: str
    status: str
    updated_at: str
    summary: str


@dataclass(frozen=True)
class SearchPage:
    rows: list[OfferingRow]
    total: int
    offset: int


class CacheReset(RuntimeError):
    """A write met a corrupt cache file; it was moved aside and the cache is empty now. The
    write is not applied (the caller's sync bookkeeping is gone too, so its next sync starts
    from scratch instead of leaving a hole)."""


# --- schema --------------------------------------------------------------------------------------

SCHEMA = [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
    "INSERT INTO meta (key, value) VALUES ('offerings_gen', 0)",
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


# --- text ------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # all but \n: harmless, and our field separator
_WORD = re.compile(r"[^\W_]+")  # letters and digits: what unicode61 calls a token


def fold(text: str) -> str:
    """The form both the index and the query are compared in."""
    return _CONTROL.sub(" ", unicodedata.normalize("NFC", text).lower())


@lru_cache(maxsize=4096)
def _provider_key(name: str) -> str:
    return sort_key(name)  # a few hundred providers, each on thousands of offerings


def _search_text(item: dict, provider_name: str) -> str:
    parts = [item.get("title"), item.get("summary"), provider_name, item.get("category"), *(item.get("keywords") or [])]
    # Fields are joined by a newline: a query word never contains whitespace, so it never
    # matches across two fields.
    return fold("\n".join(str(p) for p in parts if p))


def _words(search_text: str) -> str:
    # " w1 w2 …": a word starts with "ba" exactly when " ba" occurs (see _Query.checks).
    return " " + " ".join(_WORD.findall(search_text))


class _Query(NamedTuple):
    """A parsed user query. ``long``: words of 3+ characters, substring match (trigram index);
    ``prefixes``: the letter/digit runs of 1–2 character words, word-prefix match (prefix
    index); ``literal``: 1–2 character words without any letter or digit (``-``, ``&``),
    substring match by scanning (no index can help, and nobody waits for those)."""

    long: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    literal: tuple[str, ...] = ()
    words_first: bool = False
    """Find candidates in the prefix index even though there are long words (set by
    `Cache._plan` when the prefixes match fewer rows: "antrag n" — every offering holds
    "antrag", a third have a word starting with "n"); the long words are then row checks."""

    @classmethod
    def parse(cls, query: str) -> _Query:
        long: list[str] = []
        prefixes: list[str] = []
        literal: list[str] = []
        for term in dict.fromkeys(fold(query or "").split()):
            if len(term) >= 3:
                long.append(term)
            elif tokens := _WORD.findall(term):
                prefixes.extend(t for t in tokens if t not in prefixes)
            else:
                literal.append(term)
        return cls(tuple(long), tuple(prefixes), tuple(literal))

    @property
    def empty(self) -> bool:
        return not (self.long or self.prefixes or self.literal)

    def driver(self) -> tuple[str, str] | None:
        """The FTS table and MATCH expression that finds the candidates, if any: the trigram
        index for the long words (all of them, ANDed), else the prefix index. Every user word
        is one quoted FTS string, so quotes, ``*``, ``-``, ``NEAR``, ``OR`` are literal text."""
        if self.long and not (self.words_first and self.prefixes):
            return "offering_trigrams", " ".join('"' + t.replace('"', '""') + '"' for t in self.long)
        if self.prefixes:
            return "offering_words", " ".join(f'"{p}"*' for p in self.prefixes)
        return None

    def checks(self, *, with_driver: bool) -> tuple[list[str], list[str]]:
        """Per-row tests on ``offering_text x`` equal to the index lookups: a trigram phrase
        matches exactly the lower-cased substrings, a prefix query exactly " " + prefix in the
        word list. Used where scanning in sort order beats asking the index."""
        sql: list[str] = []
        params: list[str] = []
        driver = self.driver() if not with_driver else None
        long_in_driver = driver is not None and driver[0] == "offering_trigrams"
        prefixes_in_driver = driver is not None and driver[0] == "offering_words"
        if not long_in_driver:
            for t in self.long:
                sql.append("instr(x.search_text, ?) > 0")
                params.append(t)
        if not prefixes_in_driver:
            for p in self.prefixes:
                sql.append("instr(x.words, ?) > 0")
                params.append(" " + p)
        for t in self.literal:
            sql.append("instr(x.search_text, ?) > 0")
            params.append(t)
        return sql, params


_EMPTY = _Query()


class _Key(NamedTuple):
    """One facet_keys row: the filterable properties of an offering."""

    category: str
    provider_id: int | None
    provider_name: str
    status: str
    laender: tuple[str, ...]  # empty: nationwide (bundesweit)


NATIONWIDE = "bundesweit"
FACETS = ("category", "provider", "bundesland", "status", "inhouse_orderable")


def _key_passes(key: _Key, f: Filters, skip: str | None = None) -> bool:
    if f.category is not None and skip != "category" and key.category != f.category:
        return False
    if f.provider_id is not None and skip != "provider" and key.provider_id != f.provider_id:
        return False
    if f.bundesland is not None and skip != "bundesland":
        if f.bundesland.lower() == NATIONWIDE:
            if key.laender:
                return False
        elif key.laender and f.bundesland.upper() not in key.laender:
            return False  # nationwide offerings (no Länder) match every Land
    if f.status is not None and skip != "status" and key.status != f.status:
        return False
    if f.inhouse_orderable is not None and skip != "inhouse_orderable" and (key.status == "published") != f.inhouse_orderable:
        return False
    return True


# How the sorts map onto the indexes. Ties break by id, in the direction of the sort.
_SORTS: dict[str, tuple[str | None, str]] = {
    "title": ("ix_offerings_title", "o.title_key, o.id"),
    "provider": (None, "o.provider_key, o.title_key, o.id"),  # no index: see the schema
    "annual_fee": ("ix_offerings_fee", "o.annual_fee_cents, o.id"),
    "-annual_fee": ("ix_offerings_fee", "o.annual_fee_cents DESC, o.id DESC"),
    "updated": ("ix_offerings_updated", "o.updated_at DESC, o.id DESC"),
}

# Up to this many rows a scan with per-row text tests is cheaper than an index plus a join
# (about 1 µs a row; an FTS lookup of a broad word costs several ms).
_SCAN_ROWS = 4000
# A walk along a sort index tests each row (a few µs: a seek into offering_text); beyond about
# this many rows fetching all matches from the FTS index and sorting them is cheaper.
_WALK_ROWS = 1000
# Up to this many matches a search reads them all at once (and so knows the total).
_FEW = 5000
# Windows ending at most this deep are read by scanning the sort index against the FTS
# candidates (see Cache._scan_window) when the walk gave up; deeper ones sort all matches once.
_SCAN_WINDOW = 2000


def _money(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value)) if value is not None else Decimal("0.00")
    except InvalidOperation:
        return Decimal("0.00")
    return amount if amount.is_finite() else Decimal("0.00")


def _is_corruption(exc: BaseException) -> bool:
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return True
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text


# ASCII escapes and no cycle check: a third faster than the defaults, and server JSON has no cycles.
_ENCODER = json.JSONEncoder(ensure_ascii=True, check_circular=False, separators=(",", ":"), default=str)


def _dumps(value: Any) -> str:
    return _ENCODER.encode(value)


class _LRU:
    """A small thread-safe memo of query results, keyed by the write generation: at most
    ``size`` entries and, if ``weigh`` is given, at most ``budget`` total weight."""

    def __init__(self, size: int = 512, *, weigh: Callable[[Any], int] | None = None, budget: int = 0):
        self.size = size
        self.weigh = weigh
        self.budget = budget
        self._weight = 0
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None and self.weigh:
                self._weight -= self.weigh(old)
            self._data[key] = value
            if self.weigh:
                self._weight += self.weigh(value)
            while len(self._data) > 1 and (len(self._data) > self.size or (self.weigh and self._weight > self.budget)):
                _, gone = self._data.popitem(last=False)
                if self.weigh:
                    self._weight -= self.weigh(gone)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._weight = 0


# --- preparing offerings (pure Python, in the caller's thread) ------------------------------------

_DOC_COLUMNS = ("title", "summary", "provider_id", "provider_name", "category", "status", "annual_fee",
                "one_time_fee", "distribution_key", "updated_at", "doc")


class _Prepared(NamedTuple):
    """An offering turned into the rows the cache stores (all but its fkey, which needs the file)."""

    id: int
    key: _Key
    sort: tuple  # title_key, provider_key, annual_fee_cents, updated_at
    text: str
    words: str
    doc: tuple  # id and _DOC_COLUMNS


class _Batch(NamedTuple):
    gone: list[int]
    live: list[_Prepared]
    size: int


def _prepare_offerings(items: Iterable[dict]) -> _Batch:
    latest: dict[int, dict] = {}
    for item in items:
        latest[int(item["id"])] = item  # the last word on an id wins
    gone = sorted(oid for oid, item in latest.items() if item.get("tombstone"))
    live = []
    for oid in sorted(latest):  # in rowid order: consecutive inserts land on the same pages
        item = latest[oid]
        if item.get("tombstone"):
            continue
        provider = item.get("provider") or {}
        provider_name = provider.get("name") or ""
        fees = item.get("fees") or {}
        title = item.get("title") or ""
        category = item.get("category") or ""
        status = item.get("status") or ""
        updated_at = item.get("updated_at") or ""
        annual = _money(fees.get("annual_fee"))
        laender = item.get("bundeslaender") or ()
        key = _Key(category, provider.get("id"), provider_name, status,
                   tuple(sorted({str(x).upper() for x in laender})) if laender else ())
        text = _search_text(item, provider_name)
        live.append(_Prepared(
            oid, key, (sort_key(title), _provider_key(provider_name), int(annual.scaleb(2)), updated_at), text, _words(text),
            (oid, title, item.get("summary") or "", provider.get("id"), provider_name, category, status, str(annual),
             str(_money(fees.get("one_time_fee"))), fees.get("distribution_key") or "", updated_at, _dumps(item))))
    return _Batch(gone, live, len(latest))


class _WriteBehind:
    """The writer thread of a file cache: applies prepared batches in order, several at once
    when they queue up. ``submit`` blocks while ``_QUEUE`` batches wait (a sync cannot run away
    from the disk). Batches are numbered; ``wait`` returns when a given one is applied."""

    def __init__(self, cache: Cache):
        self.cache = cache
        self.cond = threading.Condition()
        self.queue: list[_Batch] = []
        self.submitted = 0
        self.applied = 0
        self.error: BaseException | None = None
        self.stopping = False
        self.thread: threading.Thread | None = None
        self.mine = threading.local()  # the number of the last batch each thread submitted

    def submit(self, batch: _Batch) -> None:
        with self.cond:
            self._raise()
            if self.stopping:
                raise sqlite3.ProgrammingError("the cache is closed")
            while len(self.queue) >= _QUEUE:
                self.cond.wait()
            self.queue.append(batch)
            self.submitted += 1
            self.mine.last = self.submitted
            self.cond.notify_all()
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="efa-cache-writer", daemon=True)
                self.thread.start()

    def wait(self, *, everything: bool) -> None:
        """Until everything submitted so far is applied (and raise a failure of it), or only
        what this thread submitted (readers: they do not wait for another thread's sync)."""
        if threading.current_thread() is self.thread:
            return  # the writer itself, inside _apply
        with self.cond:
            upto = self.submitted if everything else getattr(self.mine, "last", 0)
            while self.applied < upto and self.thread is not None and self.thread.is_alive():
                self.cond.wait()
            if everything:
                self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def stop(self) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
            thread = self.thread
        if thread is not None:
            thread.join()
        if self.error is not None:
            log.warning("the last cache write failed: %s", self.error)

    def _run(self) -> None:
        while True:
            with self.cond:
                if not self.queue and not self.stopping:
                    self.cond.wait(0.05)  # between two pages of a sync, or done?
                idle = not self.queue and not self.stopping
            if idle:
                try:
                    self.cache._checkpoint()  # out of work: a good time to copy the WAL back
                except Exception as exc:  # never let the writer die of it
                    log.debug("checkpoint failed: %s", exc)
                with self.cond:
                    while not self.queue and not self.stopping:
                        self.cond.wait()
            with self.cond:
                if not self.queue:
                    if self.stopping:
                        return
                    continue
                batches, self.queue = self.queue, []
                self.cond.notify_all()
            try:
                self.cache._write(partial(self.cache._apply, batches=batches), wait=False)
            except BaseException as exc:  # noqa: B036 - handed to the next writer, see submit()
                log.warning("cache write failed: %s", exc)
                with self.cond:
                    self.error = exc
            with self.cond:
                self.applied += len(batches)
                self.cond.notify_all()


# --- the cache -------------------------------------------------------------------------------------

_POOL_SIZE = 8  # idle connections kept; more may exist while many threads read at once
_READ_CACHE_KIB = -8000  # SQLite page cache per connection (negative: KiB)
_WRITE_CACHE_KIB = -32000
_QUEUE = 4  # batches handed to the writer thread before upsert_offerings waits
_BEHIND = 100  # items from which upsert_offerings writes behind


class _Connection(sqlite3.Connection):
    epoch = 0  # the file generation it belongs to (see Cache._recover)


def _close_quietly(conn: sqlite3.Connection) -> None:
    try:
        conn.close()
    except sqlite3.Error:
        pass


class Cache:
    """The local cache. ``path``: the SQLite file (default: ``cache.sqlite3`` in the platformdirs
    user cache dir), or ``":memory:"``. Never raises for a damaged or unreadable file: it is
    moved aside (``recovered_from``), or, if even that fails, the cache lives in memory for the
    session (``path`` is then None). Safe to call from any thread."""

    def __init__(self, path: str | os.PathLike | None = None):
        memory = path is not None and str(path) == ":memory:"
        self.path: Path | None = None if memory else Path(path) if path is not None else default_path()
        self.recovered_from: Path | None = None
        self._lock = threading.RLock()  # writers; with ":memory:" every access
        self._pool_lock = threading.Lock()
        self._idle: list[_Connection] = []  # connections between calls (see _connection)
        self._busy: set[_Connection] = set()
        self._epoch = 0  # bumped when the file is replaced: older connections are dropped
        self._shared: _Connection | None = None
        self._memo = _LRU()
        # All matches of recent queries in sort order: paging on is slicing. 8 bytes an id.
        self._orders = _LRU(64, weigh=len, budget=2_000_000)
        self._closed = False
        self._behind: _WriteBehind | None = None
        self._fkeys: dict[_Key, int] = {}  # memo of facet_keys, for writers
        if memory:
            self._shared = self._connect(":memory:")
            self._prepare(self._shared)
        else:
            self._open_file()
        if self._shared is None:
            self._behind = _WriteBehind(self)

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- connections, schema, recovery ------------------------------------------------------------

    def _connect(self, target: str | Path) -> _Connection:
        conn = sqlite3.connect(target, timeout=30, isolation_level=None, check_same_thread=False, factory=_Connection)
        conn.epoch = self._epoch
        try:
            conn.execute("PRAGMA busy_timeout = 30000")
            if target != ":memory:":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")  # a cache: losing the last commit is fine
            # No checkpoints after commits: the writer thread checkpoints when it runs out of
            # work (see _WriteBehind), so that a sync does not wait for them.
            conn.execute("PRAGMA wal_autocheckpoint = 0")
            conn.execute("PRAGMA journal_size_limit = 67108864")
            conn.execute("PRAGMA temp_store = MEMORY")
            # Per connection, and the pool may hold several at once (one per concurrent worker
            # thread): 8 MiB for reads (the first 64 MiB of the file are mapped, see below);
            # writes raise it while they run (_write).
            conn.execute(f"PRAGMA cache_size = {_READ_CACHE_KIB}")
            # Searches seek rows all over the file; mapped pages halve their cost (measured).
            # Only SQLite itself ever shortens this file, so the usual mmap caveat does not apply.
            # 64 MiB: as fast as mapping the whole file in the catalog benchmark (100,000
            # offerings, a 170 MB file), and every pooled connection maps its own copy, which
            # counts toward the process's resident memory.
            conn.execute("PRAGMA mmap_size = 67108864")
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _connection(self) -> Iterator[_Connection]:
        """A connection for the duration of one call. Connections are pooled, not bound to
        threads: the TUI runs every query in a fresh worker thread, and a pooled connection
        keeps its page cache and prepared statements warm across them."""
        if self._closed:
            raise sqlite3.ProgrammingError("the cache is closed")
        if self._shared is not None:
            with self._lock:  # one connection for all threads
                yield self._shared
            return
        with self._pool_lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect(self.path)  # type: ignore[arg-type]
        with self._pool_lock:
            self._busy.add(conn)
        try:
            yield conn
        finally:
            with self._pool_lock:
                self._busy.discard(conn)
                keep = not self._closed and conn.epoch == self._epoch and len(self._idle) < _POOL_SIZE
                if keep:
                    self._idle.append(conn)
            if not keep:
                _close_quietly(conn)

    def _open_file(self) -> None:
        assert self.path is not None
        for attempt in range(2):
            conn = None
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = self._connect(self.path)
                self._prepare(conn)
                self._idle.append(conn)
                return
            except (sqlite3.Error, OSError) as exc:
                if conn is not None:
                    _close_quietly(conn)
                busy = getattr(exc, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
                if attempt == 0 and not busy and self._move_aside(exc):
                    continue
                log.warning("cache %s unusable (%s); using an in-memory cache for this session", self.path, exc)
                break
        self.path = None
        self._shared = self._connect(":memory:")
        self._prepare(self._shared)

    def _move_aside(self, exc: BaseException) -> bool:
        """Move an unreadable cache file (and its WAL) out of the way; True if the path is free."""
        assert self.path is not None
        if not self.path.exists():
            return False  # nothing to move: the directory itself is the problem
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            os.replace(self.path, target)
        except OSError as err:
            log.warning("cannot move the unreadable cache %s aside: %s", self.path, err)
            return False
        for suffix in ("-wal", "-shm"):
            side = Path(f"{self.path}{suffix}")
            try:
                if suffix == "-wal" and side.exists():
                    os.replace(side, Path(f"{target}{suffix}"))
                else:
                    side.unlink(missing_ok=True)
            except OSError:
                pass
        self.recovered_from = target
        self._memo.clear()
        self._orders.clear()
        self._fkeys.clear()
        log.warning("cache %s was unreadable (%s); moved it to %s and started empty", self.path, exc, target)
        return True

    def _prepare(self, conn: sqlite3.Connection) -> None:
        """Create the schema, or rebuild it when the file has another version; then read the
        last page of every table, so that a damaged file fails here and not in the UI."""
        if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            conn.execute("BEGIN IMMEDIATE")
            try:
                found = conn.execute("PRAGMA user_version").fetchone()[0]
                if found != SCHEMA_VERSION:  # another process may have done it meanwhile
                    if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                        log.info("cache schema version %s, expected %s: rebuilding", found, SCHEMA_VERSION)
                        self._drop_all(conn)
                    for statement in SCHEMA:
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        for table in _PROBE_TABLES:
            conn.execute(f"SELECT max(rowid) FROM {table}" if table not in ("meta", "state")
                         else f"SELECT max(key) FROM {table}").fetchone()

    @staticmethod
    def _drop_all(conn: sqlite3.Connection) -> None:
        objects = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchall()
        for kind, name, _ in objects:
            if kind in ("trigger", "view"):
                conn.execute(f'DROP {kind.upper()} IF EXISTS "{name}"')
        for kind, name, sql in objects:  # virtual tables first: they drop their shadow tables
            if kind == "table" and (sql or "").upper().startswith("CREATE VIRTUAL TABLE"):
                conn.execute(f'DROP TABLE IF EXISTS "{name}"')
        for kind, name, _ in objects:
            if kind == "table":
                conn.execute(f'DROP TABLE IF EXISTS "{name}"')

    def _recover(self, exc: BaseException, epoch: int) -> None:
        """Corruption met at run time: move the file aside and start over, empty."""
        with self._lock:
            if self._shared is not None or self.path is None or epoch != self._epoch:
                return  # memory, or another thread has already done it
            with self._pool_lock:
                self._epoch += 1  # connections in use are closed when they come back
                idle, self._idle = self._idle, []
            for conn in idle:
                _close_quietly(conn)
            if not self._move_aside(exc):
                try:
                    self.path.unlink(missing_ok=True)
                except OSError:
                    pass
            self._memo.clear()
            self._orders.clear()
            self._fkeys.clear()
            with self._connection() as conn:
                self._prepare(conn)

    def _read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` in one read transaction (one consistent snapshot) that sees every write
        handed over before."""
        if self._behind is not None:
            self._behind.wait(everything=False)  # failures are raised to writers
        for attempt in range(2):
            epoch = self._epoch
            try:
                with self._connection() as conn:
                    conn.execute("BEGIN")
                    try:
                        return work(conn)
                    finally:
                        if conn.in_transaction:
                            conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                if attempt or not _is_corruption(exc) or self._shared is not None:
                    raise
                self._recover(exc, epoch)
        raise AssertionError("unreachable")

    def _write(self, work: Callable[[sqlite3.Connection], T], *, wait: bool = True) -> T:
        if wait and self._behind is not None:
            self._behind.wait(everything=True)  # keep the order of writes
        with self._lock:
            epoch = self._epoch
            try:
                with self._connection() as conn:
                    conn.execute(f"PRAGMA cache_size = {_WRITE_CACHE_KIB}")  # index pages of a bulk sync
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        result = work(conn)
                        conn.execute("COMMIT")
                    except BaseException:
                        self._fkeys.clear()  # it may name keys that were rolled back
                        if conn.in_transaction:
                            conn.execute("ROLLBACK")
                        raise
                    finally:
                        if not conn.in_transaction:
                            conn.execute(f"PRAGMA cache_size = {_READ_CACHE_KIB}")
                self._checkpoint(over=64 << 20)  # a bound for writers that never pause
                return result
            except sqlite3.DatabaseError as exc:
                if not _is_corruption(exc) or self._shared is not None:
                    raise
                self._recover(exc, epoch)
                raise CacheReset(f"the cache file was damaged and has been reset: {exc}") from exc

    def _checkpoint(self, *, over: int = 4 << 20) -> None:
        """Copy the WAL into the file if it has grown past ``over`` bytes (PASSIVE: never waits
        for readers, never blocks them)."""
        if self.path is None or self._closed:
            return
        try:
            if os.stat(f"{self.path}-wal").st_size <= over:
                return
            with self._connection() as conn:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except (OSError, sqlite3.Error) as exc:
            log.debug("checkpoint skipped: %s", exc)

    def close(self) -> None:
        """Finish the writes handed over, then close the connections (those in use close when
        their call ends)."""
        if self._behind is not None:
            self._behind.stop()
        with self._lock, self._pool_lock:
            if self._closed:
                return
            self._closed = True
            idle, self._idle = self._idle, []
            shared, self._shared = self._shared, None
        for conn in idle:
            try:
                conn.execute("PRAGMA optimize")
            except sqlite3.Error:
                pass
            _close_quietly(conn)
        if shared is not None:
            _close_quietly(shared)

    # --- offerings: writing ------------------------------------------------------------------------

    def upsert_offerings(self, items: Iterable[dict]) -> int:
        """Store offerings as the server sends them; tombstones (``"tombstone": true``) delete.
        Returns the number of items applied.

        A file cache writes bulk batches (sync pages, ``_BEHIND`` items or more) behind: they
        are prepared here and handed to a writer thread, so that a sync fetches its next page
        while the last one is indexed (about a fifth faster at 100,000), and pages that queue
        up are written in one transaction. Reads in the same thread wait for them (you read
        your writes); reads in other threads see them once written, without waiting — a
        catalog stays responsive during a sync. Every other write (``set_state`` too) waits
        for all of them first, so sync bookkeeping is never stored before the records it
        describes, and a failed background write is raised there. Smaller batches (the
        answer to one edit) are written at once and are visible to every thread."""
        batch = _prepare_offerings(items)
        if not batch.gone and not batch.live:
            return 0
        if self._behind is not None and batch.size >= _BEHIND:
            self._behind.submit(batch)
        else:
            self._write(partial(self._apply, batches=[batch]))
        return batch.size

    def _apply(self, conn: sqlite3.Connection, *, batches: list[_Batch]) -> None:
        for batch in batches:  # one after the other: a later batch may change the same ids
            self._delete_offerings(conn, batch.gone)
            if batch.live:
                self._store_offerings(conn, batch.live)
        conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'offerings_gen'")

    def remove_offerings(self, ids: Iterable[int]) -> int:
        """Delete offerings by id; returns how many there were."""
        gone = list(dict.fromkeys(int(i) for i in ids))
        if not gone:
            return 0

        def work(conn: sqlite3.Connection) -> int:
            removed = self._delete_offerings(conn, gone)
            conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'offerings_gen'")
            return removed

        return self._write(work)

    @staticmethod
    def _stored(conn: sqlite3.Connection, ids: list[int]) -> dict[int, tuple[int, str, str]]:
        """(fkey, search_text, words) of the offerings among ``ids`` that are stored."""
        found: dict[int, tuple[int, str, str]] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            for r in conn.execute(
                    "SELECT o.id, o.fkey, x.search_text, x.words FROM offerings o JOIN offering_text x ON x.id = o.id "
                    f"WHERE o.id IN ({','.join('?' * len(chunk))})", chunk):
                found[r[0]] = (r[1], r[2], r[3])
        return found

    @staticmethod
    def _add_counts(conn: sqlite3.Connection, delta: dict[int, int]) -> None:
        changes = [(k, n) for k, n in delta.items() if n]
        if changes:
            conn.executemany("INSERT INTO facet_counts (fkey, n) VALUES (?, ?) ON CONFLICT (fkey) DO UPDATE SET n = n + excluded.n",
                             changes)

    @staticmethod
    def _unindex(conn: sqlite3.Connection, old: list[tuple[int, str, str]]) -> None:
        """Take rows out of both FTS indexes (external content: FTS needs the indexed values)."""
        if old:
            conn.executemany("INSERT INTO offering_trigrams (offering_trigrams, rowid, search_text) VALUES ('delete', ?, ?)",
                             [(i, t) for i, t, _ in old])
            conn.executemany("INSERT INTO offering_words (offering_words, rowid, words) VALUES ('delete', ?, ?)",
                             [(i, w) for i, _, w in old])

    @staticmethod
    def _index(conn: sqlite3.Connection, new: list[tuple[int, str, str]]) -> None:
        if new:
            conn.executemany("INSERT INTO offering_trigrams (rowid, search_text) VALUES (?, ?)", [(i, t) for i, t, _ in new])
            conn.executemany("INSERT INTO offering_words (rowid, words) VALUES (?, ?)", [(i, w) for i, _, w in new])

    def _delete_offerings(self, conn: sqlite3.Connection, ids: list[int]) -> int:
        if not ids:
            return 0
        old = self._stored(conn, ids)
        self._unindex(conn, [(i, t, w) for i, (_, t, w) in old.items()])
        delta: dict[int, int] = {}
        for fkey, _, _ in old.values():
            delta[fkey] = delta.get(fkey, 0) - 1
        self._add_counts(conn, delta)
        params = [(i,) for i in ids]
        before = conn.total_changes
        conn.executemany("DELETE FROM offerings WHERE id = ?", params)
        removed = conn.total_changes - before
        conn.executemany("DELETE FROM offering_text WHERE id = ?", params)
        conn.executemany("DELETE FROM offering_docs WHERE id = ?", params)
        return removed

    def _fkey(self, conn: sqlite3.Connection, key: _Key) -> int:
        """The fkey of a combination, interned on first sight (the map is only a memo of the
        table: another process may have added keys meanwhile)."""
        fkey = self._fkeys.get(key)
        if fkey is None:
            values = (*key[:4], ",".join(key.laender))
            conn.execute("INSERT INTO facet_keys (category, provider_id, provider_name, status, laender) VALUES (?, ?, ?, ?, ?) "
                         "ON CONFLICT DO NOTHING", values)
            fkey = conn.execute("SELECT fkey FROM facet_keys WHERE category = ? AND provider_id IS ? AND provider_name = ? "
                                "AND status = ? AND laender = ?", values).fetchone()[0]
            self._fkeys[key] = fkey
        return fkey

    def _store_offerings(self, conn: sqlite3.Connection, live: list[_Prepared]) -> None:
        old = self._stored(conn, [p.id for p in live])
        delta: dict[int, int] = {}
        rows_o, rows_d = [], []
        new_text, changed_text, stale_text = [], [], []
        for p in live:
            fkey = self._fkey(conn, p.key)
            before = old.get(p.id)
            if before is None:
                new_text.append((p.id, p.text, p.words))
                delta[fkey] = delta.get(fkey, 0) + 1
            else:
                if before[0] != fkey:
                    delta[before[0]] = delta.get(before[0], 0) - 1
                    delta[fkey] = delta.get(fkey, 0) + 1
                if before[1:] != (p.text, p.words):  # unchanged text is not re-indexed: a resync costs little
                    stale_text.append((p.id, before[1], before[2]))
                    changed_text.append((p.id, p.text, p.words))
            rows_o.append((p.id, fkey, *p.sort))
            rows_d.append(p.doc)
        conn.executemany(
            "INSERT INTO offerings (id, fkey, title_key, provider_key, annual_fee_cents, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET fkey = excluded.fkey, title_key = excluded.title_key, "
            "provider_key = excluded.provider_key, annual_fee_cents = excluded.annual_fee_cents, "
            "updated_at = excluded.updated_at WHERE (fkey, title_key, provider_key, annual_fee_cents, updated_at) "
            "IS NOT (excluded.fkey, excluded.title_key, excluded.provider_key, excluded.annual_fee_cents, "
            "excluded.updated_at)", rows_o)
        self._unindex(conn, stale_text)
        conn.executemany("INSERT INTO offering_text (id, search_text, words) VALUES (?, ?, ?)", new_text)
        conn.executemany("UPDATE offering_text SET search_text = ?, words = ? WHERE id = ?",
                         [(t, w, i) for i, t, w in changed_text])
        self._index(conn, new_text + changed_text)
        self._add_counts(conn, delta)
        conn.executemany(
            f"INSERT INTO offering_docs (id, {', '.join(_DOC_COLUMNS)}) VALUES (?{', ?' * len(_DOC_COLUMNS)}) "
            f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{n} = excluded.{n}' for n in _DOC_COLUMNS)} "
            "WHERE doc IS NOT excluded.doc", rows_d)

    # --- offerings: reading ------------------------------------------------------------------------

    def get_offering(self, id: int) -> dict | None:
        row = self._read(lambda c: c.execute("SELECT doc FROM offering_docs WHERE id = ?", (int(id),)).fetchone())
        return json.loads(row[0]) if row else None

    def offering_count(self) -> int:
        return self._read(lambda c: c.execute("SELECT count(*) FROM offerings").fetchone()[0])

    def provider_id(self, name: str) -> int | None:
        """The id behind a provider name as the ``provider`` facet reports it."""
        row = self._read(lambda c: c.execute(
            "SELECT provider_id FROM facet_keys WHERE provider_name = ? AND provider_id IS NOT NULL "
            "ORDER BY fkey DESC LIMIT 1", (name,)).fetchone())
        return row[0] if row else None

    def search(self, query: str = "", *, filters: Filters | None = None, sort: str = "title", offset: int = 0,
               limit: int = 100) -> SearchPage:
        """The window ``[offset, offset + limit)`` of the matches in ``sort`` order, and the total."""
        if sort not in _SORTS:
            raise ValueError(f"unknown sort {sort!r}; one of {', '.join(_SORTS)}")
        f = filters or Filters()
        q = _Query.parse(query)
        offset, limit = max(0, int(offset)), max(0, int(limit))

        def work(conn: sqlite3.Connection) -> SearchPage:
            gen = self._gen(conn)
            p = self._plan(conn, gen, q)
            total = self._total(conn, gen, p, f, sort)
            if total == 0 or limit == 0 or offset >= total:
                return SearchPage([], total, offset)
            ids = self._window(conn, gen, p, f, sort, offset, limit, total)
            return SearchPage(self._rows(conn, ids), total, offset)

        return self._read(work)

    def count(self, query: str = "", *, filters: Filters | None = None) -> int:
        """How many offerings match (what ``search(...).total`` says, memoized until the next write)."""
        q, f = _Query.parse(query), filters or Filters()
        def work(conn: sqlite3.Connection) -> int:
            gen = self._gen(conn)
            return self._total(conn, gen, self._plan(conn, gen, q), f, "title")

        return self._read(work)

    def facets(self, query: str = "", *, filters: Filters | None = None) -> dict[str, list[tuple[str, int]]]:
        """Counts per value of each facet for the matches of ``query``. Each facet honours the
        query and the *other* filters, not its own (so picking a value shows the alternatives).

        ``bundesland``: offerings without Länder are nationwide and match every Land filter;
        they are reported once as ``"bundesweit"``, and each Land counts the offerings that name
        it explicitly. Filtering by a Land therefore yields its count plus the bundesweit count.
        ``inhouse_orderable``: whether an organisation with an in-house relationship could order
        it — that flag belongs to the customer, so for the catalog it is simply "published":
        ``"ja"`` for published offerings, ``"nein"`` for the rest.
        Each list is sorted by count (descending), then value."""
        q, f = _Query.parse(query), filters or Filters()

        def work(conn: sqlite3.Connection) -> dict[str, list[tuple[str, int]]]:
            gen = self._gen(conn)
            keys = self._keys(conn, gen)
            cube = self._cube(conn, gen, self._plan(conn, gen, q))
            out: dict[str, list[tuple[str, int]]] = {}
            for facet in FACETS:
                counts: dict[str, int] = {}
                for fkey, n in cube.items():
                    key = keys.get(fkey)
                    if key is None or not _key_passes(key, f, skip=facet):
                        continue
                    if facet == "category":
                        values: Iterable[str] = (key.category,)
                    elif facet == "provider":
                        values = (key.provider_name,)
                    elif facet == "status":
                        values = (key.status,)
                    elif facet == "inhouse_orderable":
                        values = ("ja" if key.status == "published" else "nein",)
                    else:
                        values = key.laender or (NATIONWIDE,)
                    for value in values:
                        counts[value] = counts.get(value, 0) + n
                out[facet] = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            return out

        return self._read(work)

    # --- search internals --------------------------------------------------------------------------

    @staticmethod
    def _gen(conn: sqlite3.Connection) -> int:
        """Bumped by every offering write, read in the same snapshot as the query: memoized
        counts are valid exactly while it stays (also across processes sharing the file)."""
        return conn.execute("SELECT value FROM meta WHERE key = 'offerings_gen'").fetchone()[0]

    def _plan(self, conn: sqlite3.Connection, gen: int, q: _Query) -> _Query:
        """``q``, or the same query driven by the prefix index when that finds fewer candidates
        than the trigram index (same matches: the per-row checks are exact equivalents).
        Counting a prefix in FTS5 is cheap; the trigram side is probed only up to that count."""
        if not (q.long and q.prefixes):
            return q
        memo = ("plan", gen, q)
        planned = self._memo.get(memo)
        if planned is None:
            words = q._replace(words_first=True).driver()
            trigrams = q.driver()
            assert words is not None and trigrams is not None
            n_words = conn.execute(f"SELECT count(*) FROM {words[0]} WHERE {words[0]} MATCH ?", (words[1],)).fetchone()[0]
            n_trigrams = conn.execute(
                f"SELECT count(*) FROM (SELECT rowid FROM {trigrams[0]} WHERE {trigrams[0]} MATCH ? LIMIT ?)",
                (trigrams[1], n_words + 1)).fetchone()[0]
            planned = q._replace(words_first=True) if n_words < n_trigrams else q
            self._memo.put(memo, planned)
        return planned

    @staticmethod
    def _load_keys(conn: sqlite3.Connection) -> dict[int, _Key]:
        return {r[0]: _Key(r[1], r[2], r[3], r[4], tuple(x for x in r[5].split(",") if x))
                for r in conn.execute("SELECT fkey, category, provider_id, provider_name, status, laender FROM facet_keys")}

    def _keys(self, conn: sqlite3.Connection, gen: int) -> dict[int, _Key]:
        memo = ("keys", gen)
        keys = self._memo.get(memo)
        if keys is None:
            keys = self._load_keys(conn)
            self._memo.put(memo, keys)
        return keys

    def _cube(self, conn: sqlite3.Connection, gen: int, q: _Query) -> dict[int, int]:
        """How many matches of ``q`` each fkey has."""
        memo = ("cube", gen, q)
        cube = self._memo.get(memo)
        if cube is not None:
            return cube
        if q.empty:
            sql, params = "SELECT fkey, n FROM facet_counts WHERE n > 0", []
        else:
            driver = q.driver()
            checks, params = q.checks(with_driver=driver is None)
            where = " AND ".join(checks)
            if driver is None:
                sql = (f"SELECT o.fkey, count(*) FROM offering_text x CROSS JOIN offerings o ON o.id = x.id "
                       f"WHERE {where} GROUP BY o.fkey")
            else:
                table, match = driver
                join = " CROSS JOIN offering_text x ON x.id = o.id" if checks else ""
                sql = (f"SELECT o.fkey, count(*) FROM {table} m CROSS JOIN offerings o ON o.id = m.rowid{join} "
                       f"WHERE m.{table} MATCH ?{' AND ' + where if where else ''} GROUP BY o.fkey")
                params = [match, *params]
        cube = dict(conn.execute(sql, params).fetchall())
        self._memo.put(memo, cube)
        return cube

    def _allowed(self, conn: sqlite3.Connection, gen: int, f: Filters) -> tuple[list[int] | None, int, int]:
        """The fkeys in use that the filters admit (None: all of them), how many offerings have
        them, and how many offerings do not."""
        return self._split(conn, gen, f)[:3]

    def _excluded(self, conn: sqlite3.Connection, gen: int, f: Filters) -> list[int]:
        """The fkeys in use that the filters leave out."""
        return self._split(conn, gen, f)[3]

    def _split(self, conn: sqlite3.Connection, gen: int, f: Filters) -> tuple[list[int] | None, int, int, list[int]]:
        memo = ("allowed", gen, f)
        found = self._memo.get(memo)
        if found is None:
            keys = self._keys(conn, gen)
            every = self._cube(conn, gen, _EMPTY)
            allowed, excluded = [], []
            for fkey in every:
                key = keys.get(fkey)
                (allowed if key is not None and _key_passes(key, f) else excluded).append(fkey)
            n_in = sum(every[k] for k in allowed)
            n_out = sum(every[k] for k in excluded)
            found = (None if not excluded else allowed, n_in, n_out, excluded)
            self._memo.put(memo, found)
        return found

    @staticmethod
    def _in(fkeys: Iterable[int]) -> str:
        return f"o.fkey IN ({','.join(str(int(k)) for k in fkeys)})"

    def _total(self, conn: sqlite3.Connection, gen: int, q: _Query, f: Filters, sort: str) -> int:
        total = self._memo.get(("count", gen, q, f))
        if total is None and q.driver() is not None and self._orders.get(("order", gen, q, f, sort)) is None:
            # Most queries past the first letters match a few hundred offerings: then one FTS
            # lookup yields all of them in order (for the pages to come), and the total.
            few = self._few_matches(conn, gen, q, f, sort)
            if few is not None:
                self._orders.put(("order", gen, q, f, sort), few)
                self._memo.put(("count", gen, q, f), len(few))
                return len(few)
        return total if total is not None else self._count(conn, gen, q, f)

    def _count(self, conn: sqlite3.Connection, gen: int, q: _Query, f: Filters) -> int:
        memo = ("count", gen, q, f)
        n = self._memo.get(memo)
        if n is not None:
            return n
        allowed, n_in, n_out = self._allowed(conn, gen, f)
        cube = self._memo.get(("cube", gen, q))
        if q.empty or n_in == 0:
            n = n_in
        elif cube is not None:
            n = sum(cube.values()) if allowed is None else sum(cube.get(k, 0) for k in allowed)
        else:
            driver = q.driver()
            if driver is None or (allowed is not None and n_in <= _SCAN_ROWS):
                n = self._scan_count(conn, q, allowed)
            else:
                table, match = driver
                checks, params = q.checks(with_driver=False)
                join = " CROSS JOIN offering_text x ON x.id = m.rowid" if checks else ""
                extra = "".join(f" AND {c}" for c in checks)
                if allowed is None or n_out <= _SCAN_ROWS:
                    # All, or all but a few (say drafts and retired ones next to thousands of
                    # published): count in the index alone and subtract the few.
                    n = conn.execute(f"SELECT count(*) FROM {table} m{join} WHERE m.{table} MATCH ?{extra}",
                                     [match, *params]).fetchone()[0]
                    if allowed is not None:
                        n -= self._scan_count(conn, q, self._excluded(conn, gen, f))
                else:
                    join = " CROSS JOIN offering_text x ON x.id = o.id" if checks else ""
                    n = conn.execute(
                        f"SELECT count(*) FROM {table} m CROSS JOIN offerings o ON o.id = m.rowid{join} "
                        f"WHERE m.{table} MATCH ? AND {self._in(allowed)}{extra}", [match, *params]).fetchone()[0]
        self._memo.put(memo, n)
        return n

    def _scan_count(self, conn: sqlite3.Connection, q: _Query, fkeys: list[int] | None) -> int:
        """Count by testing each row (of the given fkeys, or all) against every query word."""
        checks, params = q.checks(with_driver=True)
        where = " AND ".join(checks) or "1"
        if fkeys is None:
            return conn.execute(f"SELECT count(*) FROM offering_text x WHERE {where}", params).fetchone()[0]
        if not fkeys:
            return 0
        return conn.execute(
            f"SELECT count(*) FROM offerings o INDEXED BY ix_offerings_fkey CROSS JOIN offering_text x ON x.id = o.id "
            f"WHERE {self._in(fkeys)} AND {where}", params).fetchone()[0]

    def _window(self, conn: sqlite3.Connection, gen: int, q: _Query, f: Filters, sort: str, offset: int, limit: int,
                total: int) -> list[int]:
        """The ids of the matches ``[offset, offset + limit)`` in sort order."""
        index, order = _SORTS[sort]
        allowed, n_in, _ = self._allowed(conn, gen, f)
        conds = [] if allowed is None else [self._in(allowed)]
        if q.empty:
            if index is None:
                return self._by_provider(conn, gen, f, offset, limit)
            # The filter is checked in the sort index, so OFFSET skips index entries only.
            where = f" WHERE {conds[0]}" if conds else ""
            return [r[0] for r in conn.execute(
                f"SELECT o.id FROM offerings o INDEXED BY {index}{where} ORDER BY {order} LIMIT ? OFFSET ?", (limit, offset))]
        memo = ("order", gen, q, f, sort)
        ordered = self._orders.get(memo)
        if ordered is None and index is not None:
            window = ("window", gen, q, f, sort, offset, limit)
            found = self._memo.get(window)
            if found is None:
                found = self._walk(conn, q, conds, index, order, offset, limit, total, n_in)
            if found is None and offset + limit <= _SCAN_WINDOW:
                found = self._scan_window(conn, q, conds, index, order, offset, limit)
            if found is not None:
                self._memo.put(window, found)
                return list(found)
        if ordered is None:
            ordered = self._all_matches(conn, q, conds, order)
            self._orders.put(memo, ordered)
        return list(ordered[offset:offset + limit])

    def _walk(self, conn: sqlite3.Connection, q: _Query, conds: list[str], index: str, order: str, offset: int,
              limit: int, total: int, n_in: int) -> list[int] | None:
        """Walk the sort index and test rows until the window is full: the way to the first
        pages of a broad query. Matches need not be spread evenly in sort order ("online"
        sorts all "Online-Antrag …" titles together), so the walk is bounded to a few times
        the rows it should need; None when that was not enough."""
        expected = (offset + limit) * n_in / max(total, 1)
        if expected > _WALK_ROWS:
            return None  # sparse matches or a deep page: sorting all matches is cheaper
        cap = int(max(_WALK_ROWS, 4 * expected))
        checks, params = q.checks(with_driver=True)
        columns = list(dict.fromkeys(re.findall(r"o\.(\w+)", order)))
        inner = ", ".join(f"o.{c} AS {c}" for c in columns)
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        rows = conn.execute(
            f"SELECT s.id FROM (SELECT {inner} FROM offerings o INDEXED BY {index}{where} ORDER BY {order} LIMIT ?) s "
            f"CROSS JOIN offering_text x ON x.id = s.id WHERE {' AND '.join(checks)} "
            f"ORDER BY {order.replace('o.', 's.')} LIMIT ? OFFSET ?", [cap, *params, limit, offset]).fetchall()
        if len(rows) == limit or cap >= n_in:
            return [r[0] for r in rows]
        return None

    @staticmethod
    def _scan_window(conn: sqlite3.Connection, q: _Query, conds: list[str], index: str, order: str, offset: int,
                     limit: int) -> list[int] | None:
        """A shallow window of a broad query whose matches bunch up in sort order (the walk gave
        up): the FTS index yields the candidate set, and the sort index is scanned, in order,
        only until the window is full. No join and no sort, unlike sorting every match."""
        driver = q.driver()
        if driver is None:
            return None
        table, match = driver
        checks, params = q.checks(with_driver=False)
        join = " CROSS JOIN offering_text x ON x.id = m.rowid" if checks else ""
        extra = "".join(f" AND {c}" for c in checks)
        where = "".join(f" AND {c}" for c in conds)
        return [r[0] for r in conn.execute(
            f"SELECT o.id FROM offerings o INDEXED BY {index} WHERE o.id IN "
            f"(SELECT m.rowid FROM {table} m{join} WHERE m.{table} MATCH ?{extra}){where} ORDER BY {order} LIMIT ? OFFSET ?",
            [match, *params, limit, offset])]

    def _few_matches(self, conn: sqlite3.Connection, gen: int, q: _Query, f: Filters, sort: str) -> array | None:
        """All matches in sort order if the FTS index has at most _FEW candidates, else None.
        Reading rowids alone is cheap (FTS5 produces them lazily, so a broad query stops after
        _FEW + 1), and the filters, remaining words and the sort then touch only those rows."""
        driver = q.driver()
        assert driver is not None
        table, match = driver
        candidates = [r[0] for r in conn.execute(f"SELECT rowid FROM {table} WHERE {table} MATCH ? LIMIT ?", (match, _FEW + 1))]
        if len(candidates) > _FEW:
            return None
        if not candidates:
            return array("q")
        allowed, _, _ = self._allowed(conn, gen, f)
        checks, params = q.checks(with_driver=False)
        conds = ([] if allowed is None else [self._in(allowed)]) + checks
        join = " CROSS JOIN offering_text x ON x.id = o.id" if checks else ""
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        return array("q", (r[0] for r in conn.execute(
            f"SELECT o.id FROM json_each(?) j CROSS JOIN offerings o ON o.id = j.value{join}{where} ORDER BY {_SORTS[sort][1]}",
            ["[" + ",".join(map(str, candidates)) + "]", *params])))

    def _all_matches(self, conn: sqlite3.Connection, q: _Query, conds: list[str], order: str) -> array:
        """Every match in sort order (kept per query and sort, so that paging on is slicing)."""
        driver = q.driver()
        if driver is None:
            checks, params = q.checks(with_driver=True)
            sql = (f"SELECT o.id FROM offerings o CROSS JOIN offering_text x ON x.id = o.id "
                   f"WHERE {' AND '.join(conds + checks)} ORDER BY {order}")
        else:
            table, match = driver
            checks, params = q.checks(with_driver=False)
            join = " CROSS JOIN offering_text x ON x.id = o.id" if checks else ""
            where = "".join(f" AND {c}" for c in conds + checks)
            sql = (f"SELECT o.id FROM {table} m CROSS JOIN offerings o ON o.id = m.rowid{join} "
                   f"WHERE m.{table} MATCH ?{where} ORDER BY {order}")
            params = [match, *params]
        return array("q", (r[0] for r in conn.execute(sql, params)))

    def _by_provider(self, conn: sqlite3.Connection, gen: int, f: Filters, offset: int, limit: int) -> list[int]:
        """Sort by provider without an index: the counts per fkey say how many offerings each
        provider has, so whole providers are skipped and only the window's providers are read
        (each in title order from the title index)."""
        keys = self._keys(conn, gen)
        every = self._cube(conn, gen, _EMPTY)
        groups: dict[str, list[int]] = {}
        for fkey, key in keys.items():
            if every.get(fkey) and _key_passes(key, f):
                groups.setdefault(_provider_key(key.provider_name), []).append(fkey)
        out: list[int] = []
        skip = offset
        for name in sorted(groups):
            n = sum(every[k] for k in groups[name])
            if skip >= n:
                skip -= n
                continue
            out.extend(r[0] for r in conn.execute(
                f"SELECT o.id FROM offerings o INDEXED BY ix_offerings_title WHERE {self._in(groups[name])} "
                "ORDER BY o.title_key, o.id LIMIT ? OFFSET ?", (limit - len(out), skip)))
            skip = 0
            if len(out) >= limit:
                break
        return out

    @staticmethod
    def _rows(conn: sqlite3.Connection, ids: list[int]) -> list[OfferingRow]:
        if not ids:
            return []
        found = {}
        for r in conn.execute(
                "SELECT id, title, provider_name, provider_id, category, annual_fee, one_time_fee, distribution_key, "
                f"status, updated_at, summary FROM offering_docs WHERE id IN ({','.join('?' * len(ids))})", ids):
            found[r[0]] = OfferingRow(r[0], r[1], r[2], r[3], r[4], Decimal(r[5]), Decimal(r[6]), r[7], r[8], r[9], r[10])
        return [found[i] for i in ids if i in found]

    # --- other records -----------------------------------------------------------------------------

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
        rows = [(int(i["id"]), *(get(i) for get in columns.values()), _dumps(i)) for i in items if not i.get("tombstone")]
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


__all__ = ["Cache", "CacheReset", "Filters", "OfferingRow", "SearchPage", "FACETS", "NATIONWIDE", "default_path"]
