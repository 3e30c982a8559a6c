"""Usage of per-case contracts: the provider's reportable contracts from the cache, the reports
the server has, and the report write (one per contract and month)."""

from __future__ import annotations

from typing import Any

from ..api import routes
from ..api.errors import ApiError, Unreachable
from ..api.models import Me, Order, UsageReport
from ..store import usage_import
from ..store.cache import Cache
from ..store.sync import data_as_of
from .outcome import Read, now
from .writes import Write


class UsageService:
    def __init__(self, api: Any, cache: Cache):
        self._api = api
        self._cache = cache

    def contracts(self, me: Me | None) -> Read[dict[int, Order]]:
        """The provider's contracts billed per case, by order id, as of the orders' last sync
        (local: call in a thread)."""
        as_of = data_as_of(self._cache, "orders")
        if me is None:
            return Read({}, as_of=as_of)
        orders = self._cache.list_records("orders", where={"provider_id": me.organization.id,
                                                           "state": list(usage_import.REPORTABLE_STATES)}, limit=200_000)
        return Read(usage_import.per_case_contracts([Order.model_validate(o) for o in orders]), as_of=as_of)

    async def reports(self) -> Read[list[UsageReport]]:
        """Every report the server has for the caller; offline (or refused) none, ``offline=True``
        (reports are not cached: no age)."""
        try:
            return Read([UsageReport.model_validate(r) async for r in self._api.iter_items(routes.USAGE)], now())
        except (ApiError, Unreachable):
            return Read([], offline=True)

    @staticmethod
    def report(body: dict[str, Any]) -> Write:
        return Write("usage.report", "POST", routes.USAGE, body)
