"""Invoice rules: totals as EN 16931 wants them, VAT categories, and what a credit note says.

* Totals: VAT per rate on the summed line nets (BR-CO-17), half-up to cents.
* **VAT categories** (one rule, used by billing and the XRechnung alike): a line with a VAT rate
  above 0 % is standard-rated (**S**). A line at 0 % is a service between public bodies that is
  not taxable under § 2b UStG: it is *not subject to VAT* (**O**), not "exempt" (E — exempt
  supplies are taxable supplies the law frees from VAT, with a reason such as § 4 UStG; a
  non-taxable in-house service is outside VAT altogether). EN 16931 forbids an O line beside a
  line of any other category on one invoice (BR-O-11 … BR-O-14), and an O invoice must not name
  a VAT identifier (BR-O-02). So **taxable and non-taxable parts are billed on separate
  invoices**: a billing run writes up to two Jahresrechnungen per customer and year, one per
  category (``split_by_category``).
* **Credit notes** (type 381) are *settlement notes* (``credit_note_settlement``): a credit note
  cancels the claim of the invoice it names; it never instructs the customer to pay the
  operator, so it carries no seller IBAN. Its payment instruction is "clearing between partners"
  (UNTDID 4461 code 97): the credit is set off against the cancelled invoice's open amount, and
  what the customer already paid on it is refunded by the operator to the account it was paid
  from. Only the operator moves money after a credit note, never the customer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from .money import ZERO, round_cents

STANDARD = "S"  # UNCL 5305: standard rate
NOT_SUBJECT = "O"  # UNCL 5305: services outside the scope of VAT (§ 2b UStG)
# BT-120/BT-121 for category O (BR-O-10): the reason a line carries no VAT.
NOT_SUBJECT_REASON_CODE = "VATEX-EU-O"
NOT_SUBJECT_REASON = ("Nicht steuerbar (nicht der Umsatzsteuer unterliegend): Leistung zwischen juristischen "
                      "Personen des öffentlichen Rechts nach § 2b UStG")
CATEGORY_ORDER = (STANDARD, NOT_SUBJECT)  # the taxable invoice first, then the non-taxable one

T = TypeVar("T")


def vat_category(rate: Decimal) -> str:
    """The VAT category of a line at ``rate`` percent: S above 0 %, O (§ 2b UStG) at 0 %."""
    return STANDARD if Decimal(rate) > 0 else NOT_SUBJECT


def split_by_category(lines: Iterable[T], rate_of: Callable[[T], Decimal]) -> list[tuple[str, list[T]]]:
    """The lines of one customer and year as the invoices they go on: one per VAT category
    (S before O), each keeping the lines' order. An invoice never mixes O with S (BR-O-11)."""
    groups: dict[str, list[T]] = {}
    for line in lines:
        groups.setdefault(vat_category(rate_of(line)), []).append(line)
    return [(cat, groups[cat]) for cat in CATEGORY_ORDER if cat in groups]


@dataclass(frozen=True)
class VatGroup:
    rate: Decimal  # percent
    basis: Decimal  # sum of line nets at this rate
    tax: Decimal  # basis × rate / 100, rounded half-up to cents

    @property
    def category(self) -> str:
        return vat_category(self.rate)


@dataclass(frozen=True)
class InvoiceTotals:
    net: Decimal
    vat: Decimal
    gross: Decimal
    groups: tuple[VatGroup, ...]


def invoice_totals(lines: Iterable[tuple[Decimal, Decimal]]) -> InvoiceTotals:
    """Totals from ``(net, vat_rate)`` pairs. VAT is computed once per rate, not per line,
    so that the XRechnung's totals agree with the schematron to the cent."""
    by_rate: dict[Decimal, Decimal] = {}
    for net, rate in lines:
        key = Decimal(rate).quantize(Decimal("0.01"))
        by_rate[key] = by_rate.get(key, ZERO) + net
    groups = tuple(
        VatGroup(rate, round_cents(basis), round_cents(basis * rate / Decimal(100)))
        for rate, basis in sorted(by_rate.items())
    )
    net = sum((g.basis for g in groups), ZERO)
    vat = sum((g.tax for g in groups), ZERO)
    return InvoiceTotals(net=net, vat=vat, gross=net + vat, groups=groups)


def line_vat(net: Decimal, rate: Decimal) -> Decimal:
    """VAT shown on a single line, for display only; the invoice's VAT comes from invoice_totals."""
    return round_cents(net * rate / Decimal(100))


# --- credit notes -----------------------------------------------------------------------------

CLEARING_BETWEEN_PARTNERS = "97"  # UNTDID 4461: settlement, no transfer by the customer
CREDIT_TRANSFER_SEPA = "58"  # UNTDID 4461: SEPA credit transfer (invoices: the customer pays)


@dataclass(frozen=True)
class CreditNoteSettlement:
    """How a credit note is settled: set off against the cancelled invoice, the rest refunded."""

    means_code: str  # BT-81: 97, clearing between partners — never a transfer by the customer
    offset: Decimal  # set off against the open amount of the cancelled invoice
    refund: Decimal  # refunded by the operator (what was paid on the invoice already)


def credit_note_settlement(credit_gross: Decimal, open_on_invoice: Decimal) -> CreditNoteSettlement:
    """The one rule for a credit note's payment part: no payment instruction to the customer
    (no seller IBAN); the credit is set off against what is still open on the invoice it refers
    to, and only what exceeds that (the customer paid it already) is refunded by the operator.

    ``open_on_invoice``: the invoice's gross less what was paid and credited before this note —
    a partial credit of 200 on an invoice of 1.000 with 500 paid is set off whole (500 open), a
    full cancellation of it sets off 500 and refunds 500."""
    offset = min(max(open_on_invoice, ZERO), credit_gross)
    return CreditNoteSettlement(CLEARING_BETWEEN_PARTNERS, offset, credit_gross - offset)


def why_not_cancellable(kind: str, status: str, paid: Decimal, credited: Decimal) -> str | None:
    """Whether an invoice can be cancelled whole (a credit note over all its lines), and if not,
    why: ``"invalid-state"`` (a credit note, or not issued: paid, cancelled) or ``"partly-settled"``
    (a payment or a partial credit note is booked on it — what is still open is credited with a
    partial credit note instead, or the cancellation would refund and offset more than was owed).
    The server refuses by it, the client offers its key by it."""
    if kind != "invoice" or status != "issued":
        return "invalid-state"
    if paid or credited:
        return "partly-settled"
    return None
