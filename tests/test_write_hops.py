"""The write walk with few hops, counted through the real parts: a 412 carries the version it met
(read once by the service), an interest sent with ctrl+s is one POST that the server sees — its
answer is cached and shown, not fetched again — and the outbox item is not read back."""

from __future__ import annotations

import asyncio
import re
import threading
import time

import httpx
import pytest
from app_support import make_app, make_session, settle
from support import auth, start_server, stop_server
from test_ordering import open_interest_form, orderable_offering, synced, type_into

from efa_tui.screens.order_detail import OrderScreen
from efa_tui.screens.order_forms import InterestForm
from efa_tui.services import Conflict, Done
from efa_tui.services.offerings import OfferingsService
from efa_tui.services.orders import OrdersService

REQUEST = re.compile(r'"(GET|POST|PATCH|PUT|DELETE) (\S+) HTTP/')


class LoggedServer:
    """The reference server with its access log on: every request it answers, as it saw it."""

    def __init__(self, db_url: str):
        self.proc, self.base = start_server(db_url, "--log-level", "info")
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.append(raw.decode(errors="replace"))

    def requests(self) -> list[str]:
        return [f"{m[1]} {m[2]}" for line in list(self.lines) if (m := REQUEST.search(line))]

    def stop(self) -> None:
        stop_server(self.proc)


@pytest.fixture
def logged(db_url):
    server = LoggedServer(db_url)
    yield server
    server.stop()


def _provider_offering(base: str) -> tuple[str, str]:
    me = httpx.get(f"{base}/me", headers=auth("provider")).json()
    offering = httpx.get(f"{base}/offerings", params={"provider": me["organization"]["id"]},
                         headers=auth("provider")).json()["items"][0]
    url = f"{base}/offerings/{offering['id']}"
    return url, httpx.get(url, headers=auth("provider")).headers["ETag"]


def _leitweg(base: str) -> str:
    return httpx.get(f"{base}/me", headers=auth("customer")).json()["organization"]["leitweg_id"]


def test_a_conflict_carries_the_version_it_met(live_server, tmp_path):
    """A stale If-Match: the outcome is a Conflict with the server's current version and its
    ETag (the service read it), and a save on top of that ETag goes through."""
    url, etag = _provider_offering(live_server)
    offering_id = int(url.rsplit("/", 1)[1])
    assert httpx.patch(url, json={"summary": "Kollegin war schneller"},
                       headers=auth("provider", **{"If-Match": etag})).status_code == 200
    now = httpx.get(url, headers=auth("provider"))
    session = make_session(live_server, tmp_path, identity="provider", presync=False)

    async def run():
        try:
            writes = session.services.writes
            outcome = await writes.submit(OfferingsService.patch(offering_id, {"summary": "meine Fassung"}, etag), label="x")
            assert isinstance(outcome, Conflict), outcome
            assert outcome.current is not None and outcome.current["summary"] == "Kollegin war schneller"
            assert outcome.etag == now.headers["ETag"]
            await writes.discard(outcome.item_id)
            again = await writes.submit(OfferingsService.patch(offering_id, {"summary": "meine Fassung"}, outcome.etag),
                                        label="x")
            assert isinstance(again, Done) and again.record["summary"] == "meine Fassung"
            assert again.etag == httpx.get(url, headers=auth("provider")).headers["ETag"]  # the answer's own ETag
        finally:
            await session.aclose()

    asyncio.run(run())


def test_a_stale_step_carries_the_order_as_it_is_now(live_server, tmp_path):
    """The same for an order: a step sent against an old version of the order meets the newer one."""
    offering = orderable_offering(live_server)
    with httpx.Client(base_url=live_server) as http:
        order = http.post("/orders", json={"offering_id": offering["id"], "leitweg_id": _leitweg(live_server), "message": "x"},
                          headers=auth("customer", **{"Idempotency-Key": "hops-stale-1"})).json()
        stale = http.get(f"/orders/{order['id']}", headers=auth("customer")).headers["ETag"]
        assert http.post(f"/orders/{order['id']}/transitions", json={"action": "propose", "fees": {
            "annual_fee": "1000.00", "one_time_fee": "0.00", "distribution_key": "fixed", "vat_rate": "19.00"}},
            headers=auth("provider", **{"Idempotency-Key": "hops-stale-2"})).status_code == 200
        now = http.get(f"/orders/{order['id']}", headers=auth("customer"))
    session = make_session(live_server, tmp_path, identity="customer", presync=False)

    async def run():
        try:
            outcome = await session.services.writes.submit(
                OrdersService.transition(order["id"], "withdraw", if_match=stale), label="x")
            assert isinstance(outcome, Conflict), outcome
            assert outcome.current["state"] == now.json()["state"] == "proposed"
            assert outcome.etag == now.headers["ETag"]
        finally:
            await session.aclose()

    asyncio.run(run())


def test_a_submit_does_not_read_its_outbox_item_back(live_server, tmp_path):
    """The outbox item is stored once and never read back: not after the insert, not per item
    in the flush, not after the attempt. What the outbox is still read for, per submit: the
    pending items to send, what remains after, the status line's counts."""
    offering = orderable_offering(live_server)
    session = make_session(live_server, tmp_path, identity="customer", presync=False)
    local = session.local
    reads: list[str] = []
    original = local.read

    def counted(sql, params=()):
        if "outbox" in sql:
            reads.append(sql)
        return original(sql, params)

    async def run():
        try:
            await session.identify()
            local.read = counted
            outcome = await session.services.writes.submit(
                OrdersService.interest({"offering_id": offering["id"], "leitweg_id": _leitweg(live_server), "message": "hops"}),
                label="Interesse")
        finally:
            del local.read
            await session.aclose()
        return outcome

    outcome = asyncio.run(run())
    assert isinstance(outcome, Done) and outcome.record["state"] == "interest" and outcome.etag
    assert not [sql for sql in reads if "WHERE id = ?" in sql], reads  # the item itself: never read back
    assert len(reads) == 3, reads  # pending before the flush, pending after it, the counts


async def test_ctrl_s_on_an_interest_is_one_post_and_the_answer_is_shown(logged, tmp_path):
    """One ctrl+s on an interest, as the server sees it: the POST, and the timeline of the new
    order for its detail — the order is not fetched again (not by the detail, not by the sync
    the event stream would start: the cache already holds that version)."""
    offering = orderable_offering(logged.base)
    app = make_app(logged.base, tmp_path, identity="customer")
    async with app.run_test(size=(110, 40)) as pilot:
        await open_interest_form(app, pilot, offering["id"])
        await synced(pilot)
        for _ in range(200):  # the event stream is connected (its first request is answered)
            if app.backend.status.mode == "live":
                break
            await pilot.pause(0.05)
        form = app.screen
        assert isinstance(form, InterestForm)
        await type_into(pilot, form.form, "message", "Eins")
        last = app.live.last_id if app.live else None
        before = len(logged.requests())
        await pilot.press("ctrl+s")
        await settle(pilot)
        deadline = time.monotonic() + 20  # the event of the new order reached the client and was handled
        while app.live is not None and app.live.last_id == last and time.monotonic() < deadline:
            await pilot.pause(0.05)
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
        order_id = app.screen.order_id
        assert app.screen.etag and app.screen.events  # the answer's ETag, the timeline
        seen = logged.requests()[before:]
        assert seen == ["POST /api/v1/orders", f"GET /api/v1/orders/{order_id}/events"], seen
        assert app.session.services.orders.cached_order(order_id).state == "interest"  # the answer, cached
