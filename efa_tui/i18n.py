"""One translation layer for every user-facing string: German by default, English selectable.

Messages are keyed by id; each entry holds the German and the English text, side by side, so a
missing translation is visible in review (and a test checks that none is missing).
"""

from __future__ import annotations

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
    "status.as_of": ("Stand {time}", "as of {time}"),
    "status.never": ("noch keine Daten", "no data yet"),
    "status.syncing": ("Abgleich {done}/{total}", "syncing {done}/{total}"),
    "status.syncing_open": ("Abgleich {done}", "syncing {done}"),
    "status.pending": ("{n} ausstehend", "{n} pending"),
    "status.failed": ("{n} abgelehnt – [o] ansehen", "{n} refused – [o] to see"),
    "banner.offline": ("Offline – Daten vom {time}. Änderungen werden gesendet, sobald der Server erreichbar ist.",
                       "Offline – data as of {time}. Changes will be sent when the server is reachable."),
    "banner.connecting": ("Verbinde mit dem Marktplatz …", "Connecting to the marketplace …"),
    "banner.setting_up": ("Erster Start: richte den Demo-Marktplatz ein (einige Sekunden) …",
                          "First start: setting up the demo marketplace (a few seconds) …"),
    # quitting (app.py action_quit)
    "quit.question": ("efa-tui beenden?", "Quit efa-tui?"),
    "quit.pending": ("{n} Änderung(en) noch nicht beim Server: sie bleiben gespeichert und werden beim nächsten "
                     "Start gesendet.",
                     "{n} change(s) not yet on the server: they stay stored and are sent the next time you start."),
    "quit.form": ("Ein Formular ist offen; Ihre Eingaben bleiben als Entwurf erhalten.",
                  "A form is open; your input is kept as a draft."),
    "quit.yes": ("Beenden", "Quit"),
    "quit.no": ("Weiter", "Stay"),
    # keys and commands
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
    "table.key.top": ("Anfang", "First row"),
    "table.key.bottom": ("Ende", "Last row"),
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
    "jump.prompt": (":orders, :order 123, :invoices, :invoice 2026-000042, :offering NAME, :support",
                    ":orders, :order 123, :invoices, :invoice 2026-000042, :offering NAME, :support"),
    "jump.unknown": ("Unbekannter Befehl: {text}", "Unknown command: {text}"),
    "jump.not_found": ("Nicht gefunden: {text}", "Not found: {text}"),
    "jump.not_for_role": ("Diesen Bereich gibt es für die Rolle {role} nicht.", "There is no such area for the role {role}."),
    "key.role_area": ("Eigener Bereich", "Role area"),
    "cmd.catalog": ("Katalog öffnen", "Open the catalog"),
    "cmd.orders": ("Bestellungen öffnen", "Open orders"),
    "cmd.invoices": ("Rechnungen öffnen", "Open invoices"),
    "cmd.support": ("Support-Bereich öffnen", "Open support"),
    "cmd.my_offerings": ("Meine Angebote öffnen", "Open my offerings"),
    "cmd.refresh": ("Daten vom Server abgleichen", "Sync data from the server"),
    "cmd.language": ("Sprache wechseln (Deutsch/English)", "Switch language (Deutsch/English)"),
    "cmd.theme": ("Farbschema wechseln (dunkel/hell/ANSI)", "Switch theme (dark/light/ANSI)"),
    "cmd.help": ("Hilfe anzeigen", "Show help"),
    "cmd.quit": ("Beenden", "Quit"),
    "cmd.order": ("Bestellung {n} öffnen", "Open order {n}"),
    "cmd.invoice": ("Rechnung {n} öffnen", "Open invoice {n}"),
    "cmd.offering": ("Angebot suchen: {text}", "Find offering: {text}"),
    # catalog
    "catalog.filter_placeholder": ("Filtern: Titel, Anbieter, Themenfeld, Stichwort …", "Filter: title, provider, category, keyword …"),
    "catalog.count": ("{shown} von {total} Angeboten", "{shown} of {total} offerings"),
    "catalog.count_about": ("etwa {shown} von {total} Angeboten", "about {shown} of {total} offerings"),
    "catalog.empty": ("Keine Angebote gefunden", "No offerings found"),
    "catalog.active_filters": ("Filter: {filters} · {reset}: zurücksetzen", "Filters: {filters} · {reset}: reset"),
    "catalog.empty_cache": ("Noch keine Daten – der Katalog wird geladen …", "No data yet – loading the catalog …"),
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
    "error.server": ("Server: {detail}", "Server: {detail}"),
    "error.unreachable": ("Server nicht erreichbar: {reason}", "Server unreachable: {reason}"),
    "error.config": ("Konfiguration: {detail}", "Configuration: {detail}"),
}


def _merge_area_catalogs() -> None:
    from .translations import administration, forms, invoices, live, offerings, orders, signoffs, xrechnung

    for module in (forms, orders, invoices, offerings, signoffs, xrechnung, live, administration):
        clash = MESSAGES.keys() & module.MESSAGES.keys()
        assert not clash, f"message ids defined twice: {sorted(clash)}"
        MESSAGES.update(module.MESSAGES)


_merge_area_catalogs()


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
