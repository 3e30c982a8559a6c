"""The services' reads: typed records (the models in api/models.py), with the data's age — the
moment the server answered, or the sync point of its kind when the cache answered because the
server was away (then ``offline``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from app_support import make_session
from support import start_server, stop_server

from efa_tui.api.models import Order, OrderEvent
from efa_tui.store.sync import data_as_of


def _at(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


async def test_a_read_carries_its_age_and_says_offline_when_the_cache_answered(db_url, tmp_path):
    proc, base = start_server(db_url)
    try:
        session = await asyncio.to_thread(make_session, base, tmp_path, identity="provider")
        services = session.services
        synced = await asyncio.to_thread(data_as_of, session.cache, "orders")
        assert synced is not None  # make_session synced every kind
        orders = await asyncio.to_thread(services.orders.cached)
        assert orders and all(isinstance(o, Order) for o in orders)
        order = orders[0]
        assert await asyncio.to_thread(services.orders.cached_order, order.id) == order

        before = datetime.now(UTC)
        read = await services.orders.detail(order.id)
        assert not read.offline and read.as_of is not None and _at(read.as_of) >= before
        assert isinstance(read.value.order, Order) and read.value.order.id == order.id and read.value.etag
        assert read.value.events and all(isinstance(e, OrderEvent) for e in read.value.events)
        trail = await services.support.trail(order.id)
        assert not trail.offline and trail.as_of is not None and _at(trail.as_of) >= before
        org_id = order.provider.id if order.provider else 0
        own = await services.offerings.fetch_own(org_id)
        assert not own.offline and own.as_of is not None and own.value
    finally:
        stop_server(proc)

    try:
        # The server is gone: the cache answers, as of the last sync.
        read = await services.orders.detail(order.id)
        assert read.offline and read.as_of == synced and read.value.order is None
        assert [e.id for e in read.value.events] == [e.id for e in (await services.orders.events(order.id)).value]
        trail = await services.support.trail(order.id)
        assert trail.offline and trail.as_of == synced and trail.value
        own = await services.offerings.fetch_own(org_id)
        assert own.offline and own.as_of == await asyncio.to_thread(data_as_of, session.cache, "offerings")
        reports = await services.usage.reports()
        assert reports.offline and reports.as_of is None  # usage reports are not cached: no age
    finally:
        await session.aclose()
