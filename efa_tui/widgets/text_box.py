"""The multi-line text field of the forms (text_fields.py says why it is one of ours). A module
of its own: Textual's `TextArea` costs ~6 ms to import, and the catalog's first rows need none."""

from __future__ import annotations

from textual.widgets import TextArea

from .text_fields import InOrderKeys


class TextBox(InOrderKeys, TextArea):
    """A multi-line text field (Textual's `TextArea`) that keeps the order of the keys typed."""

    def _types(self, key: str) -> bool:
        # TextArea._on_key makes Enter a new line (and Tab an indent, if so configured): a
        # binding of the screen for the same key never ran in it, and does not here either.
        return key == "enter" or (key == "tab" and self.tab_behavior == "indent")
