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

Search semantics: text and query are folded alike (``domain.collation.search_fold``, the
server's rule too: NFC, case folded, ä/ö/ü as ae/oe/ue, ß as ss — "fuehrer" and "führer" both
find "Führerscheinantrag", "strasse" finds "Straße"); the query is split at whitespace; every
word must match somewhere in title, summary, provider name, category or keywords (AND);
everything the user types is literal text (no FTS syntax). A cache folded by an older rule is
re-indexed in place when opened (``meta.search_fold``, see ``CatalogIndex._refold``).

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

from .catalog_index import CatalogIndex, fold, sort_key
from .catalog_search import FACETS, NATIONWIDE, CatalogSearch
from .connection import default_path
from .records import Records
from .schema import RECORD_COLUMNS, SCHEMA_VERSION
from .values import CacheReset, Filters, OfferingRow, SearchPage


class Cache(CatalogIndex, CatalogSearch, Records):
    """The local cache. ``path``: the SQLite file (default: ``cache.sqlite3`` in the platformdirs
    user cache dir), or ``":memory:"``. Never raises for a damaged or unreadable file: it is
    moved aside (``recovered_from``), or, if even that fails, the cache lives in memory for the
    session (``path`` is then None). Safe to call from any thread.

    Its parts: ``connection`` (the file, pooled connections, recovery), ``catalog_index``
    (writing offerings and their indexes), ``catalog_search`` (search, counts, facets) and
    ``records`` (the other records and the sync bookkeeping)."""


__all__ = ["Cache", "CacheReset", "Filters", "OfferingRow", "SearchPage", "FACETS", "NATIONWIDE", "RECORD_COLUMNS",
           "SCHEMA_VERSION", "default_path", "fold", "sort_key"]
