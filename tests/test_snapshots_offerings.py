"""Snapshots of the offering form (new offering, as a provider opens it from "Meine Angebote") at
80x24 and 120x40, and of the provider's list. Update with ``--snapshot-update`` after an intended
change and look at the SVGs in tests/__snapshots__ before committing them."""

from __future__ import annotations

import pytest
from app_support import SIZES, fix_clock, snapshot

from efa_tui import formatting, i18n


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    fix_clock(monkeypatch)
    monkeypatch.setattr(formatting, "day", lambda value: "27.11.2026" if value else "–")
    yield
    i18n.set_language("de")


def _shot(snap_compare, server, tmp_path, size, *keys: str) -> bool:
    return snapshot(snap_compare, server, tmp_path, size, *keys, identity="provider", key_by_key=True,
                    steady_cursor=True)


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
