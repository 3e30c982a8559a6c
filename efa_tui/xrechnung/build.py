"""Build an XRechnung 3.0 invoice (EN 16931, CII syntax) from an InvoiceDocument with drafthorse.

Comments name the business terms (BT/BG) and rules (BR) each part satisfies. Amounts are
Decimal throughout; totals come from ``invoice_totals`` so that they agree with the
schematron's arithmetic to the cent (VAT per rate on the summed line nets, BR-CO-17).
"""

from __future__ import annotations

from drafthorse.models.accounting import ApplicableTradeTax
from drafthorse.models.document import Document
from drafthorse.models.note import IncludedNote
from drafthorse.models.party import TaxRegistration, TradeParty
from drafthorse.models.payment import PaymentMeans, PaymentTerms
from drafthorse.models.tradelines import LineItem

from ..domain.invoicing import (
    CREDIT_TRANSFER_SEPA,
    NOT_SUBJECT,
    NOT_SUBJECT_REASON,
    NOT_SUBJECT_REASON_CODE,
    invoice_totals,
    vat_category,
)
from ..domain.money import ZERO
from .model import BILLING_PROCESS, XRECHNUNG_30, InvoiceDocument, InvoiceLineItem, Party


def _fill_party(target: TradeParty, party: Party) -> None:
    target.name = party.name  # BT-27 / BT-44
    # BG-5 / BG-8: XRechnung wants city and post code for both parties (BR-DE-3/4, BR-DE-8/9).
    target.address.line_one = party.street
    target.address.postcode = party.postcode
    target.address.city_name = party.city
    target.address.country_id = party.country
    if party.electronic_address:
        # BT-34 / BT-49 with scheme EM (e-mail): XRechnung 3.0 makes both mandatory;
        # BR-62/BR-63 require the scheme identifier.
        target.electronic_address.uri_ID = ("EM", party.electronic_address)


def _line_item(line: InvoiceLineItem) -> LineItem:
    li = LineItem()
    li.document.line_id = line.line_id  # BT-126
    li.product.name = line.name  # BT-153
    if line.description:
        li.product.description = line.description  # BT-154
    li.agreement.net.amount = line.unit_price  # BT-146
    if line.price_base_quantity != 1:
        # BT-149: the price is per 12 MON (a year) and the quantity the billed months, so that
        # quantity × price / base = the pro-rata net (PEPPOL-EN16931-R120) and can be re-added.
        li.agreement.net.basis_quantity = (line.price_base_quantity, line.unit_code)
    li.delivery.billed_quantity = (line.quantity, line.unit_code)  # BT-129, BT-130
    # BG-30: line VAT. The header breakdown (BG-23) must have a group per category/rate (BR-S-01, BR-O-01).
    li.settlement.trade_tax.type_code = "VAT"
    category = vat_category(line.vat_rate)
    li.settlement.trade_tax.category_code = category  # BT-151
    if category != NOT_SUBJECT:
        li.settlement.trade_tax.rate_applicable_percent = line.vat_rate  # BT-152 (none for O: BR-O-05)
    if line.period_start and line.period_end:
        li.settlement.period.start = line.period_start  # BG-26 line period (BT-134/135)
        li.settlement.period.end = line.period_end
    li.settlement.monetary_summation.total_amount = line.net  # BT-131
    return li


