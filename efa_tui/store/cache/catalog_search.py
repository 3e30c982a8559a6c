"""Searching the catalog: the parsed query, the plan (which FTS index drives), totals, windows
in sort order and facet counts, memoized per write generation."""

from __future__ import annotations

import json
import re
import sqlite3
from array import array
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, NamedTuple

from .catalog_index import _WORD, CacheFile, _Key, _provider_key, fold
from .values import Filters, OfferingRow, SearchPage


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


def _implies(q: _Query, broader: _Query) -> bool:
    """Whether every offering that matches ``q`` matches ``broader`` (typing on narrows a query:
    "bauan" after "baua", "antrag no" after "antrag n"). Only sure cases say True: a long word
    or literal of ``broader`` inside a long word or literal of ``q``, a prefix of ``broader``
    that begins a prefix of ``q``."""
    texts = q.long + q.literal
    return (all(any(t in u for u in q.long) for t in broader.long)
            and all(any(p2.startswith(p) for p2 in q.prefixes) for p in broader.prefixes)
            and all(any(t in u for u in texts) for t in broader.literal))


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
    if f.inhouse_orderable is not None and skip != "inhouse_orderable" and _orderable(key, f) != f.inhouse_orderable:
        return False
    return True


def _orderable(key: _Key, f: Filters) -> bool:
    """In-house orderable for the user's organisation: published, and it may order at all."""
    return f.may_order and key.status == "published"


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
# A keystroke's rows first (search(exact=False)): the sort index is walked this far at most,
# testing each row, before the scan against the FTS candidates (broad) or the exact way (few)
# takes over. Matches that fill a window of 100 within 1,000 rows are a tenth of the catalog or
# more: broad.
_BLIND_ROWS = 1000
# A query's word prefixes are looked up in the prefix index rather than tested row by row when
# at most this many times as many offerings have them as the trigram index has candidates.
_IN_WORDS = 6
# The queries searched last (per filters and sort) that a new one is compared with (_implies).
_RECENT = 8



