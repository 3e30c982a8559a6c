"""Finding things in the catalog, with Pilot against the real reference server: German spellings
(ae = ä, ss = ß) as you type, facets that never hide an active filter (a select shows it, a line
says it, one key resets it), `f` into the facet panel and back, a stable order with counts, the
in-house facet for the user's own organisation, escape in the filter, and `:offering NAME`."""

from __future__ import annotations

import pytest
from app_support import make_app, screen_text, settle, table_of
from textual.widgets import Select

from efa_tui.domain.collation import sort_key
from efa_tui.screens.catalog import CatalogScreen
from efa_tui.screens.offering_detail import OfferingScreen
from efa_tui.widgets.filter_box import FilterBox
from efa_tui.widgets.virtual_table import VirtualTable


async def type_filter(pilot, text: str) -> None:
    await pilot.press("slash", *text)
    await settle(pilot)


def options(screen, facet: str) -> list[tuple[str, str]]:
    return [(str(label), value) for label, value in screen.query_one(f"#facet-{facet}", Select)._options
            if value is not Select.NULL]


async def test_german_spellings_as_you_type(server, tmp_path):
    app = make_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await type_filter(pilot, "fuehrerschein")
        spelled = table_of(app).total
        assert spelled > 0 and "Führerschein" in screen_text(app)
        await pilot.press("escape", *"führerschein")  # cleared, still in the filter: type again
        await settle(pilot)
        assert table_of(app).total == spelled


