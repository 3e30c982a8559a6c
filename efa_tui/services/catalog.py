"""The catalog: every offering, searched and faceted in the local cache (FTS5), one offering in
full. Everything here is local SQLite and blocking: call it in a thread worker. The data's age
is ``Services.status.as_of["offerings"]``."""

from __future__ import annotations

from ..api.models import Offering, as_offering
from ..store.cache import Cache, Filters, SearchPage

__all__ = ["CatalogService", "Filters", "SearchPage"]


class CatalogService:
    def __init__(self, cache: Cache):
        self._cache = cache

    def search(self, query: str = "", *, filters: Filters | None = None, sort: str = "title", offset: int = 0,
               limit: int = 100, exact: bool = True) -> SearchPage:
        """One window of the matching offerings (rows and the total). ``exact=False``: rows
        first — a broad query's total may be an estimate (``page.exact``); ``count`` says it."""
        return self._cache.search(query, filters=filters, sort=sort, offset=offset, limit=limit, exact=exact)

    def count(self, query: str = "", *, filters: Filters | None = None) -> int:
        return self._cache.count(query, filters=filters)

    def facets(self, query: str = "", *, filters: Filters | None = None) -> dict[str, list[tuple[str, int]]]:
        return self._cache.facets(query, filters=filters)

    def offering_count(self) -> int:
        """Offerings in the catalog: the published ones (a provider's cache also holds its own
        drafts and retired offerings, which the catalog does not list)."""
        return self._cache.count("", filters=Filters())

    def provider_id(self, name: str) -> int | None:
        return self._cache.provider_id(name)

    def offering(self, offering_id: int) -> Offering | None:
        return as_offering(self._cache.get_offering(int(offering_id)))
