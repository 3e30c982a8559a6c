"""Rechnungsprüfung: recompute an invoice from the contracts' agreed fees and re-add its sums.

A German public body pays an invoice only once someone has confirmed it is "sachlich richtig"
(the service was ordered and delivered) and "rechnerisch richtig" (the arithmetic is right).
This module does the arithmetic part for the person who signs: every line is recomputed from
the contract it names with the same rules the marketplace bills by (``Contract.charges`` is what
the server's billing run calls, too), and every sum is re-added to the cent.

What a line can be found to be:

* ``ok`` — amount, unit price, quantity, months and VAT rate are what the contract gives;
* ``wrong`` — something differs; ``expected_net`` and ``difference`` (billed − expected) say by
  how much, ``reasons`` say what (codes, translated by the UI);
* ``no_contract`` — the line names a contract that is not the customer's or has no agreed fees;
* ``missing`` — the contract gives a charge the invoice does not bill (shown with billed 0);
* ``unverified`` — the input needed is not at hand (the reported cases, offline): the line's
  own arithmetic (quantity × price) is still checked.

The one-time fee is billed on a contract's first invoice only. Whether an invoice is the first
one cannot be told from the invoice alone, so a one-time line is checked for its amount, and a
missing one-time line is not reported (it can only be in the customer's favour).

Pure: no I/O. Money is Decimal, rounded half-up to cents per line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from .invoicing import InvoiceTotals, invoice_totals, line_vat
from .money import ZERO, round_cents
from .pricing import Charge, Fees, year_charges

TIME_BASED = ("annual", "per_inhabitant", "target_group")


@dataclass(frozen=True)
class Contract:
    """What a contract (a binding order) says about money: the agreed fees and its term, plus
    the figures its distribution key needs (the customer's population, the target group)."""

    order_id: int
    fees: Fees
    start: date
    end: date | None = None
    population: int | None = None
    target_group_size: int | None = None

    def charges(self, year: int, *, cases: int = 0, first_invoice: bool = False) -> list[Charge]:
        """The contract's charges for a calendar year: the one implementation of the billing rules
        (``domain.pricing.year_charges``) with this contract's inputs."""
        return year_charges(self.fees, year, self.start, self.end, population=self.population,
                            target_group_size=self.target_group_size, cases=cases, first_invoice=first_invoice)


@dataclass(frozen=True)
class BilledLine:
    """One invoice line as the invoice states it."""

    position: int
    order_id: int | None
    kind: str
    quantity: Decimal
    unit_price: Decimal
    months: int
    net: Decimal
    vat_rate: Decimal
    line_id: int | None = None
    vat: Decimal | None = None  # the line's VAT as shown (display only; the invoice's VAT is per rate)
    gross: Decimal | None = None


class LineStatus(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    NO_CONTRACT = "no_contract"
    MISSING = "missing"
    UNVERIFIED = "unverified"


# Reason codes (the UI translates "invoice.reason.<code>").
AMOUNT = "amount"  # net differs from the recomputed amount
UNIT_PRICE = "unit_price"  # unit price is not the agreed fee
QUANTITY = "quantity"  # quantity (thousands of inhabitants, cases) differs
MONTHS = "months"  # billable months differ (pro rata rule)
VAT_RATE = "vat_rate"  # VAT rate is not the agreed one
LINE_ARITHMETIC = "line_arithmetic"  # net is not quantity × unit price (× months/12) of the line itself
LINE_VAT = "line_vat"  # the line's VAT or gross is not net × rate
NOT_IN_CONTRACT = "not_in_contract"  # the contract gives no charge of this kind for the year
DUPLICATE = "duplicate"  # the same charge is billed twice
CASES_UNKNOWN = "cases_unknown"  # reported cases not at hand: only the line's own arithmetic checked
NOT_BILLED = "not_billed"  # the contract gives this charge, the invoice does not bill it


@dataclass(frozen=True)
class LineCheck:
    position: int
    line_id: int | None
    order_id: int | None
    kind: str
    status: LineStatus
    billed_net: Decimal
    expected_net: Decimal | None  # None: nothing to compare with (no contract, unverified)
    reasons: tuple[str, ...] = ()
    expected_quantity: Decimal | None = None
    expected_unit_price: Decimal | None = None
    expected_months: int | None = None

    @property
    def difference(self) -> Decimal | None:
        """Billed minus expected: positive means billed too much."""
        return None if self.expected_net is None else self.billed_net - self.expected_net

    @property
    def ok(self) -> bool:
        return self.status is LineStatus.OK


@dataclass(frozen=True)
class SumCheck:
    """The invoice's stated totals against the totals re-added from its own lines."""

    stated_net: Decimal
    stated_vat: Decimal
    stated_gross: Decimal
    readded: InvoiceTotals

    @property
    def net_ok(self) -> bool:
        return self.stated_net == self.readded.net

    @property
    def vat_ok(self) -> bool:
        return self.stated_vat == self.readded.vat

    @property
    def gross_ok(self) -> bool:
        return self.stated_gross == self.readded.gross and self.stated_gross == self.stated_net + self.stated_vat

    @property
    def ok(self) -> bool:
        return self.net_ok and self.vat_ok and self.gross_ok


@dataclass(frozen=True)
class InvoiceCheck:
    lines: tuple[LineCheck, ...]
    sums: SumCheck
    expected: InvoiceTotals  # what the contracts give, VAT per rate as EN 16931 computes it
    notes: tuple[str, ...] = field(default=())

    @property
    def wrong_lines(self) -> tuple[LineCheck, ...]:
        return tuple(x for x in self.lines if x.status in (LineStatus.WRONG, LineStatus.NO_CONTRACT, LineStatus.MISSING))

    @property
    def unverified(self) -> tuple[LineCheck, ...]:
        return tuple(x for x in self.lines if x.status is LineStatus.UNVERIFIED)

    @property
    def ok(self) -> bool:
        """Rechnerisch richtig: every line matches its contract and every sum adds up."""
        return not self.wrong_lines and not self.unverified and self.sums.ok

    @property
    def difference(self) -> Decimal:
        """Stated gross minus the gross the contracts give (positive: billed too much)."""
        return self.sums.stated_gross - self.expected.gross


def _line_arithmetic(line: BilledLine) -> Decimal | None:
    """The net a line's own figures give, or None when they do not determine it."""
    if line.kind in TIME_BASED and line.months:
        return round_cents(line.quantity * line.unit_price * line.months / Decimal(12))
    if line.kind in ("one_time", "per_case", "credit"):
        return round_cents(line.quantity * line.unit_price)
    return None


def _vat_shown_ok(line: BilledLine) -> bool:
    vat = line_vat(line.net, line.vat_rate)
    if line.vat is not None and line.vat != vat:
        return False
    return line.gross is None or line.gross == line.net + (line.vat if line.vat is not None else vat)


def _compare(line: BilledLine, charge: Charge, vat_rate: Decimal) -> list[str]:
    reasons = []
    if line.unit_price != charge.unit_price:
        reasons.append(UNIT_PRICE)
    if line.quantity != charge.quantity:
        reasons.append(QUANTITY)
    if line.kind in TIME_BASED and line.months != charge.months:
        reasons.append(MONTHS)
    if line.vat_rate != vat_rate:
        reasons.append(VAT_RATE)
    if line.net != charge.net:
        reasons.append(AMOUNT)
    return reasons


CREDIT = "credit"  # the line kind of a partial credit note (routes/invoices.py)


def check_invoice(
    year: int,
    lines: Sequence[BilledLine],
    contracts: Mapping[int, Contract],
    *,
    stated_net: Decimal,
    stated_vat: Decimal,
    stated_gross: Decimal,
    cases: Mapping[int, int | None] | None = None,
    credit_note: bool = False,
) -> InvoiceCheck:
    """Check an invoice (or a credit note, which repeats the lines it cancels) line by line.

    ``contracts`` by order id; ``cases`` the reported cases per order for ``year`` (None or a
    missing key: not known, so per-case lines can only be checked for their own arithmetic).
    """
    cases = cases or {}
    checks: list[LineCheck] = []
    expected_pairs: list[tuple[Decimal, Decimal]] = []
    used: set[tuple[int, str]] = set()
    by_order: dict[int, list[BilledLine]] = {}
    for line in lines:
        if line.order_id is not None:
            by_order.setdefault(line.order_id, []).append(line)

    for line in sorted(lines, key=lambda x: x.position):
        contract = contracts.get(line.order_id) if line.order_id is not None else None
        own = _line_arithmetic(line)
        own_reasons = ([LINE_ARITHMETIC] if own is not None and own != line.net else []) + \
                      ([] if _vat_shown_ok(line) else [LINE_VAT])
        if line.kind == CREDIT:
            # A partial credit note's line credits an amount of an invoice line (a disputed part):
            # no contract gives it, so only its own arithmetic is checked.
            checks.append(LineCheck(line.position, line.line_id, line.order_id, line.kind,
                                    LineStatus.WRONG if own_reasons else LineStatus.OK, line.net, line.net, tuple(own_reasons)))
            expected_pairs.append((line.net, line.vat_rate))
            continue
        if contract is None:
            checks.append(LineCheck(line.position, line.line_id, line.order_id, line.kind, LineStatus.NO_CONTRACT,
                                    line.net, ZERO, tuple(own_reasons)))
            expected_pairs.append((ZERO, line.vat_rate))
            continue
        known_cases = cases.get(contract.order_id)
        if line.kind == "per_case" and known_cases is None:
            status = LineStatus.WRONG if own_reasons or line.unit_price != contract.fees.unit_price else LineStatus.UNVERIFIED
            reasons = own_reasons + ([UNIT_PRICE] if line.unit_price != contract.fees.unit_price else []) + [CASES_UNKNOWN]
            checks.append(LineCheck(line.position, line.line_id, line.order_id, line.kind, status, line.net, None,
                                    tuple(reasons), expected_unit_price=contract.fees.unit_price))
            expected_pairs.append((line.net, line.vat_rate))
            continue
        first = any(x.kind == "one_time" for x in by_order.get(contract.order_id, []))
        charges = {c.kind: c for c in contract.charges(year, cases=known_cases or 0, first_invoice=first)}
        charge = charges.get(line.kind)
        key = (contract.order_id, line.kind)
        if charge is None or key in used:
            reason = DUPLICATE if key in used else NOT_IN_CONTRACT
            checks.append(LineCheck(line.position, line.line_id, line.order_id, line.kind, LineStatus.WRONG,
                                    line.net, ZERO, tuple([reason, *own_reasons])))
            expected_pairs.append((ZERO, contract.fees.vat_rate))
            continue
        used.add(key)
        reasons = _compare(line, charge, contract.fees.vat_rate) + own_reasons
        status = LineStatus.WRONG if reasons else LineStatus.OK
        checks.append(LineCheck(line.position, line.line_id, line.order_id, line.kind, status, line.net, charge.net,
                                tuple(dict.fromkeys(reasons)), charge.quantity, charge.unit_price,
                                charge.months if line.kind in TIME_BASED else None))
        expected_pairs.append((charge.net, contract.fees.vat_rate))

    # Charges the contracts give that the invoice does not bill (credit notes repeat what they
    # cancel, so only invoices are checked for gaps; a missing one-time fee is not reported).
    if not credit_note:
        last = max((x.position for x in lines), default=0)
        for order_id in sorted(by_order):
            contract = contracts.get(order_id)
            if contract is None:
                continue
            known_cases = cases.get(order_id)
            for charge in contract.charges(year, cases=known_cases or 0):
                if (order_id, charge.kind) in used or (charge.kind == "per_case" and known_cases is None):
                    continue
                last += 1
                checks.append(LineCheck(last, None, order_id, charge.kind, LineStatus.MISSING, ZERO, charge.net,
                                        (NOT_BILLED,), charge.quantity,
                                        charge.unit_price, charge.months if charge.kind in TIME_BASED else None))
                expected_pairs.append((charge.net, contract.fees.vat_rate))

    readded = invoice_totals((x.net, x.vat_rate) for x in lines)
    return InvoiceCheck(
        lines=tuple(checks),
        sums=SumCheck(stated_net, stated_vat, stated_gross, readded),
        expected=invoice_totals(expected_pairs),
    )

