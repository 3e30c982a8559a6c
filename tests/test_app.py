"""The terminal app with Pilot, against the real reference server: navigation, filtering,
facets, help, jump, the palette, language, keymap from the config, offline banner, hostile text."""

from __future__ import annotations

import shutil

import httpx
from app_support import make_app, screen_text, settle, table_of
from support import auth, start_server, stop_server

from efa_tui import i18n
from efa_tui.screens.catalog import CatalogScreen
from efa_tui.screens.help import HelpScreen
from efa_tui.screens.offering_detail import OfferingScreen
from efa_tui.widgets.chrome import OfflineBanner, StatusLine


async def test_catalog_shows_offerings_and_filters_as_you_type(server, tmp_path):
    app = make_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CatalogScreen)
        table = table_of(app)
        all_rows = table.total
        assert all_rows > 60
        await pilot.press("slash")
        for ch in "bauantrag":
            await pilot.press(ch)
        await settle(pilot)
        assert 3 <= table.total < all_rows
        assert "Bauantrag" in screen_text(app)
        await pilot.press("enter")  # back to the table, filter kept (escape would clear it)
        assert table.has_focus
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OfferingScreen)
        text = screen_text(app)
        assert "Entgelte" in text and "Ihre Kosten" in text and "Bauantrag" in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CatalogScreen) and table_of(app).total == table.total  # place kept


async def test_areas_keep_their_place(server, tmp_path):
    app = make_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "j")
        cursor = table_of(app).cursor
        assert cursor == 3
        await pilot.press("2")
        await settle(pilot)
        assert app.current_mode == "orders"
        await pilot.press("1")
        await settle(pilot)
        assert app.current_mode == "catalog" and table_of(app).cursor == cursor


