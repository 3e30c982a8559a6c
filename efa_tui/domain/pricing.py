"""Fees of an offering and what a contract costs in a calendar year.

The one place for the billing rules (server billing, the client's invoice check and the cost
preview all call these functions):

* Annual parts (annual fee, per-inhabitant and target-group parts) are billed per calendar year.
  A contract starting or ending during the year is billed **pro rata by full months**: a month
  counts only when the contract runs on every day of it. Start on the 1st → that month counts;
  start on the 15th → billing begins with the next month. End on the last day of a month → that
  month counts; otherwise billing stops with the month before.
* The one-time fee is billed once, on the first invoice of the contract.
* Per-case parts are billed on the cases reported for the year (no pro rata).
* Every line is rounded half-up to cents on its own.
* A time-based line states its factor so that a person can re-add it (``billed_units``): the
  quantity is the billed months (unit MON) and the price is the amount for a full year per
  12 months (price base quantity 12), e.g. "5 MON × 4.800,00 € je 12 MON = 2.000,00 €".
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from .money import ZERO, round_cents


class DistributionKey(StrEnum):
    FIXED = "fixed"  # the annual fee alone
    PER_INHABITANT = "per_inhabitant"  # unit price € per 1,000 inhabitants and year
    PER_CASE = "per_case"  # unit price € per reported case
    TARGET_GROUP = "target_group"  # unit price € per 1,000 persons of the target group and year


THOUSAND = Decimal(1000)


@dataclass(frozen=True)
class Fees:
    annual_fee: Decimal
    one_time_fee: Decimal
    distribution_key: DistributionKey
    unit_price: Decimal | None = None
    vat_rate: Decimal = Decimal("19.00")


@dataclass(frozen=True)
class Charge:
    """One invoice line as the rules produce it."""

    kind: str  # annual | one_time | per_inhabitant | target_group | per_case
    quantity: Decimal  # what the unit price applies to (1, thousands of inhabitants, cases)
    unit_price: Decimal
    months: int  # billable months (12 = full year); 0 for one-time and per-case lines
    net: Decimal  # rounded half-up to cents


TIME_BASED = ("annual", "per_inhabitant", "target_group")  # billed by months of the calendar year
MONTH = "MON"  # UN/ECE Rec 20: month
ONE = "C62"  # UN/ECE Rec 20: one (unit)
MONTHS_PER_YEAR = Decimal(12)


@dataclass(frozen=True)
class BilledUnits:
    """A line as quantity × price / base quantity (BT-129, BT-130, BT-146, BT-149)."""

    quantity: Decimal
    unit_code: str
    price: Decimal  # net price per ``base_quantity`` units; may carry more than two decimals
    base_quantity: Decimal

    @property
    def net(self) -> Decimal:
        return round_cents(self.quantity * self.price / self.base_quantity)


def billed_units(kind: str, quantity: Decimal, unit_price: Decimal, months: int) -> BilledUnits:
    """How a line is stated on the invoice (XRechnung and the invoice detail), from its charge:
    a time-based line as ``months`` MON × the full year's amount per 12 MON (the pro-rata factor
    visible); others as quantity × unit price."""
    if kind in TIME_BASED and months:
        year_amount = (Decimal(quantity) * Decimal(unit_price)).normalize()
        if year_amount == year_amount.to_integral_value():
            year_amount = year_amount.quantize(Decimal("0.01"))
        return BilledUnits(Decimal(months), MONTH, year_amount, MONTHS_PER_YEAR)
    count = Decimal(quantity)
    if count == count.to_integral_value():
        count = count.quantize(Decimal(1))  # 1, not 1.000
    return BilledUnits(count, ONE, Decimal(unit_price), Decimal(1))


def billable_months(start: date, end: date | None, year: int) -> int:
    """Full calendar months of ``year`` during which the contract runs on every day."""
    first = 1 if start.year < year else (start.month if start.day == 1 else start.month + 1)
    if start.year > year:
        return 0
    if end is None or end.year > year:
        last = 12
    elif end.year < year:
        return 0
    else:
        month_end = calendar.monthrange(end.year, end.month)[1]
        last = end.month if end.day == month_end else end.month - 1
    return max(0, last - first + 1)


def _pro_rata(amount: Decimal, months: int) -> Decimal:
    return round_cents(amount * months / Decimal(12))


def year_charges(
    fees: Fees,
    year: int,
    start: date,
    end: date | None = None,
    *,
    population: int | None = None,
    target_group_size: int | None = None,
    cases: int = 0,
    first_invoice: bool = False,
) -> list[Charge]:
    """The charges of one contract for one calendar year, in invoice line order."""
    months = billable_months(start, end, year)
    charges: list[Charge] = []
    if months and fees.annual_fee > 0:
        charges.append(Charge("annual", Decimal(1), fees.annual_fee, months, _pro_rata(fees.annual_fee, months)))
    if first_invoice and fees.one_time_fee > 0:
        charges.append(Charge("one_time", Decimal(1), fees.one_time_fee, 0, round_cents(fees.one_time_fee)))
    price = fees.unit_price or ZERO
    if price > 0:
        key = fees.distribution_key
        if key in (DistributionKey.PER_INHABITANT, DistributionKey.TARGET_GROUP) and months:
            persons = population if key is DistributionKey.PER_INHABITANT else target_group_size
            if persons:
                thousands = Decimal(persons) / THOUSAND
                charges.append(Charge(str(key), thousands, price, months, _pro_rata(thousands * price, months)))
        elif key is DistributionKey.PER_CASE and cases > 0:
            charges.append(Charge("per_case", Decimal(cases), price, 0, round_cents(Decimal(cases) * price)))
    return charges


@dataclass(frozen=True)
class CostPreview:
    first_year: int
    first_year_net: Decimal  # pro rata, including the one-time fee
    full_year_net: Decimal  # a full later year, without usage (per-case parts depend on reports)
    months_first_year: int


def cost_preview(
    fees: Fees, start: date, *, population: int | None = None, target_group_size: int | None = None
) -> CostPreview:
    """What an organisation would pay: the first (pro rata) year and a full year after."""
    first = year_charges(fees, start.year, start, population=population,
                         target_group_size=target_group_size, first_invoice=True)
    full = year_charges(fees, start.year + 1, start, population=population, target_group_size=target_group_size)
    return CostPreview(
        first_year=start.year,
        first_year_net=sum((c.net for c in first), ZERO),
        full_year_net=sum((c.net for c in full), ZERO),
        months_first_year=billable_months(start, None, start.year),
    )


def first_of_next_month(today: date) -> date:
    """The earliest usual contract start: the 1st of the next month (so the first, pro-rata year
    starts on a full month)."""
    return date(today.year + today.month // 12, today.month % 12 + 1, 1)
