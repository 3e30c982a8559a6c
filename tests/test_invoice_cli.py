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
from lxml import etree
from support import auth

from efa_tui.store import invoice_list as il

CHECKER = Path(__file__).resolve().parents[1].parent / "shared" / "validation" / "check-xrechnung"
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


def test_check_passes_a_downloaded_invoice(downloaded, tmp_path):
    good, _ = downloaded
    result = _cli("invoice", "check", str(good), tmp=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gültig" in result.stdout and "FEHLER" not in result.stdout


def test_check_fails_a_tampered_total_with_its_rule(downloaded, tmp_path):
    good, bad = downloaded
    result = _cli("invoice", "check", str(good), str(bad), tmp=tmp_path)
    assert result.returncode == 1
    lines = [x for x in result.stdout.splitlines() if x.startswith(str(bad))]
    assert any("[BR-CO-15]" in x and "Gesamtbetrag" in x for x in lines), result.stdout
    assert f"{good}: gültig" in result.stdout


def test_check_a_missing_file_exits_2(tmp_path):
    result = _cli("invoice", "check", str(tmp_path / "nope.xml"), tmp=tmp_path)
    assert result.returncode == 2 and "nicht gefunden" in result.stdout


def test_official_validator_agrees(downloaded):
    if not CHECKER.exists():
        pytest.skip("../shared/validation not present: official EN 16931 rules not run")
    good, bad = downloaded
    ok = subprocess.run([sys.executable, str(CHECKER), str(good)], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    wrong = subprocess.run([sys.executable, str(CHECKER), str(bad)], capture_output=True, text=True, timeout=120)
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


INVOICES = [
    {"id": 2, "number": "2026-000002", "kind": "invoice", "year": 2026, "status": "issued", "overdue": False,
     "issue_date": "2026-11-27", "due_date": "2026-12-27", "period_start": "2026-01-01", "period_end": "2026-12-31",
     "net": "1000.00", "vat": "190.00", "gross": "1190.00", "leitweg_id": "992-90009-96",
     "issuer": {"id": 1, "name": "govdigital eG"}, "customer": {"id": 7, "name": "=HYPERLINK(\"http://x\")"},
     "review": {"factual_ok_by": "Anna Schmidt", "factual_ok_at": "2026-11-28T09:00:00Z"}},
    {"id": 3, "number": "2026-000003", "kind": "credit_note", "year": 2026, "status": "issued", "issue_date": "2026-11-29",
     "due_date": "2026-11-29", "net": "1000.00", "vat": "190.00", "gross": "1190.00", "cancels_invoice": "2026-000001",
     "issuer": {"name": "govdigital eG"}, "customer": {"name": "Stadt Musterhausen"}},
    {"id": 1, "number": "2026-000001", "kind": "invoice", "year": 2026, "status": "cancelled", "due_date": "2026-06-30",
     "net": "1000.00", "vat": "190.00", "gross": "1190.00", "issuer": {"name": "govdigital eG"},
     "customer": {"name": "Stadt Musterhausen"}},
]


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
    assert [i["number"] for i in il.select(INVOICES, il.ListQuery(), today)] == ["2026-000003", "2026-000002", "2026-000001"]
    assert [i["number"] for i in il.select(INVOICES, il.ListQuery(state="cancelled"), today)] == ["2026-000001"]
    assert [i["number"] for i in il.select(INVOICES, il.ListQuery(text="musterhausen 0001"), today)] == ["2026-000001"]
    assert [i["number"] for i in il.select(INVOICES, il.ListQuery(state="unchecked"), today)] == ["2026-000002"]
    overdue = {**INVOICES[0], "due_date": "2026-11-30"}
    assert il.invoice_state(overdue, today) == "overdue"
    tot = il.totals(INVOICES, today)
    # the cancelled invoice and its credit note cancel out
    assert (tot.count, tot.net, tot.gross, tot.open_gross) == (3, Decimal("1000.00"), Decimal("1190.00"), Decimal("1190.00"))
    assert il.spending_by_year(INVOICES) == {2026: Decimal("1190.00")}
    assert il.spending_by_month(INVOICES, 2026)[10] == Decimal("1190.00")
