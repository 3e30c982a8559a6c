"""A provider's own offerings: the list from the cache with open interests and contracts, the
current version with its ETag (for If-Match), and the writes (create, patch, publish, retire)."""

from __future__ import annotations

import asyncio
from typing import Any

from ..api import routes
from ..api.errors import ApiError, Unreachable
from ..api.models import Me, Offering, as_offering
from ..domain import offering_rules as rules
from ..store.cache import Cache, Filters
from ..store.changes import Changes, DataChanged
from ..store.outbox import Outbox
from ..store.sync import data_as_of
from .outcome import Read, now
from .writes import Write, waiting_ids


class OfferingsService:
    def __init__(self, api: Any, cache: Cache, outbox: Outbox, changes: Changes):
        self._api = api
        self._changes = changes
        self._cache = cache
        self._outbox = outbox

    # --- reads (local: call in a thread) --------------------------------------------------------

    def own(self, me: Me | None) -> tuple[list[Offering], dict[int, tuple[int, int]]]:
        """The provider's offerings (full documents, by title) and (open, contracts) per offering."""
        if me is None:
            return [], {}
        org_id = me.organization.id
        cache = self._cache
        page = cache.search(filters=Filters(provider_id=org_id, status=None), sort="title", limit=10_000)
        offerings = [o for row in page.rows if (o := as_offering(cache.get_offering(row.id))) is not None]
        orders = cache.list_records("orders", where={"provider_id": org_id}, limit=200_000)
        return offerings, rules.count_orders(orders)

    def waiting(self) -> set[int]:
        """Offerings with a change still in the outbox (offline, or the server busy)."""
        return waiting_ids(self._outbox, "offering")

    def remember(self, offerings: list[dict[str, Any]]) -> None:
        """The server's answer (a write's, or a fetch) into the cache."""
        self._cache.upsert_offerings(offerings)
        self._changes.publish(DataChanged.of("offerings", [o["id"] for o in offerings if "id" in o]))

    # --- reads (network) ------------------------------------------------------------------------

    async def fetch_own(self, org_id: int) -> Read[list[dict[str, Any]]]:
        """All the provider's offerings (every state) from the server; offline an empty answer."""
        try:
            items = [item async for item in self._api.iter_items(routes.OFFERINGS, {"provider": org_id})]
        except (ApiError, Unreachable):
            return Read([], await asyncio.to_thread(data_as_of, self._cache, "offerings"), offline=True)
        return Read(items, now())

    async def current(self, offering_id: int) -> tuple[Offering, str | None]:
        """The server's current version and its ETag; raises ``Unreachable`` / ``ApiError``."""
        resp = await self._api.request("GET", routes.offering(offering_id))
        return Offering.model_validate(resp.data), resp.etag

    # --- writes ---------------------------------------------------------------------------------

    @staticmethod
    def create(body: dict[str, Any]) -> Write:
        return Write("offering.create", "POST", routes.OFFERINGS, body)

    @staticmethod
    def patch(offering_id: int, changes: dict[str, Any], if_match: str | None) -> Write:
        return Write("offering.patch", "PATCH", routes.offering(offering_id), changes, if_match,
                     current=routes.offering(offering_id))

    @staticmethod
    def change_status(offering_id: int, action: str) -> Write:
        """``publish`` or ``retire``."""
        return Write(f"offering.{action}", "POST", routes.offering_action(offering_id, action))
