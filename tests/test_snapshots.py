"""Snapshots of the main screens at 80x24 and 120x40 (pytest-textual-snapshot).

Update after an intended change with ``scripts/test tests/test_snapshots.py --snapshot-update``
and look at the SVGs in tests/__snapshots__ before committing them.
"""

from __future__ import annotations

from datetime import date

import pytest
from app_support import SIZES, fix_clock, snapshot

from efa_tui import i18n


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    fix_clock(monkeypatch, today=date(2026, 11, 27))  # today: the detail's cost preview
    yield
    i18n.set_language("de")


def _shot(snap_compare, server, tmp_path, size, *keys: str) -> bool:
    return snapshot(snap_compare, server, tmp_path, size, *keys)


@pytest.mark.parametrize("size", SIZES)
def test_catalog(snap_compare, server, tmp_path, size):
    assert _shot(snap_compare, server, tmp_path, size)


@pytest.mark.parametrize("size", SIZES)
def test_catalog_filtered_with_facets(snap_compare, server, tmp_path, size):
    # steady_cursor: the filter box's blinking cursor made the picture depend on the clock.
    assert snapshot(snap_compare, server, tmp_path, size, "f", "slash", *"antrag", steady_cursor=True)


@pytest.mark.parametrize("size", SIZES)
def test_catalog_with_an_active_filter_and_no_match(snap_compare, server, tmp_path, size):
    # The first Themenfeld chosen in the panel (f, enter, down, enter), the panel hidden (f), then a
    # query that matches nothing: the line above the rows still names the filter and its reset key.
    assert snapshot(snap_compare, server, tmp_path, size, "f", "enter", "down", "enter", "f", "slash", *"xyzzy",
                    key_by_key=True, steady_cursor=True)


@pytest.mark.parametrize("size", SIZES)
def test_catalog_facets_for_an_organisation_that_may_not_order(snap_compare, server, tmp_path, size):
    # Jena: the in-house select opened (f, three tabs, enter): "ja (0)", "nein (82)".
    assert snapshot(snap_compare, server, tmp_path, size, "f", "tab", "tab", "tab", "enter", identity="customer-nohouse",
                    key_by_key=True)


@pytest.mark.parametrize("size", SIZES)
def test_offering_detail(snap_compare, server, tmp_path, size):
    assert _shot(snap_compare, server, tmp_path, size, "enter")


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, server, tmp_path, size):
    assert _shot(snap_compare, server, tmp_path, size, "question_mark")
