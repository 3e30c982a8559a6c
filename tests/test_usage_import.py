"""Usage CSV import (store/usage_import.py) and the offering form's rules (domain/offering_rules.py, offering_text.py):
headless, every line's problem named in German."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from efa_tui import i18n, offering_text
from efa_tui.api.models import Order, UsageReport
from efa_tui.domain import offering_rules as rules
from efa_tui.store import usage_import

TODAY = date(2026, 11, 27)
CONTRACTS = {oid: Order.model_validate(o) for oid, o in {
    12: {"id": 12, "state": "active", "customer": {"id": 1, "name": "Landeshauptstadt München"}, "offering": {"id": 7, "title": "Wohngeld"},
         "fees": {"distribution_key": "per_case"}},
    13: {"id": 13, "state": "terminated", "customer": {"id": 2, "name": "Freie und Hansestadt Hamburg"}, "offering": {"id": 7, "title": "Wohngeld"},
         "fees": {"distribution_key": "per_case"}},
    14: {"id": 14, "state": "active", "customer": {"id": 2, "name": "Freie und Hansestadt Hamburg"}, "offering": {"id": 8, "title": "Elterngeld"},
         "fees": {"distribution_key": "per_case"}},
}.items()}


@pytest.fixture(autouse=True)
def _german():
    i18n.set_language("de")
    yield
    i18n.set_language("de")


def _reports(*rows: tuple[int, int, int, int]) -> list[UsageReport]:
    return [UsageReport(id=n, order_id=o, year=y, month=m, cases=c) for n, (o, y, m, c) in enumerate(rows, 1)]


def parse(text: str | bytes):
    return usage_import.parse(text, CONTRACTS, today=TODAY)


def test_german_excel_export_with_semicolons_bom_and_thousands():
    data = "\ufeffBestellung;Zeitraum;Fälle\r\n#12;03/2026;1.234\r\n13;2026-04;0\r\n\r\n".encode()
    result = parse(data)
    assert result.ok, [str(e) for e in result.errors]
    assert [x.body() for x in result.lines] == [
        {"order_id": 12, "year": 2026, "month": 3, "cases": 1234},
        {"order_id": 13, "year": 2026, "month": 4, "cases": 0},
    ]


def test_windows_1252_commas_and_year_month_columns_in_any_order():
    data = "Fälle,Monat,Jahr,Vertrag\n17,11,2026,12\n".encode("cp1252")
    result = parse(data)
    assert result.ok
    assert result.lines[0].body() == {"order_id": 12, "year": 2026, "month": 11, "cases": 17}


def test_customer_name_instead_of_order_number_when_unambiguous():
    result = parse("Kunde;Zeitraum;Fälle\nlandeshauptstadt münchen;10/2026;5\nFreie und Hansestadt Hamburg;10/2026;5\n")
    assert [x.order_id for x in result.lines] == [12]
    assert [str(e) for e in result.errors] == [
        "Zeile 3: „Freie und Hansestadt Hamburg“ hat mehrere Verträge je Fall – bitte die Bestellnummer angeben."]


def test_every_bad_line_is_named_and_nothing_is_ready():
    text = ("Bestellung;Zeitraum;Fälle\n"
            "12;13/2026;5\n"       # no such month
            "abc;03/2026;5\n"      # no number
            "99;03/2026;5\n"       # not a per-case contract
            "12;03/2026;-4\n"      # negative
            "12;12/2026;4\n"       # future
            "12;02/2026;4\n"
            "12;2026-02;9\n")      # the same month again
    result = parse(text)
    assert not result.ok
    messages = [str(e) for e in result.errors]
    assert messages == [
        "Zeile 2: Zeitraum „13/2026“ nicht lesbar – erwartet z. B. 03/2026 oder 2026-03.",
        "Zeile 3: Bestellnummer „abc“ ist keine Zahl.",
        "Zeile 4: Bestellung 99 ist kein laufender Vertrag mit Abrechnung je Fall.",
        "Zeile 5: Fallzahl „-4“ ist keine ganze Zahl ab 0.",
        "Zeile 6: Der Monat 12/2026 liegt in der Zukunft.",
        "Zeile 8: Derselbe Vertrag und Monat wie in Zeile 7.",
    ]


def test_missing_columns_and_empty_files():
    result = parse("Kunde;Menge\nMünchen;3\n")
    assert [str(e) for e in result.errors] == ["Zeile 1: Kopfzeile: Spalte fehlt: Zeitraum, Fälle."]
    assert [str(e) for e in parse("").errors] == ["Die Datei enthält keine Fallzahlen."]
    assert [str(e) for e in parse("Bestellung;Zeitraum;Fälle\n").errors] == ["Die Datei enthält keine Fallzahlen."]


def test_english_messages():
    i18n.set_language("en")
    assert [str(e) for e in parse("order,period,cases\n12,2026-03,x\n").errors] == [
        "Line 2: Cases “x” is not a whole number (0 or more)."]


def test_only_running_per_case_contracts_are_reportable():
    orders = [CONTRACTS[12], Order.model_validate({"id": 20, "state": "active", "fees": {"distribution_key": "fixed"}}),
              Order.model_validate({"id": 21, "state": "ordered", "fees": {"distribution_key": "per_case"}}), CONTRACTS[13]]
    assert sorted(usage_import.per_case_contracts(orders)) == [12, 13]


def test_usage_rows_per_customer_and_period():
    reports = _reports((12, 2026, 3, 7), (12, 2026, 5, 9))
    rows = usage_import.usage_rows(CONTRACTS, reports)
    assert rows[0][0].startswith("Freie")  # by customer
    munich = [r for r in rows if r[2] == 12]
    assert [(r[3], r[4], r[5]) for r in munich] == [(2026, 5, 9), (2026, 3, 7)]  # newest first
    assert (14 in [r[2] for r in rows]) and [r for r in rows if r[2] == 14][0][3:] == (None, None, None)


# --- the offering form's rules ------------------------------------------------------------------------


@pytest.mark.parametrize("typed, amount", [
    ("1.234,56", "1234.56"), ("1234,5", "1234.50"), ("1234.56", "1234.56"), ("12000", "12000.00"),
    ("1.234", "1234.00"), ("12,00 €", "12.00"), ("0", "0.00"),
])
def test_amounts_the_german_way(typed, amount):
    assert offering_text.parse_amount(typed) == Decimal(amount)
    assert offering_text.check_money(typed) is None


@pytest.mark.parametrize("typed", ["abc", "1,234.56", "-5", "1,2,3", "12.345,678"])
def test_not_amounts(typed):
    assert offering_text.check_money(typed) == "offering.err.money"


def test_field_rules():
    assert rules.check_leika("99201007000000") is None and rules.check_leika("9920100") == "offering.err.leika"
    assert rules.check_email("service@dataport.de") is None and rules.check_email("service@") == "offering.err.email"
    assert rules.check_phone("+49 40 42846-0") is None and rules.check_phone("Telefon") == "offering.err.phone"
    assert rules.parse_laender("BY, hessen; nw") == ["BY", "HE", "NW"] and rules.parse_laender("") == []
    assert rules.check_laender("Bayern, XY") == "offering.err.laender"
    assert rules.check_months(24)("25") == "offering.err.months_24"
    assert offering_text.unit_price_problem("per_case", "") == "offering.err.unit_price_needed"
    assert offering_text.unit_price_problem("fixed", "1,80") == "offering.err.unit_price_fixed"
    assert offering_text.unit_price_problem("fixed", "") is None and offering_text.unit_price_problem("per_case", "1,80") is None
    for problem in ("offering.err.leika", "offering.err.email", "offering.err.months_24", "offering.err.months_120",
                    "offering.err.unit_price_needed", "offering.err.unit_price_fixed", "offering.err.vat"):
        assert problem in i18n.MESSAGES


OFFERING = {"id": 7, "title": "Wohngeld", "summary": "Antrag", "category": "Bauen & Wohnen", "bundeslaender": ["BY"],
            "maturity": 3, "fees": {"annual_fee": "1200.00", "one_time_fee": "0.00", "distribution_key": "per_case",
                                    "unit_price": "1.80", "unit_label": "je Antrag", "vat_rate": "19.00"},
            "contact": {"name": "Frau A", "email": "a@b.de", "phone": ""}, "keywords": ["Wohnen"],
            "minimum_term_months": 12, "notice_period_months": 3}


def test_form_values_round_trip_and_patch_sends_only_changes():
    values = offering_text.form_values(OFFERING)
    assert values["annual_fee"] == "1.200,00" and values["bundeslaender"] == "BY" and values["contact_email"] == "a@b.de"
    assert offering_text.patch_body(values, values) == {}
    edited = {**values, "annual_fee": "1300", "summary": "Online-Antrag"}
    assert offering_text.patch_body(values, edited) == {"annual_fee": "1300.00", "summary": "Online-Antrag"}
    body = offering_text.create_body(values)
    assert body["unit_price"] == "1.80" and body["bundeslaender"] == ["BY"] and body["maturity"] == 3


def test_merge_puts_my_changes_on_their_version_and_names_clashes():
    base = offering_text.form_values(OFFERING)
    mine = {**base, "title": "Wohngeld digital", "annual_fee": "1.500,00", "vat_rate": "19"}
    theirs = {**base, "summary": "Neu von Kollegin", "annual_fee": "1.400,00"}
    result = offering_text.merge(base, mine, theirs)
    merged = result.merged
    assert merged["title"] == "Wohngeld digital"  # mine
    assert merged["summary"] == "Neu von Kollegin" and result.theirs_kept == ["summary"]  # theirs, kept
    assert merged["annual_fee"] == "1.500,00" and result.clashes == ["annual_fee"]  # both: to be chosen
    assert "vat_rate" not in result.clashes  # "19" and "19,00" are the same rate
    assert offering_text.patch_body(theirs, merged) == {"title": "Wohngeld digital", "annual_fee": "1500.00"}


def test_counts_and_publish_gaps():
    orders = [{"offering": {"id": 1}, "state": s} for s in ("interest", "proposed", "ordered", "active", "withdrawn")]
    assert rules.count_orders(orders) == {1: (2, 2)}
    assert rules.publish_gaps(OFFERING) == ["offering.gap.description", "offering.gap.terms"]


def test_a_file_the_csv_module_cannot_read_is_a_message_not_a_traceback():
    data = ("Bestellung;Zeitraum;Fälle\n12;03/2026;\"" + "x" * 200_000 + "\"\n").encode()
    result = usage_import.parse(data, CONTRACTS, today=TODAY)
    assert not result.ok and str(result.errors[0]).startswith("Die Datei ist keine lesbare CSV-Datei")


def test_only_months_of_the_contract_term_and_replacements_named():
    contracts = {
        12: CONTRACTS[12].model_copy(update={"start_date": date(2026, 3, 15)}),
        13: CONTRACTS[13].model_copy(update={"start_date": date(2025, 1, 1), "end_date": date(2026, 5, 31)}),
    }
    result = usage_import.parse("Bestellung;Zeitraum;Fälle\n12;02/2026;5\n12;03/2026;6\n13;06/2026;7\n13;05/2026;8\n", contracts,
                                today=TODAY)
    assert [str(e) for e in result.errors] == [
        "Zeile 2: 02/2026 liegt außerhalb der Vertragslaufzeit (meldbar: 03/2026 bis 11/2026).",
        "Zeile 4: 06/2026 liegt außerhalb der Vertragslaufzeit (meldbar: 01/2025 bis 05/2026).",
    ]
    ok = usage_import.parse("Bestellung;Zeitraum;Fälle\n12;03/2026;6\n13;05/2026;8\n12;04/2026;9\n", contracts, today=TODAY)
    assert ok.ok
    reports = _reports((12, 2026, 3, 4), (12, 2026, 4, 9))
    # line 2 replaces 4 by 6; line 4 reports the same figure again (nothing replaced)
    assert usage_import.replacements(ok.lines, reports) == {2: 4}
    assert ok.lines[0].body(replaces=4) == {"order_id": 12, "year": 2026, "month": 3, "cases": 6, "replaces": 4}


def test_usage_rows_sort_customers_in_german_order():
    """"Ämter…" belongs with the A's, before "Landeshauptstadt …" (by code point it came after Z)."""
    contracts = {**CONTRACTS, 15: Order.model_validate({
        "id": 15, "state": "active", "customer": {"id": 3, "name": "Ämterverbund Unterland"},
        "offering": {"id": 7, "title": "Wohngeld"}, "fees": {"distribution_key": "per_case"}})}
    customers = list(dict.fromkeys(r[0] for r in usage_import.usage_rows(contracts, [])))
    assert customers == ["Ämterverbund Unterland", "Freie und Hansestadt Hamburg", "Landeshauptstadt München"]