async def test_sort_and_facets(server, tmp_path):
    app = make_app(server, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("s")
        await settle(pilot)
        assert screen.sort == "provider"
        await pilot.press("f")
        await settle(pilot)
        from textual.widgets import Select

        select = screen.query_one("#facet-category", Select)
        options = [label for label, _ in select._options if label]  # "Bauen & Wohnen (9)"
        assert any("Bauen & Wohnen" in str(o) for o in options)
        before = table_of(app).total
        select.value = "Bauen & Wohnen"
        await settle(pilot)
        after = table_of(app).total
        assert 0 < after < before
        rows = app.cache.search("", filters=screen.filters, limit=1000).rows
        assert len(rows) == after and all(r.category == "Bauen & Wohnen" for r in rows)
        select.clear()  # "alle" again: every offering is back
        await settle(pilot)
        assert screen.filters.category is None and table_of(app).total == before


async def test_help_lists_every_active_binding(server, tmp_path):
    app = make_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        ids = {bid for _keys, _label, bid in app.screen.rows}
        assert {"catalog.filter", "catalog.sort", "app.jump", "app.help", "app.refresh", "table.down", "table.top"} <= ids
        labels = {label for _keys, label, _bid in app.screen.rows}
        assert {"Filter", "Springen", "Hilfe"} <= labels  # in German
        # Textual's own keys too: tab, the palette (which is ours now, rebindable as app.palette)
        assert {"Nächstes Feld", "Vorheriges Feld", "Befehle"} <= labels
        assert not labels & {"Focus Next", "Focus Previous", "palette"}
        assert "app.palette" in ids
        text = screen_text(app)
        assert "Binding-ID" in text and "catalog.filter" in text
        await pilot.press("escape")


async def test_jump_to_orders_and_an_invoice(server, tmp_path):
    app = make_app(server, tmp_path)
    number = httpx.get(f"{server}/invoices", headers=auth("customer")).json()["items"][0]["number"]
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        for ch in "orders":
            await pilot.press(ch)
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "orders"
        await pilot.press("colon")
        for ch in f"invoice {number}":
            await pilot.press(ch if ch != " " else "space")
        await pilot.press("enter")
        await settle(pilot)
        assert number in screen_text(app)


async def test_command_palette_offers_the_same_commands(server, tmp_path):
    app = make_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        for ch in "Rechnungen":
            await pilot.press(ch)
        await settle(pilot)
        assert "Rechnungen öffnen" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "invoices"


async def test_language_switch_to_english(server, tmp_path):
    app = make_app(server, tmp_path, language="en")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "Title" in text and "Provider" in text and "Filter: title" in text and "Bereitsteller" not in text
        await app.action_toggle_language()
        await settle(pilot)
        text = screen_text(app)
        assert "Bereitsteller" in text and "Filtern: Titel" in text and "Provider" not in text


async def test_keymap_override_from_config(server, tmp_path):
    app = make_app(server, tmp_path, keymap={"catalog.filter": "F3", "table.down": "n"})
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n", "n")
        assert table_of(app).cursor == 2
        await pilot.press("f3")
        await pilot.press("w")
        await settle(pilot)
        assert app.screen.query_one("#filter").value == "w"


async def test_offline_banner_when_the_server_dies(demo_template, tmp_path):
    path = tmp_path / "m.sqlite3"
    shutil.copy(demo_template, path)
    proc, base = start_server(f"sqlite:///{path}")
    app = make_app(base, tmp_path)
    app.backend.probe_min = 30  # stay offline for the test
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        stop_server(proc)
        await pilot.press("r")
        await settle(pilot)
        banner = app.screen.query_one(OfflineBanner)
        assert banner.has_class("-shown")
        assert "Offline" in screen_text(app) and "offline" in str(app.screen.query_one(StatusLine).render())
        # everything cached stays browsable
        await pilot.press("slash", "w", "o", "h", "n")
        await settle(pilot)
        assert table_of(app).total > 0
    await app.session.aclose()


async def test_hostile_text_renders_literally(server, tmp_path):
    hostile = "[bold red]X[/] \x1b[31mrot\x1b[0m \x1b]52;c;QUJD\x07\u202eEnde"
    me = httpx.get(f"{server}/me", headers=auth("provider")).json()
    offering = httpx.get(f"{server}/offerings", params={"provider": me["organization"]["id"]}, headers=auth("provider")).json()["items"][0]
    url = f"{server}/offerings/{offering['id']}"
    etag = httpx.get(url, headers=auth("provider")).headers["ETag"]
    assert httpx.patch(url, json={"title": hostile, "summary": hostile}, headers=auth("provider", **{"If-Match": etag})).status_code == 200
    app = make_app(server, tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"ende")
        await settle(pilot)
        text = screen_text(app)
        assert "[bold red]X[/]" in text and "rot" in text
        assert "\x1b" not in "".join(table_of(app).render_line(y).text for y in range(5))
        await pilot.press("enter", "enter")  # out of the filter (kept), then open
        await settle(pilot)
        assert "[bold red]X[/]" in screen_text(app)
        assert "\u202e" not in screen_text(app)  # the detail cleans by the same rule as the table


async def test_a_keystroke_paints_with_its_rows_and_never_holds_the_screen(server, tmp_path, monkeypatch):
    """Typing in the filter holds the repaint until the rows are in (one frame for the echo and
    the rows); the hold always ends: with the rows, after HOLD_S for a slow query, or when the
    catalog is left."""
    import threading

    from efa_tui.screens import catalog as catalog_module

    gate = threading.Event()
    gate.set()
    window = catalog_module.CatalogSource.window  # total and rows: the one read of a keystroke
    monkeypatch.setattr(catalog_module.CatalogSource, "window", lambda self, *args: gate.wait(10) and window(self, *args))
    app = make_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CatalogScreen) and table_of(app).total
        all_rows = table_of(app).total

        # The rows end the hold.
        monkeypatch.setattr(catalog_module, "HOLD_S", 30.0)
        gate.clear()
        await pilot.press("slash", "b")
        assert app._batch_count == 1 and screen._hold is not None  # held: the rows are on their way
        gate.set()
        await settle(pilot)
        assert app._batch_count == 0 and screen._hold is None
        assert screen.query_one("#filter").value == "b" and 0 < table_of(app).total < all_rows

        # A query that does not answer: the hold ends by itself.
        monkeypatch.setattr(catalog_module, "HOLD_S", 0.05)
        gate.clear()
        await pilot.press("a")
        await pilot.pause(0.3)
        assert app._batch_count == 0 and screen._hold is None
        gate.set()
        await settle(pilot)

        # Leaving the catalog while a keystroke holds the screen releases it.
        monkeypatch.setattr(catalog_module, "HOLD_S", 30.0)
        gate.clear()
        await pilot.press("u")
        assert app._batch_count == 1
        await app.switch_mode("orders")
        # switch_mode itself holds the repaint for 50 ms (Textual's delay_update): wait that out,
        # far less than HOLD_S, so only leaving the catalog can have ended the catalog's hold.
        for _ in range(40):
            await pilot.pause(0.05)
            if app._batch_count == 0:
                break
        assert app._batch_count == 0 and screen._hold is None
        gate.set()
        await settle(pilot)


