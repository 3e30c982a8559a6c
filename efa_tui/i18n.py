"""One translation layer for every user-facing string: German by default, English selectable.

Messages are keyed by id; each entry holds the German and the English text, side by side, so a
missing translation is visible in review (and a test checks that none is missing).

A count that meets a noun is a plural message: its forms in the order of the language's CLDR plural
categories ("one", then "other" for German and English), joined by ``|`` —
``"{n} Rechnung erstellt|{n} Rechnungen erstellt"`` — and shown with ``tn(id, n)``, which picks the
form by Babel's plural rule of the language (never by string building: no "Feld(er)").
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

LANGUAGES = ("de", "en")
_current = "de"

# id: (Deutsch, English)
MESSAGES: dict[str, tuple[str, str]] = {
    # the shell
    "app.title": ("EfA-Marktplatz", "EfA marketplace"),
    "area.catalog": ("Katalog", "Catalog"),
    "area.orders": ("Bestellungen", "Orders"),
    "area.invoices": ("Rechnungen", "Invoices"),
    "area.my_offerings": ("Meine Angebote", "My offerings"),
    "area.support": ("Support", "Support"),
    "role.customer": ("Kunde", "Customer"),
    "role.provider": ("Bereitsteller", "Provider"),
    "role.support": ("Support", "Support"),
    "role.operator": ("Betreiber", "Operator"),
    "status.online": ("online", "online"),
    "status.offline": ("offline", "offline"),
    "status.disturbed": ("gestört", "failing"),
    # what the last failed request met (widgets/chrome.py, store/backend.py Status.trouble)
    "status.trouble.refused": ("keine Verbindung", "connection refused"),
    "status.trouble.timeout": ("keine Antwort", "no answer"),
    "status.trouble.broken": ("Verbindung abgebrochen", "connection lost"),
    "status.trouble.network": ("Netzwerkfehler", "network error"),
    "status.trouble.scheme": ("Adresse ungültig", "invalid address"),
    "status.trouble.not_api": ("keine Marktplatz-API ({status})", "no marketplace API ({status})"),
    "status.trouble.server": ("Serverfehler {status}", "server error {status}"),
    "status.as_of": ("Stand {time}", "as of {time}"),
    "status.never": ("noch keine Daten", "no data yet"),
    "status.syncing": ("Abgleich {done}/{total}", "syncing {done}/{total}"),
    "status.syncing_open": ("Abgleich {done}", "syncing {done}"),
    "status.pending": ("{n} ausstehend", "{n} pending"),
    "status.failed": ("{n} abgelehnt – [o] ansehen", "{n} refused – [o] to see"),
    "banner.offline": ("Offline – Daten vom {time}. Änderungen werden gesendet, sobald der Server erreichbar ist.",
                       "Offline – data as of {time}. Changes will be sent when the server is reachable."),
    "banner.disturbed": ("Gestört ({trouble}) – Daten vom {time}. Änderungen werden gesendet, sobald der Server "
                         "wieder richtig antwortet.",
                         "Failing ({trouble}) – data as of {time}. Changes will be sent when the server answers "
                         "properly again."),
    "banner.no_data": ("Offline – noch keine Daten: {server} antwortet nicht ({trouble}). Die Angebote kommen, sobald "
                       "der Marktplatz erreichbar ist.",
                       "Offline – no data yet: {server} does not answer ({trouble}). The offerings arrive as soon as "
                       "the marketplace is reachable."),
    "banner.no_data_disturbed": ("Gestört ({trouble}) – noch keine Daten von {server}. Die Angebote kommen, sobald "
                                 "der Marktplatz dort richtig antwortet.",
                                 "Failing ({trouble}) – no data yet from {server}. The offerings arrive as soon as "
                                 "the marketplace answers there properly."),
    "server.restarting": ("Der eingebaute Demo-Marktplatz war beendet – er wird neu gestartet …",
                          "The embedded demo marketplace had ended – starting it again …"),
    "server.restart_failed": ("Der eingebaute Demo-Marktplatz startet nicht wieder: efa-tui bitte neu starten "
                              "(Protokoll: embedded-server.log).",
                              "The embedded demo marketplace does not start again: please restart efa-tui "
                              "(log: embedded-server.log)."),
    "banner.connecting": ("Verbinde mit dem Marktplatz …", "Connecting to the marketplace …"),
    "banner.setting_up": ("Erster Start: richte den Demo-Marktplatz ein (einige Sekunden) …",
                          "First start: setting up the demo marketplace (a few seconds) …"),
    # quitting (app.py action_quit)
    "quit.question": ("efa-tui beenden?", "Quit efa-tui?"),
    "quit.pending": ("{n} Änderung ist noch nicht beim Server: sie bleibt gespeichert und wird beim nächsten Start gesendet."
                     "|{n} Änderungen sind noch nicht beim Server: sie bleiben gespeichert und werden beim nächsten Start gesendet.",
                     "{n} change is not yet on the server: it stays stored and is sent the next time you start."
                     "|{n} changes are not yet on the server: they stay stored and are sent the next time you start."),
    "quit.form": ("Ein Formular ist offen; Ihre Eingaben bleiben als Entwurf erhalten.",
                  "A form is open; your input is kept as a draft."),
    "quit.yes": ("Beenden", "Quit"),
    "quit.no": ("Weiter", "Stay"),
    # keys and commands
    "keys.dropped_for_question": ("Vor der Frage Getipptes wurde verworfen: es war für ein Formular, das nicht geöffnet wurde.",
                                  "What was typed before the question was dropped: it was meant for a form that did not open."),
    "key.help": ("Hilfe", "Help"),
    "key.filter": ("Filter", "Filter"),
    "key.jump": ("Springen", "Jump"),
    "keymap.unknown": ("Konfiguration [keymap]: unbekannte Taste {keys} – dort gilt die Standardtaste (Namen: ? zeigt sie).",
                       "Config [keymap]: unknown key {keys} – the default key applies there (names: ? shows them)."),
    "key.back": ("Zurück", "Back"),
    # the keys of every list and every detail (widgets/lists.py, widgets/virtual_table.py)
    "table.key.down": ("Ab", "Down"),
    "table.key.up": ("Auf", "Up"),
    "table.key.page_down": ("Seite ab", "Page down"),
    "table.key.page_up": ("Seite auf", "Page up"),
    "table.key.half_page_down": ("Halbe Seite ab", "Half a page down"),
    "table.key.half_page_up": ("Halbe Seite auf", "Half a page up"),
    "table.key.top": ("Erste Zeile", "First row"),  # beside the detail's "Zum Anfang" in one help
    "table.key.bottom": ("Letzte Zeile", "Last row"),
    "table.key.select": ("Öffnen", "Open"),
    "detail.key.down": ("Zeile ab", "Line down"),
    "detail.key.up": ("Zeile auf", "Line up"),
    "detail.key.top": ("Zum Anfang", "To the start"),
    "detail.key.bottom": ("Zum Ende", "To the end"),
    "detail.key.half_page_down": ("Halbe Seite ab", "Half a page down"),
    "detail.key.half_page_up": ("Halbe Seite auf", "Half a page up"),
    "list.none_selected": ("Keine Zeile gewählt.", "No row selected."),
    "key.quit": ("Beenden", "Quit"),
    "key.refresh": ("Aktualisieren", "Refresh"),
    "key.open": ("Öffnen", "Open"),
    "key.sort": ("Sortierung", "Sort"),
    "key.facets": ("Filterleiste", "Facets"),
    "key.reset_filters": ("Filter zurücksetzen", "Reset filters"),
    "key.order": ("Bestellen", "Order"),
    "key.catalog": ("Katalog", "Catalog"),
    "key.orders": ("Bestellungen", "Orders"),
    "key.invoices": ("Rechnungen", "Invoices"),
    "key.language": ("Sprache", "Language"),
    "key.theme": ("Farbschema", "Theme"),
    "key.palette": ("Befehle", "Commands"),
    "help.title": ("Hilfe – Tastenbelegung", "Help – key bindings"),
    "help.intro": ("Alle Tasten dieses Bildschirms. Eigene Belegung: [keymap] in der Konfigurationsdatei, nach Binding-ID.",
                   "Every key of this screen. Rebind them in the [keymap] table of the config file, by binding id."),
    "help.key": ("Taste", "Key"),
    "help.action": ("Aktion", "Action"),
    "help.id": ("Binding-ID", "Binding id"),
    "jump.prompt": ("Springen zu …", "Jump to …"),
    "jump.examples": ("z. B. :orders · :order 123 · :invoices · :invoice 2026-000042 · :offering NAME · :support"
                      " · → ergänzt",
                      "e.g. :orders · :order 123 · :invoices · :invoice 2026-000042 · :offering NAME · :support"
                      " · → completes"),
    "jump.unknown": ("Unbekannter Befehl: {text}", "Unknown command: {text}"),
    "jump.not_found": ("Nicht gefunden: {text}", "Not found: {text}"),
    "jump.not_for_role": ("Diesen Bereich gibt es für die Rolle {role} nicht.", "There is no such area for the role {role}."),
    "jump.no_role_area": ("Die Rolle {role} hat keinen eigenen Bereich unter {number}. Ihre Bereiche: {keys}.",
                          "The role {role} has no area of its own under {number}. Your areas: {keys}."),
    "key.role_area": ("Eigener Bereich", "Role area"),
    "cmd.catalog": ("Katalog öffnen", "Open the catalog"),
    "cmd.orders": ("Bestellungen öffnen", "Open orders"),
    "cmd.invoices": ("Rechnungen öffnen", "Open invoices"),
    "cmd.support": ("Support-Bereich öffnen", "Open support"),
    "cmd.my_offerings": ("Meine Angebote öffnen", "Open my offerings"),
    "cmd.refresh": ("Daten vom Server abgleichen", "Sync data from the server"),
    "theme.not_kept": ("Farbschema gewählt, aber nicht in {path} gespeichert: {reason}",
                       "Theme chosen but not saved in {path}: {reason}"),
    "language.not_kept": ("Sprache gewählt, aber nicht in {path} gespeichert: {reason}",
                          "Language switched, but not saved in {path}: {reason}"),
    # Textual's own texts, ours (commands.Palette, widgets/chrome.KeyFooter)
    "palette.placeholder": ("Befehl suchen …", "Search for commands …"),
    "palette.no_matches": ("Keine Treffer", "No matches found"),
    "builtin.cursor_down": ("Cursor nach unten", "Cursor down"),
    "builtin.cursor_down_select": ("Nach unten markieren", "Select down"),
    "builtin.cursor_up": ("Cursor nach oben", "Cursor up"),
    "builtin.cursor_up_select": ("Nach oben markieren", "Select up"),
    "builtin.cursor_left_select": ("Nach links markieren", "Select left"),
    "builtin.cursor_right_select": ("Nach rechts markieren", "Select right"),
    "builtin.cursor_left_word_select": ("Wort links markieren", "Select word left"),
    "builtin.cursor_right_word_select": ("Wort rechts markieren", "Select word right"),
    "builtin.cursor_word_left": ("Ein Wort nach links", "Word left"),
    "builtin.cursor_word_right": ("Ein Wort nach rechts", "Word right"),
    "builtin.cursor_word_left_select": ("Wort links markieren", "Select word left"),
    "builtin.cursor_word_right_select": ("Wort rechts markieren", "Select word right"),
    "builtin.cursor_line_end": ("Zum Zeilenende", "To end of line"),
    "builtin.cursor_line_end_select": ("Bis Zeilenende markieren", "Select to end of line"),
    "builtin.cursor_line_start": ("Zum Zeilenanfang", "To start of line"),
    "builtin.cursor_line_start_select": ("Bis Zeilenanfang markieren", "Select to start of line"),
    "builtin.home_select": ("Bis Zeilenanfang markieren", "Select to start of line"),
    "builtin.end_select": ("Bis Zeilenende markieren", "Select to end of line"),
    "builtin.cursor_page_down": ("Seite runter", "Page down"),
    "builtin.cursor_page_up": ("Seite hoch", "Page up"),
    "builtin.delete_line": ("Zeile löschen", "Delete line"),
    "builtin.delete_to_end_of_line_or_delete_line": ("Bis Zeilenende löschen", "Delete to end of line"),
    "builtin.delete_to_start_of_line": ("Bis Zeilenanfang löschen", "Delete to start of line"),
    "builtin.delete_word_left": ("Wort links löschen", "Delete word left"),
    "builtin.delete_word_right": ("Wort rechts löschen", "Delete word right"),
    "builtin.first": ("Zum ersten Eintrag", "First"),
    "builtin.last": ("Zum letzten Eintrag", "Last"),
    "builtin.next_button": ("Nächste Option", "Next option"),
    "builtin.previous_button": ("Vorherige Option", "Previous option"),
    "builtin.next_tab": ("Nächster Reiter", "Next tab"),
    "builtin.previous_tab": ("Vorheriger Reiter", "Previous tab"),
    "builtin.press": ("Drücken", "Press"),
    "builtin.redo": ("Wiederholen", "Redo"),
    "builtin.undo": ("Rückgängig", "Undo"),
    "builtin.scroll_bottom": ("Zum Ende", "To the end"),
    "builtin.scroll_top": ("Zum Anfang", "To the start"),
    "builtin.select": ("Auswählen", "Choose"),
    "builtin.select_cursor": ("Auswählen", "Choose"),
    "builtin.select_line": ("Zeile markieren", "Select line"),
    "builtin.toggle_button": ("Umschalten", "Toggle"),
    "builtin.toggle_switch": ("Umschalten", "Toggle"),
    "builtin.dismiss_menu": ("Auswahl schließen", "Close the menu"),
    "builtin.show_menu": ("Auswahl öffnen", "Open the menu"),
    "cmd.language": ("Sprache wechseln (Deutsch/English)", "Switch language (Deutsch/English)"),
    "cmd.theme": ("Farbschema wechseln (dunkel/hell/ANSI)", "Switch theme (dark/light/ANSI)"),
    "cmd.language_help": ("Deutsch/English, auch beim nächsten Start", "Deutsch/English, kept for the next start"),
    "cmd.theme_help": ("dunkel, hell, 16 Farben; auch beim nächsten Start", "dark, light, 16 colours; kept for the next start"),
    "cmd.help": ("Hilfe anzeigen", "Show help"),
    "cmd.quit": ("Beenden", "Quit"),
    "cmd.order": ("Bestellung {n} öffnen", "Open order {n}"),
    "cmd.invoice": ("Rechnung {n} öffnen", "Open invoice {n}"),
    "cmd.offering": ("Angebot suchen: {text}", "Find offering: {text}"),
    # catalog
    "catalog.filter_placeholder": ("Filtern: Titel, Bereitsteller, Themenfeld, Stichwort …", "Filter: title, provider, category, keyword …"),
    "catalog.count": ("{shown} von {n} Angebot|{shown} von {n} Angeboten",
                      "{shown} of {n} offering|{shown} of {n} offerings"),
    "catalog.count_about": ("etwa {shown} von {n} Angebot|etwa {shown} von {n} Angeboten",
                            "about {shown} of {n} offering|about {shown} of {n} offerings"),
    "catalog.empty": ("Keine Angebote gefunden", "No offerings found"),
    "catalog.active_filters": ("Filter: {filters} · {reset}: zurücksetzen", "Filters: {filters} · {reset}: reset"),
    # Said online (before the first page) and offline (the banner says why): "wird geladen …" was untrue there.
    "catalog.empty_cache": ("Noch keine Daten – die Angebote kommen mit dem ersten Abgleich.",
                            "No data yet – the offerings arrive with the first sync."),
    "col.title": ("Titel", "Title"),
    "col.provider": ("Bereitsteller", "Provider"),
    "col.category": ("Themenfeld", "Category"),
    "col.annual_fee": ("Jahresentgelt", "Annual fee"),
    "col.key": ("Verteilung", "Distribution"),
    "facet.category": ("Themenfeld", "Category"),
    "facet.provider": ("Bereitsteller", "Provider"),
    "facet.bundesland": ("Bundesland", "Federal state"),
    "facet.inhouse_orderable": ("Inhouse bestellbar", "Orderable in-house"),
    "facet.all": ("alle", "all"),
    "facet.nationwide": ("bundesweit", "nationwide"),
    "sort.title": ("Titel", "Title"),
    "sort.provider": ("Bereitsteller", "Provider"),
    "sort.annual_fee": ("Jahresentgelt aufsteigend", "Annual fee ascending"),
    "sort.-annual_fee": ("Jahresentgelt absteigend", "Annual fee descending"),
    "sort.updated": ("zuletzt geändert", "Recently updated"),
    "sort.now": ("Sortiert nach: {sort}", "Sorted by: {sort}"),
    "key.fixed": ("fest", "fixed"),
    "key.per_inhabitant": ("je Einwohner", "per inhabitant"),
    "key.per_case": ("je Fall", "per case"),
    "key.target_group": ("Zielgruppe", "target group"),
    # what a unit price is per (screens/offering_detail.unit_text), by distribution key
    "unit.per_inhabitant": ("je 1.000 Einwohner und Jahr", "per 1,000 inhabitants a year"),
    "unit.target_group": ("je 1.000 Personen der Zielgruppe und Jahr", "per 1,000 persons of the target group a year"),
    "unit.per_case": ("je Fall", "per case"),
    "unit.own": ("„{label}“", "“{label}”"),
    # detail
    "detail.description": ("Beschreibung", "Description"),
    "detail.fees": ("Entgelte", "Fees"),
    "detail.annual_fee": ("Jahresentgelt", "Annual fee"),
    "detail.one_time_fee": ("Einmaliges Entgelt", "One-time fee"),
    "detail.distribution": ("Verteilschlüssel", "Distribution key"),
    "detail.unit_price": ("Preis", "Price"),
    "detail.vat": ("Umsatzsteuer", "VAT"),
    "detail.your_cost": ("Ihre Kosten ({org})", "Your cost ({org})"),
    "detail.first_year": ("{year} ab {start} ({months} von 12 Monaten, inkl. einmaligem Entgelt)",
                          "{year} from {start} ({months} of 12 months, incl. one-time fee)"),
    "detail.full_year": ("volles Jahr danach", "a full year after"),
    "detail.usage_extra": ("zzgl. Nutzung je Fall", "plus usage per case"),
    "detail.net": ("netto", "net"),
    "detail.pro_rata_rule": ("Beginnt ein Vertrag im Lauf des Jahres, wird nach vollen Kalendermonaten anteilig berechnet.",
                             "A contract starting during the year is billed pro rata by full calendar months."),
    "detail.provider": ("Bereitsteller", "Provider"),
    "detail.contact": ("Kontakt", "Contact"),
    "detail.availability": ("Verfügbar in", "Available in"),
    "detail.nationwide": ("bundesweit", "nationwide"),
    "detail.maturity": ("Reifegrad (OZG)", "Maturity (OZG)"),
    "detail.terms": ("Vertragsbedingungen", "Contract terms"),
    "detail.keys": ("Schlüssel", "Keys"),
    "detail.order_hint": ("Mit [b] Interesse bekunden – der erste Schritt zur Bestellung",
                          "Press [b] to express interest – the first step towards an order"),
    "detail.cannot_order": ("Bestellen nicht möglich: {reason}", "Ordering not possible: {reason}"),
    "detail.no_inhouse": ("Ihre Organisation hat keine Inhouse-Beziehung zu einem Betreiber des Marktplatzes.",
                          "Your organisation has no in-house relationship with an operator of the marketplace."),
    "detail.only_customers": ("Nur Kunden können bestellen.", "Only customers can order."),
    "detail.not_cached": ("Angebot nicht im lokalen Bestand.", "Offering not in the local cache."),
    "yes": ("ja", "yes"),
    "no": ("nein", "no"),
    # Textual's built-in bindings, as the help lists them (screens/help.py BUILTIN)
    "builtin.focus_next": ("Nächstes Feld", "Focus next"),
    "builtin.focus_previous": ("Vorheriges Feld", "Focus previous"),
    "builtin.quit": ("Beenden", "Quit"),
    "builtin.copy": ("Markierten Text kopieren", "Copy selected text"),
    "builtin.cut": ("Markierten Text ausschneiden", "Cut selected text"),
    "builtin.paste": ("Einfügen", "Paste"),
    "builtin.scroll_up": ("Nach oben rollen", "Scroll up"),
    "builtin.scroll_down": ("Nach unten rollen", "Scroll down"),
    "builtin.scroll_left": ("Nach links rollen", "Scroll left"),
    "builtin.scroll_right": ("Nach rechts rollen", "Scroll right"),
    "builtin.scroll_home": ("Zum Anfang", "Scroll to start"),
    "builtin.scroll_end": ("Zum Ende", "Scroll to end"),
    "builtin.page_up": ("Seite hoch", "Page up"),
    "builtin.page_down": ("Seite runter", "Page down"),
    "builtin.page_left": ("Seite links", "Page left"),
    "builtin.page_right": ("Seite rechts", "Page right"),
    "builtin.submit": ("Bestätigen", "Submit"),
    "builtin.select_all": ("Alles markieren", "Select all"),
    "builtin.cursor_left": ("Cursor nach links", "Cursor left"),
    "builtin.cursor_right": ("Cursor nach rechts", "Cursor right"),
    "builtin.home": ("Zum Zeilenanfang", "To start of line"),
    "builtin.end": ("Zum Zeilenende", "To end of line"),
    "builtin.cursor_left_word": ("Ein Wort nach links", "Word left"),
    "builtin.cursor_right_word": ("Ein Wort nach rechts", "Word right"),
    "builtin.delete_left": ("Zeichen links löschen", "Delete character left"),
    "builtin.delete_right": ("Zeichen rechts löschen", "Delete character right"),
    "builtin.delete_left_word": ("Wort links löschen", "Delete word left"),
    "builtin.delete_right_word": ("Wort rechts löschen", "Delete word right"),
    "builtin.delete_left_all": ("Alles links löschen", "Delete all to the left"),
    "builtin.delete_right_all": ("Alles rechts löschen", "Delete all to the right"),
    "builtin.toggle_dark": ("Hell/Dunkel", "Light/dark"),
    "builtin.maximize": ("Maximieren", "Maximize"),
    "builtin.minimize": ("Verkleinern", "Minimize"),
    # errors
    "error.unreachable": ("Server nicht erreichbar: {reason}", "Server unreachable: {reason}"),
    "error.config": ("Konfiguration: {detail}", "Configuration: {detail}"),
}


def _merge_area_catalogs() -> None:
    from .translations import administration, forms, invoices, live, offerings, orders, problems, signoffs, xrechnung

    for module in (forms, orders, invoices, offerings, signoffs, xrechnung, live, administration, problems):
        clash = MESSAGES.keys() & module.MESSAGES.keys()
        assert not clash, f"message ids defined twice: {sorted(clash)}"
        MESSAGES.update(module.MESSAGES)


_merge_area_catalogs()


PLURAL_SEPARATOR = "|"
# CLDR's plural categories in their canonical order; a language's forms are those it has, "other" last.
_CATEGORIES = ("zero", "one", "two", "few", "many", "other")


@functools.cache
def _plural_rule(language: str):  # -> babel.plural.PluralRule
    from babel import Locale

    return Locale.parse(language).plural_form


def plural_categories(language: str) -> tuple[str, ...]:
    """The plural categories of a language, in the order its forms are written ("one", "other")."""
    tags = _plural_rule(language).tags | {"other"}
    return tuple(c for c in _CATEGORIES if c in tags)


def plural_form(language: str, n: int) -> int:
    """Which form (index into the ``|``-separated forms) a count takes in a language."""
    return plural_categories(language).index(_plural_rule(language)(abs(n)))


def set_language(language: str) -> None:
    global _current
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    _current = language


def current_language() -> str:
    return _current


def t(key: str, **values: object) -> str:
    """The message in the current language; an unknown id shows itself (visible, not a crash)."""
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry[LANGUAGES.index(_current)]
    return text.format(**values) if values else text


def tn(key: str, n: int, **values: object) -> str:
    """A plural message for the count ``n``: the form the language's plural rule picks, with ``{n}``
    as the count in the locale's digits ("1 Rechnung erstellt", "1.200 Rechnungen erstellt")."""
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    forms = entry[LANGUAGES.index(_current)].split(PLURAL_SEPARATOR)
    index = plural_form(_current, n)
    text = forms[min(index, len(forms) - 1)]
    from babel.numbers import format_decimal

    from .formatting import LOCALES

    return text.format(n=format_decimal(n, locale=LOCALES.get(_current, "de_DE")), **values)


