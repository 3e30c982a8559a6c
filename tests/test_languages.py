"""Both languages, every screen: a walk through the areas of each role — customer, provider,
support, operator — (lists, the first record's detail, the help, the command palette) finds no
German word of the interface in the English UI and no English one in the German UI, Textual's own
texts, the server's refusals, money, distribution keys and chart axes included.

The marketplace's own data (offering titles, organisation names, messages: "Antrag und
Verlängerung") is German in both languages. A word is the interface's unless it stands in the
demo data together with its neighbour on the screen: "Freie und H…" is Hamburg's name, "? Hilfe"
in an English footer is a leak."""

from __future__ import annotations

import re
import sqlite3
from datetime import date
from pathlib import Path

import httpx
import pytest
from app_support import make_app, screen_text, settle
from support import auth
from textual.app import App
from textual.widgets import DataTable

from efa_tui import i18n
from efa_tui.api.models import Invoice
from efa_tui.screens.invoice_chart import SpendingScreen, axis_ticks
from efa_tui.widgets.virtual_table import VirtualTable

# Words only the German interface says (data words such as "Bauantrag" are not among them).
GERMAN = ("Angebot", "Angebote", "Angeboten", "Meine Angebote", "Bestellung", "Bestellungen", "Rechnung",
          "Rechnungen", "Bereitsteller", "Kunde", "Filtern", "Sortiert", "Jahresentgelt", "Einmaliges",
          "Verteilschlüssel", "Verteilung", "Umsatzsteuer", "Ihre Kosten", "je Einwohner", "je Fall", "Einwohner",
          "und Jahr", "Themenfeld", "Zurück", "Hilfe", "Beenden", "Springen", "Aktualisieren", "Befehle",
          "ausstehend", "abgelehnt", "Verwaltung", "Taste", "Aktion", "Status (t)", "Keine Treffer", "Auswahl",
          "Eingang", "Abgleich", "netto", "brutto", "zzgl", "Tsd", "Stand", "gestört", "noch keine Daten",
          "Nicht gefunden", "und", "der", "die", "mit")
# Words only the English interface says (Textual's own among them).
ENGLISH = ("Offering", "offerings", "My offerings", "Order", "Orders", "Invoice", "Invoices", "Provider",
           "Customer", "Filter:", "Sorted", "Annual fee", "One-time", "Distribution", "Fees", "VAT", "Your cost",
           "per inhabitant", "per case", "Category", "Back", "Help", "Quit", "Jump", "Refresh", "Commands",
           "pending", "refused", "Administration", "Key", "Action", "No matches", "Dismiss", "Select",
           "Search for", "Inbox", "syncing", "net", "gross", "thousand", "as of", "no data yet", "Not found",
           "Server unreachable", "and", "of", "the")
FOREIGN = {"en": GERMAN, "de": ENGLISH}
_WORD = {w: re.compile(r"(?<![\wÄÖÜäöüß])" + re.escape(w) + r"(?![\wÄÖÜäöüß])") for w in GERMAN + ENGLISH}


def demo_words(database: Path) -> str:
    """Every text of the demo marketplace, one per line: the data the screens show."""
    con = sqlite3.connect(database)
    try:
        tables = [name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return "\n".join(value for table in tables for row in con.execute(f'SELECT * FROM "{table}"')
                         for value in row if isinstance(value, str))
    finally:
        con.close()


def leaks(language: str, line: str, data: str = "") -> list[str]:
    """The other language's words in one screen line that are not the marketplace's data (a word
    beside its neighbour, a cut one ending in "…", as the demo data has them)."""
    hits = []
    for word in FOREIGN[language]:
        for match in _WORD[word].finditer(line):
            before = line[:match.start()].split()[-1:]
            after = [token.rstrip("…") for token in line[match.end():].split()[:1]]
            if not data or not any(" ".join(pair) in data for pair in ([*before, word], [word, *after])
                                   if len(pair) == 2):
                hits.append(word)
    return hits


async def walk(app, pilot) -> list[tuple[str, str]]:
    """(where, text) of every screen on the way: each area, its first record, the help, the palette."""
    seen: list[tuple[str, str]] = []
    for key in ("1", "2", "3", "4", "5"):
        await pilot.press(key)
        await settle(pilot)
        seen.append((f"area {key}", screen_text(app)))
        tables = [t for t in app.screen.query(VirtualTable) if t.total] or \
                 [t for t in app.screen.query(DataTable) if t.row_count]
        if tables:
            tables[0].focus()
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


def test_the_data_is_told_from_the_interface():
    data = "Freie und Hansestadt Hamburg\nHilfe zum Lebensunterhalt Online"
    assert leaks("en", "Freie und H… Active", data) == [] and leaks("en", "#100 Hilfe zum Lebensu…", data) == []
    assert leaks("en", "? Hilfe  ^p Commands", data) == ["Hilfe"]
    assert leaks("en", "Possible steps: [a] Angebot annehmen", data) == ["Angebot"]
    assert leaks("de", "Bestellung 10 · Order", data) == ["Order"]


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("identity", ["customer", "provider", "support", "operator"])
async def test_no_word_of_the_other_language(server, demo_template, tmp_path, identity, language):
    data = demo_words(demo_template)
    app = make_app(server, tmp_path, identity=identity, language=language)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, 4)
        app._start_session_once()
        await settle(pilot, 6)
        seen = await walk(app, pilot)
    # (The header's first line names the user's organisation: the marketplace's own words.)
    wrong = {where: found for where, text in seen
             if (found := [line for line in text.splitlines()[1:] if leaks(language, line, data)])}
    assert not wrong, wrong


@pytest.mark.parametrize("language", ["en", "de"])
def test_a_refusal_of_the_server_in_the_users_language(server, language):
    """A real problem document of the server (a 404 and a 403), shown as the app shows it: its
    meaning in the user's language first; the server's own detail follows on its own line."""
    i18n.set_language(language)
    for who, path in (("customer", "/orders/999999"), ("customer", "/billing-runs")):
        doc = httpx.get(server + path, headers=auth(who)).json()
        first = i18n.problem(doc).splitlines()[0]
        assert first and not leaks(language, first), (path, first)


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


async def test_the_chart_offers_the_year_key_only_where_it_chooses_a_year():
    """Walk T8: `y Jahr` stood in the footer of the per-year and per-offering views and, with one
    year of invoices, in the month view too; it changed nothing there."""
    earlier = INVOICES[0].model_copy(update={"id": 1, "number": "2025-000001", "issue_date": date(2025, 3, 27), "year": 2025})

    class Bare(App):
        def __init__(self, invoices):
            super().__init__()
            self.invoices = invoices

        def on_mount(self) -> None:
            self.push_screen(SpendingScreen(None, self.invoices))

    for invoices, offered in ((INVOICES, False), (INVOICES + [earlier], True)):
        app = Bare(invoices)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            screen = app.screen
            assert screen.check_action("cycle_year", ()) is offered
            await pilot.press("m")  # per year
            await pilot.pause()
            assert screen.mode == "year" and screen.check_action("cycle_year", ()) is False