async def test_notifications_show_server_and_typed_text_literally(server, tmp_path):
    """Toasts carry a refusal's detail or a typed path: markup is off for every notify, so
    "[red]" shows as typed and a lone "[" does not crash the app."""
    app = make_app(server, tmp_path, start_network=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.screen.notify("[red]x[/red] [")
        await settle(pilot)
        assert [(n.message, n.markup) for n in app._notifications] == [("[red]x[/red] [", False)]


async def _switch_language_in_the_palette(pilot, app) -> None:
    """As a user does it: ctrl+p, "Sprache" / "Language", enter."""
    await pilot.press("ctrl+p")
    await settle(pilot)
    for ch in i18n.t("key.language"):
        await pilot.press(ch)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def test_language_switch_redraws_pushed_screens_and_is_kept(server, tmp_path, monkeypatch):
    """The detail pushed over the catalog, and the catalog under it, are redrawn in the new language;
    the choice is written to config.toml (the user's other settings and comments kept) and used at
    the next start."""
    from efa_tui import config as config_module

    monkeypatch.setenv(config_module.ENV_CONFIG_DIR, str(tmp_path / "config"))
    path = config_module.config_path()
    path.parent.mkdir(parents=True)
    path.write_text('# my settings\ntheme = "textual-light"  # light for the projector\n\n[keymap]\n"catalog.filter" = "F3"\n',
                    encoding="utf-8")
    app = make_app(server, tmp_path)
    app.config_file = path  # as the command line passes it (config.config_path())
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the first offering's detail, pushed over the catalog
        await settle(pilot)
        assert isinstance(app.screen, OfferingScreen)
        assert "Beschreibung" in screen_text(app)
        await _switch_language_in_the_palette(pilot, app)
        assert isinstance(app.screen, OfferingScreen)
        text = screen_text(app)
        assert "Description" in text and "Beschreibung" not in text, text
        assert "EfA marketplace" in text  # the header too
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CatalogScreen)
        assert "Provider" in screen_text(app) and "Bereitsteller" not in screen_text(app)
    written = path.read_text(encoding="utf-8")
    assert 'language = "en"' in written
    assert "# my settings" in written and "# light for the projector" in written and '"catalog.filter" = "F3"' in written
    loaded = config_module.load_config(path)
    assert loaded.language == "en" and loaded.theme == "textual-light" and loaded.keymap == {"catalog.filter": "F3"}


async def test_textual_own_texts_in_german(server, tmp_path):
    """The palette's placeholder and its "No matches found", a menu's "Dismiss menu" in the footer:
    Textual's English, in the German UI, are ours."""
    app = make_app(server, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert "Befehl suchen" in screen_text(app) and "Search for commands" not in screen_text(app)
        for ch in "xyzqw":
            await pilot.press(ch)
        for _ in range(50):  # the palette says so after a moment without a hit
            await pilot.pause(0.05)
            if "Keine Treffer" in screen_text(app):
                break
        assert "Keine Treffer" in screen_text(app) and "No matches" not in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f")  # the facet panel, then open its first menu
        await settle(pilot)
        from textual.widgets import Select

        app.screen.query(Select).first().focus()
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert "Auswahl schließen" in text and "Dismiss menu" not in text, text


async def test_footer_keeps_the_help_key_in_view_at_80_columns(server, tmp_path):
    """However many keys a screen has, `? Hilfe` stays at the right end of the footer."""
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        import re

        assert re.search(r"▏\s*\?\s*Hilfe", _last_line(app)), _last_line(app)
        header = _first_line(app)
        assert "Bereitsteller" in header and "AKDB ·" in header  # the long organisation name is written short (org_names)


def _line(app, index: int) -> str:
    import html
    import re

    svg = app.export_screenshot()
    rows: dict[str, list[str]] = {}
    for y, text in re.findall(r'<text[^>]*\by="([\d.]+)"[^>]*>(.*?)</text>', svg, flags=re.S):
        rows.setdefault(y, []).append(html.unescape(text).replace("\xa0", " "))
    ordered = [("".join(rows[y])) for y in sorted(rows, key=float)]
    return ordered[index]


def _first_line(app) -> str:
    return _line(app, 0)


def _last_line(app) -> str:
    return _line(app, -1)


async def test_roles_see_what_their_areas_hold(server, tmp_path):
    """A provider's invoices area says that providers receive none (not "Abgleich läuft" for ever,
    after the sync); `4` as a customer, who has no area of its own, says which keys there are."""
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, 6)
        await pilot.press("3")
        await settle(pilot, 4)
        text = screen_text(app)
        assert "Keine Rechnungen für Bereitsteller" in text and "Abgleich läuft" not in text, text
    customer = make_app(server, tmp_path / "customer")
    async with customer.run_test(size=(100, 30)) as pilot:
        await settle(pilot, 4)
        await pilot.press("4")
        await settle(pilot)
        said = "\n".join(str(n.message) for n in customer._notifications)
        assert "keinen eigenen Bereich unter 4" in said and "1 Katalog" in said and "5 Verwaltung" in said, said


