"""Snapshots of the order detail and the binding-order confirmation at 80x24 and 120x40 (the
confirmation also in ansi-dark at 80x24: no X in the unticked box, the borders visible).

Update with ``scripts/test tests/test_snapshots_orders.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from app_support import SIZES, fix_clock, snapshot
from support import auth

from efa_tui import i18n


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    fix_clock(monkeypatch, today=date(2026, 11, 27))
    yield
    i18n.set_language("de")


def proposed_order(server: str) -> int:
    """The first seeded order of the demo customer that waits for the binding order."""
    with httpx.Client(base_url=server) as http:
        items = http.get("/orders", params={"state": "proposed", "sort": "id"}, headers=auth("customer")).json()["items"]
    return items[0]["id"]


def _shot(snap_compare, server, tmp_path, size, *keys: str) -> bool:
    return snapshot(snap_compare, server, tmp_path, size, *keys)


def jump_keys(text: str) -> list[str]:
    return ["colon", *("space" if c == " " else c for c in text), "enter"]


@pytest.mark.parametrize("size", SIZES)
def test_order_detail(snap_compare, server, tmp_path, size):
    assert _shot(snap_compare, server, tmp_path, size, *jump_keys(f"order {proposed_order(server)}"))


@pytest.mark.parametrize("size", SIZES)
def test_binding_order_confirmation(snap_compare, server, tmp_path, size):
    assert _shot(snap_compare, server, tmp_path, size, *jump_keys(f"order {proposed_order(server)}"), "b")


def test_binding_order_confirmation_in_ansi_dark(snap_compare, server, tmp_path):
    assert snapshot(snap_compare, server, tmp_path, (80, 24), *jump_keys(f"order {proposed_order(server)}"), "b",
                    theme="ansi-dark")