def problem(problem: Any, fallback: str = "") -> str:
    """A refusal of the server in the user's language: what its problem type means (else its HTTP
    status), and the server's own detail — English, naming the case — as a second line.
    ``problem``: a problem document (dict), or anything with ``type``, ``status`` and ``detail``
    (``api.errors.ApiError``); ``fallback``: the text when there is no document (a transport error)."""
    from .text import clean

    def get(name: str) -> Any:
        if isinstance(problem, Mapping):
            return problem.get(name)
        # An ApiError has the common fields; the rest of its document (detail_de) is in its body.
        found = getattr(problem, name, None)
        body = getattr(problem, "body", None)
        return found if found is not None or not isinstance(body, Mapping) else body.get(name)

    if not problem:
        return clean(fallback) or t("problem.unknown")
    slug = str(get("type") or "").rstrip("/").rsplit("/", 1)[-1]
    status = get("status")
    key = next((k for k in (f"problem.{slug}", f"problem.status.{status}") if k in MESSAGES), "problem.unknown")
    said = t(key)
    # The server's own words; in German where it gave them in German too (``detail_de``).
    said_de = get("detail_de") if _current == "de" else None
    detail = clean(str(said_de or get("detail") or get("title") or fallback or ""))
    return f"{said}\n{t('problem.detail', detail=detail)}" if detail else said
