"""Both languages, every screen: a walk through the areas of each role (lists, the first record's
detail, the help) finds no German word of the interface in the English UI and no English one in the
German UI — Textual's own texts, the server's refusals, money, distribution keys and chart axes
included. The class-wide guard under the per-screen tests; the words are the interface's own (the
marketplace's data — offering titles, organisation names — is German in both)."""

from __future__ import annotations

import re

import pytest
from app_support import make_app, screen_text, settle
from textual.app import App

from efa_tui import i18n
from efa_tui.api.models import Invoice
from efa_tui.screens.invoice_chart import SpendingScreen, axis_ticks
from efa_tui.widgets.virtual_table import VirtualTable

GERMAN = ("Bereitsteller", "Bestellungen", "Bestellung", "Rechnungen", "Filtern", "Sortiert", "Jahresentgelt",
          "Verteilschlüssel", "Verteilung", "Zurück", "Hilfe", "Beenden", "Springen", "Aktualisieren", "Befehle",
          "Einmaliges", "Umsatzsteuer", "Ihre Kosten", "je Einwohner", "je Fall", "Themenfeld", "ausstehend",
          "abgelehnt", "Kunde", "Einwohner", "und Jahr", "Angeboten", "Meine Angebote", "Verwaltung", "Taste", "Aktion", "Status (t)",
          "Keine Treffer", "Auswahl", "Eingang", "Abgleich", "netto", "brutto", "zzgl", "Tsd")
ENGLISH = ("Provider", "Orders", "Invoices", "Filter:", "Sorted", "Annual fee", "Distribution", "Back", "Help",
           "Quit", "Jump", "Refresh", "Commands", "Fees", "One-time", "VAT", "Your cost", "per inhabitant", "per case",
           "Category", "pending", "refused", "Customer", "offerings", "My offerings", "Administration", "Key",
           "Action", "No matches", "Dismiss", "Select", "Search for", "Inbox", "syncing", "net", "gross", "thousand",
           "Server unreachable")


def found(words: tuple[str, ...], text: str) -> list[str]:
    return [w for w in words if re.search(r"(?<![\wÄÖÜäöüß])" + re.escape(w) + r"(?![\wÄÖÜäöüß])", text)]


async def walk(app, pilot, role_area: bool) -> list[tuple[str, str]]:
    """(where, text) of every screen on the way: each area, its first record, the help."""
    seen: list[tuple[str, str]] = []
    for key in ("1", "2", "3", *(("4",) if role_area else ()), "5"):
        await pilot.press(key)
        await settle(pilot)
        seen.append((f"area {key}", screen_text(app)))
        tables = app.screen.query(VirtualTable)
        if tables and tables.first().total:
            tables.first().focus()
            await pilot.press("enter")
            await settle(pilot)
            seen.append((f"area {key}, first record", screen_text(app)))
            await pilot.press("escape")
            await settle(pilot)
    await pilot.press("question_mark")
    await settle(pilot)
    seen.append(("help", screen_text(app)))
    await pilot.press("escape")
    await settle(pilot)
    await pilot.press("ctrl+p")  # the palette: its placeholder, then what it says when nothing matches
    await settle(pilot)
    seen.append(("palette", screen_text(app)))
    await pilot.press(*"xyzqw")
    for _ in range(100):  # the palette says it after a moment (in Textual's words, or ours)
        await pilot.pause(0.05)
        if any(said in screen_text(app) for said in ("No matches found", i18n.t("palette.no_matches"))):
            break
    seen.append(("palette, no match", screen_text(app)))
    await pilot.press("escape")
    await settle(pilot)
    return seen


@pytest.mark.parametrize("identity, language", [("customer", "en"), ("provider", "en"), ("provider", "de"),
                                                ("customer", "de")])
async def test_no_word_of_the_other_language(server, tmp_path, identity, language):
    app = make_app(server, tmp_path, identity=identity, language=language)
    foreign = GERMAN if language == "en" else ENGLISH
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, 4)
        app._start_session_once()
        await settle(pilot, 6)
        seen = await walk(app, pilot, role_area=identity == "provider")
    # (The header's first line names the user's organisation: the marketplace's own words.)
    wrong = {where: [line for line in text.splitlines()[1:] if found(foreign, line)] for where, text in seen
             if found(foreign, "\n".join(text.splitlines()[1:]))}
    assert not wrong, wrong


def test_chart_axes_in_the_locale():
    i18n.set_language("de")
    assert axis_ticks(1.19) == ([0.0, 0.5, 1.0, 1.5], ["0,0", "0,5", "1,0", "1,5"])
    i18n.set_language("en")
    assert axis_ticks(1.19)[1] == ["0.0", "0.5", "1.0", "1.5"]


INVOICES = [Invoice.model_validate({"id": 2, "number": "2026-000002", "kind": "invoice", "year": 2026, "status": "issued",
                                    "issue_date": "2026-03-27", "net": "1000.00", "vat": "190.00", "gross": "1190.00"})]


async def test_the_spending_chart_has_decimal_commas_in_german():
    class Bare(App):
        def on_mount(self) -> None:
            self.push_screen(SpendingScreen(None, INVOICES))

    app = Bare()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
    assert "0,5" in text and "1,5" in text and "0.5" not in text, text
