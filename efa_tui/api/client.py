"""The async HTTP client of the marketplace API.

One ``request()`` does the wire work: auth, conditional headers, problem+json → exceptions,
transport failures → ``Unreachable``, and retries where they are safe. Retries are safe for
reads, and for writes the server can recognise as a repeat (an Idempotency-Key, or an If-Match
that a second application would fail). A retried write sends the very same bytes and key.

The typed convenience methods below it only build paths and bodies and parse the answer.
"""

from __future__ import annotations

import importlib.util
import json as jsonlib
import logging
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import httpx
import stamina

from .. import __version__
from . import routes
from .errors import (
    RETRYABLE_CONFLICTS,
    ApiError,
    Conflict,
    Unreachable,
    answer_error,
    connection_failure,
    is_retryable_status,
)
from .events import StreamEvent, stream_events
from .models import (
    ApiModel,
    BillingRun,
    Invoice,
    Me,
    Offering,
    Order,
    OrderEvent,
    Organization,
    Page,
    UsageReport,
)

log = logging.getLogger("efa_tui.api")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

M = TypeVar("M", bound=ApiModel)
# Told how every contact with the server went: None when the marketplace answered (a refusal
# too), else the failure (``Unreachable``, ``NotTheApi``, ``ServerError``). The status line's one
# source (store/backend.py): online is what the last request said, not what a probe said earlier.
ContactListener = Callable[[Exception | None], None]


@dataclass
class ApiResponse:
    status: int
    data: Any  # parsed JSON; raw bytes for other media types (XML); None for 304/204/empty
    etag: str | None
    headers: httpx.Headers

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def _json_default(value: Any) -> Any:
    # Money as a string with its exact digits, never via float, never with an exponent
    # (str(Decimal("1.2E+3")) would be "1.2E+3", which the server refuses).
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def encode_json(value: Any) -> bytes:
    return jsonlib.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":")).encode()


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value


