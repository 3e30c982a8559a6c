"""The data an XRechnung is built from, independent of the database and of drafthorse."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

XRECHNUNG_30 = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
# BT-23: the Peppol billing process, the one XRechnung receivers expect for an invoice or credit note.
BILLING_PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


@dataclass(frozen=True)
class Party:
    name: str
    street: str
    postcode: str
    city: str
    country: str = "DE"
    vat_id: str = ""  # e.g. DE123456789; the seller needs one for standard-rated lines (BR-S-02)
    contact_name: str = ""
    phone: str = ""
    email: str = ""
    electronic_address: str = ""  # BT-34/BT-49, scheme EM (e-mail); XRechnung wants one for both parties
    identifier: str = ""  # BT-29 seller identifier: names the seller where no VAT id may (BR-CO-26, BR-O-02)


@dataclass(frozen=True)
class InvoiceLineItem:
    line_id: str
    name: str  # what was delivered, e.g. "Digitaler Bauantrag – Jahresentgelt 2026"
    description: str  # how the amount was worked out
    quantity: Decimal
    unit_code: str  # UN/ECE Rec 20, e.g. C62 (one), MON (month)
    unit_price: Decimal  # net price per price_base_quantity units (BT-146)
    net: Decimal  # line net amount, already rounded to cents
    vat_rate: Decimal  # percent, e.g. Decimal("19.00") or Decimal("0.00")
    period_start: date | None = None
    period_end: date | None = None
    price_base_quantity: Decimal = Decimal(1)  # BT-149, e.g. 12 MON for an annual fee billed by months


@dataclass(frozen=True)
class InvoiceDocument:
    number: str  # BT-1, e.g. 2026-000042
    issue_date: date  # BT-2
    due_date: date | None  # BT-9 (None on a credit note: nothing falls due for the customer)
    type_code: str  # BT-3: 380 invoice, 381 credit note
    currency: str
    buyer_reference: str  # BT-10, the Leitweg-ID
    seller: Party
    buyer: Party
    iban: str  # BT-84 (a credit transfer to the seller; none on a credit note)
    bic: str  # BT-86, optional
    account_name: str  # BT-85
    payment_terms: str  # BT-20, e.g. "Zahlbar innerhalb von 30 Tagen ohne Abzug"
    period_start: date  # BG-14 delivery/billing period
    period_end: date
    lines: list[InvoiceLineItem] = field(default_factory=list)
    preceding_invoice: str = ""  # BT-25, for a credit note: the invoice it cancels
    preceding_invoice_date: date | None = None  # BT-26, its issue date
    note: str = ""  # BT-22
    payment_means_code: str = "58"  # BT-81: 58 SEPA credit transfer; 97 settlement (credit notes)
