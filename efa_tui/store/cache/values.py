"""The cache's public value types: catalog filters, result rows and pages, and the reset error."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Filters:
    """Catalog filters; ``None`` means "any". ``bundesland`` is a two-letter code (nationwide
    offerings match every Land) or ``"bundesweit"`` for the nationwide ones only."""

    category: str | None = None
    provider_id: int | None = None
    bundesland: str | None = None
    status: str | None = "published"
    inhouse_orderable: bool | None = None
    may_order: bool = True
    """Whether the user's organisation may order at all (``/me``'s ``can_order``: a customer,
    accredited, with an in-house relationship). The in-house facet answers for it: an offering
    is orderable in-house when it is published *and* the organisation may order."""


@dataclass(frozen=True)
class OfferingRow:
    id: int
    title: str
    provider_name: str
    provider_id: int | None
    category: str
    annual_fee: Decimal
    one_time_fee: Decimal
    distribution_key: str
    status: str
    updated_at: str
    summary: str


@dataclass(frozen=True)
class SearchPage:
    rows: list[OfferingRow]
    total: int
    offset: int
    exact: bool = True  # False: ``total`` is an estimate (rows first; ``count`` says exactly)


class CacheReset(RuntimeError):
    """A write met a corrupt cache file; it was moved aside and the cache is empty now. The
    write is not applied (the caller's sync bookkeeping is gone too, so its next sync starts
    from scratch instead of leaving a hole)."""
