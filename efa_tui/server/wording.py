"""German words for the values the server's refusals name (``detail_de`` of a problem).

The English ``detail`` names values as the API spells them (``provider``, ``retired``,
``1234.50``); the German one says them as a German user reads them in the client (Bereitsteller,
zurückgezogen, 1.234,50 €). The words follow the client's catalogs (efa_tui/translations/*.py);
the server keeps its own copy so that it never depends on the client's language state.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation

ROLES = {"customer": "Kunde", "provider": "Bereitsteller", "operator": "Betreiber", "support": "Support"}

# An order's states and steps as the client names them (state.* and key.* in
# efa_tui/translations/orders.py).
ORDER_STATES = {
    "interest": "Interesse", "proposed": "Entgeltvorschlag", "ordered": "Bestellt", "active": "Aktiv",
    "terminated": "Gekündigt", "withdrawn": "Zurückgezogen", "rejected": "Abgelehnt", "cancelled": "Storniert",
}
ACTIONS = {
    "propose": "Entgelte vorschlagen", "order": "Verbindlich bestellen", "activate": "Aktivieren",
    "reject": "Ablehnen", "withdraw": "Zurückziehen", "cancel": "Stornieren", "terminate": "Kündigen",
}

OFFERING_STATES = {"draft": "Entwurf", "published": "veröffentlicht", "retired": "zurückgezogen"}

DISTRIBUTION_KEYS = {"fixed": "fest", "per_inhabitant": "je Einwohner", "per_case": "je Fall", "target_group": "Zielgruppe"}

INVOICE_KINDS = {"invoice": "Rechnung", "credit_note": "Gutschrift"}
INVOICE_STATES = {"issued": "offen", "paid": "bezahlt", "cancelled": "storniert"}

# The API's fields (request bodies and query parameters) as the client's forms label them: a
# refusal names "Jahresentgelt", not "annual_fee". A dotted path is named by its last part
# (fees.annual_fee); tests/test_problem_language.py checks that every field of the API is here.
FIELDS = {
    "action": "Schritt", "admin": "Benutzerverwaltung", "ags": "AGS/ARS", "amount": "Betrag",
    "annual_fee": "Jahresentgelt", "bank_reference": "Verwendungszweck/Buchungsreferenz",
    "bundeslaender": "Bundesländer", "bundesland": "Bundesland", "cases": "Fallzahl", "category": "Themenfeld",
    "city": "Ort", "confirm_gross_total": "bestätigter Bruttobetrag", "contact_email": "E-Mail",
    "contact_name": "Ansprechperson", "contact_phone": "Telefon", "contract_terms": "Vertragsbedingungen",
    "cost_centre": "Kostenstelle", "cursor": "Position (cursor)", "customer_id": "Kunde",
    "customer_type": "Art des Kunden", "description": "Beschreibung", "desired_start": "gewünschter Beginn",
    "disabled": "gesperrt", "distribution_key": "Verteilschlüssel", "dry_run": "Probelauf", "email": "E-Mail",
    "end_date": "Enddatum", "expires_in_days": "Gültigkeit (Tage)", "fees": "Entgelte", "inhouse_basis":
    "Grundlage der Inhouse-Beziehung", "inhouse_operator_id": "Betreiber", "keepalive": "Lebenszeichen",
    "key": "Schlüssel", "keywords": "Stichwörter", "kind": "Art", "leika_key": "LeiKa-Schlüssel",
    "leitweg_id": "Leitweg-ID", "leitweg_ids": "Leitweg-IDs", "limit": "Anzahl", "line_id": "Rechnungsposition",
    "line_ids": "Rechnungspositionen", "maturity": "Reifegrad", "message": "Nachricht",
    "minimum_term_months": "Mindestlaufzeit", "month": "Monat", "name": "Name", "net": "Nettobetrag",
    "note": "Begründung", "notice_period_months": "Kündigungsfrist", "number": "Nummer", "offering_id": "Angebot",
    "one_time_fee": "einmaliges Entgelt", "order_id": "Bestellung", "organization_id": "Organisation",
    "ozg_id": "OZG-Leistungs-ID", "phone": "Telefon", "population": "Einwohnerzahl",
    "population_date": "Stichtag der Einwohnerzahl", "postcode": "Postleitzahl", "provider": "Bereitsteller",
    "provider_id": "Bereitsteller", "q": "Suche", "reason": "Begründung", "replaces": "ersetzte Meldung",
    "role": "Rolle", "roles": "Rollen", "scope": "Berechtigung", "short_name": "Kurzname", "sort": "Sortierung",
    "start_date": "Beginn", "state": "Status", "statement": "Erklärung", "status": "Status",
    "street": "Straße und Hausnummer", "summary": "Kurzbeschreibung", "sync_position": "Abgleichsposition",
    "target_group_size": "Größe der Zielgruppe", "target_id": "Ziel", "target_kind": "Art des Ziels",
    "terms": "Bedingungen", "title": "Titel", "unit_label": "Einheit", "unit_price": "Preis je Einheit",
    "updated_since": "geändert seit", "value_date": "Wertstellung", "vat_rate": "Umsatzsteuersatz", "year": "Jahr",
    "body": "Anfrage",
}


def field(path: str) -> str:
    """One field of the API in German ("fees.annual_fee" → "Jahresentgelt"; "leitweg_ids.1" → "Leitweg-IDs");
    a name not in FIELDS stays as the API spells it."""
    parts = [p for p in str(path).split(".") if not p.isdigit()]
    return FIELDS.get(parts[-1], str(path)) if parts else str(path)


def fields(paths: Iterable[str]) -> str:
    """Several fields in German, each once, in the order given."""
    return ", ".join(dict.fromkeys(field(p) for p in paths))


MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
          "November", "Dezember")


class Refused(ValueError):
    """A validator's refusal in English (its message, what clients read) and in German (``de``):
    a 422's field error carries both (``message``, ``message_de``)."""

    def __init__(self, en: str, de: str):
        super().__init__(en)
        self.de = de