async def test_the_palette_lists_each_command_once_in_the_users_language(server, tmp_path):
    """Browsing the palette showed "Bestellungen öffnen" twice (the jumps' provider listed the
    areas beside the app's own commands) and "dark/light/ANSI" under "Farbschema wechseln"."""
    app = make_app(server, tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", "down")  # down: the whole list, as one browses it
        await settle(pilot)
        text = screen_text(app)
        assert text.count("Bestellungen öffnen") == 1, text
        assert text.count("Rechnungen öffnen") == 1
        assert "Farbschema wechseln" in text and "dark/light" not in text


async def test_a_theme_chosen_in_the_app_is_kept_for_the_next_start(server, tmp_path, monkeypatch):
    from efa_tui import config as config_module

    monkeypatch.setenv(config_module.ENV_CONFIG_DIR, str(tmp_path / "config"))
    path = config_module.config_path()
    path.parent.mkdir(parents=True)
    path.write_text('language = "de"  # for the office\n', encoding="utf-8")
    app = make_app(server, tmp_path, start_network=False)
    app.config_file = path
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"Farbschema", "enter")
        await settle(pilot)
        chosen = app.theme
        assert chosen != "textual-dark"
    loaded = config_module.load_config(path)
    assert loaded.theme == chosen and loaded.language == "de"
    assert "# for the office" in path.read_text(encoding="utf-8")


async def test_the_english_ui_names_the_ozg_categories_in_english(server, tmp_path):
    """The catalog's Themenfelder ("Familie & Kind", "Bauen & Wohnen") are the wire's German
    words: the English UI showed them so, in the rows, the facet and the detail."""
    from efa_tui.domain.catalog import THEMENFELDER

    for category in THEMENFELDER:  # every one has its English name
        assert i18n.MESSAGES[f"category.{category}"][0] == category, category
    app = make_app(server, tmp_path, language="en")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        facet = app.screen.query_one("#facet-category")
        names = [str(prompt) for prompt, _ in facet._options if _ is not facet.BLANK]
        rows = screen_text(app)
        assert any(n.startswith("Building & housing (") for n in names), names
        assert not any(n.startswith("Bauen & Wohnen") for n in names), names
        assert not any(c in rows for c in THEMENFELDER if len(c) > 8), rows
        await pilot.press("escape")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OfferingScreen)
        text = screen_text(app)
        assert "Category:" in text and not any(f"Category: {c}" in text for c in THEMENFELDER), text


async def test_the_palette_shows_the_jump_words_of_the_users_language(server, tmp_path):
    """The English palette said ":verwaltung" beside "Administration", the German one ":orders"."""
    for language, shown, not_shown in (("en", (":admin", ":orders"), (":verwaltung", ":bestellungen")),
                                       ("de", (":verwaltung", ":bestellungen"), (":admin", ":orders"))):
        app = make_app(server, tmp_path / language, identity="operator", language=language, start_network=False)
        try:
            async with app.run_test(size=(100, 40)) as pilot:
                await settle(pilot)
                await pilot.press("ctrl+p", "down")
                await settle(pilot)
                text = screen_text(app)
                assert all(word in text for word in shown) and not any(f"{w} " in text or text.endswith(w) for w in not_shown), text
        finally:
            i18n.set_language("de")
