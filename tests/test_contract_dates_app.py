"""Contract dates in the terminal (Pilot, against the reference server over HTTP): the activation
form proposes the earliest start the terms allow and refuses an earlier one at the field; a
terminated contract reads "Gekündigt zum …" until its last day."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
import pytest
from app_support import make_app, screen_text, settle
from support import auth
from test_ordering import SIZE, jump, open_step, synced

from efa_tui import formatting, i18n
from efa_tui.domain.orders import termination_window
from efa_tui.screens.order_detail import OrderScreen


@pytest.fixture(autouse=True)
def _german():
    i18n.set_language("de")
    yield
    i18n.set_language("de")


def _post(base: str, who: str, path: str, body: dict) -> dict:
    r = httpx.post(f"{base}{path}", json=body, headers=auth(who, **{"Idempotency-Key": str(uuid.uuid4())}), timeout=30)
    assert r.status_code in (200, 201), r.text
    return r.json()


def _ordered(base: str) -> dict:
    provider = httpx.get(f"{base}/me", headers=auth("provider")).json()["organization"]["id"]
    offering = httpx.get(f"{base}/offerings", params={"provider": provider, "status": "published", "limit": 1},
                         headers=auth("customer")).json()["items"][0]
    order = _post(base, "customer", "/orders", {"offering_id": offering["id"], "message": "Test"})
    _post(base, "provider", f"/orders/{order['id']}/transitions", {"action": "propose"})
    return _post(base, "customer", f"/orders/{order['id']}/transitions", {"action": "order"})


async def test_activation_proposes_the_earliest_allowed_start_and_refuses_earlier(live_server, tmp_path):
    order = _ordered(live_server)
    today = date.today()
    app = make_app(live_server, tmp_path, identity="provider")
    async with app.run_test(size=SIZE) as pilot:
        form = await open_step(pilot, order["id"], "a")
        assert form.form.value("start_date") == formatting.day_input(today)
        assert "frühestens" in screen_text(app).lower()
        form.form.set_value("start_date", formatting.day_input(today - timedelta(days=10)))
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # refused at the field, nothing sent
        assert f"Frühestens {formatting.day(today)}" in screen_text(app)
        form.form.set_value("start_date", formatting.day_input(today))
        await pilot.press("ctrl+s")
        await settle(pilot, 5)
        assert isinstance(app.screen, OrderScreen) and app.screen.order.state == "active"


async def test_a_terminated_contract_reads_gekuendigt_zum_until_it_ends(live_server, tmp_path):
    order = _ordered(live_server)
    today = date.today()
    active = _post(live_server, "provider", f"/orders/{order['id']}/transitions", {"action": "activate", "start_date": today.isoformat()})
    ended = _post(live_server, "customer", f"/orders/{order['id']}/transitions", {"action": "terminate"})
    window = termination_window(today, today, minimum_term_months=active["minimum_term_months"],
                                notice_months=active["notice_period_months"])
    assert ended["end_date"] == window.earliest.isoformat()
    app = make_app(live_server, tmp_path, identity="customer")
    async with app.run_test(size=SIZE) as pilot:
        await synced(pilot)
        await jump(pilot, f"order {order['id']}")
        assert f"Gekündigt zum {formatting.day(window.earliest)}" in screen_text(app)
    from efa_tui.api.models import Order
    from efa_tui.screens.order_detail import state_text

    ended = Order.model_validate(ended)
    assert state_text(ended, window.earliest) == f"Gekündigt zum {formatting.day(window.earliest)}"
    assert state_text(ended, window.earliest + timedelta(days=1)) == "Beendet"
