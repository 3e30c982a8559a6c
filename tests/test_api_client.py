"""The wire layer (efa_tui.api) over real HTTP.

* Against the reference server (one uvicorn process for the module, on a fresh copy of the demo
  database; writes use fresh uuid Idempotency-Keys and fresh records, so tests stay independent):
  every typed call, the error mapping, and every model against every item the server returns.
* Against a tiny misbehaving HTTP server on a real socket (below): retries, Retry-After, broken
  connections, and which writes may be retried at all.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime

import pytest
from pydantic import BaseModel
from support import TOKENS, start_server, stop_server

from efa_tui.api import (
    ApiClient,
    ApiError,
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ServerError,
    Unauthorized,
    Unreachable,
    ValidationFailed,
    is_retryable_status,
)
from efa_tui.api.errors import NotTheApi, parse_retry_after
from efa_tui.api.models import (
    BillingRun,
    Fees,
    Invoice,
    Me,
    Offering,
    Order,
    OrderEvent,
    Organization,
    Page,
    UsageReport,
)


def run(coro):
    return asyncio.run(coro)


def key() -> str:
    return str(uuid.uuid4())


@pytest.fixture(scope="module")
def server(demo_template, tmp_path_factory):
    """Like ``live_server``, but one process for the whole module (start-up costs a second)."""
    path = tmp_path_factory.mktemp("api_client") / "marketplace.sqlite3"
    shutil.copy(demo_template, path)
    proc, base = start_server(f"sqlite:///{path}")
    try:
        yield base
    finally:
        stop_server(proc)


def client(base: str, who: str, **kw) -> ApiClient:
    return ApiClient(base, TOKENS.get(who, who), **kw)


# --- models agree with the server, field for field ------------------------------------------------

# Fields a model declares that some answers legitimately leave out.
MAY_BE_ABSENT: dict[type, set[str]] = {
    Offering: {"tombstone"},
    Invoice: {"lines", "vat_breakdown", "payments", "review_history", "credit_notes"},  # only on one invoice fetched by id
    Fees: {"unit_label"},  # orders' agreed fees have none
    Page: {"total", "sync_position", "resync"},  # on the first page of a delta sync only
}


def assert_same_shape(obj: BaseModel, raw: dict, where: str) -> None:
    """The model declares exactly the fields the server sends (recursively): a renamed, added
    or removed field on either side fails here, not in a screen."""
    kind = type(obj)
    fields, keys = set(kind.model_fields), set(raw)
    if getattr(obj, "tombstone", False):
        assert keys <= fields and {"id", "status", "updated_at"} <= keys, f"{where}: tombstone {sorted(keys)}"
        return
    allowed = next((v for k, v in MAY_BE_ABSENT.items() if issubclass(kind, k)), set())
    assert not (keys - fields), f"{where}: server sends fields the model lacks: {sorted(keys - fields)}"
    assert not (fields - keys - allowed), f"{where}: model expects fields the server lacks: {sorted(fields - keys - allowed)}"
    for name in fields & keys:
        value, sub = getattr(obj, name), raw[name]
        if isinstance(value, BaseModel) and isinstance(sub, dict):
            assert_same_shape(value, sub, f"{where}.{name}")
        elif isinstance(value, list) and isinstance(sub, list):
            for i, (v, s) in enumerate(zip(value, sub, strict=True)):
                if isinstance(v, BaseModel):
                    assert_same_shape(v, s, f"{where}.{name}[{i}]")


LISTS = {
    "/organizations": Organization, "/offerings": Offering, "/orders": Order, "/invoices": Invoice,
    "/usage": UsageReport, "/billing/runs": BillingRun,
}


@pytest.mark.parametrize("who", ["operator", "customer"])
def test_models_parse_every_item_the_demo_server_returns(server, who):
    async def go():
        seen: dict[str, int] = {}
        async with client(server, who) as api:
            me = await api.me()
            assert_same_shape(me, (await api.request("GET", "/me")).data, "me")
            queries = [(path, {}) for path in LISTS] + [("/offerings", {"updated_since": "1970-01-01T00:00:00Z"}),
                                                      ("/offerings", {"status": "retired"})]
            for path, params in queries:
                if path == "/billing/runs" and who == "customer":
                    with pytest.raises(Forbidden):
                        await api.request("GET", path)
                    continue
                model = LISTS[path]
                n = 0
                async for resp in api.iter_pages(path, params, limit=25):  # several pages each
                    page = Page[model].model_validate(resp.data)
                    assert_same_shape(page, resp.data, path)
                    assert resp.etag
                    for item, raw in zip(page.items, resp.data["items"], strict=True):
                        assert_same_shape(item, raw, f"{path}/{raw['id']}")
                    n += len(page.items)
                seen[f"{path}{params}"] = n
            # Items fetched one by one carry more (invoice lines, VAT breakdown, events).
            for inv in (await api.list_invoices(limit=5)).items:
                raw = (await api.request("GET", f"/invoices/{inv.id}")).data
                full = Invoice.model_validate(raw)
                assert full.lines and full.vat_breakdown
                assert_same_shape(full, raw, f"invoice {inv.id}")
                assert sum((x.net for x in full.lines), Decimal(0)) == full.net
            for order in (await api.list_orders(limit=5)).items:
                raw = (await api.request("GET", f"/orders/{order.id}/events")).data["items"]
                for ev in raw:
                    assert_same_shape(OrderEvent.model_validate(ev), ev, f"order {order.id} event")
        return me, seen

    me, seen = run(go())
    assert me.role == who and me.organization.id > 0
    assert seen["/organizations{}"] > 40 and seen["/offerings{}"] > 60 and seen["/orders{}"] > 0
    assert seen["/invoices{}"] > 0 and seen["/usage{}"] > 0


def test_tombstones_parse(server):
    async def go():
        async with client(server, "customer") as api:
            items = [i async for i in api.iter_items("/offerings", {"updated_since": "1970-01-01T00:00:00Z"})]
        return [Offering.model_validate(i) for i in items]

    offerings = run(go())
    stones = [o for o in offerings if o.tombstone]
    assert stones, "the demo has retired offerings, which a customer's delta sync sees as tombstones"
    assert all(s.title == "" and s.fees is None and s.updated_at is not None for s in stones)


# --- typed calls, happy paths ------------------------------------------------------------------------

def test_typed_reads(server):
    async def go():
        async with client(server, "customer") as api:
            assert await api.health()
            me = await api.me()
            page = await api.list_offerings(limit=5, status="published")
            offering = await api.get_offering(page.items[0].id)
            same = await api.request("GET", f"/offerings/{offering.id}", if_none_match=offering.etag)
            orders = await api.list_orders(limit=3)
            order = await api.get_order(orders.items[0].id)
            events = await api.order_events(order.id)
            invoices = await api.list_invoices()
            invoice = await api.get_invoice(invoices.items[0].id)
            xml = await api.invoice_xml(invoice.id)
            usage = await api.list_usage(limit=2)
            orgs = await api.list_organizations(kind="operator")
            org = await api.get_organization(me.organization.id)
        async with client(server, "operator") as api:
            runs = await api.list_billing_runs()
            one_run = await api.get_billing_run(runs.items[0].id)
        return locals()

    r = run(go())
    assert isinstance(r["me"], Me) and r["me"].role == "customer" and r["me"].can_order
    assert len(r["page"].items) == 5 and r["page"].next_cursor and r["page"].etag
    offering = r["offering"]
    assert isinstance(offering, Offering) and offering.etag and isinstance(offering.fees.annual_fee, Decimal)
    assert offering.provider.name and isinstance(offering.updated_at, datetime)
    assert r["same"].not_modified and r["same"].data is None and r["same"].etag == offering.etag
    assert isinstance(r["order"], Order) and r["order"].customer.id == r["me"].organization.id
    assert r["events"] and all(isinstance(e, OrderEvent) and e.actor.role for e in r["events"])
    assert r["events"][0].action == "create" and r["events"][0].from_state is None
    invoice = r["invoice"]
    assert isinstance(invoice, Invoice) and invoice.lines and invoice.gross == invoice.net + invoice.vat
    assert all(i.lines is None for i in r["invoices"].items)
    assert r["xml"].startswith(b"<?xml") and invoice.number.encode() in r["xml"]
    assert r["usage"].items and isinstance(r["usage"].items[0], UsageReport)
    assert {o.kind for o in r["orgs"].items} == {"operator"} and r["org"].id == r["me"].organization.id
    assert isinstance(r["one_run"], BillingRun) and r["one_run"].status == "done"


def test_offering_lifecycle_and_write_errors(server):
    body = {"title": "Digitale Hundesteuer", "summary": "Anmeldung und Abmeldung online", "category": "Steuern & Zoll",
            "annual_fee": Decimal("1200.00"), "one_time_fee": "300.00", "distribution_key": "per_inhabitant",
            "unit_price": Decimal("4.50"), "unit_label": "je 1.000 Einwohner"}

    async def go():
        async with client(server, "provider") as api:
            k = key()
            draft = await api.create_offering(body, idempotency_key=k)
            replay = await api.create_offering(body, idempotency_key=k)  # same key, same body: same answer
            edited = await api.patch_offering(draft.id, {"title": "Hundesteuer digital"}, if_match=draft.etag)
            with pytest.raises(PreconditionFailed) as stale:
                await api.patch_offering(draft.id, {"title": "lost update"}, if_match=draft.etag)
            with pytest.raises(PreconditionRequired):
                await api.request("PATCH", f"/offerings/{draft.id}", json={"title": "x"})
            published = await api.publish_offering(draft.id, idempotency_key=key())
            retired = await api.retire_offering(draft.id, idempotency_key=key())
            with pytest.raises(ValidationFailed) as invalid:
                await api.create_offering({**body, "title": ""}, idempotency_key=key())
            other = await api.create_offering({**body, "title": "Wird verworfen"}, idempotency_key=key())
            await api.discard_offering(other.id)
            with pytest.raises(NotFound) as gone:
                await api.get_offering(other.id)
            count = api.request_count
        return locals()

    r = run(go())
    draft = r["draft"]
    assert draft.status == "draft" and draft.fees.annual_fee == Decimal("1200.00") and draft.fees.unit_price == Decimal("4.50")
    assert r["replay"].id == draft.id
    assert r["edited"].title == "Hundesteuer digital" and r["edited"].etag != draft.etag
    err = r["stale"].value
    assert err.status == 412 and err.type == "/problems/stale-etag" and err.body["current_etag"] == r["edited"].etag
    assert r["published"].status == "published" and r["published"].published_at
    assert r["retired"].status == "retired"
    invalid = r["invalid"].value
    assert invalid.errors[0].field == "title" and invalid.errors[0].message and invalid.field_errors()["title"]
    assert "no offering" in r["gone"].value.detail
    assert r["count"] == 11  # no error above was retried


def test_order_flow_usage_and_events(server):
    async def go():
        async with client(server, "provider") as prov, client(server, "customer") as cust:
            me = await prov.me()
            offering = (await cust.list_offerings(provider=me.organization.id, status="published", limit=1)).items[0]
            order = await cust.create_order({"offering_id": offering.id, "message": "Bitte um Angebot",
                                             "desired_start": date(2026, 1, 1)}, idempotency_key=key())
            with pytest.raises(Conflict) as wrong_state:
                await cust.transition(order.id, "order", idempotency_key=key())
            proposed = await prov.transition(order.id, "propose", idempotency_key=key(), note="wie besprochen",
                                             fees={"annual_fee": Decimal("1000.00"), "distribution_key": "per_case",
                                                   "unit_price": Decimal("0.50")})
            seen = await cust.get_order(order.id)
            ordered = await cust.transition(order.id, "order", idempotency_key=key(), if_match=seen.etag)
            # A contract starts on the day of its binding order at the earliest; usage only in its term.
            active = await prov.transition(order.id, "activate", idempotency_key=key(), start_date=date.today())
            usage = await prov.report_usage(order.id, date.today().year, date.today().month, 42, idempotency_key=key())
            listed = await prov.list_usage(order_id=order.id)
            events = await cust.order_events(order.id)
        return locals()

    r = run(go())
    assert r["order"].state == "interest" and r["order"].desired_start == date(2026, 1, 1)
    err = r["wrong_state"].value
    assert err.type == "/problems/invalid-transition" and err.body["allowed_actions"] == ["withdraw"]
    assert r["proposed"].state == "proposed" and r["proposed"].fees.annual_fee == Decimal("1000.00")
    assert r["ordered"].state == "ordered" and r["ordered"].ordered_by and r["ordered"].ordered_at
    assert r["active"].state == "active" and r["active"].start_date == date.today()
    assert r["ordered"].minimum_term_months is not None and r["ordered"].notice_period_months is not None
    assert (r["usage"].order_id, r["usage"].month, r["usage"].cases) == (r["order"].id, date.today().month, 42)
    assert [u.id for u in r["listed"].items] == [r["usage"].id]
    assert [e.action for e in r["events"]] == ["create", "propose", "order", "activate"]
    assert r["events"][1].note == "wie besprochen" and r["events"][1].actor.role == "provider"


def test_invoice_review_pay_cancel_and_billing(server):
    async def go():
        async with client(server, "customer") as cust, client(server, "operator") as op:
            mine = (await cust.list_invoices(status="issued", kind="invoice")).items[0]
            full = await cust.get_invoice(mine.id)
            checked = await cust.review_invoice(mine.id, "arithmetic_ok", idempotency_key=key())
            disputed = await cust.review_invoice(mine.id, "dispute", idempotency_key=key(),
                                                 line_ids=[full.lines[0].id], reason="Beginn war später")
            with pytest.raises(Forbidden):
                await cust.pay_invoice(mine.id, idempotency_key=key())
            others = [i for i in (await op.list_invoices(status="issued", kind="invoice", limit=1000)).items
                      if i.customer.id != mine.customer.id]
            paid = await op.pay_invoice(others[0].id, idempotency_key=key())
            credit = await op.cancel_invoice(others[1].id, "falscher Empfänger", idempotency_key=key())
            cancelled = await op.get_invoice(others[1].id)
            preview = await op.preview_billing_run(date.today().year)
            run_ = await op.start_billing_run(date.today().year, preview["gross_total"], idempotency_key=key())
        return locals()

    r = run(go())
    assert r["checked"].review.arithmetic_ok_by and r["checked"].review.arithmetic_ok_at
    assert [h.action for h in r["disputed"].review_history] == ["arithmetic_ok", "dispute"]
    line = r["disputed"].lines[0]
    assert line.dispute and line.dispute.reason == "Beginn war später" and line.dispute.at
    assert r["paid"].status == "paid" and r["paid"].paid_at and r["paid"].open_amount == 0
    assert r["paid"].payments and r["paid"].payments[0].amount == r["paid"].gross
    credit, cancelled = r["credit"], r["cancelled"]
    assert credit.kind == "credit_note" and credit.cancels_invoice == cancelled.number and credit.gross == cancelled.gross
    assert cancelled.status == "cancelled" and cancelled.cancelled_at
    # Everyone is billed for this year already, except the customer whose invoice was just cancelled.
    billing = r["run_"]
    assert r["preview"]["invoices_to_create"] == 1 and billing.gross_total == Decimal(r["preview"]["gross_total"])
    assert billing.year == date.today().year and billing.status == "done" and billing.invoices_created == 1
    assert billing.started_by and billing.started_by.name
    assert billing.skipped and {s["reason"] for s in billing.skipped} <= {"already_billed", "nothing_to_bill", "no_operator"}


def test_error_mapping(server):
    async def go():
        errors = {}
        async with client(server, "customer") as api:
            for name, call in {
                "not_found": api.get_order(999_999),
                "invalid": api.create_order({"offering_id": 999_999}, idempotency_key=key()),
                "forbidden": api.start_billing_run(2026, "0.00", idempotency_key=key()),
                "bad_params": api.list_orders(sort="nonsense"),
            }.items():
                try:
                    await call
                except ApiError as exc:
                    errors[name] = exc
            count = api.request_count
        async with ApiClient(server, "not-a-token-4711") as api:
            try:
                await api.me()
            except ApiError as exc:
                errors["unauthorized"] = exc
        return errors, count

    errors, count = run(go())
    nf = errors["not_found"]
    assert isinstance(nf, NotFound) and nf.status == 404 and nf.detail == "no order 999999"
    assert str(nf) == "404 Not Found: no order 999999" and nf.problem == "not-found"
    assert nf.body == {"type": "/problems/not-found", "title": "Not Found", "status": 404, "detail": "no order 999999",
                       "detail_de": "Bestellung 999999 nicht gefunden"}
    invalid = errors["invalid"]
    assert isinstance(invalid, ValidationFailed) and invalid.errors[0].field == "offering_id"
    assert invalid.errors[0].code == "not_found"
    assert isinstance(errors["forbidden"], Forbidden) and "operator" in errors["forbidden"].detail
    assert isinstance(errors["bad_params"], ValidationFailed) and errors["bad_params"].errors[0].field == "sort"
    un = errors["unauthorized"]
    assert isinstance(un, Unauthorized) and un.detail == "unknown token"
    assert "not-a-token-4711" not in str(un) and "not-a-token-4711" not in repr(un)
    assert count == 4  # none of those is worth a retry


def test_pagination_follows_cursors(server):
    async def go():
        async with client(server, "operator") as api:
            pages = [p async for p in api.iter_pages("/organizations", limit=7)]
            items = [i async for i in api.iter_items("/organizations", {"kind": "customer"}, limit=7)]
            whole = await api.list_organizations(limit=1000)
        return pages, items, whole

    pages, items, whole = run(go())
    assert len(pages) > 2 and all(len(p.data["items"]) == 7 for p in pages[:-1]) and pages[-1].data["next_cursor"] is None
    assert [i["id"] for p in pages for i in p.data["items"]] == [o.id for o in whole.items]
    assert items and {i["kind"] for i in items} == {"customer"}


# --- a misbehaving server on a real socket ---------------------------------------------------------

TOKEN = "s3cret-token-for-the-fault-tests"


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    at: float


def reply(status: int, body: dict | bytes | None = None, headers: dict[str, str] | None = None,
          content_type: str = "application/json") -> bytes:
    payload = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
    lines = [f"HTTP/1.1 {status} X", f"Content-Type: {content_type}", f"Content-Length: {len(payload)}",
             "Connection: close", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


OK = reply(200, {"ok": True}, {"ETag": '"v1"'})
UNAVAILABLE = reply(503, {"type": "/problems/service-unavailable", "title": "Service Unavailable", "status": 503,
                          "detail": "maintenance"}, {"Retry-After": "1"}, "application/problem+json")
CLOSE = None  # read the request, then hang up without a word


class FaultServer:
    """HTTP/1.1 on 127.0.0.1, one request per connection; ``plan(n)`` gives the raw answer to the
    n-th request (1-based), or CLOSE."""

    def __init__(self, plan):
        self.plan = plan
        self.requests: list[Seen] = []

    async def __aenter__(self) -> FaultServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.base_url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/api/v1"
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            first, *rest = head.split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in rest if x)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            method, target, _ = first.split(" ", 2)
            self.requests.append(Seen(method, target, headers, body, time.monotonic()))
            answer = self.plan(len(self.requests))
            if answer is not None:
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def first_n(n: int, bad: bytes | None, then: bytes = OK):
    return lambda i: bad if i <= n else then


def test_get_retried_after_503_honouring_retry_after():
    async def go():
        async with FaultServer(first_n(2, UNAVAILABLE)) as srv:
            async with ApiClient(srv.base_url, TOKEN, retry_attempts=4, retry_timeout=10) as api:
                resp = await api.request("GET", "/offerings", params={"limit": 5})
                return resp, api.request_count, srv.requests

    resp, count, seen = run(go())
    assert resp.status == 200 and resp.data == {"ok": True} and resp.etag == '"v1"'
    assert count == 3 == len(seen)
    assert seen[1].at - seen[0].at >= 1.0 and seen[2].at - seen[1].at >= 1.0  # waited as told
    assert seen[0].target == "/api/v1/offerings?limit=5" and seen[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_retries_give_up_within_budget_and_only_when_allowed():
    async def go():
        out = {}
        async with FaultServer(lambda i: UNAVAILABLE) as srv:
            async with ApiClient(srv.base_url, TOKEN, retry_attempts=5, retry_timeout=0.5) as api:
                with pytest.raises(ServerError) as exc:
                    await api.request("GET", "/me")  # Retry-After 1 s > the 0.5 s budget: give up now
                out["budget"] = (exc.value, api.request_count)
            async with ApiClient(srv.base_url, TOKEN) as api:
                with pytest.raises(ServerError):
                    await api.request("GET", "/me", retry=False)
                out["disabled"] = api.request_count
        return out

    out = run(go())
    err, count = out["budget"]  # given up at once: one request, no wait (counted, not timed)
    assert err.retry_after == 1.0 and err.detail == "maintenance" and count == 1
    assert out["disabled"] == 1


def test_broken_connection_retry_rules():
    async def go():
        out = {}
        async with FaultServer(first_n(1, CLOSE)) as srv:
            async with ApiClient(srv.base_url, TOKEN, retry_attempts=3, retry_timeout=5) as api:
                out["get"] = (await api.request("GET", "/orders"), api.request_count)
        async with FaultServer(first_n(1, CLOSE)) as srv:
            async with ApiClient(srv.base_url, TOKEN, retry_attempts=3, retry_timeout=5) as api:
                with pytest.raises(Unreachable) as exc:
                    await api.request("POST", "/orders", json={"offering_id": 1})  # no key: may have happened
                out["post"] = (exc.value, api.request_count, len(srv.requests))
        async with FaultServer(first_n(1, CLOSE, reply(201, {"id": 7}))) as srv:
            async with ApiClient(srv.base_url, TOKEN, retry_attempts=3, retry_timeout=5) as api:
                resp = await api.request("POST", "/orders", json={"offering_id": 1, "fee": Decimal("1.50")},
                                         idempotency_key="k-123")
                out["keyed"] = (resp, api.request_count, srv.requests)
        return out

    out = run(go())
    resp, count = out["get"]
    assert resp.status == 200 and count == 2
    exc, count, seen = out["post"]
    assert count == 1 and seen == 1 and "connection broken" in exc.reason and exc.__cause__ is not None
    assert TOKEN not in str(exc) and TOKEN not in repr(exc)
    resp, count, seen = out["keyed"]
    assert resp.status == 201 and resp.data == {"id": 7} and count == 2 == len(seen)
    assert [s.headers["idempotency-key"] for s in seen] == ["k-123", "k-123"]
    assert seen[0].body == seen[1].body == b'{"offering_id":1,"fee":"1.50"}'


def test_idempotency_in_progress_is_retried_other_conflicts_not():
    def conflict(kind: str, headers: dict[str, str] | None = None) -> bytes:
        doc = {"type": f"/problems/{kind}", "title": "Conflict", "status": 409, "detail": kind}
        return reply(409, doc, headers, "application/problem+json")

    cases = {
        "idempotency-in-progress": first_n(2, conflict("idempotency-in-progress", {"Retry-After": "0"})),
        # a concurrent write won a race; the server forgot the key and invites a retry
        "conflict": first_n(1, conflict("conflict", {"Retry-After": "0"})),
        "invalid-state": lambda i: conflict("invalid-state"),  # retrying cannot help
    }

    async def go():
        out = {}
        for name, plan in cases.items():
            async with FaultServer(plan) as srv:
                async with ApiClient(srv.base_url, TOKEN, retry_attempts=4, retry_timeout=5) as api:
                    try:
                        out[name] = ((await api.request("POST", "/offerings/1/publish", idempotency_key="k")).status,
                                     api.request_count)
                    except Conflict as exc:
                        out[name] = (exc.problem, api.request_count)
        return out

    out = run(go())
    assert out == {"idempotency-in-progress": (200, 3), "conflict": (200, 2), "invalid-state": ("invalid-state", 1)}


def test_odd_error_bodies_do_not_crash():
    html = reply(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html")
    empty = reply(500, b"")
    plain = reply(418, b"I am a teapot", content_type="text/plain")
    answers = {1: html, 2: empty, 3: plain}

    async def go():
        out = []
        async with FaultServer(lambda i: answers[i]) as srv:
            async with ApiClient(srv.base_url, TOKEN) as api:
                for _ in answers:
                    try:
                        await api.request("GET", "/me", retry=False)
                    except (ApiError, NotTheApi) as exc:
                        out.append(exc)
        return out

    bad_gateway, crash, teapot = run(go())
    assert isinstance(bad_gateway, ServerError) and bad_gateway.status == 502 and bad_gateway.body == {}
    assert bad_gateway.detail == "" and bad_gateway.type == "about:blank" and str(bad_gateway).startswith("502")
    assert isinstance(crash, ServerError) and crash.status == 500
    # A 4xx that is no problem document comes from some other web server, not the marketplace API.
    assert isinstance(teapot, NotTheApi) and teapot.status == 418 and "text/plain" in str(teapot)


def test_connection_refused_is_unreachable_quickly():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens here once the socket is closed

    async def go():
        async with ApiClient(f"http://127.0.0.1:{port}/api/v1", TOKEN, retry_attempts=2, retry_timeout=2) as api:
            with pytest.raises(Unreachable) as exc:
                await api.list_offerings()
            health = await api.health()
            return exc.value, api.request_count, health, repr(api)

    # "Quickly" is the number of attempts (two, then one health probe), not a time: a time bound
    # fails on a loaded machine.
    exc, count, health, rep = run(go())
    assert count == 3 and health is False
    assert exc.reason.startswith("cannot connect") and exc.__cause__ is not None and not isinstance(exc, ApiError)
    assert TOKEN not in str(exc) and TOKEN not in repr(exc) and TOKEN not in rep and str(port) in rep


def test_token_never_logged(caplog):
    caplog.set_level(logging.DEBUG)

    async def go():
        async with FaultServer(first_n(1, CLOSE, UNAVAILABLE)) as srv:
            async with ApiClient(srv.base_url, TOKEN, retry_attempts=2, retry_timeout=0.5) as api:
                with pytest.raises(ServerError):
                    await api.request("GET", "/me")

    run(go())
    assert any(r.name == "efa_tui.api" and "/me -> 503" in r.getMessage() for r in caplog.records)
    assert any(r.name == "stamina" for r in caplog.records)  # the retry was logged, with its cause
    # Not in any message nor in any extra field (stamina logs the cause's repr).
    assert TOKEN not in caplog.text and not [r for r in caplog.records if TOKEN in str(vars(r))]


def test_retry_after_parsing_and_retryable_statuses():
    assert parse_retry_after("3") == 3.0 and parse_retry_after("120") == 30.0 and parse_retry_after("-1") == 0.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    assert 8 <= parse_retry_after(later) <= 10
    assert [s for s in (400, 404, 408, 409, 412, 425, 429, 500, 501, 502, 503, 504) if is_retryable_status(s)] == \
        [408, 425, 429, 500, 502, 503, 504]
