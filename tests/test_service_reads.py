"""The services' reads: typed records (the models in api/models.py), with the data's age — the
moment the server answered, or the sync point of its kind when the cache answered because the
server was away (then ``offline``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from app_support import make_session
from support import auth, start_server, stop_server

from efa_tui.api.errors import Unreachable
from efa_tui.api.models import AuditEntry, Order, OrderEvent, Organization, Token, User
from efa_tui.store.record_search import RecordQuery
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
        listed = await asyncio.to_thread(services.orders.cached)
        assert listed.as_of == synced and not listed.offline  # a list from the cache: as of its sync
        orders = listed.value
        assert orders and all(isinstance(o, Order) for o in orders)
        invoices = await asyncio.to_thread(services.invoices.cached)
        assert invoices.as_of == await asyncio.to_thread(data_as_of, session.cache, "invoices")
        contracts = await asyncio.to_thread(services.usage.contracts, services.connection.me())
        assert contracts.as_of == synced and all(isinstance(o, Order) for o in contracts.value.values())
        found = await asyncio.to_thread(services.support.find, RecordQuery())
        assert found.as_of is not None and found.as_of <= max(synced, invoices.as_of or synced)
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


def _same_fields(record, raw: dict) -> None:
    """The model declares exactly the fields the server sends (drift shows here, not in a screen)."""
    assert set(type(record).model_fields) == set(raw), (type(record).__name__, sorted(raw))


async def test_the_administration_reads_are_typed_records_with_their_age(db_url, tmp_path):
    proc, base = start_server(db_url)
    try:
        session = await asyncio.to_thread(make_session, base, tmp_path, identity="operator", presync=False)
        admin = session.services.administration
        before = datetime.now(UTC)
        orgs = await admin.organizations()
        assert not orgs.offline and orgs.as_of is not None and _at(orgs.as_of) >= before
        assert orgs.value and all(isinstance(o, Organization) for o in orgs.value)
        org = next(o for o in orgs.value if o.kind == "operator")
        users = await admin.users(org.id)
        assert users.as_of is not None and users.value and all(isinstance(u, User) for u in users.value)
        user = users.value[0]
        one, etag = await admin.user(user.id)
        assert one == user and etag
        issued = await admin.issue_token(user.id, "Lesezugang", 7, "read")
        assert issued["token"]  # the one-time answer keeps its secret, as the server sent it
        tokens = await admin.tokens(user.id)
        assert tokens.as_of is not None and all(isinstance(t, Token) for t in tokens.value)
        token = next(t for t in tokens.value if t.id == issued["id"])
        assert token.scope == "read" and token.expires_at is not None and token.revoked_at is None
        audit = await admin.audit(org.id)
        assert audit.as_of is not None and audit.value and all(isinstance(e, AuditEntry) for e in audit.value)
        assert any(e.target.kind == "token" and e.target.id == token.id and e.actor.name for e in audit.value)

        headers = auth("operator")
        raw_user = httpx.get(f"{base}/users/{user.id}", headers=headers).json()
        raw_token = httpx.get(f"{base}/users/{user.id}/tokens", headers=headers).json()["items"][0]
        raw_entry = httpx.get(f"{base}/audit", params={"organization_id": org.id}, headers=headers).json()["items"][0]
        _same_fields(user, raw_user)
        _same_fields(tokens.value[0], raw_token)
        _same_fields(audit.value[0], raw_entry)
        _same_fields(audit.value[0].actor, raw_entry["actor"])
        _same_fields(audit.value[0].target, raw_entry["target"])
    finally:
        stop_server(proc)

    try:  # nothing of it is cached: without the server there is nothing to answer
        with pytest.raises(Unreachable):
            await admin.users(org.id)
    finally:
        await session.aclose()
