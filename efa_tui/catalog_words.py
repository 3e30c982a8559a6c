"""The catalog's fixed vocabulary as the UI language names it. No Textual here; light enough
for the first screen's start."""

from __future__ import annotations

from . import i18n
from .text import clean


def category_name(category: str | None) -> str:
    """An OZG Themenfeld in the UI language: the wire, the filters and the form's values keep the
    German name (the OZG's own); the English UI showed it German. An unknown one as sent."""
    value = clean(category or "")
    message = f"category.{value}"
    named = i18n.t(message)
    return value if named == message else named
