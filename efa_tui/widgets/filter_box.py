"""The one-line filter above a list (catalog, orders, invoices) and the keys around it: `/` goes
into it, enter back to the list (the filter kept), escape clears it and a second escape goes
back. One look and one behaviour for every list screen."""

from __future__ import annotations

from textual.widget import Widget
from textual.widgets import Input

from .text_fields import TextField


class FilterBox(TextField):
    DEFAULT_CSS = """
    FilterBox { height: 1; border: none; padding: 0 1; background: $boost; }
    FilterBox:focus { border: none; background: $primary 30%; }
    """


class FilterKeys:
    """Mixin for a Screen with one FilterBox and a list: bind `/` to ``focus_filter`` and escape to
    ``leave_filter``. ``filter_target()`` is the list to return to (default: the first
    VirtualTable)."""

    def filter_target(self) -> Widget:
        from .virtual_table import VirtualTable

        return self.query_one(VirtualTable)  # type: ignore[attr-defined]

    def action_focus_filter(self) -> None:
        # At once, not as Widget.focus() does (on the next turn of the loop): keys that arrive in
        # the same burst as `/` (a fast typist over SSH, a paste) go into the filter, not to the
        # list's single-key bindings (`x` resets the catalog's facets, `s` sorts).
        self.set_focus(self.query_one(FilterBox))  # type: ignore[attr-defined]

    def action_leave_filter(self) -> None:
        """escape in the filter: clear it (the list shows everything again); a second escape,
        on the empty filter, goes back to the list."""
        box = self.query_one(FilterBox)  # type: ignore[attr-defined]
        if self.focused is not box:  # type: ignore[attr-defined]
            return
        if box.value:
            box.value = ""
        else:
            self.filter_target().focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # A handler by name: Textual finds it through the mixin too (an @on one it would not).
        if isinstance(event.input, FilterBox):
            self.filter_target().focus()