# Pydantic's own field errors by type, in German; ``{…}``: from the error's context.
FIELD_ERRORS = {
    "missing": "Pflichtangabe fehlt",
    "string_too_short": "mindestens {min_length} Zeichen",
    "string_too_long": "höchstens {max_length} Zeichen",
    "too_short": "mindestens {min_length} Einträge",
    "too_long": "höchstens {max_length} Einträge",
    "greater_than": "muss größer als {gt} sein",
    "greater_than_equal": "muss mindestens {ge} sein",
    "less_than": "muss kleiner als {lt} sein",
    "less_than_equal": "darf höchstens {le} sein",
    "literal_error": "erlaubt: {expected}",
    "enum": "erlaubt: {expected}",
    "extra_forbidden": "unbekanntes Feld",
    "int_parsing": "muss eine ganze Zahl sein",
    "int_type": "muss eine ganze Zahl sein",
    "int_from_float": "muss eine ganze Zahl sein",
    "bool_parsing": "muss true oder false sein",
    "bool_type": "muss true oder false sein",
    "string_type": "muss ein Text sein",
    "date_parsing": "muss ein gültiges Datum sein (JJJJ-MM-TT)",
    "date_from_datetime_parsing": "muss ein gültiges Datum sein (JJJJ-MM-TT)",
    "date_type": "muss ein gültiges Datum sein (JJJJ-MM-TT)",
    "datetime_parsing": "muss ein gültiger Zeitpunkt sein",
    "datetime_from_date_parsing": "muss ein gültiger Zeitpunkt sein",
    "datetime_type": "muss ein gültiger Zeitpunkt sein",
    "decimal_parsing": "muss eine Zahl sein",
    "decimal_type": "muss eine Zahl sein",
    "decimal_max_places": "höchstens {decimal_places} Nachkommastellen",
    "list_type": "muss eine Liste sein",
    "model_type": "muss ein Objekt sein",
    "dict_type": "muss ein Objekt sein",
    "model_attributes_type": "muss ein Objekt sein",
    "string_pattern_mismatch": "hat nicht die erwartete Form",
}


def field_error(err: dict) -> str | None:
    """The German message of one of pydantic's errors (``RequestValidationError.errors()``),
    None when there is none (the client shows the English one)."""
    ctx = err.get("ctx") or {}
    if err.get("type") in ("value_error", "assertion_error"):
        return getattr(ctx.get("error"), "de", None)
    text = FIELD_ERRORS.get(str(err.get("type")))
    if text is None:
        return None
    try:
        return text.format(**{k: _context_de(v) for k, v in ctx.items()})
    except (KeyError, IndexError, ValueError):
        return None


# The API's values a German user knows by another word (pydantic lists the allowed ones).
_VALUES = {**ROLES, **ACTIONS, **DISTRIBUTION_KEYS, **OFFERING_STATES, **INVOICE_KINDS, **ORDER_STATES}
_QUOTED = re.compile(r"'([^']*)'")
_DECIMAL = re.compile(r"^-?\d+\.\d+$")


def _context_de(value: object) -> str:
    """A value in a pydantic error's context as a German user reads it: "'fixed' or 'per_case'"
    → „fest“ oder „je Fall“, a limit 0.01 → 0,01."""
    text = str(value)
    if _DECIMAL.match(text):
        return text.replace(".", ",")
    return _QUOTED.sub(lambda m: f"„{_VALUES.get(m.group(1), m.group(1))}“", text.replace("' or '", "' oder '"))


def word(words: dict[str, str], value: object) -> str:
    """The German word for ``value`` (itself when there is none: visible, never a crash)."""
    return words.get(str(value), str(value))


def role(value: object) -> str:
    return word(ROLES, value)


def roles_or(values: Iterable[str]) -> str:
    """„Kunde“ oder „Bereitsteller“."""
    return joined((f"„{role(v)}“" for v in values), "oder")


def months(n: int) -> str:
    """1 Monat, 3 Monaten (dative: "von 3 Monaten", "mit 1 Monat Frist")."""
    return f"{n} Monat" if n == 1 else f"{n} Monaten"


def sentence(text: str) -> str:
    """A refusal's German fragment as the detail's sentence: its first letter capitalised."""
    return text[:1].upper() + text[1:]


def joined(items: Iterable[object], last: str = "und") -> str:
    """a, b und c."""
    parts = [str(x) for x in items]
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} {last} {parts[-1]}"


def day(value: date | str) -> str:
    """31.03.2027."""
    d = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{d:%d.%m.%Y}"


def month(period: tuple[int, int]) -> str:
    """März 2026."""
    year, number = period
    return f"{MONTHS[number - 1]} {year}" if 1 <= number <= 12 else f"{number:02d}/{year:04d}"


def euro(amount: Decimal | str | float | int | None) -> str:
    """1.234,50 € (German digits, two decimals)."""
    try:
        value = Decimal(str(amount if amount is not None else 0))
    except InvalidOperation:
        return f"{amount} €"
    text = f"{value:,.2f}"  # 1,234.50
    return text.replace(",", " ").replace(".", ",").replace(" ", ".") + " €"
