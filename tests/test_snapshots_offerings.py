"""Snapshots of the offering form (new offering, as a provider opens it from "Meine Angebote") at
80x24 and 120x40, and of the provider's list. Update with ``--snapshot-update`` after an intended
change and look at the SVGs in tests/__snapshots__ before committing them."""

from __future__ import annotations

import pytest
from app_support import make_app
from textual.widgets import Input

from efa_tui import formatting, i18n


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(formatting, "clock", lambda value: "10:42")
    monkeypatch.setattr(formatting, "moment", lambda value: "27.11.2026, 10:42")
    monkeypatch.setattr(formatting, "day", lambda value: "27.11.2026" if value else "–")
    yield
    i18n.set_language("de")


async def _settle(pilot):
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.1)


def _shot(snap_compare, server, tmp_path, size, *keys: str) -> bool:
    async def run_before(pilot):
        await _settle(pilot)
        for key in keys:
            await pilot.press(key)
            await _settle(pilot)
        # A blinking cursor is on or off by the clock: steady, so the picture compares.
        for box in pilot.app.screen.query(Input):
            box.cursor_blink = False
        await pilot.pause()

    app = make_app(server, tmp_path, identity="provider", start_network=False)
    return snap_compare(app, terminal_size=size, run_before=run_before)


SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("size", SIZES)
def test_offering_form(snap_compare, server, tmp_path, size):
    assert _shot(snap_compare, server, tmp_path, size, "4", "n")


@pytest.mark.parametrize("size", SIZES)
def test_offering_form_checks_as_typed(snap_compare, server, tmp_path, size):
    # Title typed, then a wrong amount in the annual fee: the problem shows under the field.
    keys = ["4", "n", *"Testangebot", "tab", "tab", "tab", "tab", "tab", "tab", "tab", "tab", *"12x"]
    assert _shot(snap_compare, server, tmp_path, size, *keys)


@pytest.mark.parametrize("size", SIZES)
def test_my_offerings_list(snap_compare, server, tmp_path, size):
    assert _shot(snap_compare, server, tmp_path, size, "4")
