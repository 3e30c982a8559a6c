"""Every list and every detail answers the same keys (widgets/lists.py, widgets/virtual_table.py):
j/k a row, g/G first/last, ctrl+d/ctrl+u half a page — and back from a detail lands on the row
you came from, also when the list was filled again meanwhile. One test per key set, over every
list and every detail, against the real reference server."""

from __future__ import annotations

import pytest
from app_support import make_app, settle
from textual.widgets import DataTable

from efa_tui.screens.offering_detail import OfferingScreen
from efa_tui.screens.order_detail import OrderScreen
from efa_tui.screens.records import RecordScreen
from efa_tui.screens.support import TrailScreen
from efa_tui.widgets.lists import DetailScroll
from efa_tui.widgets.virtual_table import VirtualTable

SIZE = (80, 24)
DETAIL_SIZE = (80, 16)  # a short order's trail fits 80x24: smaller, so that every detail has more than it shows


async def started(pilot) -> None:
    await settle(pilot)
    pilot.app._start_session_once()
    await settle(pilot)


async def keys(pilot, *pressed: str) -> None:
    for key in pressed:
        await pilot.press(key)
        await settle(pilot, 1)


# list → (who, keys that lead there from the start)
LISTS = {
    "catalog": ("customer", ()),
    "orders": ("customer", ("2",)),
    "invoices": ("customer", ("3",)),
    "my-offerings": ("provider", ("4",)),
    "usage": ("provider", ("4", "u")),
    "support-results": ("support", ("4",)),  # the results have the focus: `/` goes to the search
    "verwaltung": ("operator", ("5",)),
    "organisation-users": ("operator", ("5", "govdigital", "enter")),  # operator and support: two users
}


def the_list(app):
    focused = app.screen.focused
    assert isinstance(focused, (DataTable, VirtualTable)), (app.screen, focused)
    return focused


def cursor(table) -> int:
    return table.cursor_row if isinstance(table, DataTable) else table.cursor


def rows(table) -> int:
    return table.row_count if isinstance(table, DataTable) else table.total


def key_at_cursor(table):
    return table.cursor_key


async def open_list(server, tmp_path, pilot, how):
    await started(pilot)
    for key in how:
        if len(key) > 6:  # not a key: the row of the organisation of that name
            table = the_list(pilot.app)
            org = next(o for o in pilot.app.screen.organizations.values() if key in o.name.lower())
            table.move_cursor(row=table.get_row_index(str(org.id)))
        else:
            await keys(pilot, key)
    await settle(pilot)
    return the_list(pilot.app)


@pytest.mark.parametrize("name", LISTS)
async def test_every_list_moves_with_the_vim_keys(server, tmp_path, name):
    who, how = LISTS[name]
    app = make_app(server, tmp_path, identity=who)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_list(server, tmp_path, pilot, how)
        n = rows(table)
        assert n >= 2, (name, n)
        await keys(pilot, "j")
        table = the_list(app)
        assert cursor(table) == 1
        await keys(pilot, "k")
        assert cursor(table) == 0
        await keys(pilot, "G")
        assert cursor(table) == n - 1
        await keys(pilot, "g")
        assert cursor(table) == 0
        await keys(pilot, "ctrl+d")
        assert 0 < cursor(table) <= n - 1
        await keys(pilot, "ctrl+u")
        assert cursor(table) == 0


# lists whose enter opens a detail: back from it lands on the row, also after a reload meanwhile
OPENING = ["catalog", "orders", "invoices", "support-results", "verwaltung"]


@pytest.mark.parametrize("name", OPENING)
async def test_back_from_a_detail_lands_on_the_row_you_came_from(server, tmp_path, name):
    who, how = LISTS[name]
    app = make_app(server, tmp_path, identity=who)
    async with app.run_test(size=SIZE) as pilot:
        table = await open_list(server, tmp_path, pilot, how)
        list_screen = app.screen
        start = cursor(table)
        await keys(pilot, "j", "j")
        table = the_list(app)  # (the invoices list is built anew once the role is known)
        came_from = key_at_cursor(table)
        assert came_from is not None and cursor(table) == start + 2
        await keys(pilot, "enter")
        await settle(pilot)
        assert app.screen is not list_screen
        app.data_synced()  # a sync (or the live stream) fills the list again while the detail is open
        if name == "verwaltung":
            list_screen.load()  # it reads the server, not the cache: loaded again
        await settle(pilot)
        await keys(pilot, "escape")
        await settle(pilot)
        assert app.screen is list_screen
        assert key_at_cursor(the_list(app)) == came_from


# detail → (who, how to get there from the start), each with more text than 80x24 shows
async def _order(pilot) -> None:
    await started(pilot)
    await keys(pilot, "2", "enter")


async def _offering(pilot) -> None:
    await started(pilot)
    await keys(pilot, "enter")


async def _trail(pilot) -> None:
    await started(pilot)
    await keys(pilot, "4", "a")


async def _raw(pilot) -> None:
    await started(pilot)
    await keys(pilot, "4", "J")


async def _trail_from_an_order(pilot) -> None:
    await started(pilot)
    await keys(pilot, "4", "enter")
    assert isinstance(pilot.app.screen, OrderScreen)
    await keys(pilot, "a")


DETAILS = {
    "order": ("customer", _order, OrderScreen),
    "offering": ("customer", _offering, OfferingScreen),
    "support-trail": ("support", _trail, TrailScreen),
    "support-raw-record": ("support", _raw, RecordScreen),
    "trail-from-an-order-detail": ("support", _trail_from_an_order, TrailScreen),
}


@pytest.mark.parametrize("name", DETAILS)
async def test_every_detail_scrolls_with_the_vim_keys(server, tmp_path, name):
    who, go, screen_class = DETAILS[name]
    app = make_app(server, tmp_path, identity=who)
    async with app.run_test(size=DETAIL_SIZE) as pilot:
        await go(pilot)
        await settle(pilot)
        assert isinstance(app.screen, screen_class), app.screen
        box = app.screen.query_one(DetailScroll)
        assert app.screen.focused is box
        assert box.max_scroll_y > 0, f"{name}: all of it fits, nothing to scroll"
        await keys(pilot, "j")
        assert box.scroll_y == 1
        await keys(pilot, "k")
        assert box.scroll_y == 0
        await keys(pilot, "G")
        assert box.scroll_y == box.max_scroll_y
        await keys(pilot, "g")
        assert box.scroll_y == 0
        await keys(pilot, "ctrl+d")
        assert box.scroll_y > 1 or box.scroll_y == box.max_scroll_y
        await keys(pilot, "ctrl+u")
        assert box.scroll_y == 0
