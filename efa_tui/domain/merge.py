"""Two people edited the same record: the three-way merge of the form's fields and the word
diff that shows a clash.

One rule for every edit form that sends If-Match (offerings, organisations, users): against the
version both started from (``base``), a field only one side changed takes that side's value; a
field both changed to different values is a clash, and only the user can settle it — never one
side silently. Pure: no I/O, no UI language (the screens say it in words).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Same = Callable[[str, Any, Any], bool]


def _equal(name: str, a: Any, b: Any) -> bool:
    return bool(a == b)


@dataclass(frozen=True)
class Merge:
    """``merged``: every field, settled where only one side changed it (for a clash: mine, until
    the user chooses); ``clashes``: both changed it differently, in field order; ``theirs_kept``:
    only the other side changed it, so their value is in ``merged``."""

    merged: dict[str, Any] = field(default_factory=dict)
    clashes: list[str] = field(default_factory=list)
    theirs_kept: list[str] = field(default_factory=list)


def merge(base: Mapping[str, Any], mine: Mapping[str, Any], theirs: Mapping[str, Any], names: Iterable[str],
          same: Same = _equal) -> Merge:
    """The three-way merge of ``names``; ``same(name, a, b)`` says whether two values mean the same
    (e.g. "1200" and "1.200,00" as amounts)."""
    result = Merge()
    for name in names:
        b, m, t = base.get(name, ""), mine.get(name, ""), theirs.get(name, "")
        mine_changed, theirs_changed = not same(name, m, b), not same(name, t, b)
        if mine_changed and theirs_changed and not same(name, m, t):
            result.clashes.append(name)
            result.merged[name] = m
        elif mine_changed:
            result.merged[name] = m
        else:
            result.merged[name] = t
            if theirs_changed:
                result.theirs_kept.append(name)
    return result


@dataclass(frozen=True)
class Piece:
    """A run of one side's text; ``differs``: not in the other side's text at this place."""

    text: str
    differs: bool = False


_TOKEN = re.compile(r"\s+|[^\s]+")


def _words(text: str) -> list[str]:
    return _TOKEN.findall(text)


def word_diff(mine: str, theirs: str) -> tuple[list[Piece], list[Piece]]:
    """Both texts in full, cut into pieces that are the same on both sides or differ, word by
    word (spaces count as the same; a word with changed punctuation differs). Joined, each side's
    pieces give back its text exactly: nothing is dropped."""
    a, b = _words(mine), _words(theirs)
    # Compare words, not spacing: a reflowed line is not a change of wording.
    key_a = [" " if w.isspace() else w for w in a]
    key_b = [" " if w.isspace() else w for w in b]
    matcher = difflib.SequenceMatcher(None, key_a, key_b, autojunk=False)
    left: list[Piece] = []
    right: list[Piece] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        _add(left, a[i1:i2], op != "equal")
        _add(right, b[j1:j2], op != "equal")
    return _bridged(left), _bridged(right)


def _bridged(pieces: list[Piece]) -> list[Piece]:
    """A lone space between two changed runs is part of the change: "Bescheid als PDF." reads
    as one marked phrase, not three."""
    out: list[Piece] = []
    for piece in pieces:
        if out and piece.differs and len(out) >= 2 and out[-2].differs and out[-1].text.isspace():
            gap = out.pop()
            out[-1] = Piece(out[-1].text + gap.text + piece.text, True)
        else:
            out.append(piece)
    return out


def _add(pieces: list[Piece], words: list[str], differs: bool) -> None:
    text = "".join(words)
    if differs:  # the spaces around a changed run are not marked: only words are read
        core = text.strip()
        start = text.index(core) if core else len(text)
        for part, marked in ((text[:start], False), (core, True), (text[start + len(core):], False)):
            _append(pieces, part, marked)
    else:
        _append(pieces, text, False)


def _append(pieces: list[Piece], text: str, differs: bool) -> None:
    if not text:
        return
    if pieces and pieces[-1].differs == differs:
        pieces[-1] = Piece(pieces[-1].text + text, differs)
    else:
        pieces.append(Piece(text, differs))
