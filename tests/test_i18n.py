"""One translation layer: every message id used in the code exists in German and English;
money and dates follow the locale; untrusted text is cleaned of terminal escapes."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from efa_tui import formatting, i18n
from efa_tui.text import clean

SOURCE = Path(i18n.__file__).resolve().parent


def used_ids() -> set[str]:
    ids: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        ids |= set(re.findall(r"\bt\(\s*[\"']([a-z_]+\.[a-z_.\-]+)[\"']", text))
        ids |= set(re.findall(r"Binding\([^)]*?[\"'](key\.[a-z_]+)[\"']", text))
    return ids


def test_every_used_message_exists_in_both_languages():
    # An id ending in "." is built at run time (t("state." + state)): some message must start so.
    missing = sorted(i for i in used_ids() if i not in i18n.MESSAGES
                     and not (i.endswith(".") and any(m.startswith(i) for m in i18n.MESSAGES)))
    assert not missing, missing
    assert all(de.strip() and en.strip() for de, en in i18n.MESSAGES.values())


@pytest.fixture
def english():
    i18n.set_language("en")
    yield
    i18n.set_language("de")


def test_german_money_and_dates():
    assert formatting.money(Decimal("1234.56")) == "1.234,56\xa0€"
    assert formatting.day(date(2026, 11, 27)) == "27.11.2026"
    assert formatting.number(100000) == "100.000"


def test_english_money(english):
    assert formatting.money(Decimal("1234.56")) == "€1,234.56"
    assert i18n.t("area.catalog") == "Catalog"


@pytest.mark.parametrize("hostile, shown", [
    ("\x1b[31mrot\x1b[0m", "rot"),
    ("a\x1b]52;c;QUJD\x07b", "ab"),  # OSC 52 would write the clipboard
    ("a\x9b31mb", "ab"),  # 8-bit CSI
    ("x\x00y\x7fz", "xyz"),
    ("[bold red]X[/]", "[bold red]X[/]"),  # markup is text, shown as typed
    ("Zeile1\nZeile2", "Zeile1 Zeile2"),
    ("exe.\u202egpj", "exe.gpj"),  # RIGHT-TO-LEFT OVERRIDE would show "exe.jpg"
    ("a\u2066b\u2069c\u200fd\u061ce", "abcde"),  # isolates, marks
])
def test_clean_strips_terminal_control(hostile, shown):
    assert clean(hostile) == shown
