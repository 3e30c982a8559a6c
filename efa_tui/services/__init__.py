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

from typing import Any

from ..store.backend import Backend, Status
from ..store.cache import Cache
from ..store.changes import DataChanged
from ..store.drafts import Drafts
from ..store.outbox import Outbox
from .administration import AdministrationService
from .catalog import CatalogService
from .connection import ConnectionService
from .invoices import InvoicesService
from .offerings import OfferingsService
from .orders import OrdersService
from .outcome import Conflict, Done, FieldError, Outcome, Queued, Read, Refused
from .support import SupportService
from .usage import UsageService
from .writes import DraftService, OutboxService, Write, Writes

__all__ = ["Conflict", "Done", "FieldError", "Outcome", "Queued", "Read", "Refused", "DataChanged", "Services", "Status", "Write"]


class Services:
    def __init__(self, api: Any, cache: Cache, outbox: Outbox, drafts: Drafts, backend: Backend):
        self._backend = backend
        self.writes = Writes(backend, outbox)
        self.outbox = OutboxService(backend, outbox)
        self.drafts = DraftService(drafts)
        self.changes = backend.changes  # DataChanged: what the lists reload on
        self.orders = OrdersService(api, cache, outbox, self.changes)
        self.offerings = OfferingsService(api, cache, outbox, self.changes)
        self.invoices = InvoicesService(api, cache, backend)
        self.usage = UsageService(api, cache)
        self.support = SupportService(cache, self.orders)
        self.catalog = CatalogService(cache)
        self.administration = AdministrationService(api)
        self.connection = ConnectionService(api, cache, backend)

    @property
    def status(self) -> Status:
        """Online or not, syncing, the data's age, the outbox counts."""
        return self._backend.status
