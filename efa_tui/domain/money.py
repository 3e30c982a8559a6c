"""Money: always ``decimal.Decimal`` in EUR, rounded half-up to cents; never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class MoneyError(ValueError):
    pass


def round_cents(amount: Decimal) -> Decimal:
    """Round half-up to cents — the rule for every invoice line and every VAT amount."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_money(value: object) -> Decimal:
    """Parse a money value from the wire (string like "1234.50"; ints allowed).

    Floats are refused: they cannot represent cents exactly.
    """
    if isinstance(value, float) or isinstance(value, bool):
        raise MoneyError("money must be a string with two decimals, not a float")
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise MoneyError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise MoneyError(f"not an amount: {value!r}")
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise MoneyError("at most two decimals (cents)")
    return amount.quantize(CENT)


def money_str(amount: Decimal) -> str:
    """The wire form: a string with exactly two decimals, e.g. "1234.50"."""
    return f"{round_cents(amount):.2f}"
