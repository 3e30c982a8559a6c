"""Numbers, money and dates in the user's locale, via Babel (de: 1.234,56 €, 27.11.2026)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_currency, format_decimal

from . import i18n

LOCALES = {"de": "de_DE", "en": "en_GB"}


def _locale() -> str:
    return LOCALES.get(i18n.current_language(), "de_DE")


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
