"""Invoice totals as EN 16931 defines them: VAT per rate on the summed line nets (BR-CO-17)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from .money import ZERO, round_cents


@dataclass(frozen=True)
class VatGroup:
    rate: Decimal  # percent
    basis: Decimal  # sum of line nets at this rate
    tax: Decimal  # basis × rate / 100, rounded half-up to cents


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
