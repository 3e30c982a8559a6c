"""Test documents for the XRechnung check: what the reference server issues, hand-edited variants
that break one rule each (with the official rule id they must be rejected for), the hand-written
UBL invoice and credit note in tests/data/xrechnung, their variants, and hostile inputs.

``../shared/validation`` (the official configuration and the reference checker) is outside the
repository: ``SHARED_RULES``/``REFERENCE`` say where it is, ``need_shared()`` skips without it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from lxml import etree
from support import auth

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "xrechnung"
# ../shared next to the repository (or next to the directory of worktrees it is checked out in)
SHARED = next((p / "shared" / "validation" for p in HERE.parents[1:3] if (p / "shared" / "validation").is_dir()),
              HERE.parents[1] / "shared" / "validation")
SHARED_RULES = SHARED / "xrechnung-3.0.2"
REFERENCE = SHARED / "check-xrechnung"

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}
XR = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
EXTENSION = XR + "#conformant#urn:xeinkauf.de:kosit:extension:xrechnung_3.0"
CVD = XR + "#compliant#urn:xeinkauf.de:kosit:xrechnung:cvd_0.9"
CII_SPEC = "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"


def need_shared() -> None:
    if not (SHARED_RULES / "scenarios.xml").is_file() or not REFERENCE.is_file():
        pytest.skip(f"{SHARED} is missing: the official XRechnung configuration and reference checker live outside "
                    "the repository (../shared/validation next to the worktree)")


def server_documents(base: str, target: Path) -> list[Path]:
    """Every invoice and credit note of the demo marketplace, as the server sends its XRechnung."""
    target.mkdir(parents=True, exist_ok=True)
    out = []
    with httpx.Client(base_url=base, headers=auth("operator"), timeout=60) as http:
        items, cursor = [], None
        while True:
            resp = http.get("/invoices", params={"limit": 200, **({"cursor": cursor} if cursor else {})})
            resp.raise_for_status()
            items += resp.json()["items"]
            cursor = resp.json().get("next_cursor")
            if not cursor:
                break
        for item in items:
            xml = http.get(f"/invoices/{item['id']}/xrechnung")
            xml.raise_for_status()
            path = target / f"server-{item['kind']}-{item['number']}.xml"
            path.write_bytes(xml.content)
            out.append(path)
    return out


def _edit(src: Path, target: Path, name: str, change) -> Path:
    tree = etree.parse(str(src))
    change(tree.getroot())
    path = target / name
    path.write_bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))
    return path


def _one(root, xpath: str):
    return root.xpath(xpath, namespaces=NS)[0]


def _drop(root, xpath: str) -> None:
    for el in root.xpath(xpath, namespaces=NS):
        el.getparent().remove(el)


def _set(xpath: str, value: str):
    def change(root):
        _one(root, xpath).text = value
    return change


def _add(xpath: str, delta: str):
    def change(root):
        el = _one(root, xpath)
        el.text = str(Decimal(el.text) + Decimal(delta))
    return change


def _cii_allowance_yes(root) -> None:
    settlement = _one(root, "//ram:ApplicableHeaderTradeSettlement")
    tax = settlement.find("ram:ApplicableTradeTax", NS)
    ac = etree.Element(f"{{{NS['ram']}}}SpecifiedTradeAllowanceCharge")
    ind = etree.SubElement(ac, f"{{{NS['ram']}}}ChargeIndicator")
    etree.SubElement(ind, f"{{{NS['udt']}}}Indicator").text = "yes"
    etree.SubElement(ac, f"{{{NS['ram']}}}ActualAmount").text = "0.00"
    etree.SubElement(ac, f"{{{NS['ram']}}}Reason").text = "Rabatt"
    tax.addnext(ac)


def _ubl_allowance_yes(root) -> None:
    total = _one(root, "cac:TaxTotal")
    ac = etree.Element(f"{{{NS['cac']}}}AllowanceCharge")
    etree.SubElement(ac, f"{{{NS['cbc']}}}ChargeIndicator").text = "yes"
    etree.SubElement(ac, f"{{{NS['cbc']}}}AllowanceChargeReason").text = "Rabatt"
    etree.SubElement(ac, f"{{{NS['cbc']}}}Amount", currencyID="EUR").text = "0.00"
    total.addprevious(ac)


# name → (how to derive it from the base document, an official rule id the verdict must name or None)
CII_VARIANTS = {
    "cii-no-business-process": (lambda r: _drop(r, "//ram:BusinessProcessSpecifiedDocumentContextParameter"),
                                "PEPPOL-EN16931-R001"),
    "cii-tampered-total": (_add("//ram:GrandTotalAmount", "10.00"), "BR-CO-15"),
    "cii-line-sum-wrong": (_add("//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:LineTotalAmount", "1.00"), "BR-CO-10"),
    "cii-no-buyer-reference": (lambda r: _drop(r, "//ram:BuyerReference"), "BR-DE-15"),
    "cii-no-seller-phone": (lambda r: _drop(r, "//ram:SellerTradeParty/ram:DefinedTradeContact/ram:TelephoneUniversalCommunication"),
                            "BR-DE-6"),
    "cii-empty-amount": (_set("//ram:GrandTotalAmount", ""), "XSD"),
    "cii-charge-indicator-yes": (_cii_allowance_yes, "XSD"),
    # BR-CL-23 is fatal in the CEN rules; the XRechnung scenarios' customLevel makes it a warning
    "cii-unknown-unit-code": (lambda r: [e.set("unitCode", "ABCD") for e in r.xpath("//ram:BilledQuantity", namespaces=NS)],
                              None),
    "cii-leitweg-check-digits": (_set("//ram:BuyerReference", "09162000-RECHNUNG01-00"), None),  # our warning only
    "cii-extension": (_set(CII_SPEC, EXTENSION), None),
    "cii-cvd": (_set(CII_SPEC, CVD), None),
    "cii-plain-en16931": (_set(CII_SPEC, "urn:cen.eu:en16931:2017"), None),
    "cii-unknown-specification": (_set(CII_SPEC, "urn:example:not-a-cius"), "NO-SCENARIO"),
}
UBL_VARIANTS = {
    "ubl-no-business-process": (lambda r: _drop(r, "cbc:ProfileID"), "PEPPOL-EN16931-R001"),
    "ubl-tampered-total": (_add("cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount", "10.00"), "BR-CO-15"),
    "ubl-no-buyer-reference": (lambda r: _drop(r, "cbc:BuyerReference"), "BR-DE-15"),
    "ubl-no-seller-email": (lambda r: _drop(r, "cac:AccountingSupplierParty/cac:Party/cac:Contact/cbc:ElectronicMail"), "BR-DE-7"),
    "ubl-vat-wrong": (_add("cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount", "5.00"), "BR-CO-17"),
    "ubl-charge-indicator-yes": (_ubl_allowance_yes, None),
    "ubl-extension": (_set("cbc:CustomizationID", EXTENSION), None),
    "ubl-cvd": (_set("cbc:CustomizationID", CVD), None),
}


def variants(cii_base: Path, target: Path) -> dict[str, tuple[Path, str | None]]:
    target.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, (change, rule) in CII_VARIANTS.items():
        out[name] = (_edit(cii_base, target, f"{name}.xml", change), rule)
    for name, (change, rule) in UBL_VARIANTS.items():
        out[name] = (_edit(DATA / "ubl-invoice.xml", target, f"{name}.xml", change), rule)
    return out


BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%s;" % (b"" if i == 1 else str(i - 1).encode())) * 10)
                   for i in range(1, 10))
        + b']><lolz>&lol9;</lolz>')
XXE = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
NET = (b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">'
       b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"/>')


def hostile(target: Path) -> dict[str, Path]:
    target.mkdir(parents=True, exist_ok=True)
    files = {
        "not-xml": b"\x00\x01 not xml at all <",
        "empty": b"",
        "truncated": (DATA / "ubl-invoice.xml").read_bytes()[:500],
        "entity-bomb": BOMB,
        "external-entity": XXE,
        "external-dtd": NET,
        "other-xml": b"<html><body>Rechnung</body></html>",
    }
    out = {}
    for name, data in files.items():
        out[name] = target / f"{name}.xml"
        out[name].write_bytes(data)
    huge = target / "huge.xml"
    with open(huge, "wb") as fh:  # just over the size cap: refused before it is parsed
        fh.write(b"<a>")
        fh.seek(21 * 1024 * 1024)
        fh.write(b"</a>")
    out["huge"] = huge
    return out


def reference(files: list[Path], tmp: Path) -> dict[str, dict]:
    """The reference checker's results by file name (one process for all files)."""
    out_json = tmp / "reference.json"
    proc = subprocess.run([sys.executable, str(REFERENCE), "--quiet", "--json", str(out_json), *map(str, files)],
                          capture_output=True, text=True, timeout=600)
    assert out_json.exists(), proc.stdout + proc.stderr
    return {Path(r["file"]).name: r for r in json.loads(out_json.read_text("utf-8"))}
