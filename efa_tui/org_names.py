"""An organisation's name where it has too little room: its distinctive part first.

German public bodies share their first words ("Landeshauptstadt München", "Landeshauptstadt
Dresden", "Freie und Hansestadt Hamburg"), so a name cut at the end reads "Landeshauptstad…" for
both capitals, and a provider's own name is followed by its legal form ("AKDB Anstalt für Kommunale
Datenverarbeitung in Bayern"). Where a name does not fit (a table column, the header) the generic
prefix is written short and the legal form is dropped — "LH München", "Hamburg", "AKDB" — before
anything is cut. A name that fits is never changed. No Textual here: tables and the header use it.
"""

from __future__ import annotations

import re

from rich.cells import cell_len

# The generic first words of a public body's name, written short ("" drops them: a city's name is
# the city, "Köln" for "Stadt Köln"); the longest first, so "Freie und Hansestadt" wins over "Stadt".
_PREFIXES = (
    ("Hanse- und Universitätsstadt ", ""),
    ("Universitäts- und Hansestadt ", ""),
    ("Freie und Hansestadt ", ""),
    ("Freie Hansestadt ", ""),
    ("Landeshauptstadt ", "LH "),
    ("Kommunales Rechenzentrum ", "KRZ "),
    ("Stadtgemeinde ", ""),
    ("Zweckverband ", "ZV "),
    ("Hansestadt ", ""),
    ("Landkreis ", "Lkr. "),
    ("Freistaat ", ""),
    ("Gemeinde ", "Gem. "),
    ("Kreis ", "Kr. "),
    ("Stadt ", ""),
)
# Where a provider's legal form or description starts: "Dataport Anstalt des öffentlichen Rechts",
# "FITKO — Föderale IT-Kooperation, …", "regio iT gesellschaft für informationstechnologie mbh".
_DESCRIPTION = re.compile(r"\s+[—–-]\s|\s*,\s|\s+(?=(?:Anstalt|Gemeinsame|gesellschaft|Gesellschaft|GmbH|mbH|AöR|KdöR)\b)")


def short_name(name: str) -> str:
    """The name with its generic prefix written short and its legal form dropped."""
    short = name
    for long, abbreviation in _PREFIXES:
        if short.startswith(long) and len(short) > len(long):
            short = abbreviation + short[len(long):]
            break
    head = _DESCRIPTION.split(short, maxsplit=1)[0]
    return head if head.strip() else short


def fit_name(name: str, width: int) -> str:
    """``name`` if it fits ``width`` terminal cells, else its short form (which may still need a cut)."""
    return name if cell_len(name) <= width else short_name(name)
