"""The live client in the TUI: another client writes, this one shows it without a key press —
lists, counts, the inbox and the status line — and keeps the user's cursor and typed text."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from app_support import make_app, screen_text
from support import auth
from test_events import interest
from textual.widgets import Input, Static

from efa_tui import i18n
from efa_tui.widgets.chrome import StatusLine
from efa_tui.widgets.virtual_table import VirtualTable

WAIT = 30.0  # a limit for what should come at once, not a measure


@pytest.fixture(autouse=True)
def _german():
    i18n.set_language("de")
    yield
    i18n.set_language("de")


async def until(pilot, condition, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "did not happen in time:\n" + screen_text(pilot.app)
        await pilot.pause(0.1)


def status_text(app) -> str:
    lines = app.screen.query(StatusLine)
    return str(lines.first().render()) if lines else ""


async def live(pilot) -> None:
    await until(pilot, lambda: pilot.app.backend.status.mode == "live" and pilot.app.live.last_id is not None)


async def test_a_new_interest_shows_in_the_providers_inbox_by_itself(live_server, tmp_path):
    app = make_app(live_server, tmp_path, identity="provider")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2")
        await live(pilot)
        await until(pilot, lambda: "live" in status_text(app))
        inbox = app.screen.query_one("#orders-inbox", Static)
        table = app.screen.query_one(VirtualTable)
        await until(pilot, lambda: table.total > 3 and not table.is_loading)
        table.focus()
        table.move_cursor(3)
        await pilot.pause()
        assert app.focused is table
        place = table.cursor_key
        before = str(inbox.render())
        order = await asyncio.to_thread(interest, live_server)
        await until(pilot, lambda: str(inbox.render()) != before)
        await until(pilot, lambda: "1 neu" in status_text(app))
        # The user's place is kept: the same record under the cursor (the new one came in above it).
        assert table.cursor_key == place and app.focused is table
        # w opens what waits: the new interest.
        await pilot.press("w")
        await until(pilot, lambda: getattr(app.screen, "order_id", None) == order["id"])
        assert "neu" not in status_text(app)


async def test_catalog_counts_follow_publish_and_retire_while_typing(live_server, tmp_path):
    app = make_app(live_server, tmp_path, identity="customer")
    async with app.run_test(size=(100, 30)) as pilot:
        await live(pilot)
        await pilot.press("slash")
        for key in "livetest":
            await pilot.press(key)
        box = app.screen.query_one(Input)
        count = app.screen.query_one("#count", Static)
        await until(pilot, lambda: str(count.render()).startswith("0 von"))
        total = int(str(count.render()).split(" von ")[1].split()[0].replace(".", ""))
        with httpx.Client(base_url=live_server) as http:
            body = {"title": "Livetest Angebot", "category": "Bildung", "annual_fee": "10.00", "one_time_fee": "0.00",
                    "distribution_key": "fixed", "vat_rate": "0.00"}
            offering = http.post("/offerings", json=body, headers=auth("provider")).json()
            assert http.post(f"/offerings/{offering['id']}/publish", headers=auth("provider")).status_code == 200
        await until(pilot, lambda: str(count.render()).startswith(f"1 von {total + 1}"))
        assert box.value == "livetest" and app.focused is box  # typed text and focus kept
        with httpx.Client(base_url=live_server) as http:
            assert http.post(f"/offerings/{offering['id']}/retire", headers=auth("provider")).status_code == 200
        await until(pilot, lambda: str(count.render()).startswith(f"0 von {total}"))
        assert box.value == "livetest"


async def test_a_customer_sees_the_proposal_in_the_open_order(live_server, tmp_path):
    order = await asyncio.to_thread(interest, live_server)
    app = make_app(live_server, tmp_path, identity="customer")
    async with app.run_test(size=(100, 30)) as pilot:
        await live(pilot)
        app.run_jump(f"order {order['id']}")
        await until(pilot, lambda: getattr(app.screen, "order_id", None) == order["id"]
                    and app.screen.order.state == "interest")
        with httpx.Client(base_url=live_server) as http:
            r = http.post(f"/orders/{order['id']}/transitions", json={"action": "propose"}, headers=auth("provider"))
            assert r.status_code == 200, r.text
        await until(pilot, lambda: app.screen.order.state == "proposed")
        await until(pilot, lambda: "Status: Entgeltvorschlag" in screen_text(app) and "1 neu" in status_text(app))
        assert any("Entgeltvorschlag" in str(n.message) for n in app._notifications)


async def test_the_status_line_says_why_the_server_ended_the_stream(live_server, tmp_path):
    """The token is revoked while the TUI follows the stream: the server's last event, ``closed``,
    becomes "Verbindung beendet: Zugang widerrufen" (before: the line went quiet, still "online")."""
    app = make_app(live_server, tmp_path, identity="customer")
    async with app.run_test(size=(80, 24)) as pilot:
        await live(pilot)
        token_id = httpx.get(f"{live_server}/me", headers=auth("customer")).json()["token"]["id"]
        revoked = await asyncio.to_thread(httpx.delete, f"{live_server}/tokens/{token_id}", headers=auth("operator"))
        assert revoked.status_code == 204
        await until(pilot, lambda: app.backend.status.closed == "token-revoked")
        await until(pilot, lambda: "Verbindung beendet: Zugang widerrufen" in status_text(app))
        i18n.set_language("en")
        app.screen.query_one(StatusLine).show(app.backend.status)
        assert "Connection ended: access revoked" in status_text(app)
