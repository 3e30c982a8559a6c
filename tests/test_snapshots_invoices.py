"""Snapshots of the invoice list and an invoice with its check at 80x24 (pytest-textual-snapshot).

The demo marketplace here is seeded for a fixed day (27.11.2026), and the screens' "today" is
that day too: invoice and due dates, overdue states and pro-rata months do not move with the
calendar. Update after an intended change with
``scripts/test tests/test_snapshots_invoices.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from app_support import fix_clock, snapshot
from support import start_server, stop_server

from efa_tui import i18n
from efa_tui.server.app import Settings, create_app
from efa_tui.server.demo import seed

DAY = date(2026, 11, 27)


@pytest.fixture(scope="module")
def fixed_server(tmp_path_factory):
    path = tmp_path_factory.mktemp("fixed-day") / "marketplace.sqlite3"
    app = create_app(Settings(database_url=f"sqlite:///{path}", allow_demo_tokens=True))
    seed.seed(app.state.engine, today=DAY)
    app.state.engine.dispose()
    copy = path.with_name("served.sqlite3")
    shutil.copy(path, copy)
    proc, base = start_server(f"sqlite:///{copy}")
    yield base
    stop_server(proc)


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    fix_clock(monkeypatch, DAY)
    i18n.set_language("de")
    yield
    i18n.set_language("de")


def _shot(snap_compare, server, tmp_path, *keys: str) -> bool:
    return snapshot(snap_compare, server, tmp_path, (80, 24), "3", *keys, rounds=4, key_by_key=True)


def test_invoice_list(snap_compare, fixed_server, tmp_path):
    assert _shot(snap_compare, fixed_server, tmp_path)


def test_invoice_detail_with_check(snap_compare, fixed_server, tmp_path):
    assert _shot(snap_compare, fixed_server, tmp_path, "enter")
