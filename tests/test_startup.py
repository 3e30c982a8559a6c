"""The start holds the garbage collector until the first rows are painted (efa_tui/startup.py),
and never longer than it says."""

from __future__ import annotations

import gc
import time

import pytest
from app_support import make_app, settle

from efa_tui import startup


@pytest.fixture
def collector_on():
    """Each test starts with collections on and leaves them on, whatever it did."""
    was = gc.isenabled()
    gc.enable()
    yield
    startup.release_collections()
    gc.enable() if was else gc.disable()


def test_held_until_released(collector_on):
    startup.hold_collections()
    assert not gc.isenabled()
    startup.release_collections()
    assert gc.isenabled()


def test_a_collector_turned_off_by_someone_else_stays_off(collector_on):
    gc.disable()
    startup.hold_collections()
    startup.release_collections()
    assert not gc.isenabled()


def test_never_held_longer_than_its_limit(collector_on, monkeypatch):
    """A start that never shows its rows (an error before them) does not go on without collections."""
    monkeypatch.setattr(startup, "HOLD_AT_MOST_S", 0.05)
    startup.hold_collections()
    assert _enabled_within(5)


def _enabled_within(seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not gc.isenabled() and time.monotonic() < deadline:
        time.sleep(0.01)
    return gc.isenabled()


def test_the_first_rows_let_it_go_a_moment_later(collector_on, monkeypatch):
    monkeypatch.setattr(startup, "HOLD_AT_MOST_S", 60.0)
    startup.hold_collections()
    startup.rows_shown()
    assert not gc.isenabled()  # not in the way of the rows' frame
    assert _enabled_within(startup.AFTER_ROWS_S + 5)


async def test_the_app_lets_the_collector_go_once_its_first_rows_are_painted(server, tmp_path, collector_on, monkeypatch):
    monkeypatch.setattr(startup, "HOLD_AT_MOST_S", 60.0)  # the app's doing, not the limit's
    app = make_app(server, tmp_path, start_network=False)
    startup.hold_collections()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.screen.query("VirtualTable")
        assert _enabled_within(startup.AFTER_ROWS_S + 5)
