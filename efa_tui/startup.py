"""The terminal app's process until its first rows are painted: no garbage collection. Headless:
no Textual here.

Starting the app makes about 130,000 objects (modules, classes, the config and the API models,
the stylesheet, the first screen), nearly all of them for as long as the process lives. The
collector went over them again and again while they were made — about 200 passes before the
first rows, two of them over everything made so far — 30–40 ms of a start of about 0.4 s, for
a few thousand objects freed. Held from the process start (``cli.run_app``) until a moment
after the catalog's first rows are on screen (``CatalogScreen._loaded``, an empty cache too),
at most HOLD_AT_MOST_S; from then on it runs as before, and its first full pass frees what the
start left (while the network side loads, before the app freezes what lives on:
``EfaApp._freeze_startup_objects``).
"""

from __future__ import annotations

import gc
import threading

HOLD_AT_MOST_S = 3.0
"""Collections come back after this long in any case: a start that never shows its rows (an
error before them, a process that only read the config) must not go on without them."""

AFTER_ROWS_S = 0.25
"""How long after the first rows: the collector's first full pass (over all that the start made,
30–60 ms) comes after their frame, not in the way of it."""

_held = False
_deadline: threading.Timer | None = None
_rows_shown = False


def hold_collections() -> None:
    """No collections from now until ``release_collections``, at most HOLD_AT_MOST_S. Called
    first thing by ``efa-tui`` (``cli.run_app``), before the config and the app are imported."""
    global _held, _rows_shown
    if gc.isenabled():
        gc.disable()
        _held, _rows_shown = True, False
        _release_in(HOLD_AT_MOST_S)


def rows_shown() -> None:
    """The first rows are on screen: collections again AFTER_ROWS_S from now (once; cheap to call
    on every load)."""
    global _rows_shown
    if _held and not _rows_shown:
        _rows_shown = True
        _release_in(AFTER_ROWS_S)


def _release_in(seconds: float) -> None:
    global _deadline
    if _deadline is not None:
        _deadline.cancel()
    _deadline = threading.Timer(seconds, release_collections)
    _deadline.daemon = True  # never keeps the process from ending
    _deadline.start()


def release_collections() -> None:
    """Collections as usual again, if ``hold_collections`` stopped them (else nothing: a test
    that runs the app never held them, nor a process that turned them off itself)."""
    global _held, _deadline
    deadline, _deadline = _deadline, None
    if deadline is not None and deadline is not threading.current_thread():
        deadline.cancel()
    if _held:
        _held = False
        gc.enable()
