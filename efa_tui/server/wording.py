"""German words for the values the server's refusals name (``detail_de`` of a problem).

The English ``detail`` names values as the API spells them (``provider``, ``retired``,
``1234.50``); the German one says them as a German user reads them in the client (Bereitsteller,
zurückgezogen, 1.234,50 €). The words follow the client's catalogs (efa_tui/translations/*.py);
the server keeps its own copy so that it never depends on the client's language state.
"""

from __future__ import annotations

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
        # "'x' or 'y'" (pydantic's list of the allowed values) with the German "oder".
        return text.format(**{k: str(v).replace("' or '", "' oder '") for k, v in ctx.items()})
    except (KeyError, IndexError, ValueError):
        return None


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
