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
def test_offering_detail(snap_compare, server, tmp_path, size):
    assert _shot(snap_compare, server, tmp_path, size, "enter")


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, server, tmp_path, size):
    assert _shot(snap_compare, server, tmp_path, size, "question_mark")
