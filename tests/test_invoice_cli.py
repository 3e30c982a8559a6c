"""`efa-tui invoice check` and `efa-tui invoice export`, as scripts call them (a real process
against the reference server); the CSV and JSON exports' content."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import xrechnung_corpus as xc
from lxml import etree
from support import auth

from efa_tui.api.models import Invoice
from efa_tui.store import invoice_list as il

RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"


def _cli(*args: str, tmp: Path, token: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "EFA_TUI_CONFIG_DIR": str(tmp / "config"), "XDG_CACHE_HOME": str(tmp / "cache"),
           "XDG_DATA_HOME": str(tmp / "data")}
    env.pop("EFA_TUI_TOKEN", None)
    if token:
        env["EFA_TUI_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "efa_tui.cli", *args], capture_output=True, text=True, env=env, timeout=180)


@pytest.fixture(scope="module")
def downloaded(server, tmp_path_factory) -> tuple[Path, Path]:
    """The customer's newest invoice as the app downloads it, and a copy with a tampered total."""
    tmp = tmp_path_factory.mktemp("xml")
    items = httpx.get(f"{server}/invoices", headers=auth("customer")).json()["items"]
    xml = httpx.get(f"{server}/invoices/{items[0]['id']}/xrechnung", headers=auth("customer")).content
    good = tmp / "rechnung.xml"
    good.write_bytes(xml)
    tree = etree.fromstring(xml)
    total = tree.find(f".//{{{RAM}}}GrandTotalAmount")
    total.text = str(Decimal(total.text) + Decimal("10.00"))
    bad = tmp / "rechnung-manipuliert.xml"
    bad.write_bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))
    return good, bad


@pytest.fixture(scope="module")
def rules_home(tmp_path_factory) -> Path:
    """A user data dir with the official configuration from ../shared installed through the CLI."""
    xc.need_shared()
    tmp = tmp_path_factory.mktemp("rules-home")
    result = _cli("invoice", "rules", "install", str(xc.SHARED_RULES), tmp=tmp)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validator Configuration XRechnung 3.0.2" in result.stdout and "sha256:" in result.stdout
    return tmp


def test_rules_lists_what_is_installed(rules_home, tmp_path):
    listed = _cli("invoice", "rules", tmp=rules_home)
    assert listed.returncode == 0
    from efa_tui.xrechnung.rules import checksum

    assert "* Validator Configuration XRechnung 3.0.2 (Version 3.0.2)" in listed.stdout
    assert f"sha256:{checksum(xc.SHARED_RULES)}" in listed.stdout and "GEÄNDERT" not in listed.stdout
    nothing = _cli("invoice", "rules", tmp=tmp_path)
    assert nothing.returncode == 0 and "Keine offiziellen XRechnung-Regeln installiert" in nothing.stdout
    refused = _cli("invoice", "rules", "install", str(tmp_path), tmp=tmp_path)
    assert refused.returncode == 2 and "scenarios.xml" in refused.stderr and "Traceback" not in refused.stderr


