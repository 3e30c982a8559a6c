"""Support and operator staff: find any cached order or invoice by number, organisation,
offering, state or dates, and read an order's full audit trail. Nothing here writes."""

from __future__ import annotations

from ..api.models import OrderEvent
from ..store import record_search
from ..store.cache import Cache
from ..store.record_search import Found, RecordQuery
from .orders import OrdersService
from .outcome import Read


class SupportService:
    def __init__(self, cache: Cache, orders: OrdersService):
        self._cache = cache
        self._orders = orders

    def find(self, query: RecordQuery, *, limit: int = 500) -> list[Found]:
        """The matching records, newest first (local: call in a thread)."""
        return record_search.find(self._cache, query, limit=limit)

    async def trail(self, order_id: int) -> Read[list[OrderEvent]]:
        """Every event of one order; offline the trail as last read on this machine."""
        return await self._orders.events(order_id)
