"""Invoices: the cached list, one invoice in full with its check (``store.invoice_detail``), its
XRechnung, lines for the spending chart, the customer's review and the operator's writes
(mark paid, cancel, billing runs)."""

from __future__ import annotations

import asyncio
from typing import Any

from ..api import routes
from ..api.errors import ApiError, Unreachable
from ..api.models import Invoice, as_invoice
from ..store.backend import Backend
from ..store.cache import Cache
from ..store.changes import DataChanged
from ..store.invoice_detail import InvoiceDetail, load_detail
from ..store.sync import data_as_of
from .outcome import Read
from .writes import Write


class InvoicesService:
    def __init__(self, api: Any, cache: Cache, backend: Backend):
        self._api = api
        self._cache = cache
        self._backend = backend

    async def _ready(self) -> Any:
        """The API client, its modules (httpx, the models) loaded off the event loop."""
        await asyncio.to_thread(self._api.get)
        return self._api

    # --- reads (local: call in a thread) --------------------------------------------------------

    def cached(self, *, limit: int = 100_000) -> Read[list[Invoice]]:
        """The cached invoices, as of their last sync (None: never synced yet; blocking)."""
        rows = self._cache.list_records("invoices", limit=limit)
        return Read([Invoice.model_validate(i) for i in rows], as_of=data_as_of(self._cache, "invoices"))

    def cached_invoice(self, invoice_id: int) -> Invoice | None:
        """One invoice as the cache has it (blocking: call in a thread)."""
        return as_invoice(self._cache.get_record("invoices", int(invoice_id)))

    def organization_names(self, ids: list[Any]) -> dict[int, str]:
        out = {}
        for cid in ids:
            if isinstance(cid, int):
                org = self._cache.get_record("organizations", cid)
                if org:
                    out[cid] = org.get("name") or ""
        return out

    def remember(self, invoice: dict[str, Any]) -> None:
        """A fresh copy from the server (a write's answer, as JSON) into the cache."""
        self._cache.upsert_records("invoices", [invoice])
        self._backend.changes.publish(DataChanged.of("invoices", [invoice["id"]]))

    # --- reads (network, the cache offline) -----------------------------------------------------

    async def detail(self, invoice: Invoice) -> InvoiceDetail:
        """The invoice in full with its contracts and check; ``detail.online`` False when the
        cache answered. A refusal (``ApiError``) is raised."""
        api = await self._ready()
        return await load_detail(api, self._cache, invoice, offline=not self._backend.status.online)

    async def with_lines(self, invoices: list[Invoice]) -> list[Invoice]:
        """The invoices with their lines: from the cache where one was opened before, else from
        the server (four at a time); one the server cannot give stays without lines."""
        cache = self._cache
        cached = await asyncio.to_thread(lambda: [as_invoice(cache.get_record("invoices", i.id)) or i for i in invoices])
        missing = [i for i in cached if i.lines is None]
        if not missing or not self._backend.status.online:
            return cached
        api = await self._ready()
        gate = asyncio.Semaphore(4)

        async def fetch(inv: Invoice) -> dict[str, Any] | None:
            async with gate:
                try:
                    full: dict[str, Any] = (await api.request("GET", routes.invoice(inv.id))).data
                    return full
                except (ApiError, Unreachable):
                    return None

        answers = [f for f in await asyncio.gather(*(fetch(i) for i in missing)) if f is not None and f.get("lines") is not None]
        if answers:
            await asyncio.to_thread(cache.upsert_records, "invoices", answers)
        fetched = {inv.id: inv for inv in (Invoice.model_validate(f) for f in answers)}
        return [fetched.get(i.id, i) for i in cached]

    async def xrechnung(self, invoice_id: int) -> bytes:
        """The invoice's XRechnung as the server's bytes; raises ``Unreachable`` / ``ApiError``."""
        xml: bytes = await (await self._ready()).invoice_xml(int(invoice_id))
        return xml

    async def resync(self) -> None:
        """The invoices list from the server again (after a billing run)."""
        await self._backend.refresh(kinds=("invoices",))

    # --- the operator (direct: these need the server now) ---------------------------------------

    async def mark_paid(self, invoice_id: int, idempotency_key: str) -> dict[str, Any]:
        api = await self._ready()
        paid: dict[str, Any] = (await api.request("POST", routes.invoice_pay(invoice_id), idempotency_key=idempotency_key)).data
        return paid

    async def preview_billing_run(self, year: int, *, timeout: float = 120.0) -> dict[str, Any]:
        """What a run for ``year`` would create (the server's dry run: writes nothing)."""
        api = await self._ready()
        resp = await api.request("POST", routes.BILLING_RUNS, json={"year": year, "dry_run": True},
                                 timeout=max(api.timeout, timeout))
        preview: dict[str, Any] = resp.data
        return preview

    async def start_billing_run(self, year: int, confirm_gross_total: str, idempotency_key: str, *,
                                timeout: float = 300.0) -> dict[str, Any]:
        """Bill a year, confirming the preview's gross total (409 when the figures changed since);
        the server answers when the run is done."""
        api = await self._ready()
        resp = await api.request("POST", routes.BILLING_RUNS, json={"year": year, "confirm_gross_total": confirm_gross_total},
                                 idempotency_key=idempotency_key, timeout=max(api.timeout, timeout))
        run: dict[str, Any] = resp.data
        return run

    async def billing_runs(self, *, limit: int = 5) -> list[dict[str, Any]]:
        """The newest runs as the server records them; raises ``Unreachable`` / ``ApiError``."""
        api = await self._ready()
        return list((await api.request("GET", routes.BILLING_RUNS, params={"limit": limit})).data.get("items", []))

    # --- writes through the outbox --------------------------------------------------------------

    @staticmethod
    def review(invoice_id: int, action: str, line_ids: list[int], reason: str, statement: str = "") -> Write:
        """A sign-off (with the ``statement`` the dialog showed), its withdrawal, or a ``dispute`` of
        lines, with a reason."""
        body: dict[str, Any] = {"action": action, "line_ids": line_ids, "reason": reason}
        if statement:
            body["statement"] = statement
        return Write("invoice.review", "POST", routes.invoice_review(invoice_id), body)

    @staticmethod
    def payment(invoice_id: int, body: dict[str, Any]) -> Write:
        """A payment booked by the operator (value date, amount, bank reference)."""
        return Write("invoice.payment", "POST", routes.invoice_payments(invoice_id), body)

    @staticmethod
    def credit_note(invoice_id: int, body: dict[str, Any]) -> Write:
        """A partial credit note for a line or an amount."""
        return Write("invoice.credit_note", "POST", routes.invoice_credit_notes(invoice_id), body)

    @staticmethod
    def cancel(invoice_id: int, reason: str) -> Write:
        return Write("invoice.cancel", "POST", routes.invoice_cancel(invoice_id), {"reason": reason})