def test_check_accepts_a_downloaded_invoice(downloaded, rules_home):
    good, _ = downloaded
    result = _cli("invoice", "check", str(good), tmp=rules_home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{good}: angenommen – gültig nach „EN16931 XRechnung (CII)“ (Validator Configuration XRechnung 3.0.2)" in result.stdout
    assert "FEHLER" not in result.stdout and "nicht installiert" not in result.stdout


def test_check_rejects_a_tampered_total_with_its_official_rule(downloaded, rules_home):
    good, bad = downloaded
    result = _cli("invoice", "check", str(good), str(bad), tmp=rules_home)
    assert result.returncode == 1
    lines = [x for x in result.stdout.splitlines() if x.startswith(str(bad))]
    assert any("FEHLER [BR-CO-15]" in x and "Gesamtbetrag" in x and "Invoice total amount with VAT (BT-112)" in x
               for x in lines), result.stdout
    assert f"{bad}: abgelehnt" in result.stdout and f"{good}: angenommen" in result.stdout
    assert "1 angenommen, 1 abgelehnt, 0 nicht geprüft" in result.stdout


def test_check_a_missing_file_exits_2(tmp_path):
    result = _cli("invoice", "check", str(tmp_path / "nope.xml"), tmp=tmp_path)
    assert result.returncode == 2 and "nicht gefunden" in result.stdout


def test_without_rules_it_says_so_and_never_calls_a_file_valid(downloaded, tmp_path):
    good, bad = downloaded
    result = _cli("invoice", "check", str(good), tmp=tmp_path)
    assert result.returncode == 2, result.stdout
    assert "offiziellen XRechnung-Prüfregeln" in result.stdout and "efa-tui invoice rules install" in result.stdout
    assert "nicht abschließend geprüft" in result.stdout and "angenommen" not in result.stdout
    wrong = _cli("invoice", "check", str(bad), tmp=tmp_path)
    assert wrong.returncode == 1 and "FEHLER [BR-CO-15]" in wrong.stdout


def test_rules_for_one_run_json_and_english(downloaded, tmp_path):
    xc.need_shared()
    good, bad = downloaded
    result = _cli("invoice", "check", "--rules", str(xc.SHARED_RULES), "--json", "--lang", "en", str(good), str(bad), tmp=tmp_path)
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    assert doc["rules"]["version"] == "3.0.2" and doc["exit"] == 1 and doc["note"] is None
    ok, rejected = doc["files"]
    assert (ok["verdict"], rejected["verdict"]) == ("accepted", "rejected")
    assert {"level": "error", "rule": "BR-CO-15"}.items() <= next(f for f in rejected["findings"] if f["rule"] == "BR-CO-15").items()
    english = _cli("--lang", "en", "invoice", "check", "--rules", str(xc.SHARED_RULES), str(bad), tmp=tmp_path)
    assert "ERROR [BR-CO-15] [BR-CO-15]-Invoice total amount" in english.stdout and ": rejected – scenario" in english.stdout
    nowhere = _cli("invoice", "check", "--rules", str(tmp_path / "nowhere"), str(good), tmp=tmp_path)
    assert nowhere.returncode == 2 and "keine scenarios.xml" in nowhere.stderr and "Traceback" not in nowhere.stderr


def test_one_bad_file_never_stops_the_others(downloaded, rules_home, tmp_path):
    good, _ = downloaded
    bad = xc.hostile(tmp_path / "hostile")
    files = [str(bad["not-xml"]), str(bad["entity-bomb"]), str(bad["external-entity"]), str(bad["huge"]),
             str(bad["other-xml"]), str(tmp_path / "gone.xml"), str(good)]
    result = _cli("invoice", "check", *files, tmp=rules_home)
    assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout
    verdicts = [x for x in result.stdout.splitlines() if " – " in x and ("Fehler" in x)]
    assert [v.split(":")[0] for v in verdicts] == files
    assert f"{good}: angenommen" in result.stdout
    assert "1 angenommen, 0 abgelehnt, 6 nicht geprüft" in result.stdout


def test_official_validator_agrees(downloaded):
    xc.need_shared()
    good, bad = downloaded
    ok = subprocess.run([sys.executable, str(xc.REFERENCE), str(good)], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    wrong = subprocess.run([sys.executable, str(xc.REFERENCE), str(bad)], capture_output=True, text=True, timeout=120)
    assert wrong.returncode != 0 and "BR-CO-15" in wrong.stdout + wrong.stderr


def test_export_csv_through_the_cli(server, tmp_path):
    result = _cli("--server", server, "invoice", "export", "--format", "csv", tmp=tmp_path, token="demo-customer")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout), delimiter=";"))
    assert rows[0][:3] == ["Rechnungsnummer", "Art", "Jahr"]
    api = httpx.get(f"{server}/invoices", headers=auth("customer")).json()["items"]
    assert sorted(r[0] for r in rows[1:]) == sorted(i["number"] for i in api)
    by_number = {r[0]: r for r in rows[1:]}
    for inv in api:
        row = by_number[inv["number"]]
        assert row[12] == inv["gross"].replace(".", ",")  # Brutto, decimal comma
        assert row[9] == inv["leitweg_id"]
        assert row[6] == date.fromisoformat(inv["due_date"]).strftime("%d.%m.%Y")


def test_export_json_by_year_through_the_cli(server, tmp_path):
    result = _cli("--server", server, "invoice", "export", "--format", "json", "--year", "2025", tmp=tmp_path,
                  token="demo-customer")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data and {x["year"] for x in data} == {2025}
    assert all(Decimal(x["gross"]) == Decimal(x["net"]) + Decimal(x["vat"]) for x in data)


def test_export_without_a_token_is_refused(server, tmp_path):
    result = _cli("--server", server, "invoice", "export", tmp=tmp_path)
    assert result.returncode == 2 and "EFA_TUI_TOKEN" in result.stderr and not result.stdout
    wrong = _cli("--server", server, "invoice", "export", tmp=tmp_path, token="not-a-token")
    assert wrong.returncode == 2 and "401" in wrong.stderr and not wrong.stdout