def build_xrechnung(doc: InvoiceDocument) -> bytes:
    """The XRechnung 3.0 CII XML of ``doc`` (UTF-8 bytes), checked against the EN 16931 XSD."""
    if doc.type_code not in ("380", "381"):
        raise ValueError(f"unsupported invoice type code {doc.type_code!r} (380 invoice, 381 credit note)")
    totals = invoice_totals((line.net, line.vat_rate) for line in doc.lines)
    categories = {vat_category(line.vat_rate) for line in doc.lines}
    if NOT_SUBJECT in categories and len(categories) > 1:
        # BR-O-11/12: billing splits taxable and non-taxable parts onto separate invoices.
        raise ValueError("an invoice cannot mix lines not subject to VAT (O) with other categories")
    not_subject = categories == {NOT_SUBJECT}
    cur = doc.currency

    x = Document()
    # BT-24: specification identifier; XRechnung 3.0 (BR-DE-21).
    x.context.guideline_parameter.id = XRECHNUNG_30
    # BT-23: business process; the Peppol rule PEPPOL-EN16931-R001 that XRechnung merges requires it.
    x.context.business_parameter.id = BILLING_PROCESS
    x.header.id = doc.number  # BT-1
    x.header.type_code = doc.type_code  # BT-3: 380 invoice, 381 credit note (amounts stay positive)
    x.header.issue_date_time = doc.issue_date  # BT-2
    if doc.note:
        note = IncludedNote()
        note.content = doc.note  # BT-22
        x.header.notes.add(note)

    for line in doc.lines:
        x.trade.items.add(_line_item(line))

    agreement = x.trade.agreement
    agreement.buyer_reference = doc.buyer_reference  # BT-10 = Leitweg-ID (BR-DE-15)
    _fill_party(agreement.seller, doc.seller)
    if doc.seller.identifier:
        # BT-29: identifies the seller also where no VAT identifier may appear (BR-CO-26).
        agreement.seller.id = doc.seller.identifier
    if doc.seller.vat_id and not not_subject:
        # BT-31: needed for standard-rated lines (BR-S-02); forbidden beside O lines (BR-O-02).
        agreement.seller.tax_registrations.add(TaxRegistration(id=("VA", doc.seller.vat_id)))
    # BG-6 seller contact: name, phone, e-mail are mandatory in XRechnung (BR-DE-5/6/7).
    agreement.seller.contact.person_name = doc.seller.contact_name
    agreement.seller.contact.telephone.number = doc.seller.phone
    agreement.seller.contact.email.address = doc.seller.email
    _fill_party(agreement.buyer, doc.buyer)

    # BG-13/BG-15 deliver-to = the buyer. The CII XSD requires ApplicableHeaderTradeDelivery;
    # left empty it draws the warning PEPPOL-EN16931-R008 (empty element) on every invoice.
    ship_to = x.trade.delivery.ship_to
    ship_to.name = doc.buyer.name  # BT-70
    ship_to.address.line_one = doc.buyer.street
    ship_to.address.postcode = doc.buyer.postcode
    ship_to.address.city_name = doc.buyer.city
    ship_to.address.country_id = doc.buyer.country  # BR-57

    settlement = x.trade.settlement
    settlement.currency_code = cur  # BT-5
    # No payee (BG-10): a payee equal to the seller trips BR-17, and the seller is paid directly.

    # BG-16 payment instructions (BR-DE-1). An invoice: SEPA credit transfer to the seller's IBAN
    # (BR-DE-23). A credit note: the settlement code the domain decides (97, clearing between
    # partners) and no IBAN — it must not instruct the customer to pay the operator.
    means = PaymentMeans()
    means.type_code = doc.payment_means_code  # BT-81
    if doc.payment_means_code == CREDIT_TRANSFER_SEPA:
        means.payee_account.iban = doc.iban  # BT-84
        if doc.account_name:
            means.payee_account.account_name = doc.account_name  # BT-85
        if doc.bic:
            means.payee_institution.bic = doc.bic  # BT-86
    settlement.payment_means.add(means)

    # BG-23: one VAT breakdown per rate, from the summed line nets (BR-CO-17, BR-S-08, BR-O-08).
    for group in totals.groups:
        tax = ApplicableTradeTax()
        tax.calculated_amount = group.tax  # BT-117 (0 for O: BR-O-09)
        tax.type_code = "VAT"
        if group.category == NOT_SUBJECT:
            tax.exemption_reason = NOT_SUBJECT_REASON  # BT-120 (BR-O-10)
            tax.exemption_reason_code = NOT_SUBJECT_REASON_CODE  # BT-121
        tax.basis_amount = group.basis  # BT-116
        tax.category_code = group.category  # BT-118
        tax.rate_applicable_percent = group.rate  # BT-119: XRechnung wants it also for O, as 0 (BR-DE-14)
        settlement.trade_tax.add(tax)

    # BG-14 invoicing period: the billed contract period.
    settlement.period.start = doc.period_start  # BT-73
    settlement.period.end = doc.period_end  # BT-74

    # BT-20 payment terms and BT-9 due date (BR-CO-25: one of them when an amount is due).
    terms = PaymentTerms()
    terms.description = doc.payment_terms
    if doc.due_date is not None:
        terms.due = doc.due_date
    settlement.terms.add(terms)

    # BG-22 document totals; no allowances/charges, no prepayment.
    sums = settlement.monetary_summation
    sums.line_total = totals.net  # BT-106 (BR-CO-10)
    sums.charge_total = ZERO  # BT-108
    sums.allowance_total = ZERO  # BT-107
    sums.tax_basis_total = totals.net  # BT-109 (BR-CO-13)
    sums.tax_total = (totals.vat, cur)  # BT-110 with currency (BR-CO-14, BR-53)
    sums.grand_total = totals.gross  # BT-112 (BR-CO-15)
    sums.due_amount = totals.gross  # BT-115 (BR-CO-16)

    if doc.type_code == "381" and doc.preceding_invoice:
        # BG-3: the invoice a credit note cancels — its number (BT-25) and issue date (BT-26).
        ref = settlement.invoice_referenced_document
        ref.issuer_assigned_id = doc.preceding_invoice
        if doc.preceding_invoice_date is not None:
            ref.issue_date_time = doc.preceding_invoice_date

    # Serialize and check against the Factur-X EN 16931 XSD (the CII subset EN 16931 allows).
    return x.serialize(schema="FACTUR-X_EN16931")