class CatalogSearch(CacheFile):
    """Offerings out: one offering, counts, pages of a search and facet counts."""

    def get_offering(self, id: int) -> dict | None:
        row = self._read(lambda c: c.execute("SELECT doc FROM offering_docs WHERE id = ?", (int(id),)).fetchone())
        return json.loads(row[0]) if row else None

    def offering_count(self) -> int:
        return self._read(lambda c: c.execute("SELECT count(*) FROM offerings").fetchone()[0])

    def offering_ids(self) -> set[int]:
        """The ids of every stored offering."""
        return {r[0] for r in self._read(lambda c: c.execute("SELECT id FROM offerings").fetchall())}

    def provider_id(self, name: str) -> int | None:
        """The id behind a provider name as the ``provider`` facet reports it."""
        row = self._read(lambda c: c.execute(
            "SELECT provider_id FROM facet_keys WHERE provider_name = ? AND provider_id IS NOT NULL "
            "ORDER BY fkey DESC LIMIT 1", (name,)).fetchone())
        return row[0] if row else None

    def search(self, query: str = "", *, filters: Filters | None = None, sort: str = "title", offset: int = 0,
               limit: int = 100, exact: bool = True) -> SearchPage:
        """The window ``[offset, offset + limit)`` of the matches in ``sort`` order, and the total.

        ``exact=False``: rows first. A broad query (more than a few thousand candidates) whose
        total is not known yet answers with the rows and an estimate (``page.exact`` False,
        from how densely the matches lie in sort order); ``count`` then gives the exact total
        (and keeps it for the next search). Counting a broad query costs far more than finding
        its first rows."""
        if sort not in _SORTS:
            raise ValueError(f"unknown sort {sort!r}; one of {', '.join(_SORTS)}")
        f = filters or Filters()
        q = _Query.parse(query)
        offset, limit = max(0, int(offset)), max(0, int(limit))

        def work(conn: sqlite3.Connection) -> SearchPage:
            gen = self._gen(conn)
            p = self._plan(conn, gen, q)
            if not exact and limit:
                first = self._rows_first(conn, gen, p, f, sort, offset, limit)
                self._remember(gen, p, f, sort)
                if first is not None:
                    return first
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
        they are reported as ``"bundesweit"`` and counted in each Land too, so that every count
        is what picking its value yields ("Bayern (3)" that gave 75 offerings read as a filter
        that did not work). A Land nobody names explicitly is not listed.
        ``inhouse_orderable``: whether the user's organisation could order it in-house —
        ``"ja"`` for published offerings when it may order at all (``Filters.may_order``),
        ``"nein"`` for the rest (all of them for an organisation that may order nothing).
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
                        values = ("ja" if _orderable(key, f) else "nein",)
                    else:
                        values = key.laender or (NATIONWIDE,)
                    for value in values:
                        counts[value] = counts.get(value, 0) + n
                if facet == "bundesland" and (nationwide := counts.get(NATIONWIDE, 0)):
                    counts = {land: n + (nationwide if land != NATIONWIDE else 0) for land, n in counts.items()}
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
            # The long words stay while the last one's prefix grows ("antrag n", "antrag no"): a
            # count of theirs up to at least as far is known already.
            probed = ("trigram-count", gen, trigrams[1])
            known = self._memo.get(probed)
            if known is not None and (known[0] < known[1] or known[1] >= n_words + 1):
                n_trigrams = min(known[0], n_words + 1)
            else:
                n_trigrams = conn.execute(
                    f"SELECT count(*) FROM (SELECT rowid FROM {trigrams[0]} WHERE {trigrams[0]} MATCH ? LIMIT ?)",
                    (trigrams[1], n_words + 1)).fetchone()[0]
                self._memo.put(probed, (n_trigrams, n_words + 1))  # the count, and how far it went
            planned = q._replace(words_first=True) if n_words < n_trigrams else q
            self._memo.put(memo, planned)
            self._memo.put(("plan-counts", gen, q), (n_words, n_trigrams))
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
            sql, params = "SELECT fkey, n FROM facet_counts WHERE n > 0", list[Any]()
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
            allowed: list[int] = []
            excluded: list[int] = []
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
            # A walk for the rows first that gave up already: the matches bunch up in sort order,
            # a longer walk would only test more rows; the scan below finds them.
            gave_up = self._memo.get(("first", gen, q, f, sort, offset, limit)) == ()
            if found is None and not gave_up:
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

    def _rows_first(self, conn: sqlite3.Connection, gen: int, q: _Query, f: Filters, sort: str, offset: int,
                    limit: int) -> SearchPage | None:
        """A broad query's window without its total (see ``search(exact=False)``), or None: the
        total is known, or the query is not broad (then the caller counts as always, which is
        cheap for a few thousand matches: the candidates read here are its memo), or the window
        is too deep for either way below.

        Two ways to the rows, neither counting: a short walk along the sort index (the matches
        lie densely in sort order); else, when more than _FEW offerings match (``_few_matches``
        says), a scan of the sort index against the FTS candidates (``_scan_window``) — the
        matches bunch up, as "Digitaler Kita-Platz …" titles do after thousands of titles
        without "ki". A walk that gave up for a broader query typed before is not tried again."""
        index, order = _SORTS[sort]
        if (q.driver() is None or index is None or offset + limit > _SCAN_WINDOW
                or self._memo.get(("count", gen, q, f)) is not None
                or self._orders.get(("order", gen, q, f, sort)) is not None):
            return None
        allowed, n_in, n_out = self._allowed(conn, gen, f)
        conds = [] if allowed is None else [self._in(allowed)]
        broader = self._broader(gen, q, f, sort)
        if offset + limit <= _BLIND_ROWS // 4:
            memo = ("first", gen, q, f, sort, offset, limit)
            found = self._memo.get(memo)
            if found is None:
                # A walk for a broader query gave up already: this one finds fewer rows there.
                gave_up = any(self._memo.get(("first", gen, b, f, sort, offset, limit)) == () for b in broader)
                found = () if gave_up else self._walk_blind(conn, q, conds, index, order, offset, limit)
                self._memo.put(memo, found)
            if found:
                ids, seen = found
                # The matches lie about as densely beyond the window as within it (the walk saw
                # ``seen`` rows in sort order to find offset + limit of them): an estimate until
                # the count comes.
                estimate = min(n_in, max(offset + len(ids), round(n_in * (offset + len(ids)) / max(seen, 1))))
                if estimate <= _FEW:
                    return None  # not broad after all: the exact way is about as quick
                return SearchPage(self._rows(conn, list(ids)), estimate, offset, exact=False)
        few = self._few_matches(conn, gen, q, f, sort, broad_likely=any(self._memo.get(("broad", gen, b)) is not None
                                                                         for b in broader))
        if few is not None:  # not broad: the caller's count and window are these, memoized
            self._orders.put(("order", gen, q, f, sort), few)
            self._memo.put(("count", gen, q, f), len(few))
            return None
        window = ("window", gen, q, f, sort, offset, limit)
        scanned = self._memo.get(window)
        if scanned is None:
            scanned = tuple(self._scan_window(conn, q, conds, index, order, offset, limit) or ())
            self._memo.put(window, scanned)
        ids = list(scanned)
        if len(ids) < limit:
            if not ids and offset:
                return None  # past the end, wherever that is: the exact way says
            # The scan ran out of matches: this window is the last one, the total is exact.
            self._memo.put(("count", gen, q, f), offset + len(ids))
            return SearchPage(self._rows(conn, ids), offset + len(ids), offset)
        estimate = self._estimate(conn, gen, q, n_in, n_out)
        return SearchPage(self._rows(conn, ids), min(n_in, max(offset + len(ids), estimate)), offset, exact=False)

    def _broader(self, gen: int, q: _Query, f: Filters, sort: str) -> list[_Query]:
        """The recent queries (same filters and sort) that match every offering ``q`` matches."""
        recent = self._memo.get(("recent", gen, f, sort)) or ()
        return [b for b in recent if b != q and _implies(q, b)]

    def _remember(self, gen: int, q: _Query, f: Filters, sort: str) -> None:
        key = ("recent", gen, f, sort)
        recent = self._memo.get(key) or ()
        self._memo.put(key, ((q,) + tuple(b for b in recent if b != q))[:_RECENT])

    def _estimate(self, conn: sqlite3.Connection, gen: int, q: _Query, n_in: int, n_out: int) -> int:
        """About how many offerings a broad query matches, from where its (_FEW + 1)th match
        lies (``_few_matches`` keeps its id): FTS yields candidates in id order, so that id's
        place in the id range says how densely they lie (ids are handed out in order; matches
        need not be, hence an estimate). Scaled by the share of offerings the filters admit."""
        last = self._memo.get(("broad", gen, q))
        span = self._memo.get(("ids", gen))
        if span is None:
            lo = conn.execute("SELECT min(id) FROM offerings").fetchone()[0] or 0
            hi = conn.execute("SELECT max(id) FROM offerings").fetchone()[0] or 0
            span = (lo, hi)
            self._memo.put(("ids", gen), span)
        if last is None:
            return n_in
        lo, hi = span
        candidates = (_FEW + 1) * (hi - lo + 1) / max(1, last - lo + 1)
        return round(candidates * n_in / max(1, n_in + n_out))

    @staticmethod
    def _walk_blind(conn: sqlite3.Connection, q: _Query, conds: list[str], index: str, order: str, offset: int,
                    limit: int) -> tuple[tuple[int, ...], int] | tuple[()]:
        """Walk the sort index, testing each row, until ``offset + limit`` rows matched (at most
        _BLIND_ROWS rows): their window and how many rows the walk saw; () when that was not
        enough. The rows stream from SQLite and the walk stops as soon as it has them."""
        checks, params = q.checks(with_driver=True)
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        cursor = conn.execute(
            f"SELECT o.id, {' AND '.join(checks)} FROM offerings o INDEXED BY {index} "
            f"CROSS JOIN offering_text x ON x.id = o.id{where} ORDER BY {order} LIMIT ?", [*params, _BLIND_ROWS])
        hits: list[int] = []
        seen = 0
        for seen, (oid, hit) in enumerate(cursor, 1):  # noqa: B007 - seen is the result
            if hit:
                hits.append(oid)
                if len(hits) == offset + limit:
                    cursor.close()
                    return tuple(hits[offset:]), seen
        return ()

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

    def _few_matches(self, conn: sqlite3.Connection, gen: int, q: _Query, f: Filters, sort: str, *,
                     broad_likely: bool = False) -> array | None:
        """All matches in sort order if there are at most _FEW (before the filters), else None.
        Reading rowids alone is cheap (FTS5 produces them lazily, so a broad query stops after
        _FEW + 1), and the filters and the sort then touch only those rows. The query's further
        words are tested on the way (a seek into offering_text each): "gewerbe a" has ten
        thousand candidates and no match, and counting them is what the exact way would do next.

        Handing _FEW rowids to Python costs more than finding them when the lookup is one FTS
        term (a word prefix of 1–2 letters, one trigram) and nothing else is tested: then, or
        when a broader query was broad (``broad_likely``), SQLite first skips to the
        (_FEW + 1)th candidate itself."""
        driver = q.driver()
        assert driver is not None
        broad = ("broad", gen, q)
        if self._memo.get(broad) is not None:
            return None  # read before: more than _FEW matches (the id of the (_FEW + 1)th)
        table, match = driver
        join, extra, params = self._tests(gen, q)
        one_term = len(q.prefixes) == 1 if table == "offering_words" else len(q.long) == 1 and len(q.long[0]) == 3
        if (one_term or broad_likely) and not extra:
            past = conn.execute(f"SELECT rowid FROM {table} WHERE {table} MATCH ? LIMIT 1 OFFSET ?", (match, _FEW)).fetchone()
            if past is not None:
                self._memo.put(broad, past[0])
                return None
        candidates = [r[0] for r in conn.execute(
            f"SELECT m.rowid FROM {table} m{join} WHERE m.{table} MATCH ?{extra} LIMIT ?", [match, *params, _FEW + 1])]
        if len(candidates) > _FEW:
            self._memo.put(broad, candidates[-1])
            return None
        if not candidates:
            return array("q")
        allowed, _, _ = self._allowed(conn, gen, f)
        where = "" if allowed is None else f" WHERE {self._in(allowed)}"
        return array("q", (r[0] for r in conn.execute(
            f"SELECT o.id FROM json_each(?) j CROSS JOIN offerings o ON o.id = j.value{where} ORDER BY {_SORTS[sort][1]}",
            ["[" + ",".join(map(str, candidates)) + "]"])))

    def _tests(self, gen: int, q: _Query) -> tuple[str, str, list[str]]:
        """A join and conditions that test the FTS candidates ``m`` of ``q`` against its words
        the driver did not look up: each by instr() on offering_text (a seek a candidate,
        about 1 µs), or — a query driven by the trigram index whose word prefixes fewer than
        _IN_WORDS times as many offerings have as it has candidates (the planner counted both)
        — the prefixes by one lookup in the prefix index, its rowids in a temporary b-tree
        (a fraction of a µs each): "gewerbe a", 10,000 candidates, 20,000 words with an a."""
        checks, params = q.checks(with_driver=False)
        if not checks:
            return "", "", []
        counts = self._memo.get(("plan-counts", gen, q))
        if q.driver() is None or q.words_first or not q.prefixes or counts is None or counts[0] > _IN_WORDS * counts[1]:
            return " CROSS JOIN offering_text x ON x.id = m.rowid", "".join(f" AND {c}" for c in checks), params
        rest, rest_params = _Query(literal=q.literal).checks(with_driver=True)
        join = " CROSS JOIN offering_text x ON x.id = m.rowid" if rest else ""
        words = " ".join(f'"{p}"*' for p in q.prefixes)
        # "+": the rowids are tested against the list, not handed to the FTS table one by one.
        extra = " AND +m.rowid IN (SELECT rowid FROM offering_words WHERE offering_words MATCH ?)"
        return join, extra + "".join(f" AND {c}" for c in rest), [words, *rest_params]

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
