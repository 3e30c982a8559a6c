"""The vim keys of every list and detail (j/k, g/G, ctrl+d/ctrl+u), in one shape.

A module of its own, importing only Textual's bindings: the catalog's `VirtualTable` takes them
without loading `DataTable` (the first paint waits for every import).
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.binding import Binding, BindingType

# The vim keys of lists and details, in one shape: (keys, the binding id's last part).
VIM_KEYS = (("down,j", "down"), ("up,k", "up"), ("home,g", "top"), ("end,G,shift+g", "bottom"),
            ("ctrl+d", "half_page_down"), ("ctrl+u", "half_page_up"))


def vim_bindings(scope: str, actions: Sequence[str]) -> list[BindingType]:
    """j/k, g/G, ctrl+d/ctrl+u for ``scope`` ("table", "detail"), bound to ``actions`` in the order
    of VIM_KEYS; ids and descriptions are ``scope.…`` / ``scope.key.…`` (what a [keymap] names)."""
    return [Binding(keys, action, f"{scope}.key.{name}", show=False, id=f"{scope}.{name}")
            for (keys, name), action in zip(VIM_KEYS, actions, strict=True)]


# The list keys, by the ids `VirtualTable` has: one [keymap] line moves them in every list.
LIST_BINDINGS = vim_bindings("table", ("cursor_down", "cursor_up", "cursor_top", "cursor_bottom",
                                       "cursor_half_page_down", "cursor_half_page_up"))


def keys_wait_for_what_opens(widget: object) -> None:
    """``Enter`` on a row opens its detail (a message the screen handles, then a screen that may
    read its record first): keys typed after it, in the same burst, wait for that screen (the
    app's hold, released when it is ready) instead of reaching the list they were typed over."""
    app = getattr(widget, "app", None)
    hold = getattr(app, "hold_keys", None)
    if hold is not None:
        hold()
