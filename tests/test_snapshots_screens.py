"""Every screen and dialog at 80x24 and 120x40 (German; a few in English), as each demo identity
sees it, and the main screens in ansi-dark and with NO_COLOR at 80x24 (pytest-textual-snapshot).

Screens shot in the other snapshot files are not repeated here: catalog, its facets, offering
detail and help (test_snapshots.py), order detail and the binding confirmation
(test_snapshots_orders.py), the invoice list and detail at 80x24 (test_snapshots_invoices.py),
the offering form and Meine Angebote (test_snapshots_offerings.py), the catalog's themes
(test_snapshots_themes.py).

One reference server for the module, seeded for a fixed day (27.11.2026) that is the screens'
today too: dates, due and overdue states and notice dates do not move with the calendar.
Update with ``scripts/test tests/test_snapshots_screens.py --snapshot-update`` and look at every
SVG: a snapshot of a cut screen is not a pass.
"""

from __future__ import annotations

from datetime import date

import pytest
from app_support import SIZES, fix_clock, make_app, quiet
from support import start_server, stop_server

from efa_tui import i18n
from efa_tui.server.app import Settings, create_app
from efa_tui.server.demo import seed

DAY = date(2026, 11, 27)


@pytest.fixture(scope="module")
def fixed_server(tmp_path_factory):
    path = tmp_path_factory.mktemp("screens-day") / "marketplace.sqlite3"
    app = create_app(Settings(database_url=f"sqlite:///{path}", allow_demo_tokens=True))
    seed.seed(app.state.engine, today=DAY)
    app.state.engine.dispose()
    proc, base = start_server(f"sqlite:///{path}", wait=300)  # a loaded CI machine starts it slowly
    yield base
    stop_server(proc)


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    fix_clock(monkeypatch, DAY)
    i18n.set_language("de")
    yield
    i18n.set_language("de")


def jump(text: str) -> list[str]:
    return ["colon", *("space" if c == " " else c for c in text), "enter"]


def shot(snap_compare, server, tmp_path, size, keys, *, identity="customer", language="de",
         theme="textual-dark", rounds=4) -> bool:
    """The app from its cache as ``identity``, after pressing ``keys`` one by one (the app quiet
    after each), compared with the stored snapshot."""
    from textual.widgets import Input

    async def run_before(pilot):
        await quiet(pilot, rounds)
        for key in keys:
            await pilot.press(key)
            await quiet(pilot, rounds)
        for box in pilot.app.screen.query(Input):
            box.cursor_blink = False  # a blinking cursor would make the picture depend on the clock
        await pilot.pause()

    app = make_app(server, tmp_path, identity=identity, language=language, theme=theme, start_network=False)
    return snap_compare(app, terminal_size=size, run_before=run_before)


# (name, identity, keys): every screen and dialog not shot in the other files.
SCREENS = [
    ("orders", "customer", ["2"]),
    ("orders_provider", "provider", ["2"]),
    ("order_detail_provider", "provider", ["2", "enter"]),
    ("proposal_form", "provider", [*jump("order 30"), "p"]),
    ("invoices", "customer", ["3"]),
    ("invoice_detail", "customer", ["3", "enter"]),
    ("spending_chart", "customer", ["3", "c"]),
    ("outbox", "customer", ["o"]),
    ("jump", "customer", ["colon"]),
    ("usage", "provider", ["4", "u"]),
    ("offering_preview", "provider", ["4", "v"]),
    ("support", "support", ["4"]),
    ("support_trail", "support", ["4", "a"]),
    ("admin", "operator", ["5"]),
    ("admin_organisation", "operator", ["5", "enter"]),
    ("admin_tokens", "operator", ["5", "enter", "t"]),
    ("admin_audit", "operator", ["5", "l"]),
    ("billing_run", "operator", ["3", "b"]),
]


# 80x24 only in CI time (the main screens have 120x40 snapshots in test_snapshots*.py).
@pytest.mark.parametrize("size", SIZES[:1], ids=["80x24"])
@pytest.mark.parametrize(("name", "identity", "keys"), SCREENS, ids=[s[0] for s in SCREENS])
def test_screen(snap_compare, fixed_server, tmp_path, name, identity, keys, size):
    assert shot(snap_compare, fixed_server, tmp_path, size, keys, identity=identity)


# The worst ones at 80 columns in English (longer words in places, shorter in others).
ENGLISH = [
    ("orders", "provider", ["2"]),
    ("order_detail", "customer", ["2", "enter"]),
    ("usage", "provider", ["4", "u"]),
]


@pytest.mark.parametrize(("name", "identity", "keys"), ENGLISH, ids=[s[0] for s in ENGLISH])
def test_screen_in_english(snap_compare, fixed_server, tmp_path, name, identity, keys):
    assert shot(snap_compare, fixed_server, tmp_path, (80, 24), keys, identity=identity, language="en")


# The main screens in the 16-colour theme and without colours (the catalog's are in test_snapshots_themes.py).
MAIN = [
    ("offering_detail", ["enter"]),
    ("orders", ["2"]),
    ("order_detail", ["2", "enter"]),
    ("invoices", ["3"]),
    ("invoice_detail", ["3", "enter"]),
]


@pytest.mark.parametrize(("name", "keys"), MAIN, ids=[m[0] for m in MAIN])
def test_main_screen_in_ansi_dark(snap_compare, fixed_server, tmp_path, name, keys):
    assert shot(snap_compare, fixed_server, tmp_path, (80, 24), keys, theme="ansi-dark")


@pytest.mark.parametrize(("name", "keys"), MAIN, ids=[m[0] for m in MAIN])
def test_main_screen_with_no_color(snap_compare, fixed_server, tmp_path, monkeypatch, name, keys):
    monkeypatch.setenv("NO_COLOR", "1")  # read when the app is made: every colour dropped, text styles kept
    assert shot(snap_compare, fixed_server, tmp_path, (80, 24), keys)


def test_a_form_with_no_color(snap_compare, fixed_server, tmp_path, monkeypatch):
    # The focused field is told apart by its heavy border, not by a grey one step lighter.
    monkeypatch.setenv("NO_COLOR", "1")
    assert shot(snap_compare, fixed_server, tmp_path, (80, 24), [*jump("order 30"), "p"], identity="provider")
