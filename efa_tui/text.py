"""Untrusted text from the server: make it safe to put on a terminal.

Everything the server sends is data. Screens render it with markup off (``rich.text.Text``,
``markup=False``); this module removes what could still act on the terminal: C0/C1 control
characters, whole escape sequences (CSI, OSC such as OSC 52 clipboard writes, DCS …), so
a title holding ``\\x1b]52;c;…\\x07`` can neither colour the screen nor touch the clipboard, and
the bidi embedding/override/isolate controls (U+202E would show "gpj.exe" as "exe.jpg").

``clean`` is the one rule: the detail views, toasts, forms and the table cells
(``widgets.virtual_table``) all use it.
"""

from __future__ import annotations

import re

# ESC-introduced sequences: CSI (ESC [ … final), OSC/DCS/APC/PM/SOS (ESC ] … BEL or ST), and
# the two-character escapes; then the 8-bit C1 forms; then any control character left over.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|[\x90\x9d\x9e\x9f][^\x07\x9c]*(?:\x07|\x9c)?"
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_WHITESPACE_CONTROLS = re.compile(r"[\t\n]")
# Anything the rules above could touch: most text has none, and a table paints thousands of cells.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(value: object, *, multiline: bool = False) -> str:
    """Text safe for the terminal. Single-line fields get tabs and newlines as spaces."""
    if value is None:
        return ""
    text = str(value)
    if _UNSAFE.search(text) is None:
        return text
    text = _ESCAPES.sub("", text)
    text = _CONTROLS.sub("", text)
    if not multiline:
        text = _WHITESPACE_CONTROLS.sub(" ", text)
    return text
