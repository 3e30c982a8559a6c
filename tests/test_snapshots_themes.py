"""The catalog in the light theme, in the 16-colour ANSI theme and with NO_COLOR set, at 80x24.

Update with ``scripts/test tests/test_snapshots_themes.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

from datetime import date

import pytest
from app_support import fix_clock, make_session, quiet

from efa_tui import i18n
from efa_tui.app import EfaApp


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    fix_clock(monkeypatch, date(2026, 11, 27))
    yield
    i18n.set_language("de")


def _shot(snap_compare, server, tmp_path, theme: str) -> bool:
    app = EfaApp(make_session(server, tmp_path), theme=theme, start_network=False)
    return snap_compare(app, terminal_size=(80, 24), run_before=quiet)


@pytest.mark.parametrize("theme", ["textual-light", "ansi-dark"])
def test_catalog_in_theme(snap_compare, server, tmp_path, theme):
    assert _shot(snap_compare, server, tmp_path, theme)


def test_catalog_with_no_color(snap_compare, server, tmp_path, monkeypatch):
    # Textual reads NO_COLOR when the app is made: every colour is dropped, text styles stay.
    monkeypatch.setenv("NO_COLOR", "1")
    assert _shot(snap_compare, server, tmp_path, "textual-dark")
