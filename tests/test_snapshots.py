"""Snapshots of the main screens at 80x24 and 120x40 (pytest-textual-snapshot).

Update after an intended change with ``scripts/test tests/test_snapshots.py --snapshot-update``
and look at the SVGs in tests/__snapshots__ before committing them.
"""

from __future__ import annotations

from datetime import date

import pytest
from app_support import make_app

from efa_tui import formatting, i18n


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    # The status line shows the time of the last sync: fixed, so snapshots compare.
    monkeypatch.setattr(formatting, "clock", lambda value: "10:42")
    monkeypatch.setattr(formatting, "moment", lambda value: "27.11.2026, 10:42")
    monkeypatch.setattr(formatting, "today", lambda: date(2026, 11, 27))  # the detail's cost preview
    yield
    i18n.set_language("de")


async def _settle(pilot):
    """Wait until the app is quiet: rows painted from the cache (the network side is off in
    snapshots, so nothing races the picture), every worker done, the key hints drawn."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.1)


def _shot(snap_compare, server, tmp_path, size, *keys: str) -> bool:
    """The app from its cache, after pressing ``keys``, compared with the stored snapshot."""
    async def run_before(pilot):
        await _settle(pilot)
        if keys:
            await pilot.press(*keys)
            await _settle(pilot)

    return snap_compare(make_app(server, tmp_path, start_network=False), terminal_size=size, run_before=run_before)


SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("size", SIZES)
def test_catalog(snap_compare, server, tmp_path, size):
    assert _shot(snap_compare, server, tmp_path, size)


@pytest.mark.parametrize("size", SIZES)
def test_catalog_filtered_with_facets(snap_compare, server, tmp_path, size):
    assert _shot(snap_compare, server, tmp_path, size, "f", "slash", *"antrag")


@pytest.mark.parametrize("size", SIZES)
def test_offering_detail(snap_compare, server, tmp_path, size):
    assert _shot(snap_compare, server, tmp_path, size, "enter")


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, server, tmp_path, size):
    assert _shot(snap_compare, server, tmp_path, size, "question_mark")
