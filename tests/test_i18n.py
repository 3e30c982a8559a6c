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
        ids |= set(re.findall(r"\btn?\(\s*[\"']([a-z_]+\.[a-z_.\-]+)[\"']", text))
        ids |= set(re.findall(r"Binding\([^)]*?[\"'](key\.[a-z_]+)[\"']", text))
    return ids


def test_every_used_message_exists_in_both_languages():
    # An id ending in "." is built at run time (t("state." + state)): some message must start so.
    missing = sorted(i for i in used_ids() if i not in i18n.MESSAGES
                     and not (i.endswith(".") and any(m.startswith(i) for m in i18n.MESSAGES)))
    assert not missing, missing
    assert all(de.strip() and en.strip() for de, en in i18n.MESSAGES.values())


def plural_ids() -> set[str]:
    """Ids of the messages shown for a count (``tn(id, n)``)."""
    ids: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        ids |= set(re.findall(r"\btn\(\s*[\"']([a-z_]+\.[a-z_.\-]+)[\"']", path.read_text(encoding="utf-8")))
    return ids


def test_counts_take_the_plural_rule_of_the_language():
    """Plurals by Babel's plural rule, not by string building: "1 Rechnung erstellt", never "1 Rechnungen"
    or "Rechnung(en)"."""
    i18n.set_language("de")
    assert i18n.tn("billing.created", 1) == "1 Rechnung erstellt"
    assert i18n.tn("billing.created", 1200) == "1.200 Rechnungen erstellt"
    assert i18n.tn("form.fix_fields", 1) == "Bitte 1 Feld korrigieren."
    assert i18n.tn("form.fix_fields", 2) == "Bitte 2 Felder korrigieren."
    assert i18n.tn("orders.new_interests", 1) == "1 neue Interessenbekundung"
    assert i18n.tn("orders.new_interests", 0) == "0 neue Interessenbekundungen"
    i18n.set_language("en")
    try:
        assert i18n.tn("billing.created", 1) == "1 invoice created"
        assert i18n.tn("form.fix_fields", 3) == "Please correct 3 fields."
    finally:
        i18n.set_language("de")


def test_every_plural_message_has_the_forms_of_its_language():
    plural = plural_ids()
    assert {"billing.created", "form.fix_fields", "orders.new_interests", "quit.pending"} <= plural
    for key in plural:
        for language, text in zip(i18n.LANGUAGES, i18n.MESSAGES[key], strict=True):
            forms = text.split(i18n.PLURAL_SEPARATOR)
            assert len(forms) == len(i18n.plural_categories(language)), (key, language, forms)
    # A message with forms is shown by tn only (t would show the "|"), and no message builds a plural.
    with_forms = {key for key, texts in i18n.MESSAGES.items() if any(i18n.PLURAL_SEPARATOR in x for x in texts)}
    assert with_forms == plural, with_forms ^ plural
    built = {key: texts for key, texts in i18n.MESSAGES.items()
             if any(re.search(r"\w\((e|en|er|n|s)\)", x) for x in texts)}
    assert not built, built


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


def test_every_problem_type_of_the_server_is_said_in_both_languages():
    """The server's refusals are translated by their type on the client; its English detail is the
    second line. A type the server can answer (``type="…"`` in its code, or a status's slug) without a
    text here would show the English detail alone in the German UI."""
    from efa_tui.server import problems

    server = SOURCE / "server"
    types = {m for path in server.rglob("*.py")
             for m in re.findall(r"""type=["']([a-z][a-z-]*)["']""", path.read_text(encoding="utf-8"))}
    types |= {m for path in server.rglob("*.py")
              for m in re.findall(r"""["']/problems/([a-z][a-z-]*)["']""", path.read_text(encoding="utf-8"))}
    types |= {problems._slug(status) for status in problems.TITLES}
    missing = sorted(t for t in types if f"problem.{t}" not in i18n.MESSAGES)
    assert not missing, missing


def test_a_refusal_says_its_type_in_german_and_the_server_detail_below():
    refusal = {"type": "/problems/invalid-state", "status": 409, "title": "Conflict",
               "detail": "cannot go from active to interest"}
    assert i18n.problem(refusal) == "In diesem Zustand nicht möglich.\nServer: cannot go from active to interest"
    assert i18n.problem({"type": "/problems/whatever-new", "status": 404, "detail": "no order 9"}).startswith("Nicht gefunden.")
    assert i18n.problem({}, "connection reset") == "connection reset"
    i18n.set_language("en")
    try:
        assert i18n.problem(refusal).startswith("Not possible in this state.\n")
    finally:
        i18n.set_language("de")
