"""The cache file: pooled connections, the schema, read and write transactions, and recovery
from a damaged file (moved aside, started empty) or another schema version (rebuilt)."""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar

import pydantic_core

from ...files import private_database, user_dir
from .schema import _PROBE_TABLES, SCHEMA, SCHEMA_VERSION
from .values import CacheReset

if TYPE_CHECKING:
    from .catalog_index import _Key, _WriteBehind

log = logging.getLogger("efa_tui.store")

T = TypeVar("T")


def default_path() -> Path:
    return user_dir("cache") / "cache.sqlite3"


def _is_corruption(exc: BaseException) -> bool:
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return True
    text = str(exc).lower()
    # A cell that is not UTF-8 can only come from damage (we write text through sqlite3): a
    # reset and a full sync repair it, while the error would stay on every read of that row.
    return "malformed" in text or "not a database" in text or "could not decode to utf-8" in text


# ASCII escapes and no cycle check: a third faster than the defaults, and server JSON has no cycles.
_ENCODER = json.JSONEncoder(ensure_ascii=True, check_circular=False, separators=(",", ":"), default=str)


def _dumps(value: Any) -> str:
    return _ENCODER.encode(value)


_SURROGATE = re.compile("[\ud800-\udfff]")  # in a str only a lone one: json.loads joins valid pairs


def without_surrogates(value: Any) -> Any:
    """``value`` (JSON from the server) with every lone surrogate ("\\ud800" in JSON) replaced
    by U+FFFD: SQLite cannot store one (sqlite3 cannot encode it), a terminal cannot show one."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {without_surrogates(k): without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_surrogates(v) for v in value]
    return value


def as_stored(item: dict) -> tuple[dict, str]:
    """A record from the server as the cache keeps it, and its JSON text. pydantic-core's
    encoder (Rust) is about three times faster than json's and refuses exactly the text with a
    lone surrogate: only then is the record walked and the surrogates replaced."""
    try:
        return item, pydantic_core.to_json(item).decode()
    except pydantic_core.PydanticSerializationError:
        item = without_surrogates(item)
        try:
            return item, pydantic_core.to_json(item).decode()
        except pydantic_core.PydanticSerializationError:
            return item, _dumps(item)  # something else it cannot encode (a Decimal of ours): json's way


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


_POOL_SIZE = 8  # idle connections kept; more may exist while many threads read at once
_READ_CACHE_KIB = -8000  # SQLite page cache per connection (negative: KiB)
_WRITE_CACHE_KIB = -32000


class _Connection(sqlite3.Connection):
    epoch = 0  # the file generation it belongs to (see Cache._recover)


def _close_quietly(conn: sqlite3.Connection) -> None:
    try:
        conn.close()
    except sqlite3.Error:
        pass


class CacheFile:
    """The file and its connections; the catalog and record parts build on it (see ``Cache``)."""

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
        # Called (in the thread that found it) after damage emptied the cache at run time:
        # its sync points are gone too, so the owner of the sync should sync again.
        self.on_reset: list[Callable[[], Any]] = []
        if memory:
            self._shared = self._connect(":memory:")
            self._prepare(self._shared)
        else:
            self._open_file()
        self._on_open()

    def _on_open(self) -> None:
        """After a file was opened (by the constructor or ``switch``)."""

    def switch(self, path: str | os.PathLike) -> None:
        """Go on with another file (another identity's cache, or ``":memory:"``): writes handed over
        land in the old one first, and nothing read afterwards comes from it. The same object,
        so everything holding this cache follows."""
        if self._behind is not None:
            self._behind.stop()
            self._behind = None
        with self._lock:
            with self._pool_lock:
                self._epoch += 1  # connections in use are closed when they come back
                idle, self._idle = self._idle, []
                shared, self._shared = self._shared, None
            for conn in idle:
                _close_quietly(conn)
            if shared is not None:
                _close_quietly(shared)
            self._memo.clear()
            self._orders.clear()
            self._fkeys.clear()
            self.recovered_from = None
            if str(path) == ":memory:":
                self.path = None
                self._shared = self._connect(":memory:")
                self._prepare(self._shared)
            else:
                self.path = Path(path)
                self._open_file()
        self._on_open()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- connections, schema, recovery ------------------------------------------------------------

    def _connect(self, target: str | Path) -> _Connection:
        if target != ":memory:":
            private_database(Path(target))  # 0600 in a 0700 directory before SQLite creates it
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
        self._prune_copies(keep=target)
        self._memo.clear()
        self._orders.clear()
        self._fkeys.clear()
        log.warning("cache %s was unreadable (%s); moved it to %s and started empty", self.path, exc, target)
        return True

    def _prune_copies(self, *, keep: Path) -> None:
        """One copy of a damaged cache is enough to look at; older ones only fill the disk."""
        assert self.path is not None
        for old in self.path.parent.glob(f"{self.path.name}.corrupt-*"):
            if old.name.endswith("-wal") or old == keep:
                continue
            for one in (old, Path(f"{old}-wal")):
                try:
                    one.unlink(missing_ok=True)
                except OSError as err:
                    log.debug("cannot remove an old copy %s: %s", one, err)

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
        for listener in list(self.on_reset):
            try:
                listener()
            except Exception:  # noqa: BLE001 - a listener's failure must not fail the read
                log.warning("cache reset listener failed", exc_info=True)

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
                if not attempt and "no such table" in str(exc) and self._shared is None:
                    # A reset in another thread moved the file aside and has not yet made the new
                    # one's tables: wait until it has (it holds the lock for both), then read again.
                    with self._lock:
                        pass
                    continue
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