def clean_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Query parameters without Nones; lists stay lists (repeated parameters, e.g. ``state``)."""
    out: dict[str, Any] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, set, frozenset)):
            out[key] = [_query_value(v) for v in value if v is not None]
        else:
            out[key] = _query_value(value)
    return out


def _verify(verify: bool | str) -> bool | ssl.SSLContext:
    # httpx 0.28 deprecates a CA path as str: build the context ourselves.
    if isinstance(verify, str):
        path = Path(verify)
        if path.is_dir():
            return ssl.create_default_context(capath=str(path))
        return ssl.create_default_context(cafile=str(path))
    return verify


class ApiClient:
    """Async client of one marketplace, as one user (the token's)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        verify: bool | str = True,
        http2: bool = False,
        retry_attempts: int = 6,
        retry_timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str = f"efa-tui/{__version__}",
        retry_wait_initial: float = 0.1,
        retry_wait_max: float = 5.0,
        retry_wait_jitter: float = 0.5,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry_attempts = max(1, retry_attempts)
        self.retry_timeout = retry_timeout
        self.retry_wait_initial = retry_wait_initial
        self.retry_wait_max = retry_wait_max
        self.retry_wait_jitter = retry_wait_jitter
        self.request_count = 0
        self._listeners: list[ContactListener] = []
        if http2 and importlib.util.find_spec("h2") is None:
            log.warning("HTTP/2 asked for, but the h2 package is not installed: using HTTP/1.1")
            http2 = False
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            headers={"Accept": "application/json", "User-Agent": user_agent},
            timeout=httpx.Timeout(timeout),
            verify=_verify(verify),
            http2=http2,
            transport=transport,
            # uvicorn drops idle connections after 5 s: let ours go first, so that a request is
            # not written into a connection the server is closing (a broken POST without a key
            # would not be retried).
            limits=httpx.Limits(keepalive_expiry=4.0),
            follow_redirects=False,
        )
        self.set_token(token)

    def watch(self, listener: ContactListener) -> None:
        """``listener(failure)`` after every attempt of every request and on every contact of the
        event stream: None when the marketplace answered, else what failed (called at once, so
        the status says so before the retries are over)."""
        self._listeners.append(listener)

    def _contact(self, failure: Exception | None) -> None:
        for listener in list(self._listeners):
            try:
                listener(failure)
            except Exception:  # noqa: BLE001 - a listener must not break the request
                log.warning("a contact listener failed", exc_info=True)

    def set_token(self, token: str) -> None:
        self._http.headers["Authorization"] = f"Bearer {token}"

    def __repr__(self) -> str:
        return f"<ApiClient {self.base_url}>"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # --- the wire ---------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        retry: bool | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        probe: bool = False,
    ) -> ApiResponse:
        """Send one request (and its retries); raise ``ApiError`` for status ≥ 400 and
        ``Unreachable`` when no answer came (``NotTheApi`` when the answer is not the marketplace
        API's). 304 is an answer: ``resp.not_modified``. ``probe``: a health check, whose success
        says only that the server is there — not that its requests work — so only its failure is
        told to the watchers."""
        method = method.upper()
        hdrs: dict[str, str] = dict(headers or {})
        if idempotency_key is not None:
            hdrs["Idempotency-Key"] = idempotency_key
        if if_match is not None:
            hdrs["If-Match"] = if_match
        if if_none_match is not None:
            hdrs["If-None-Match"] = if_none_match
        content = None
        if json is not None:
            content = encode_json(json)  # once: every retry sends the same bytes
            hdrs["Content-Type"] = "application/json"
        query = clean_params(params)
        if retry is None:
            retry = method in SAFE_METHODS or idempotency_key is not None or if_match is not None
        rel = path.lstrip("/")
        if not retry or self.retry_attempts <= 1 or self.retry_timeout <= 0:
            return await self._send(method, rel, query, content, hdrs, timeout, probe)

        deadline = time.monotonic() + self.retry_timeout

        def on(exc: Exception) -> bool | float:
            return _retry_decision(exc, deadline)

        async for attempt in stamina.retry_context(
            on=on, attempts=self.retry_attempts, timeout=self.retry_timeout,
            wait_initial=self.retry_wait_initial, wait_max=self.retry_wait_max, wait_jitter=self.retry_wait_jitter,
        ):
            with attempt:
                return await self._send(method, rel, query, content, hdrs, timeout, probe)
        raise AssertionError("unreachable: stamina either returns or raises")  # pragma: no cover

    async def _send(self, method: str, rel: str, query: dict[str, Any], content: bytes | None,
                    headers: dict[str, str], timeout: float | None, probe: bool = False) -> ApiResponse:
        self.request_count += 1
        started = time.perf_counter()
        limit = httpx.USE_CLIENT_DEFAULT if timeout is None else httpx.Timeout(timeout)
        try:
            resp = await self._http.request(method, rel, params=query or None, content=content, headers=headers,
                                            timeout=limit)
        except httpx.TransportError as exc:
            ms = (time.perf_counter() - started) * 1000
            log.debug("%s /%s failed after %.0f ms: %s", method, rel, ms, type(exc).__name__)
            failure = Unreachable.from_transport(exc)
            self._contact(failure)
            raise failure from exc
        ms = (time.perf_counter() - started) * 1000
        log.debug("%s /%s -> %s in %.0f ms", method, rel, resp.status_code, ms)
        error = answer_error(resp, headers.get("Accept") or str(self._http.headers.get("Accept", "")))
        if error is not None and connection_failure(error):
            self._contact(error)
        elif not probe:
            self._contact(None)
        if error is not None:
            raise error
        return ApiResponse(status=resp.status_code, data=_body(resp), etag=resp.headers.get("etag"), headers=resp.headers)

    # --- pagination -------------------------------------------------------------------------

    async def iter_pages(self, path: str, params: Mapping[str, Any] | None = None, *,
                         limit: int = 1000) -> AsyncIterator[ApiResponse]:
        """Every page of a list, following ``next_cursor``; each page as the raw response
        (its ``data`` has ``items`` and ``next_cursor``, its ``etag`` the page's ETag)."""
        query = {**(params or {}), "limit": limit}
        query.pop("cursor", None)
        cursor = (params or {}).get("cursor")
        while True:
            resp = await self.request("GET", path, params={**query, "cursor": cursor})
            yield resp
            cursor = resp.data.get("next_cursor") if isinstance(resp.data, dict) else None
            if not cursor:
                return

    async def iter_items(self, path: str, params: Mapping[str, Any] | None = None, *,
                         limit: int = 1000) -> AsyncIterator[dict[str, Any]]:
        async for page in self.iter_pages(path, params, limit=limit):
            for item in page.data.get("items", []):
                yield item

    # --- typed helpers ----------------------------------------------------------------------

    @staticmethod
    def _one(resp: ApiResponse, model: type[M]) -> M:
        obj = model.model_validate(resp.data)
        obj._etag = resp.etag
        return obj

    async def _get_one(self, path: str, model: type[M]) -> M:
        return self._one(await self.request("GET", path), model)

    async def _page(self, path: str, model: type[M], params: Mapping[str, Any]) -> Page[M]:
        resp = await self.request("GET", path, params=params)
        page = Page[model].model_validate(resp.data)  # type: ignore[valid-type]
        page._etag = resp.etag
        return page

    async def _post(self, path: str, model: type[M], body: Any, idempotency_key: str | None, *,
                    if_match: str | None = None, timeout: float | None = None) -> M:
        resp = await self.request("POST", path, json=body, idempotency_key=idempotency_key, if_match=if_match,
                                  timeout=timeout)
        return self._one(resp, model)

    async def health(self, *, timeout: float = 5.0) -> bool:
        """True when the server answers its health check; never raises, never retries."""
        try:
            resp = await self.request("GET", routes.HEALTH, retry=False, timeout=min(self.timeout, timeout), probe=True)
        except (ApiError, Unreachable):
            return False
        return isinstance(resp.data, dict) and resp.data.get("status") == "ok"

    async def events(self, last_id: int | None, **options: Any) -> AsyncIterator[StreamEvent]:
        """The server's event stream from ``last_id`` on (see api/events.py). Its contacts are
        told to the watchers like a request's: the stream open (``ready``) is the server
        answering; a broken or silent stream, or a failing answer, is a failure."""
        try:
            async for event in stream_events(self._http, last_id, **options):
                if event.name == "ready":
                    self._contact(None)
                yield event
        except Exception as exc:
            if connection_failure(exc):
                self._contact(exc)
            raise

    async def me(self) -> Me:
        return await self._get_one(routes.ME, Me)

    # organisations

    async def list_organizations(self, **params: Any) -> Page[Organization]:
        return await self._page(routes.ORGANIZATIONS, Organization, params)

    async def get_organization(self, org_id: int) -> Organization:
        return await self._get_one(routes.organization(org_id), Organization)

    # offerings

    async def list_offerings(self, **params: Any) -> Page[Offering]:
        return await self._page(routes.OFFERINGS, Offering, params)

    async def get_offering(self, offering_id: int) -> Offering:
        return await self._get_one(routes.offering(offering_id), Offering)

    async def create_offering(self, body: Mapping[str, Any], idempotency_key: str) -> Offering:
        return await self._post(routes.OFFERINGS, Offering, dict(body), idempotency_key)

    async def patch_offering(self, offering_id: int, changes: Mapping[str, Any], if_match: str) -> Offering:
        resp = await self.request("PATCH", routes.offering(offering_id), json=dict(changes), if_match=if_match)
        return self._one(resp, Offering)

    async def publish_offering(self, offering_id: int, idempotency_key: str) -> Offering:
        return await self._post(routes.offering_action(offering_id, "publish"), Offering, None, idempotency_key)

    async def retire_offering(self, offering_id: int, idempotency_key: str) -> Offering:
        return await self._post(routes.offering_action(offering_id, "retire"), Offering, None, idempotency_key)

    async def discard_offering(self, offering_id: int) -> None:
        """Delete a draft (204). Not retried: a repeat after a lost answer would say 404."""
        await self.request("DELETE", routes.offering(offering_id))

    # orders

    async def list_orders(self, **params: Any) -> Page[Order]:
        return await self._page(routes.ORDERS, Order, params)

    async def get_order(self, order_id: int) -> Order:
        return await self._get_one(routes.order(order_id), Order)

    async def create_order(self, body: Mapping[str, Any], idempotency_key: str) -> Order:
        return await self._post(routes.ORDERS, Order, dict(body), idempotency_key)

    async def transition(
        self, order_id: int, action: str, *, idempotency_key: str, note: str = "",
        fees: Mapping[str, Any] | None = None, start_date: date | str | None = None,
        end_date: date | str | None = None, if_match: str | None = None,
    ) -> Order:
        body: dict[str, Any] = {"action": action, "note": note}
        if fees is not None:
            body["fees"] = dict(fees)
        if start_date is not None:
            body["start_date"] = start_date
        if end_date is not None:
            body["end_date"] = end_date
        return await self._post(routes.order_transitions(order_id), Order, body, idempotency_key, if_match=if_match)

    async def order_events(self, order_id: int) -> list[OrderEvent]:
        resp = await self.request("GET", routes.order_events(order_id))
        return [OrderEvent.model_validate(x) for x in resp.data.get("items", [])]

    # invoices

    async def list_invoices(self, **params: Any) -> Page[Invoice]:
        return await self._page(routes.INVOICES, Invoice, params)

    async def get_invoice(self, invoice_id: int) -> Invoice:
        return await self._get_one(routes.invoice(invoice_id), Invoice)

    async def invoice_xml(self, invoice_id: int) -> bytes:
        """The XRechnung (CII XML) of an invoice, as the server's bytes."""
        resp = await self.request("GET", routes.invoice_xrechnung(invoice_id), headers={"Accept": "application/xml"})
        data = resp.data
        return data if isinstance(data, bytes) else encode_json(data)

    async def review_invoice(self, invoice_id: int, action: str, *, idempotency_key: str,
                             line_ids: Iterable[int] = (), reason: str = "") -> Invoice:
        body = {"action": action, "line_ids": [int(x) for x in line_ids], "reason": reason}
        return await self._post(routes.invoice_review(invoice_id), Invoice, body, idempotency_key)

    async def pay_invoice(self, invoice_id: int, idempotency_key: str) -> Invoice:
        return await self._post(routes.invoice_pay(invoice_id), Invoice, None, idempotency_key)

    async def cancel_invoice(self, invoice_id: int, reason: str, idempotency_key: str) -> Invoice:
        """Cancel an issued invoice; answers the credit note that cancels it."""
        return await self._post(routes.invoice_cancel(invoice_id), Invoice, {"reason": reason}, idempotency_key)

    # usage

    async def report_usage(self, order_id: int, year: int, month: int, cases: int, idempotency_key: str,
                           replaces: int | None = None) -> UsageReport:
        """``replaces``: the figure already reported for that month that this one replaces."""
        body: dict[str, int] = {"order_id": int(order_id), "year": int(year), "month": int(month), "cases": int(cases)}
        if replaces is not None:
            body["replaces"] = int(replaces)
        return await self._post(routes.USAGE, UsageReport, body, idempotency_key)

    async def list_usage(self, **params: Any) -> Page[UsageReport]:
        return await self._page(routes.USAGE, UsageReport, params)

    # billing

    async def preview_billing_run(self, year: int, *, timeout: float | None = None) -> dict[str, Any]:
        """What a billing run for ``year`` would create (the server's dry run; writes nothing):
        ``invoices_to_create``, ``net_total``, ``gross_total``, ``invoices``, ``skipped``."""
        resp = await self.request("POST", routes.BILLING_RUNS, json={"year": int(year), "dry_run": True},
                                  timeout=timeout or max(self.timeout, 120.0))
        preview: dict[str, Any] = resp.data
        return preview

    async def start_billing_run(self, year: int, confirm_gross_total: Decimal | str, idempotency_key: str, *,
                                timeout: float | None = None) -> BillingRun:
        """Bill a year, confirming the preview's gross total (409 ``Conflict`` when the figures
        changed since); the server answers when the run is done, so the timeout is generous."""
        body = {"year": int(year), "confirm_gross_total": Decimal(str(confirm_gross_total))}
        return await self._post(routes.BILLING_RUNS, BillingRun, body, idempotency_key,
                                timeout=timeout or max(self.timeout, 120.0))

    async def get_billing_run(self, run_id: int) -> BillingRun:
        return await self._get_one(routes.billing_run(run_id), BillingRun)

    async def list_billing_runs(self, **params: Any) -> Page[BillingRun]:
        return await self._page(routes.BILLING_RUNS, BillingRun, params)


def _body(resp: httpx.Response) -> Any:
    if resp.status_code in (204, 304) or not resp.content:
        return None
    ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json" or ctype.endswith("+json"):
        try:
            return resp.json()
        except ValueError:
            return resp.content
    return resp.content


def _retry_decision(exc: Exception, deadline: float) -> bool | float:
    """stamina's hook: False = give up; True = back off exponentially; a float = wait exactly
    that long (the server's Retry-After)."""
    if isinstance(exc, Unreachable):
        return exc.retryable
    if not isinstance(exc, ApiError):
        return False
    if isinstance(exc, Conflict):
        retryable = exc.type in RETRYABLE_CONFLICTS or exc.retry_after is not None
    else:
        retryable = is_retryable_status(exc.status)
    if not retryable:
        return False
    if exc.retry_after is None:
        return True
    if time.monotonic() + exc.retry_after > deadline:
        # Waiting as told would overrun the retry budget: let the caller decide now.
        return False
    return float(exc.retry_after)
