"""Support and operator staff: find any cached order or invoice by number, organisation,
offering, state or dates, and read an order's full audit trail. Nothing here writes."""

from __future__ import annotations

from datetime import date

from ..api.models import OrderEvent
from ..store import record_search
from ..store.cache import Cache
from ..store.record_search import Found, RecordQuery
from ..store.sync import data_as_of
from .orders import OrdersService
from .outcome import Read


class SupportService:
    def __init__(self, cache: Cache, orders: OrdersService):
        self._cache = cache
        self._orders = orders

    def find(self, query: RecordQuery, *, limit: int = 500, today: date | None = None) -> Read[list[Found]]:
        """The matching records, newest first (local: call in a thread), as of the older of the
        orders' and invoices' last syncs (None while either was never synced)."""
        ages = [data_as_of(self._cache, kind) for kind in ("orders", "invoices")]
        as_of = None if None in ages else min(a for a in ages if a is not None)
        return Read(record_search.find(self._cache, query, limit=limit, today=today), as_of=as_of)

    async def trail(self, order_id: int) -> Read[list[OrderEvent]]:
        """Every event of one order; offline the trail as last read on this machine."""
        return await self._orders.events(order_id)
