"""German sort order of names and titles (DIN 5007-1, "Wörterbuch"): ä sorts as a, ö as o, ü as
u, ß as ss, case ignored. One rule for the client's cache and the server, which stores the key
beside each title so that SQLite and PostgreSQL order the catalog the same (by the key's bytes,
whatever collation a database was created with)."""

from __future__ import annotations

import unicodedata

_SORT_FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u"})  # casefold turns ß into ss


def sort_key(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold().translate(_SORT_FOLD).strip()