INVOICES = [Invoice.model_validate(i) for i in [
    {"id": 2, "number": "2026-000002", "kind": "invoice", "year": 2026, "status": "issued", "overdue": False,
     "issue_date": "2026-11-27", "due_date": "2026-12-27", "period_start": "2026-01-01", "period_end": "2026-12-31",
     "net": "1000.00", "vat": "190.00", "gross": "1190.00", "leitweg_id": "992-90009-96",
     "issuer": {"id": 1, "name": "govdigital eG"}, "customer": {"id": 7, "name": "=HYPERLINK(\"http://x\")"},
     "review": {"factual_ok_by": "Anna Schmidt", "factual_ok_at": "2026-11-28T09:00:00Z"}},
    {"id": 3, "number": "2026-000003", "kind": "credit_note", "year": 2026, "status": "issued", "issue_date": "2026-11-29",
     "due_date": "2026-11-29", "net": "1000.00", "vat": "190.00", "gross": "1190.00", "cancels_invoice": "2026-000001",
     "issuer": {"id": 1, "name": "govdigital eG"}, "customer": {"id": 8, "name": "Stadt Musterhausen"}},
    {"id": 1, "number": "2026-000001", "kind": "invoice", "year": 2026, "status": "cancelled", "due_date": "2026-06-30",
     "net": "1000.00", "vat": "190.00", "gross": "1190.00", "issuer": {"id": 1, "name": "govdigital eG"},
     "customer": {"id": 8, "name": "Stadt Musterhausen"}},
]]


def test_csv_content_for_german_spreadsheets():
    text = il.to_csv(INVOICES, date(2026, 12, 1), bom=True)
    assert text.startswith("\ufeffRechnungsnummer;Art;Jahr;")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    first, credit, cancelled = rows[1], rows[2], rows[3]
    assert first[:3] == ["2026-000002", "Rechnung", "2026"]
    assert first[5:7] == ["27.11.2026", "27.12.2026"]
    assert first[8].startswith("'=")  # a formula from the server stays text in the spreadsheet
    assert first[10:13] == ["1000,00", "190,00", "1190,00"]
    assert first[13:16] == ["offen", "sachlich richtig", "Anna Schmidt, 28.11.2026"]
    assert credit[1] == "Gutschrift" and credit[12] == "-1190,00" and credit[17] == "2026-000001"
    assert cancelled[13] == "storniert"


def test_list_filter_sort_totals_and_spending():
    today = date(2026, 12, 1)
    assert [i.number for i in il.select(INVOICES, il.ListQuery(), today)] == ["2026-000003", "2026-000002", "2026-000001"]
    assert [i.number for i in il.select(INVOICES, il.ListQuery(state="cancelled"), today)] == ["2026-000001"]
    assert [i.number for i in il.select(INVOICES, il.ListQuery(text="musterhausen 0001"), today)] == ["2026-000001"]
    assert [i.number for i in il.select(INVOICES, il.ListQuery(state="unchecked"), today)] == ["2026-000002"]
    overdue = INVOICES[0].model_copy(update={"due_date": date(2026, 11, 30)})
    assert il.invoice_state(overdue, today) == "overdue"
    tot = il.totals(INVOICES, today)
    # the cancelled invoice and its credit note cancel out
    assert (tot.count, tot.net, tot.gross, tot.open_gross) == (3, Decimal("1000.00"), Decimal("1190.00"), Decimal("1190.00"))
    assert il.spending_by_year(INVOICES) == {2026: Decimal("1190.00")}
    assert il.spending_by_month(INVOICES, 2026)[10] == Decimal("1190.00")


def test_rules_list_shows_a_configuration_changed_since_it_was_installed(tmp_path):
    xc.need_shared()
    assert _cli("invoice", "rules", "install", str(xc.SHARED_RULES), tmp=tmp_path).returncode == 0
    installed = next((tmp_path / "data" / "efa-tui" / "xrechnung-rules").glob("3.0.2-*"))
    (installed / "resources" / "cii" / "16b" / "xsl" / "EN16931-CII-validation.xsl").write_text("<changed/>")
    listed = _cli("invoice", "rules", tmp=tmp_path)
    assert listed.returncode == 0 and "GEÄNDERT seit der Installation" in listed.stdout
