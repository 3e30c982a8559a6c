"""German text comparison, one rule each for the client's cache and the server.

``sort_key``: the sort order of names and titles (DIN 5007-1, "Wörterbuch"): ä sorts as a, ö as
o, ü as u, ß as ss, case ignored. The server stores the key beside each title so that SQLite and
PostgreSQL order the catalog the same (by the key's bytes, whatever collation a database was
created with).

``search_fold``: the form search text and query words are compared in (substring match). German
spellings fold both ways: ä/ö/ü are written ae/oe/ue and ß is ss (as on a keyboard without
them, or in a name that is spelled so), so "fuehrerschein" finds "Führerschein", "strasse" finds
"Straße" and "Straße" finds "Strasse". NFC first (a decomposed ü is the same letter), then
case folded. The server's ``offerings.search_text`` and the cache's index hold text folded by
it; changing it means recomputing both (a server migration, ``SEARCH_FOLD_VERSION`` in the
cache)."""

from __future__ import annotations

import unicodedata

SEARCH_FOLD_VERSION = 2
"""Bumped with every change of ``search_fold``: 1 was NFC + lower(), 2 folds umlauts and ß."""


def sort_key(text: str) -> str:
    # casefold turns ß into ss; str.replace, not a translate table: 4 µs → 1 µs a title, and a
    # sync computes one for every offering.
    key = unicodedata.normalize("NFC", text).casefold()
    if not key.isascii():
        key = key.replace("ä", "a").replace("ö", "o").replace("ü", "u")
    return key.strip()


def search_fold(text: str) -> str:
    # casefold turns ß and ẞ into ss; str.replace is many times faster than a translate table
    # over the text of 100,000 offerings.
    folded = unicodedata.normalize("NFC", text).casefold()
    if folded.isascii():
        return folded
    return folded.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
