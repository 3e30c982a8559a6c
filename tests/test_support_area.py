"""The support area with Pilot, against the real reference server: find an order by number and
read its audit trail; search by organisation, state and date range across organisations; raw
JSON copied via OSC 52; and no write anywhere — every key of every support screen pressed, nothing
reaches the outbox or the server. Plus: the server's authorization matrix covers every write
route of the API, and refuses each to support."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import httpx
import pytest
from app_support import make_app, screen_text, settle
from support import auth
from test_authz_matrix import MATRIX, ROLES

from efa_tui import formatting, i18n
from efa_tui.api.client import ApiClient
from efa_tui.screens.records import RecordScreen
from efa_tui.screens.support import SupportScreen, TrailScreen
from efa_tui.server.app import Settings, create_app
from efa_tui.store import record_search
from efa_tui.store.record_search import RecordQuery


@pytest.fixture(autouse=True)
def _german():
    i18n.set_language("de")
    yield
    i18n.set_language("de")


@pytest.fixture
def methods(monkeypatch) -> list[str]:
    """Every HTTP method the app sends (through the one API client)."""
    sent: list[str] = []
    original = ApiClient.request

    async def recording(self, method, path, **kwargs):
        sent.append(f"{method.upper()} {path}")
        return await original(self, method, path, **kwargs)

    monkeypatch.setattr(ApiClient, "request", recording)
    return sent


async def open_support(pilot) -> SupportScreen:
    await settle(pilot)
    await pilot.press("4")
    await settle(pilot)
    assert isinstance(pilot.app.screen, SupportScreen), pilot.app.screen
    return pilot.app.screen


async def type_in(pilot, screen: SupportScreen, field: str, text: str) -> None:
    box = screen.query_one(f"#support-{field}")
    box.focus()
    box.value = ""
    await pilot.press(*text)
    await settle(pilot)


def foreign_order(server: str) -> dict:
    """An order of demo-customer-2 (Hamburg) that has a trail of several steps."""
    items = httpx.get(f"{server}/orders", headers=auth("customer2"), params={"limit": 1000}).json()["items"]
    return next(o for o in items if o["state"] in ("ordered", "active"))


async def test_support_finds_an_order_by_number_and_reads_its_trail(server, tmp_path, methods):
    order = foreign_order(server)
    app = make_app(server, tmp_path, identity="support")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_support(pilot)
        assert screen.table.row_count > 10  # every organisation's orders, newest first
        await pilot.press("slash")
        await type_in(pilot, screen, "number", str(order["id"]))
        assert list(screen.records) == [order["id"]]
        text = screen_text(app)
        assert f"#{order['id']}" in text and order["customer"]["name"][:20] in text
        await pilot.press("enter")  # from the number field to the result
        await pilot.press("a")
        await settle(pilot)
        trail = app.screen
        assert isinstance(trail, TrailScreen)
        events = httpx.get(f"{server}/orders/{order['id']}/events", headers=auth("support")).json()["items"]
        assert len(trail.events) == len(events) >= 3
        text = screen_text(app)
        assert f"Verlauf der Bestellung {order['id']}" in text
        assert "Interesse" in text and "Bestellt" in text  # the states as the customer and provider read them
        assert events[0]["actor"]["name"] in text
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("enter")  # the order itself, in the app's order view
        await settle(pilot)
        assert type(app.screen).__name__ == "OrderScreen" and app.screen.order.id == order["id"]
    assert f"GET /orders/{order['id']}/events" in methods
    assert all(m.startswith("GET ") for m in methods), methods


async def test_the_count_line_names_the_filters_it_counts_by(server, tmp_path):
    app = make_app(server, tmp_path, identity="support")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_support(pilot)
        assert "aller Organisationen" in str(screen.query_one("#support-count").render())
        await type_in(pilot, screen, "organisation", "hamburg")
        screen.query_one("#support-state").value = "active"
        await settle(pilot)
        line = str(screen.query_one("#support-count").render())
        assert line.startswith(f"{len(screen.records)} Treffer gefunden")
        assert "Organisation „hamburg“" in line and "Status „Aktiv“" in line
        assert "alle Organisationen" not in line  # it said so whatever the filter was


async def test_the_audit_trail_from_an_order_detail_opened_anywhere(server, tmp_path):
    order = foreign_order(server)
    app = make_app(server, tmp_path, identity="support")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("colon", *f"order {order['id']}", "enter")  # the jump, not the results list
        await settle(pilot)
        assert type(app.screen).__name__ == "OrderScreen"
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, TrailScreen) and app.screen.order.id == order["id"]
        assert f"Verlauf der Bestellung {order['id']}" in screen_text(app)


async def test_jump_to_an_order_by_number(server, tmp_path):
    order = foreign_order(server)
    app = make_app(server, tmp_path, identity="support")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_support(pilot)
        await pilot.press("colon", *f"order {order['id']}", "enter")
        await settle(pilot)
        assert app.current_mode == "support"
        assert type(app.screen).__name__ == "OrderScreen" and app.screen.order.id == order["id"]


async def test_search_across_organisations_by_name_state_and_dates(server, tmp_path):
    app = make_app(server, tmp_path, identity="support")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_support(pilot)
        await type_in(pilot, screen, "organisation", "hamburg")
        found = list(screen.records.values())
        assert found and all("hamburg" in o.customer.name.lower() or "hamburg" in o.provider.name.lower()
                             for o in found)
        customers = {o["customer"]["name"] for o in app.cache.list_records("orders", limit=10_000)}
        assert len(customers) > 1  # the cache holds other organisations too; the filter narrowed it
        screen.query_one("#support-state").value = "active"
        await settle(pilot)
        assert screen.records and all(o.state == "active" for o in screen.records.values())
        await type_in(pilot, screen, "since", "31.12.2099")
        assert screen.records == {}
        await type_in(pilot, screen, "since", "31.13.2026")
        assert "nicht lesbar" in screen_text(app)

        await pilot.press("escape", "t")  # invoices
        await settle(pilot)
        assert screen.kind == "invoices"
        await type_in(pilot, screen, "since", "")
        await type_in(pilot, screen, "organisation", "")
        invoices = app.cache.list_records("invoices", limit=5)
        if not invoices:
            pytest.skip("no invoices in the demo data")
        await type_in(pilot, screen, "number", invoices[0]["number"])
        assert list(screen.records) == [invoices[0]["id"]]


def test_record_search_headless(tmp_path):
    """The search rules without the screen: number, organisation, offering, state, date range."""
    from efa_tui.store.cache import Cache

    cache = Cache(tmp_path / "c.sqlite3")
    orders = [
        {"id": 1, "state": "active", "customer": {"id": 5, "name": "Landeshauptstadt München"}, "provider": {"id": 9, "name": "AKDB"},
         "offering": {"id": 3, "title": "Wohngeld digital"}, "created_at": "2026-03-02T10:00:00Z", "updated_at": "2026-03-02T10:00:00Z"},
        {"id": 2, "state": "interest", "customer": {"id": 6, "name": "Freie und Hansestadt Hamburg"},
         "provider": {"id": 8, "name": "Dataport"}, "offering": {"id": 4, "title": "Elterngeld"},
         "created_at": "2026-05-20T10:00:00Z", "updated_at": "2026-05-20T10:00:00Z"},
    ]
    cache.upsert_records("orders", orders)
    try:
        def ids(**q):
            return [o.id for o in record_search.find(cache, RecordQuery(**q))]

        assert ids(number="#2") == [2] and ids(number="x") == [] and ids(number="3") == []
        assert ids(organisation="MÜNCHEN") == [1] and ids(organisation="dataport") == [2]
        assert ids(offering="wohngeld") == [1] and ids(state="interest") == [2]
        assert ids(since=date(2026, 4, 1)) == [2] and ids(until=date(2026, 4, 1)) == [1]
        assert ids(since=date(2026, 3, 2), until=date(2026, 3, 2)) == [1]
        assert ids() == [2, 1]
    finally:
        cache.close()
    # The date filters read dates as every form does (formatting.parse_day).
    assert formatting.parse_day("1.3.26") == date(2026, 3, 1) and formatting.parse_day("2026-03-01") == date(2026, 3, 1)
    with pytest.raises(formatting.InputError):
        formatting.parse_day("30.2.2026")


async def test_raw_json_is_pretty_scrollable_and_copied_via_osc52(server, tmp_path):
    app = make_app(server, tmp_path, identity="support")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_support(pilot)
        screen.table.focus()
        await pilot.press("J")
        await settle(pilot)
        raw = app.screen
        assert isinstance(raw, RecordScreen)
        assert '"state":' in screen_text(app) and raw.body.startswith("{\n  ")
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == raw.body
        box = raw.query_one("#record")
        await pilot.press("j", "j", "j")
        await pilot.pause()
        assert box.scroll_y > 0


# Keys that leave the screen or the app rather than act in it.
LEAVING = {"app.pop_screen", "close", "app.quit", "quit", "app.back"}


async def press_every_key(pilot, screen) -> list[str]:
    """Press each key bound on ``screen`` (one key per binding), coming back to it after each."""
    pressed = []
    for key, bindings in list(screen._bindings.key_to_bindings.items()):
        if all(b.action in LEAVING for b in bindings):
            continue
        await pilot.press(key)
        await settle(pilot)
        pressed.append(key)
        while pilot.app.screen is not screen and len(pilot.app.screen_stack) > 1:
            pilot.app.pop_screen()
            await settle(pilot)
    return pressed


async def test_support_has_no_write_action_anywhere(server, tmp_path, methods):
    order = foreign_order(server)
    app = make_app(server, tmp_path, identity="support")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_support(pilot)
        screen.table.focus()
        pressed = await press_every_key(pilot, screen)
        assert {"t", "a", "J"} <= set(pressed)
        if screen.kind != "orders":
            await pilot.press("t")
            await settle(pilot)
        screen.table.focus()
        # The screens one reaches from here: the trail, the raw record, the order itself.
        await type_in(pilot, screen, "number", str(order["id"]))
        screen.table.focus()
        for key in ("a", "J", "enter"):
            await pilot.press(key)
            await settle(pilot)
            inner = app.screen
            assert inner is not screen, key
            await press_every_key(pilot, inner)
            # …including the order view's step keys, which are the provider's and customer's: every
            # letter and ctrl+s on it, as a support user would try them.
            for letter in "abcdefghijklmnoprstuvwxyz":
                await pilot.press(letter)
                await settle(pilot)
                while app.screen is not inner and len(app.screen_stack) > 2:
                    app.pop_screen()
                    await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            while app.screen is not screen:
                app.pop_screen()
                await settle(pilot)
            screen.table.focus()
        assert app.session.outbox.counts() == {}
    assert f"GET /orders/{order['id']}/events" in methods  # the recording sees what the screens send
    writes = [m for m in methods if not m.startswith("GET ")]
    assert writes == [], writes


# --- the server refuses support writes: the matrix covers every write route ---------------------------------


def _template(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_authorization_matrix_covers_every_write_route_and_refuses_support(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'm.sqlite3'}", allow_demo_tokens=True))
    writes = {(method.upper(), _template(path.removeprefix("/api/v1")))
              for path, ops in app.openapi()["paths"].items() for method in ops if method.upper() in ("POST", "PATCH", "PUT", "DELETE")}
    assert len(writes) >= 10, writes
    covered = {(method, _template(path)) for method, path, *_ in MATRIX}
    assert not writes - covered, f"write routes missing from the authorization matrix: {sorted(writes - covered)}"
    support = ROLES.index("support")
    refused = {(method, path, target): statuses[support] for method, path, target, *statuses in MATRIX if method != "GET"}
    assert refused and set(refused.values()) == {403}, refused


async def test_support_area_in_english(server, tmp_path):
    app = make_app(server, tmp_path, identity="support")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_support(pilot)
        assert "Eingang" in screen_text(app)
        await app.action_toggle_language()
        await settle(pilot)
        text = screen_text(app)
        assert "Received" in text and "Eingang" not in text


async def test_a_credit_note_reads_as_in_the_invoices_list(server, tmp_path):
    """The walk: the support search showed a credit note as "gestellt" with a positive amount —
    two identical open invoices of Köln, where the invoices list says "-12.969,16 € Gutschrift"."""
    notes = [i for i in httpx.get(f"{server}/invoices", params={"limit": 1000}, headers=auth("support"), timeout=30)
             .json()["items"] if i["kind"] == "credit_note"]
    assert notes, "the demo marketplace has credit notes"
    note = notes[0]
    app = make_app(server, tmp_path, identity="support")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_support(pilot)
        await pilot.press("escape", "t")  # invoices
        await settle(pilot)
        await type_in(pilot, screen, "number", note["number"])
        row = [str(cell) for cell in screen.table.get_row(str(note["id"]))]
        assert i18n.t("invoices.state.credit_note") in row
        assert formatting.money(-Decimal(note["gross"])) in row


def _terminated(app) -> tuple[set[int], set[int]]:
    """The terminated contracts in the cache: those that still run, those that have ended."""
    today = formatting.today()
    running, ended = set(), set()
    for raw in app.cache.list_records("orders", where={"state": "terminated"}, limit=10_000):
        end = date.fromisoformat(raw["end_date"]) if raw.get("end_date") else None
        (ended if end is None or end < today else running).add(raw["id"])
    return running, ended


async def test_support_finds_ended_contracts_and_invoices_by_the_words_their_rows_show(server, tmp_path):
    """Walk F6: no "Beendet" to filter by, and "Gekündigt" listed ended contracts; F4: invoices were
    filtered by "gestellt" while their rows said "offen" or "Gutschrift"."""
    app = make_app(server, tmp_path, identity="support")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_support(pilot)
        running, ended = _terminated(app)
        assert running and ended  # the demo has both
        state = screen.query_one("#support-state")
        labels = [str(label) for label, _ in state._options]
        assert "Beendet" in labels and "Gekündigt" in labels
        state.value = "ended"
        await settle(pilot)
        assert set(screen.records) == ended
        assert "Status „Beendet“" in str(screen.query_one("#support-count").render())
        state.value = "terminating"
        await settle(pilot)
        assert set(screen.records) == running

        await pilot.press("escape", "t")  # invoices
        await settle(pilot)
        assert screen.kind == "invoices"
        labels = [str(label) for label, _ in screen.query_one("#support-state")._options]
        assert "offen" in labels and "Gutschrift" in labels and "gestellt" not in labels
        screen.query_one("#support-state").value = "credit_note"
        await settle(pilot)
        assert screen.records and all(inv.kind == "credit_note" for inv in screen.records.values())
        assert "Gutschrift" in screen_text(app)


async def test_the_orders_list_filters_ended_contracts_apart_from_running_ones(server, tmp_path):
    app = make_app(server, tmp_path, identity="support")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        orders = app.screen
        running, ended = _terminated(app)
        state = orders.query_one("#orders-state")
        assert f"Beendet ({len(ended)})" in [str(label) for label, _ in state._options]
        state.value = "ended"
        await settle(pilot)
        table = orders.query_one("#orders-table")
        assert {o.id for o in table._source.orders} == ended
        state.value = "terminating"
        await settle(pilot)
        assert {o.id for o in table._source.orders} == running


async def test_the_audit_trail_key_is_offered_for_orders_only(server, tmp_path):
    """Walk F5: in invoice mode the footer still offered `a Verlauf`, which only said that
    invoices have none."""
    app = make_app(server, tmp_path, identity="support")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_support(pilot)
        screen.table.focus()
        await settle(pilot)
        assert "Verlauf" in screen_text(app).splitlines()[-1]
        await pilot.press("t")  # invoices
        await settle(pilot)
        assert screen.kind == "invoices"
        assert "Verlauf" not in screen_text(app).splitlines()[-1]
        await pilot.press("a")
        await settle(pilot)
        assert app.screen is screen and not app._notifications


async def test_no_results_offer_no_trail_and_no_raw_data(server, tmp_path):
    """After a search with no hit the footer still offered "J Rohdaten (JSON)", and J answered
    "Kein Eintrag ausgewählt" (helper walk)."""
    app = make_app(server, tmp_path, identity="support")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_support(pilot)
        assert screen.records and screen.check_action("raw", ())
        await type_in(pilot, screen, "organisation", "zzzz keine solche")
        await settle(pilot)
        assert not screen.records
        assert not screen.check_action("raw", ()) and not screen.check_action("trail", ())
        assert "Rohdaten" not in screen_text(app).splitlines()[-1]
