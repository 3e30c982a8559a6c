"""Orders: the cached list with the interests still in the outbox, one order in full (newest
from the server, the cached one offline), and the writes (interest, every transition)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from ..api import routes
from ..api.errors import ApiError, Unreachable
from ..api.models import Offering, Order, OrderEvent, as_offering, as_order
from ..domain.orders import earlier_interest
from ..store.cache import Cache
from ..store.changes import Changes, DataChanged
from ..store.outbox import NEEDS_ATTENTION, PENDING, OutboxItem
from ..store.sync import data_as_of
from .outcome import Read, cached_me, now
from .writes import Write, waiting_ids

LIMIT = 20_000  # orders read from the cache at once; an organisation has far fewer


def interest_draft_key(offering_id: int) -> str:
    """The draft of an interest form (one per offering: the form restores it when opened again)."""
    return f"interest:{int(offering_id)}"


@dataclass
class OrderDetail:
    order: Order | None  # None offline: the caller keeps what it shows
    etag: str | None = None  # of this version, as the server sent it (None offline)
    events: list[OrderEvent] = field(default_factory=list)



@dataclass(frozen=True)
class Earlier:
    """What a new interest in an offering would repeat: an open order of the own organisation
    (``order``), else an interest written here and not yet accepted by the server (``waiting``)."""

    order: Order | None = None
    waiting: OutboxItem | None = None
    draft: bool = False  # only a saved draft: `b` goes on with it (no second interest yet)


class OrdersService:
    def __init__(self, api: Any, cache: Cache, outbox: Any, changes: Changes, drafts: Any):
        self._api = api
        self._drafts = drafts
        self._changes = changes
        self._cache = cache
        self._outbox = outbox

    # --- reads (local: call in a thread) --------------------------------------------------------

    def cached(self, *, limit: int = LIMIT, **where: Any) -> Read[list[Order]]:
        """The cached orders (optionally ``where`` column = value, a list for IN), as of their last sync."""
        rows = self._cache.list_records("orders", where=where or None, limit=limit)
        return Read([Order.model_validate(o) for o in rows], as_of=data_as_of(self._cache, "orders"))

    def cached_order(self, order_id: int) -> Order | None:
        return as_order(self._cache.get_record("orders", int(order_id)))

    def waiting_steps(self) -> set[int]:
        """Orders with a step still in the outbox: their row says so (it showed "Bestellt" alone
        while the cancellation waited, tmux walk)."""
        return waiting_ids(self._outbox, "order")

    def waiting_interests(self) -> list[OutboxItem]:
        """Interests written but not accepted by the server yet (offline, or refused)."""
        return [i for i in self._outbox.items(PENDING, NEEDS_ATTENTION) if i.kind == "order.create"]

    def earlier_interest(self, offering_id: int) -> Earlier | None:
        """Before a second interest in the same offering (domain.orders.earlier_interest): the
        organisation's open order for it from the cache, else a waiting one from the outbox, else a
        draft of the interest form saved here."""
        me = cached_me(self._cache)
        org = me.organization.id if me else None
        rows = self._cache.list_records("orders", where={"offering_id": int(offering_id)}, limit=LIMIT)
        orders = {o.id: o for o in (Order.model_validate(r) for r in rows)}
        found = earlier_interest(((o.id, o.state, o.customer.id if o.customer else None) for o in orders.values()), org)
        if found is not None:
            return Earlier(order=orders[found])
        related = f"offering:{int(offering_id)}"
        waiting = [i for i in self.waiting_interests() if i.related == related
                   or (isinstance(i.body, dict) and i.body.get("offering_id") == int(offering_id))]
        if waiting:
            return Earlier(waiting=waiting[-1])
        if self._drafts.load(interest_draft_key(offering_id)) is not None:
            return Earlier(draft=True)
        return None

    def offering(self, offering_id: int | None) -> Offering | None:
        """The cached offering an order is about (its fees prefill a proposal)."""
        return as_offering(self._cache.get_offering(int(offering_id or 0)))

    def cached_events(self, order_id: int, *, limit: int = 10_000) -> list[OrderEvent]:
        rows = self._cache.list_records("order_events", where={"order_id": int(order_id)}, order_by="id", limit=limit)
        return [OrderEvent.model_validate(e) for e in rows]

    # --- reads (network, with the cache as the offline answer) ---------------------------------

    async def detail(self, order_id: int) -> Read[OrderDetail]:
        """The newest version and its timeline from the server, put into the cache; offline the
        cached timeline (``offline=True``, order None: the caller keeps what it shows). A refusal
        (``ApiError``) is raised."""
        api = self._api
        try:
            fresh = await api.get_order(order_id)
            events = await api.order_events(order_id)
        except Unreachable:
            cached = await asyncio.to_thread(self.cached_events, order_id)
            return Read(OrderDetail(None, None, cached), await self._age(), offline=True)
        order = fresh.model_dump(mode="json")
        rows = [e.model_dump(mode="json") | {"order_id": int(order_id)} for e in events]
        await asyncio.to_thread(self._store, order, rows)
        self._changes.publish(DataChanged.of("orders", [order_id]))  # the list shows the newest state
        return Read(OrderDetail(fresh, fresh.etag, list(events)), now())

    async def events(self, order_id: int) -> Read[list[OrderEvent]]:
        """The audit trail of one order; offline (or refused) the trail as last read here."""
        try:
            events: list[OrderEvent] = await self._api.order_events(order_id)
        except (ApiError, Unreachable):
            return Read(await asyncio.to_thread(self.cached_events, order_id), await self._age(), offline=True)
        rows = [e.model_dump(mode="json") | {"order_id": int(order_id)} for e in events]
        await asyncio.to_thread(self._cache.upsert_records, "order_events", rows)
        return Read(events, now())

    async def _age(self) -> str | None:
        return await asyncio.to_thread(data_as_of, self._cache, "orders")

    def _store(self, order: dict[str, Any], events: list[dict[str, Any]]) -> None:
        self._cache.upsert_records("orders", [order])
        self._cache.upsert_records("order_events", events)

    # --- writes ---------------------------------------------------------------------------------

    @staticmethod
    def interest(body: dict[str, Any]) -> Write:
        """An expression of interest (``POST /orders``: a new order in state ``interest``)."""
        return Write("order.create", "POST", routes.ORDERS, body)

    @staticmethod
    def transition(order_id: int, action: str, extra: dict[str, Any] | None = None, *,
                   if_match: str | None = None) -> Write:
        body = {"action": action, "note": "", **(extra or {})}
        return Write("order.transition", "POST", routes.order_transitions(order_id), body, if_match,
                     current=routes.order(order_id))
