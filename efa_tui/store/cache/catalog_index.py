"""Writing offerings: each turned into its sort keys, facet key, folded search text and shown
columns (in the caller's thread), then stored with both FTS indexes and the facet counts kept
up to date — bulk batches behind, in a writer thread."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from functools import lru_cache, partial
from typing import Any, NamedTuple

from ...domain.collation import SEARCH_FOLD_VERSION, search_fold, sort_key  # one rule each for the cache and the server
from .connection import CacheFile, as_stored

log = logging.getLogger("efa_tui.store")

# --- text ------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # all but \n: harmless, and our field separator
_WORD = re.compile(r"[^\W_]+")  # letters and digits: what unicode61 calls a token


def fold(text: str) -> str:
    """The form both the index and the query are compared in: the server's search folding
    (domain.collation.search_fold: case, NFC, ä → ae, ß → ss), control characters as spaces."""
    return _CONTROL.sub(" ", search_fold(text))


@lru_cache(maxsize=4096)
def _provider_key(name: str) -> str:
    return sort_key(name)  # a few hundred providers, each on thousands of offerings


def _search_text(item: dict, provider_name: str) -> str:
    parts = [item.get("title"), item.get("summary"), provider_name, item.get("category"), *(item.get("keywords") or [])]
    # Fields are joined by a newline: a query word never contains whitespace, so it never
    # matches across two fields.
    return fold("\n".join([str(p) for p in parts if p]))


def _words(search_text: str) -> str:
    # " w1 w2 …": a word starts with "ba" exactly when " ba" occurs (see _Query.checks).
    return " " + " ".join(_WORD.findall(search_text))


class _Key(NamedTuple):
    """One facet_keys row: the filterable properties of an offering."""

    category: str
    provider_id: int | None
    provider_name: str
    status: str
    laender: tuple[str, ...]  # empty: nationwide (bundesweit)


def _money(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value)) if value is not None else Decimal("0.00")
    except InvalidOperation:
        return Decimal("0.00")
    return amount if amount.is_finite() else Decimal("0.00")


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
        # First: a lone surrogate anywhere (a hostile server) becomes U+FFFD, columns included.
        item, doc = as_stored(item)
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
             str(_money(fees.get("one_time_fee"))), fees.get("distribution_key") or "", updated_at, doc)))
    return _Batch(gone, live, len(latest))


class _WriteBehind:
    """The writer thread of a file cache: applies prepared batches in order, several at once
    when they queue up. ``submit`` blocks while ``_QUEUE`` batches wait (a sync cannot run away
    from the disk). Batches are numbered; ``wait`` returns when a given one is applied."""

    def __init__(self, cache: CatalogIndex):
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


_QUEUE = 4  # batches handed to the writer thread before upsert_offerings waits
_BEHIND = 100  # items from which upsert_offerings writes behind


class CatalogIndex(CacheFile):
    """Offerings in, with their indexes (see the package docstring for the tables)."""

    def _on_open(self) -> None:
        super()._on_open()
        self._refold()
        if self._shared is None and self._behind is None:
            self._behind = _WriteBehind(self)  # a file: bulk batches are written behind

    def _refold(self) -> None:
        """Recompute every stored offering's search text when it was folded by another rule
        (a cache from before an upgrade of ``search_fold``): from the stored documents, with
        both FTS indexes rebuilt in place — no sync needed, and it works offline."""
        query = "SELECT value FROM meta WHERE key = 'search_fold'"
        found = self._read(lambda c: c.execute(query).fetchone())
        if found is not None and found[0] == SEARCH_FOLD_VERSION:
            return

        def work(conn: sqlite3.Connection) -> int:
            row = conn.execute(query).fetchone()
            if row is not None and row[0] == SEARCH_FOLD_VERSION:
                return 0  # another process did it meanwhile
            done, last = 0, -1
            while True:
                docs = conn.execute("SELECT id, provider_name, doc FROM offering_docs WHERE id > ? ORDER BY id LIMIT 2000",
                                    (last,)).fetchall()
                if not docs:
                    break
                texts = [(_search_text(json.loads(doc), name), oid) for oid, name, doc in docs]
                conn.executemany("UPDATE offering_text SET search_text = ?, words = ? WHERE id = ?",
                                 [(t, _words(t), oid) for t, oid in texts])
                done, last = done + len(docs), docs[-1][0]
            conn.execute("INSERT INTO offering_trigrams (offering_trigrams) VALUES ('rebuild')")
            conn.execute("INSERT INTO offering_words (offering_words) VALUES ('rebuild')")
            conn.execute("INSERT INTO meta (key, value) VALUES ('search_fold', ?) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (SEARCH_FOLD_VERSION,))
            conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'offerings_gen'")
            return done

        n = self._write(work)
        if n:
            log.info("search folding changed (version %s): re-indexed %s offerings", SEARCH_FOLD_VERSION, n)

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