async def test_a_query_without_match_keeps_the_filter_in_its_select_and_in_the_line(server, tmp_path):
    app = make_app(server, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        everything = table_of(app).total
        await pilot.press("f")
        await settle(pilot)
        screen.query_one("#facet-category", Select).value = "Bauen & Wohnen"
        await settle(pilot)
        filtered = table_of(app).total
        assert 0 < filtered < everything
        assert "Filter: Themenfeld: Bauen & Wohnen" in screen_text(app)
        await type_filter(pilot, "xyzzy")
        assert table_of(app).total == 0
        select = screen.query_one("#facet-category", Select)
        assert select.value == "Bauen & Wohnen"  # still shows what filters the list
        assert ("Bauen & Wohnen (0)", "Bauen & Wohnen") in options(screen, "category")
        assert "Themenfeld: Bauen & Wohnen" in screen_text(app)
        await pilot.press("escape")  # the query cleared: the facet still filters
        await settle(pilot)
        assert table_of(app).total == filtered
        await pilot.press("escape", "x")  # out of the filter box; x resets every facet
        await settle(pilot)
        assert screen.filters.category is None and table_of(app).total == everything
        assert screen.query_one("#facet-category", Select).value is Select.NULL
        assert "Filter:" not in screen_text(app)
        # The typed query is a filter too (walk T22: "bHallo", 0 offerings, and x did nothing).
        await type_filter(pilot, "bHallo")
        assert table_of(app).total == 0
        await pilot.press("enter", "x")  # to the list (the query kept), then reset
        await settle(pilot)
        assert screen.query_one(FilterBox).value == "" and table_of(app).total == everything


async def test_f_goes_into_the_facets_and_hiding_them_returns_to_the_table(server, tmp_path):
    app = make_app(server, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(screen.focused, Select) and screen.focused.id == "facet-category"
        await pilot.press("f")  # hidden: back to the table
        await settle(pilot)
        assert isinstance(screen.focused, VirtualTable)
        await pilot.press("enter")  # opens the highlighted offering, no invisible menu
        await settle(pilot)
        assert isinstance(app.screen, OfferingScreen)
        assert screen.filters.provider_id is None and screen.filters.category is None
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("escape")  # escape in the panel hides it too
        await settle(pilot)
        assert not screen.has_class("-facets") and isinstance(screen.focused, VirtualTable)


async def test_facet_options_keep_their_order_and_show_counts(server, tmp_path):
    app = make_app(server, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("f")
        await settle(pilot)
        before = {facet: options(screen, facet) for facet in ("category", "provider", "bundesland")}
        await pilot.press("escape")  # the panel hidden
        await type_filter(pilot, "antrag")
        for facet, found in before.items():
            assert all(label.endswith(")") and "(" in label for label, _ in found), facet
            names = [value for _, value in found]
            if facet != "bundesland":
                assert names == sorted(names, key=sort_key), facet  # by name, not by count
            now = [value for _, value in options(screen, facet)]
            assert now == [v for v in names if v in now], facet  # the same order, fewer of them


@pytest.mark.parametrize(("identity", "orderable"), [("customer", True), ("customer-nohouse", False)])
async def test_the_inhouse_facet_answers_for_the_own_organisation(server, tmp_path, identity, orderable):
    app = make_app(server, tmp_path, identity=identity)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        everything = table_of(app).total
        await pilot.press("f")
        await settle(pilot)
        found = dict((value, label) for label, value in options(screen, "inhouse_orderable"))
        if orderable:
            assert found == {"ja": f"ja ({everything})", "nein": "nein (0)"}
        else:  # Stadt Jena: no in-house relationship, it may order nothing
            assert found == {"ja": "ja (0)", "nein": f"nein ({everything})"}
        screen.query_one("#facet-inhouse_orderable", Select).value = "ja"
        await settle(pilot)
        assert table_of(app).total == (everything if orderable else 0)


@pytest.mark.parametrize("language", ["de", "en"])
async def test_escape_in_the_filter_clears_it_and_a_second_leaves_it(server, tmp_path, language):
    app = make_app(server, tmp_path, language=language)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        everything = table_of(app).total
        await type_filter(pilot, "bau")
        assert table_of(app).total < everything
        box = app.screen.query_one(FilterBox)
        await pilot.press("escape")
        await settle(pilot)
        assert box.value == "" and box.has_focus and table_of(app).total == everything
        await pilot.press("escape")
        await settle(pilot)
        assert table_of(app).has_focus


async def test_keys_in_the_same_burst_as_slash_go_into_the_filter(server, tmp_path):
    """A fast typist over SSH sends "/xs" in one read: x and s are letters of the filter, not the
    catalog's reset and sort keys."""
    app = make_app(server, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(app, ("slash", "/"), ("x", "x"), ("s", "s"))
        await settle(pilot)
        assert app.screen.query_one(FilterBox).value == "xs" and app.screen.sort == "title"


async def test_a_tab_in_the_same_burst_as_f_moves_on_inside_the_facets(server, tmp_path):
    app = make_app(server, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(app, ("f", "f"), ("tab", None))
        await settle(pilot)
        assert app.screen.focused.id == "facet-provider"


def burst(app, *keys: tuple[str, str | None]) -> None:
    """Keys as the driver reads them from one burst of input: no pause between them."""
    from textual import events

    for key, char in keys:
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)


async def jump(pilot, text: str) -> None:
    await pilot.press("colon", *text, "enter")
    await settle(pilot)
    await settle(pilot)


async def test_jump_to_an_offering_opens_it_when_one_matches(server, tmp_path):
    app = make_app(server, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await jump(pilot, "offering werbeanlagen")  # one match: opened
        assert isinstance(app.screen, OfferingScreen)
        assert "Bauantrag für Werbeanlagen" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CatalogScreen) and app.screen.query_one(FilterBox).value == "werbeanlagen"
        await jump(pilot, "offering Digitaler Bauantrag")  # several match, one is that title exactly
        assert isinstance(app.screen, OfferingScreen) and "Digitaler Bauantrag" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        await jump(pilot, "offering bauantrag")  # several: the list to choose from
        screen = app.screen
        assert isinstance(screen, CatalogScreen) and table_of(app).total >= 3 and table_of(app).has_focus
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OfferingScreen)
        await pilot.press("escape")
        await settle(pilot)
        await jump(pilot, "offering xyzzy")
        assert isinstance(app.screen, CatalogScreen) and table_of(app).total == 0
        assert [n.message for n in app._notifications][-1] == "Nicht gefunden: xyzzy"
        # From another area while the catalog still shows an offering's detail: the named one
        # (the walk: the one opened there earlier stayed on screen).
        await jump(pilot, "offering werbeanlagen")
        assert isinstance(app.screen, OfferingScreen)
        await pilot.press("2")
        await settle(pilot)
        await jump(pilot, "offering Digitaler Bauantrag")
        assert isinstance(app.screen, OfferingScreen) and "Digitaler Bauantrag" in screen_text(app)
        assert "Werbeanlagen" not in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CatalogScreen)  # one detail, not two stacked


@pytest.mark.parametrize("area", ["2", "3"])
async def test_escape_clears_the_filter_of_every_list(server, tmp_path, area):
    """Orders and invoices share the rule (FilterKeys): escape clears, a second one leaves."""
    app = make_app(server, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(area)
        await settle(pilot)
        await type_filter(pilot, "zz")
        box = app.screen.query_one(FilterBox)
        assert box.value == "zz"
        await pilot.press("escape")
        await settle(pilot)
        assert box.value == "" and box.has_focus
        await pilot.press("escape")
        await settle(pilot)
        assert not box.has_focus
