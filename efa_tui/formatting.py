"""Numbers, money and dates in the user's locale, via Babel (de: 1.234,56 €, 27.11.2026)."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_currency, format_decimal

from . import i18n

LOCALES = {"de": "de_DE", "en": "en_GB"}


def today() -> date:
    """Today, for the screens: one place, so that snapshot tests can fix the day."""
    return date.today()


def _locale(language: str | None = None) -> str:
    return LOCALES.get(language or i18n.current_language(), "de_DE")


def money(amount: Decimal | str | None, currency: str = "EUR") -> str:
    if amount is None or amount == "":
        return "–"
    return format_currency(Decimal(str(amount)), currency, locale=_locale())


def number(value: int | Decimal | float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    fmt = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=fmt, locale=_locale())


def day(value: date | str | None) -> str:
    """27.11.2026 (de) or 27/11/2026 (en)."""
    if not value:
        return "–"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return format_date(value, format="short" if i18n.current_language() == "en" else "dd.MM.yyyy", locale=_locale())


def _local(value: datetime | str) -> datetime:
    """A server timestamp (ISO, UTC) in the user's local time."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.astimezone() if value.tzinfo is not None else value


def moment(value: datetime | str | None) -> str:
    """Date and time in local time: 27.11.2026, 10:42."""
    if not value:
        return "–"
    return format_datetime(_local(value), format="dd.MM.yyyy, HH:mm" if i18n.current_language() == "de" else "dd/MM/yyyy, HH:mm",
                           locale=_locale())


def clock(value: datetime | str | None) -> str:
    """The time of day only, for "Stand 10:42"."""
    if not value:
        return "–"
    return format_time(_local(value), format="HH:mm", locale=_locale())


# --- reading what people type -------------------------------------------------------------------

class InputError(ValueError):
    """A typed value that cannot be read; the message says how to write it (translated)."""


# The wire's own notation (1234.56): digits, a point, one or two decimals.
_WIRE_AMOUNT = re.compile(r"^\d+(\.\d{1,2})?$")


def parse_money(text: str, *, wire_too: bool = False, language: str | None = None) -> Decimal:
    """An amount as typed in the user's locale: de 1.234,56 (also 1234,56 and 1234), en 1,234.56.
    At most two decimals (cents) and not negative: fees and prices are never below zero.

    ``wire_too``: also read the API's notation 1234.56 in German (the offering form, whose fees
    providers copy from price sheets and the API documentation). The order forms stay strict: a
    German "1.234" there is a thousands separator only, never one euro and 234 thousandths.
    ``language``: read it in that language's notation instead of the user's (see `renotate`)."""
    from babel.numbers import NumberFormatError, get_decimal_symbol, parse_decimal

    locale = _locale(language)
    cleaned = text.strip().removesuffix("EUR").replace("€", "")
    cleaned = cleaned.replace("\xa0", "").replace("\u202f", "").replace(" ", "")
    if wire_too and _WIRE_AMOUNT.match(cleaned):
        return Decimal(cleaned).quantize(Decimal("0.01"))
    # Three decimals written are no amount, even when they are zeros: in English "12.000" (a
    # German's twelve thousand) read as 12.000 = 12.00 saved a fee of €12.00, and "3.600" sent a
    # fee proposal of €3.60. Cents are two digits; "12,000" or "12000" is twelve thousand.
    decimal_mark = get_decimal_symbol(locale)
    if decimal_mark in cleaned and len(cleaned.rpartition(decimal_mark)[2]) > 2:
        raise InputError(i18n.t("input.cents"))
    try:
        value = parse_decimal(cleaned, locale=locale, strict=True)
    except (NumberFormatError, ValueError):
        raise InputError(i18n.t("input.money", example=money(Decimal("1234.50")))) from None
    if value < 0:
        raise InputError(i18n.t("input.negative"))
    if value != value.quantize(Decimal("0.01")):
        raise InputError(i18n.t("input.cents"))
    return value.quantize(Decimal("0.01"))


def renotate(text: str, notation: str, typed_in: str) -> str:
    """A number typed in ``typed_in``'s notation, written as the user's language writes it: a
    draft typed before a language switch ("12.000,50" in German comes back "12,000.50" in
    English — read in English it was refused as three decimals). ``notation``: "money" (also a
    VAT rate) or "count". Text that is no number there stays as it was typed; its field says why."""
    if typed_in == i18n.current_language() or not str(text).strip():
        return text
    from babel.numbers import get_group_symbol

    grouped = get_group_symbol(_locale(typed_in)) in text
    try:
        if notation == "count":
            return format_decimal(parse_count(text, language=typed_in), format="#,##0" if grouped else "0", locale=_locale())
        return money_input(parse_money(text.replace("%", ""), language=typed_in), grouped=grouped)
    except InputError:
        return text


def parse_vat(text: str, *, wire_too: bool = False) -> Decimal:
    """A VAT rate in percent as typed ("19", "19 %", "7,00"): an amount between 0 and 100."""
    value = parse_money(text.replace("%", ""), wire_too=wire_too)
    if value > 100:
        raise InputError(i18n.t("input.vat"))
    return value


def money_input(amount: Decimal | str | None, *, grouped: bool = False) -> str:
    """An amount as the user would type it (1234,50 in German; grouped: 1.234,50): a form's
    starting value, which parse_money reads back."""
    if amount is None or amount == "":
        return ""
    return format_decimal(Decimal(str(amount)), format="#,##0.00" if grouped else "0.00", locale=_locale())


def parse_day(text: str) -> date:
    """A date as typed: 27.11.2026 (de), 27/11/2026 (en), two-digit years (27.11.26) or ISO 2026-11-27."""
    raw = text.strip()
    for sep in (".", "/"):
        parts = raw.split(sep)
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            d, m, y = (int(p) for p in parts)
            try:
                return date(y + 2000 if y < 100 else y, m, d)
            except ValueError:
                break
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InputError(i18n.t("input.day", example=day(date(2027, 1, 1)))) from None


def day_input(value: date | str | None) -> str:
    return day(value) if value else ""


def parse_count(text: str, maximum: int = 100_000_000, *, language: str | None = None) -> int:
    """A whole number as typed (1.234 or 1234 in German). ``language`` reads it in a fixed
    notation instead of the user's (a CSV file from German Excel stays German in an English UI)."""
    from babel.numbers import NumberFormatError, parse_decimal

    try:
        value = parse_decimal(text.strip().replace(" ", "").replace("\xa0", ""), locale=_locale(language), strict=True)
    except (NumberFormatError, ValueError):
        raise InputError(i18n.t("input.count")) from None
    if value != value.to_integral_value():
        raise InputError(i18n.t("input.count"))
    if value < 0 or value > maximum:
        raise InputError(i18n.t("input.range", low=0, high=number(maximum)))
    return int(value)
