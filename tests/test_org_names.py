"""Organisation names where room is short (efa_tui.org_names): the distinctive part stays."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from app_support import make_app, screen_text, settle

from efa_tui import i18n
from efa_tui.org_names import fit_name, short_name
from efa_tui.screens.usage import UsageScreen


@pytest.fixture(autouse=True)
def _german():
    i18n.set_language("de")
    yield
    i18n.set_language("de")


def test_a_generic_prefix_is_written_short_and_a_legal_form_dropped():
    assert short_name("Landeshauptstadt München") == "LH München"
    assert short_name("Landeshauptstadt Dresden") == "LH Dresden"
    assert short_name("Freie und Hansestadt Hamburg") == "Hamburg"
    assert short_name("Landkreis Ebersberg") == "Lkr. Ebersberg"
    assert short_name("Hanse- und Universitätsstadt Rostock") == "Rostock" and short_name("Hansestadt Lübeck") == "Lübeck"
    assert short_name("Stadt Köln") == "Köln"
    assert short_name("AKDB Anstalt für Kommunale Datenverarbeitung in Bayern") == "AKDB"
    assert short_name("Dataport Anstalt des öffentlichen Rechts") == "Dataport"
    assert short_name("FITKO — Föderale IT-Kooperation, Anstalt des öffentlichen Rechts") == "FITKO"
    assert short_name("regio iT gesellschaft für informationstechnologie mbh") == "regio iT"
    assert short_name("Rhein-Sieg-Kreis") == "Rhein-Sieg-Kreis"  # nothing generic to shorten
    assert short_name("Stadt") == "Stadt"


def test_a_name_that_fits_is_never_changed():
    assert fit_name("Landeshauptstadt München", 24) == "Landeshauptstadt München"
    assert fit_name("Landeshauptstadt München", 16) == "LH München"


def test_the_demo_organisations_stay_apart_when_short():
    """Every demo organisation keeps a short name of its own (Dresden and München were both
    "Landeshauptstad…" in a provider's inbox), and most fit 16 cells."""
    data = json.loads(resources.files("efa_tui.server.demo").joinpath("data/organizations.json").read_text("utf-8"))
    names = [o["name"] for o in (data if isinstance(data, list) else data["organizations"])]
    shorts = [short_name(n) for n in names]
    assert len(set(shorts)) == len(set(names))
    assert sum(len(s) <= 16 for s in shorts) >= 0.85 * len(shorts), [s for s in shorts if len(s) > 16]


async def test_a_providers_inbox_tells_the_capitals_apart_at_80_columns(server, tmp_path):
    """Walk F7: Dresden's and München's orders both read "Landeshauptstad…" in the customer
    column at 80x24, and the header cut the provider's own name ("AKDB Anstalt für Komm…")."""
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash", *"landeshauptstadt", "enter")  # the search still finds the whole name
        await settle(pilot)
        text = screen_text(app)
        customers = {o["customer"]["name"] for o in app.cache.list_records("orders", limit=10_000)}
        assert {"Landeshauptstadt München", "Landeshauptstadt Dresden"} <= customers
        assert "LH München" in text and "LH Dresden" in text and "Landeshauptstad…" not in text, text
        assert "AKDB ·" in text.splitlines()[0] or "AKDB  " in text.splitlines()[0], text.splitlines()[0]


async def test_the_short_lists_write_names_short_too(server, tmp_path):
    """Walk F7 in the usage list: "Freie und Hansestadt H…" at 80 columns (ListTable, not the
    virtual table); written short there as well, and whole again when the terminal is wide."""
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, UsageScreen)
        text = screen_text(app)
        assert "Freie und Hansestadt H…" not in text and " Hamburg " in text, text
        await pilot.resize_terminal(200, 40)
        await settle(pilot)
        assert "Freie und Hansestadt Hamburg" in screen_text(app)
