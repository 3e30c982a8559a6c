"""The service layer: one door per area between the screens and everything headless.

Screens talk to ``Services`` (``session.services``) only — never to the API client, the cache,
the outbox or the drafts. Each area's service reads from the local cache (with the data's age
and an offline answer) and builds its writes with the paths from ``api.routes``; every write goes
through ``writes.submit`` and ends in one ``Outcome`` (``outcome.py``). Headless: no Textual.

=============  ==========================================================
``catalog``     offerings for everyone: search, facets, one offering
``orders``      orders: list, detail and timeline, interest, transitions
``invoices``    invoices: list, detail with its check, XRechnung, review
``offerings``   a provider's own offerings: list, edit, publish, retire
``usage``       usage reports of per-case contracts
``support``     search across everything, audit trail (read only)
``administration``  organisations, users, tokens, audit log (live, never cached)
``outbox``      writes not accepted yet: list, send again, discard
``writes``      the one way to send a write (used by every area)
``drafts``      what a form holds and has not sent
``connection``  for the app's wiring: status, sync, flush, the event stream, records by id
=============  ==========================================================
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..store.backend import Backend, Status
from ..store.cache import Cache
from ..store.changes import DataChanged
from ..store.drafts import Drafts
from ..store.outbox import Outbox
from .catalog import CatalogService
from .connection import ConnectionService
from .outcome import Conflict, Done, FieldError, Outcome, Queued, Read, Refused
from .writes import DraftService, OutboxService, Write, Writes

if TYPE_CHECKING:
    from .administration import AdministrationService
    from .invoices import InvoicesService
    from .offerings import OfferingsService
    from .orders import OrdersService
    from .support import SupportService
    from .usage import UsageService

__all__ = ["Conflict", "Done", "FieldError", "Outcome", "Queued", "Read", "Refused", "DataChanged", "Services", "Status", "Write"]


class Services:
    """The catalog, the writes, the outbox, the drafts and the app's connection are made at once;
    every other area's service when it is first used — with its imports (the API client and
    its models, the invoice check …), which the first paint of the catalog does not wait for."""

    def __init__(self, api: Any, cache: Cache, outbox: Outbox, drafts: Drafts, backend: Backend):
        self._api = api
        self._cache = cache
        self._outbox = outbox
        self._backend = backend
        self.writes = Writes(backend, outbox)
        self.outbox = OutboxService(backend, outbox)
        self.drafts = DraftService(drafts)
        self.changes = backend.changes  # DataChanged: what the lists reload on
        self.catalog = CatalogService(cache)
        self.connection = ConnectionService(api, cache, backend)

    @cached_property
    def orders(self) -> OrdersService:
        from .orders import OrdersService

        return OrdersService(self._api, self._cache, self._outbox, self.changes, self.drafts)

    @cached_property
    def offerings(self) -> OfferingsService:
        from .offerings import OfferingsService

        return OfferingsService(self._api, self._cache, self._outbox, self.changes)

    @cached_property
    def invoices(self) -> InvoicesService:
        from .invoices import InvoicesService

        return InvoicesService(self._api, self._cache, self._backend)

    @cached_property
    def usage(self) -> UsageService:
        from .usage import UsageService

        return UsageService(self._api, self._cache)

    @cached_property
    def support(self) -> SupportService:
        from .support import SupportService

        return SupportService(self._cache, self.orders)

    @cached_property
    def administration(self) -> AdministrationService:
        from .administration import AdministrationService

        return AdministrationService(self._api)

    @property
    def status(self) -> Status:
        """Online or not, syncing, the data's age, the outbox counts."""
        return self._backend.status
