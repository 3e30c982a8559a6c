"""Ordering end to end in the terminal, against the real reference server: a customer's interest,
the provider's proposal, the binding order, the activation — switching identities as the people
would; forbidden steps are not offered (and the server refuses them); field errors at the field;
drafts survive closing the app; an interest made offline arrives exactly once."""

from __future__ import annotations

import shutil
from decimal import Decimal

import httpx
from app_support import make_app, screen_text, settle
from support import auth, post_interest, start_server, stop_server

from efa_tui import i18n
from efa_tui.screens.confirm import ConfirmScreen
from efa_tui.screens.offering_detail import OfferingScreen
from efa_tui.screens.order_detail import ConfirmOrderScreen, OrderScreen
from efa_tui.screens.order_forms import InterestForm, ProposalForm, StepForm
from efa_tui.screens.orders import OrdersScreen
from efa_tui.widgets.form import Form
from efa_tui.widgets.virtual_table import VirtualTable

SIZE = (110, 40)


def orderable_offering(base: str) -> dict:
    """A published offering (not priced by target group) of the demo provider (AKDB) with no order of the customer yet."""
    with httpx.Client(base_url=base) as http:
        provider = http.get("/me", headers=auth("provider")).json()["organization"]["id"]
        ordered = {o["offering"]["id"] for o in http.get("/orders", params={"limit": 500}, headers=auth("customer")).json()["items"]}
        items = http.get("/offerings", params={"provider": provider, "status": "published", "limit": 200}, headers=auth("customer")).json()["items"]
    return next(o for o in items if o["fees"]["distribution_key"] != "target_group" and o["id"] not in ordered)


def orders_of(base: str, offering_id: int, who: str = "customer") -> list[dict]:
    with httpx.Client(base_url=base) as http:
        items = http.get("/orders", params={"offering_id": offering_id, "limit": 100}, headers=auth(who)).json()["items"]
    return items


class OwnServer:
    """A server of the test's own on a copy of the demo database, stopped and started again on
    the same port (the app must come back online by itself)."""

    def __init__(self, demo_template, tmp_path):
        self.path = tmp_path / "m.sqlite3"
        shutil.copy(demo_template, self.path)
        self.proc, self.base = start_server(f"sqlite:///{self.path}")
        self.port = int(self.base.split(":")[2].split("/")[0])

    def stop(self) -> None:
        stop_server(self.proc)

    def start(self) -> None:
        self.proc, _ = start_server(f"sqlite:///{self.path}", port=self.port)


def quick_probing_app(base: str, tmp_path):
    """The customer's app, checking often whether the server is back."""
    app = make_app(base, tmp_path / "client", identity="customer")
    app.backend.probe_min = 0.2
    app.backend.probe_max = 0.5
    return app


async def synced(pilot) -> None:
    """Wait until the app has talked to the server: /me known, first sync done."""
    await settle(pilot)
    pilot.app._start_session_once()
    await settle(pilot)


async def open_offering(app, pilot, offering_id: int) -> None:
    await synced(pilot)
    app.push_screen(OfferingScreen(app.session.services.catalog, offering_id))
    await settle(pilot)


async def open_interest_form(app, pilot, offering_id: int) -> None:
    """The offering's detail, then `b`: the interest form (when the user may order)."""
    await open_offering(app, pilot, offering_id)
    await pilot.press("b")
    await settle(pilot)


async def jump(pilot, text: str) -> None:
    await pilot.press("colon")
    for ch in text:
        await pilot.press("space" if ch == " " else ch)
    await pilot.press("enter")
    await settle(pilot)


async def open_step(pilot, order_id: int, key: str) -> StepForm:
    """The order's detail, then the step form behind ``key`` (a activate, x reject, t terminate)."""
    await synced(pilot)
    await jump(pilot, f"order {order_id}")
    await pilot.press(key)
    await settle(pilot)
    assert isinstance(pilot.app.screen, StepForm), pilot.app.screen
    return pilot.app.screen


async def type_into(pilot, form: Form, name: str, text: str) -> None:
    form.control(name).focus()
    form.set_value(name, "")
    await pilot.pause()
    for ch in text:
        await pilot.press("space" if ch == " " else ch)
    await settle(pilot)


async def test_the_whole_flow_interest_proposal_binding_order_activation(live_server, tmp_path):
    offering = orderable_offering(live_server)

    # 1. The customer (München) expresses interest from the offering's detail.
    customer = make_app(live_server, tmp_path / "customer", identity="customer")
    async with customer.run_test(size=SIZE) as pilot:
        await open_offering(customer, pilot, offering["id"])
        assert "Interesse bekunden" in screen_text(customer)
        await pilot.press("b")
        await settle(pilot)
        form_screen = customer.screen
        assert isinstance(form_screen, InterestForm)
        form = form_screen.form
        assert form.value("leitweg_id")  # preset from the organisation
        await type_into(pilot, form, "message", "Wir möchten das ab Januar nutzen.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(customer.screen, OrderScreen), customer.screen
        order_id = customer.screen.order_id
        text = screen_text(customer)
        assert "Interesse" in text and "Wir möchten das ab Januar nutzen." in text
        # The customer cannot propose or activate: those steps are not offered.
        assert not customer.screen.check_action("step", ("propose",))
        assert not customer.screen.check_action("step", ("activate",))
        assert customer.screen.check_action("step", ("withdraw",))
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(customer.screen, OrderScreen)
    # ... and the server refuses them too.
    with httpx.Client(base_url=live_server) as http:
        refused = http.post(f"/orders/{order_id}/transitions", json={"action": "propose"},
                            headers=auth("customer", **{"Idempotency-Key": "k-refused-1"}))
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")

    # 2. The provider (AKDB) finds it in the inbox and proposes the fees.
    provider = make_app(live_server, tmp_path / "provider", identity="provider")
    async with provider.run_test(size=SIZE) as pilot:
        await synced(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(provider.screen, OrdersScreen)
        assert "neue Interessen" in screen_text(provider)
        await pilot.press("e")  # inbox only
        await settle(pilot)
        keys = [provider.screen.query_one(VirtualTable).row_at(i)[0] for i in range(provider.screen.query_one(VirtualTable).total)]
        assert order_id in keys
        await jump(pilot, f"order {order_id}")
        assert isinstance(provider.screen, OrderScreen)
        assert provider.screen.check_action("step", ("propose",))
        assert not provider.screen.check_action("step", ("order",))
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(provider.screen, ProposalForm)
        form = provider.screen.form
        await type_into(pilot, form, "annual_fee", "1.234,50")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(provider.screen, OrderScreen)
        assert provider.screen.order.state == "proposed"
        assert provider.screen.order.fees.annual_fee == Decimal("1234.50")

    # 3. The customer accepts: the confirmation says it is binding and shows what is agreed.
    customer = make_app(live_server, tmp_path / "customer", identity="customer")
    async with customer.run_test(size=SIZE) as pilot:
        await synced(pilot)
        await jump(pilot, f"order {order_id}")
        assert isinstance(customer.screen, OrderScreen)
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(customer.screen, ConfirmOrderScreen)
        text = screen_text(customer)
        assert "Rechtlich verbindlich" in text and "1.234,50 €" in text
        await pilot.click("#confirm-order")  # without the authorisation ticked: nothing happens
        await settle(pilot)
        assert isinstance(customer.screen, ConfirmOrderScreen)
        assert orders_of(live_server, offering["id"])[0]["state"] == "proposed"
        await pilot.click("#confirm-check")
        await pilot.click("#confirm-order")
        await settle(pilot)
        assert isinstance(customer.screen, OrderScreen)
        assert customer.screen.order.state == "ordered"
        assert "Verbindlich bestellt" in screen_text(customer)

    # 4. The provider activates the contract.
    provider = make_app(live_server, tmp_path / "provider", identity="provider")
    async with provider.run_test(size=SIZE) as pilot:
        await open_step(pilot, order_id, "a")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(provider.screen, OrderScreen)
        assert provider.screen.order.state == "active"
        shown = str(provider.screen.query_one("#order-timeline").content)
        for step in ("Interesse bekundet", "Entgelte vorgeschlagen", "Verbindlich bestellt", "Vertrag aktiviert"):
            assert step in shown  # the timeline, with who did it
        assert "Landeshauptstadt München" in shown

    orders = orders_of(live_server, offering["id"])
    assert len(orders) == 1 and orders[0]["state"] == "active"
    with httpx.Client(base_url=live_server) as http:
        events = http.get(f"/orders/{order_id}/events", headers=auth("customer")).json()["items"]
    assert [e["action"] for e in events] == ["create", "propose", "order", "activate"]


async def test_field_errors_at_the_field_and_input_kept(live_server, tmp_path):
    offering = orderable_offering(live_server)
    app = make_app(live_server, tmp_path, identity="customer")
    async with app.run_test(size=SIZE) as pilot:
        await open_interest_form(app, pilot, offering["id"])
        form = app.screen.form
        # As typed: a Leitweg-ID with a wrong check digit is flagged with the reason.
        await type_into(pilot, form, "leitweg_id", "04011000-1234512345-07")
        assert "leitweg_id" in form.errors and "Prüfziffer" in form.errors["leitweg_id"]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, InterestForm)  # not sent
        assert orders_of(live_server, offering["id"]) == []
        await type_into(pilot, form, "leitweg_id", "04011000-1234512345-06")
        assert "leitweg_id" not in form.errors
        # The server's own 422 (a message longer than it accepts) lands at its field too.
        long = "Sehr lange Nachricht. " * 240
        form.set_value("message", long)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, InterestForm)
        assert "message" in form.errors
        assert form.value("message") == long  # the input is kept
        assert form.control("message").has_class("-invalid")
        assert orders_of(live_server, offering["id"]) == []
        form.set_value("message", "Kurz und gut.")
        await pilot.press("ctrl+s")
        await pilot.press("ctrl+s")  # pressed twice: still one order
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
    assert len(orders_of(live_server, offering["id"])) == 1


async def test_a_draft_survives_closing_the_app(live_server, tmp_path):
    offering = orderable_offering(live_server)
    app = make_app(live_server, tmp_path, identity="customer")
    async with app.run_test(size=SIZE) as pilot:
        await open_interest_form(app, pilot, offering["id"])
        await type_into(pilot, app.screen.form, "message", "Halb geschrieben")
        await type_into(pilot, app.screen.form, "cost_centre", "KST 4711")
    # The terminal was closed mid-form. Start again: the text is there.
    app = make_app(live_server, tmp_path, identity="customer")
    async with app.run_test(size=SIZE) as pilot:
        await open_interest_form(app, pilot, offering["id"])
        form = app.screen.form
        assert app.screen.restored
        assert form.value("message") == "Halb geschrieben"
        assert form.value("cost_centre") == "KST 4711"
    assert orders_of(live_server, offering["id"]) == []


async def test_an_interest_made_offline_arrives_exactly_once(demo_template, tmp_path):
    own = OwnServer(demo_template, tmp_path)
    base = own.base
    offering = orderable_offering(base)
    app = quick_probing_app(base, tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await open_offering(app, pilot, offering["id"])
            own.stop()
            await pilot.press("b")
            await settle(pilot)
            await type_into(pilot, app.screen.form, "message", "Offline geschrieben")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, OfferingScreen)  # queued: the form closed
            assert app.backend.status.pending == 1
            assert "1 ausstehend" in screen_text(app)
            own.start()
            await app.backend.wait_online(60)
            await settle(pilot)
            assert app.backend.status.pending == 0
        orders = orders_of(base, offering["id"])
        assert [o["message"] for o in orders] == ["Offline geschrieben"]
    finally:
        own.stop()


async def test_withdraw_needs_no_reason_reject_needs_one(live_server, tmp_path):
    offering = orderable_offering(live_server)
    with httpx.Client(base_url=live_server) as http:
        created = http.post("/orders", json={"offering_id": offering["id"], "message": "Bitte ablehnen"},
                            headers=auth("customer", **{"Idempotency-Key": "k-reject-1"})).json()
    provider = make_app(live_server, tmp_path / "p", identity="provider")
    async with provider.run_test(size=SIZE) as pilot:
        await open_step(pilot, created["id"], "x")
        await pilot.press("ctrl+s")  # no reason given
        await settle(pilot)
        assert isinstance(provider.screen, StepForm) and "note" in provider.screen.form.errors
        await type_into(pilot, provider.screen.form, "note", "Nicht im Einzugsgebiet")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert provider.screen.order.state == "rejected"
        assert "Nicht im Einzugsgebiet" in screen_text(provider)
        assert isinstance(provider.screen, OrderScreen) and provider.screen.steps() == []



async def test_orders_list_filters_searches_and_sorts(server, tmp_path):
    with httpx.Client(base_url=server) as http:
        mine = http.get("/orders", params={"limit": 500}, headers=auth("customer")).json()["items"]
    proposed = [o["id"] for o in mine if o["state"] == "proposed"]
    app = make_app(server, tmp_path, identity="customer")
    async with app.run_test(size=SIZE) as pilot:
        await synced(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OrdersScreen)
        table = screen.query_one(VirtualTable)
        assert table.total == len(mine)
        text = screen_text(app)
        assert i18n.tn("orders.inbox_customer", len(proposed)) in text  # "1 Entgeltvorschlag wartet …", "2 … warten"
        assert "Bereitsteller" in text  # a customer's counterpart is the provider
        await pilot.press("e")  # the inbox: proposals waiting for the customer
        await settle(pilot)
        assert sorted(table.row_at(i)[0] for i in range(table.total)) == sorted(proposed)
        assert all(table.row_at(i)[1][3] == "Entgeltvorschlag" for i in range(table.total))  # states in German words
        await pilot.press("e")
        await settle(pilot)
        assert table.total == len(mine)
        title = mine[0]["offering"]["title"]
        await pilot.press("slash")
        for ch in title.split()[0][:6].lower():
            await pilot.press(ch)
        await settle(pilot)
        assert 1 <= table.total < len(mine) or len(mine) == 1
        assert any(title.split()[0][:6].lower() in table.row_at(i)[1][1].lower() for i in range(table.total))
        await pilot.press("enter")  # enter in the filter goes back to the list
        assert screen.focused is table
        await pilot.press("s")  # sort: recently changed
        await settle(pilot)
        assert "zuletzt geändert" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and screen.filter.text  # the place is kept


async def test_an_interest_refused_after_it_was_queued_is_kept_and_can_be_fixed(demo_template, tmp_path):
    own = OwnServer(demo_template, tmp_path)
    base = own.base
    offering = orderable_offering(base)
    app = quick_probing_app(base, tmp_path)
    long = "Zu lang. " * 600  # more than the server takes; the form does not know that limit
    try:
        async with app.run_test(size=SIZE) as pilot:
            await open_offering(app, pilot, offering["id"])
            own.stop()
            await pilot.press("b")
            await settle(pilot)
            app.screen.form.set_value("message", long)
            await pilot.press("ctrl+s")
            await settle(pilot)
            own.start()
            await app.backend.wait_online(60)
            await settle(pilot)
            assert app.backend.status.failed == 1 and app.backend.status.pending == 0
            assert "1 abgelehnt" in screen_text(app)
            await pilot.press("o")
            await settle(pilot)
            assert "abgelehnt" in screen_text(app) and "message" in screen_text(app)
            await pilot.press("e")  # back into the form, with the input and the server's complaint
            await settle(pilot)
            form_screen = app.screen
            assert isinstance(form_screen, InterestForm)
            assert form_screen.form.value("message") == long
            assert "message" in form_screen.form.errors
            form_screen.form.set_value("message", "Jetzt kürzer.")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, OrderScreen)
            assert app.backend.status.failed == 0
        assert [o["message"] for o in orders_of(base, offering["id"])] == ["Jetzt kürzer."]
    finally:
        own.stop()


async def test_customer_terminates_a_contract_by_its_terms(live_server, tmp_path):
    with httpx.Client(base_url=live_server) as http:
        active = next(o for o in http.get("/orders", params={"state": "active", "limit": 100}, headers=auth("customer")).json()["items"]
                      if not o.get("end_date"))
    app = make_app(live_server, tmp_path, identity="customer")
    async with app.run_test(size=SIZE) as pilot:
        await synced(pilot)
        await jump(pilot, f"order {active['id']}")
        screen = app.screen
        assert screen.steps() == ["terminate"]  # nothing else is offered on a running contract
        await pilot.press("t")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, StepForm)
        suggested = form.suggested_end
        assert form.form.value("end_date") == suggested.strftime("%d.%m.%Y")
        assert "Kündigungsfrist" in screen_text(app)
        await type_into(pilot, form.form, "note", "Wechsel auf Landeslösung")
        assert "Verbindlich kündigen" in screen_text(app)  # the button names the step
        await pilot.press("ctrl+s")
        await settle(pilot)
        # A notice is a declaration, as the binding order is: not sent until it is given.
        assert app.screen is form and "declared" in form.form.errors
        await tick(pilot, form, "declared")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
        assert app.screen.order.state == "terminated"
        assert app.screen.order.end_date == suggested


async def tick(pilot, form: StepForm, name: str) -> None:
    form.form.control(name).focus()
    await pilot.pause()
    await pilot.press("space")
    await settle(pilot)


async def test_a_binding_order_is_cancelled_only_with_a_reason_and_the_authorisation(live_server, tmp_path):
    """Walk finding T20: `c` + ctrl+s cancelled a binding order — no reason, no authorisation, a
    button that said "Ausführen". Now it weighs as much as the order it undoes."""
    with httpx.Client(base_url=live_server) as http:
        ordered = http.get("/orders", params={"state": "ordered", "limit": 1}, headers=auth("customer")).json()["items"][0]
    app = make_app(live_server, tmp_path, identity="customer")
    async with app.run_test(size=SIZE) as pilot:
        form = await open_step(pilot, ordered["id"], "c")
        assert "Verbindlich stornieren" in screen_text(app) and "nicht zurücknehmen" in screen_text(app)
        await pilot.press("ctrl+s")  # the habit from the other forms
        await settle(pilot)
        assert app.screen is form and {"note", "declared"} <= set(form.form.errors)
        await type_into(pilot, form.form, "note", "Haushalt gesperrt")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form and set(form.form.errors) == {"declared"}
        with httpx.Client(base_url=live_server) as http:  # nothing went out meanwhile
            assert http.get(f"/orders/{ordered['id']}", headers=auth("customer")).json()["state"] == "ordered"
        await tick(pilot, form, "declared")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen) and app.screen.order.state == "cancelled"


def test_the_server_refuses_a_cancellation_without_a_reason(live_server):
    with httpx.Client(base_url=live_server) as http:
        ordered = http.get("/orders", params={"state": "ordered", "limit": 1}, headers=auth("customer")).json()["items"][0]
        answer = http.post(f"/orders/{ordered['id']}/transitions", json={"action": "cancel", "note": "  "},
                           headers=auth("customer"))
        assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "note"
        assert http.get(f"/orders/{ordered['id']}", headers=auth("customer")).json()["state"] == "ordered"


async def test_without_an_inhouse_relationship_ordering_is_disabled_and_explained(server, tmp_path):
    offering = orderable_offering(server)
    app = make_app(server, tmp_path, identity="customer-nohouse")
    async with app.run_test(size=SIZE) as pilot:
        await open_offering(app, pilot, offering["id"])
        screen = app.screen
        assert app.me is not None and app.me.organization.name and not app.me.can_order
        assert not screen.check_action("interest", ())
        await pilot.press("b")
        await settle(pilot)
        assert app.screen is screen  # no form
        text = screen_text(app)
        assert "Bestellen nicht möglich" in text and "Inhouse-Beziehung" in text
        assert "Interesse bekunden" not in text


async def test_a_second_interest_in_the_same_offering_is_asked_about_first(server, tmp_path):
    """The customer's organisation already has an open order for the offering (made through a
    second client): the detail says which (number, state) with a key to open it, `b` asks before
    a second interest, and going on anyway says it in the form too."""
    offering = orderable_offering(server)
    order_id = post_interest(server, offering["id"], "second-interest-1")["id"]
    app = make_app(server, tmp_path, identity="customer")  # synced after the order: it is in the cache
    async with app.run_test(size=(80, 24)) as pilot:
        await open_offering(app, pilot, offering["id"])
        detail = app.screen
        assert isinstance(detail, OfferingScreen)
        assert f"schon Bestellung {order_id} (Interesse)" in " ".join(screen_text(app).split())

        await pilot.press("b")
        await settle(pilot)
        question = app.screen
        assert isinstance(question, ConfirmScreen)
        assert "Schon eine offene Bestellung" in screen_text(app)
        await pilot.press("escape")  # not this time: nothing opened, nothing sent
        await settle(pilot)
        assert app.screen is detail

        await pilot.press("b")
        await settle(pilot)
        await pilot.press("w")  # go on anyway: the form says it too
        await settle(pilot)
        assert isinstance(app.screen, InterestForm)
        assert f"Bestellung {order_id}" in " ".join(screen_text(app).split())
        await pilot.press("escape")  # nothing typed: the form just closes
        await settle(pilot)
        assert app.screen is detail

        await pilot.press("b")
        await settle(pilot)
        await pilot.press("o")  # open the order it would repeat
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen) and app.screen.order.id == order_id
    assert len(orders_of(server, offering["id"])) == 1  # asked, not sent


async def test_a_kept_draft_of_an_interest_is_named_in_the_detail_and_b_goes_on_with_it(server, tmp_path):
    """An interest form left with "keep as draft": back in the offering's detail, it says a draft
    is saved; `b` opens the form with it (no question: it is the same interest, not a second)."""
    offering = orderable_offering(server)
    app = make_app(server, tmp_path, identity="customer")
    async with app.run_test(size=SIZE) as pilot:
        await open_interest_form(app, pilot, offering["id"])
        form = app.screen
        assert isinstance(form, InterestForm)
        await type_into(pilot, form.form, "message", "Bitte um Rückruf")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("b")  # als Entwurf behalten
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, OfferingScreen)
        assert "Entwurf einer Interessenbekundung" in " ".join(screen_text(app).split())
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, InterestForm) and app.screen.restored  # no question first
        assert "Bitte um Rückruf" in app.screen.form.value("message")
    assert orders_of(server, offering["id"]) == []


async def test_no_question_without_an_open_order(server, tmp_path):
    offering = orderable_offering(server)
    app = make_app(server, tmp_path, identity="customer")
    async with app.run_test(size=SIZE) as pilot:
        await open_interest_form(app, pilot, offering["id"])
        assert isinstance(app.screen, InterestForm)


async def test_a_language_switch_keeps_the_state_filter_shown_and_e_is_only_for_an_inbox(server, tmp_path):
    """The walk: after a switch the state select said "all states" while the list stayed filtered
    (and picking "all states" changed nothing); `e` as support crashed the app (its select has no
    "waiting")."""
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=SIZE) as pilot:
        await synced(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        table = screen.query_one(VirtualTable)
        every = table.total
        await pilot.press("e")  # the provider's inbox
        await settle(pilot)
        waiting = table.total
        assert 0 < waiting < every
        await app.action_toggle_language()
        await settle(pilot)
        state = app.screen.query_one("#orders-state")
        assert state.value == "waiting" and app.screen.query_one(VirtualTable).total == waiting
        assert i18n.t("orders.waiting") in screen_text(app)  # the select says so, in English now
        await pilot.press("e")  # off again: every order
        await settle(pilot)
        assert app.screen.query_one(VirtualTable).total == every

    support = make_app(server, tmp_path / "support", identity="support")
    async with support.run_test(size=SIZE) as pilot:
        await synced(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(support.screen, OrdersScreen)
        assert "Nur Eingang" not in screen_text(support)  # no inbox, no key in the footer
        await pilot.press("e")
        await settle(pilot)
        assert support.is_running and isinstance(support.screen, OrdersScreen)


def first_order(base: str, state: str, who: str = "customer") -> int:
    """The oldest of ``who``'s orders in ``state``."""
    with httpx.Client(base_url=base) as http:
        return http.get("/orders", params={"state": state, "sort": "id"}, headers=auth(who)).json()["items"][0]["id"]


async def test_a_binding_order_queued_offline_is_the_only_step_until_it_is_through(demo_template, tmp_path):
    """The walk: offline, `b x ctrl+s` twice queued the binding order twice, and `w` (withdraw)
    was still offered beside the binding order on its way. A step in the outbox is the last one
    until the server has it; then the steps of the new state are offered."""
    own = OwnServer(demo_template, tmp_path)
    order_id = first_order(own.base, "proposed")
    app = quick_probing_app(own.base, tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await synced(pilot)
            app.open_record("order", str(order_id))
            await settle(pilot)
            detail = app.screen
            assert isinstance(detail, OrderScreen) and "order" in detail.steps()
            own.stop()
            await pilot.press("b")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmOrderScreen)
            await pilot.press("x", "ctrl+s")
            await settle(pilot)
            assert app.screen is detail and app.backend.status.pending == 1
            assert detail.steps() == []
            assert i18n.t("order.step_queued") in screen_text(app)
            # Nor in the footer (the walk: "c Stornieren" stayed there after the step was queued —
            # the footer's update was lost with the form it was scheduled on).
            for _ in range(5):
                await settle(pilot)
            footer = screen_text(app).splitlines()[-1]
            assert i18n.t("key.order_binding") not in footer and i18n.t("key.withdraw") not in footer, footer
            for key in ("b", "w"):  # neither a second binding order nor a withdrawal
                await pilot.press(key)
                await settle(pilot)
                assert app.screen is detail
            assert app.backend.status.pending == 1
            own.start()
            await app.backend.wait_online(60)
            for _ in range(20):
                await settle(pilot)
                if detail.order.state == "ordered":
                    break
            assert app.backend.status.pending == 0 and detail.order.state == "ordered"
            assert detail.queued_steps == 0
    finally:
        own.stop()


async def test_a_cancellation_queued_offline_leaves_no_step_key_in_the_footer(demo_template, tmp_path):
    """The walk (tmux, 80x24): offline, `c`, a reason, the tick, ctrl+s — the cancellation waited
    in the outbox and "Mögliche Schritte" was gone, but the footer still offered "c Stornieren"."""
    own = OwnServer(demo_template, tmp_path)
    order_id = first_order(own.base, "ordered")
    app = quick_probing_app(own.base, tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await synced(pilot)
            app.open_record("order", str(order_id))
            await settle(pilot)
            detail = app.screen
            assert isinstance(detail, OrderScreen) and "cancel" in detail.steps()
            assert i18n.t("key.cancel_order") in screen_text(app).splitlines()[-1]
            own.stop()
            await pilot.press("c")
            await settle(pilot)
            form = app.screen
            assert isinstance(form, StepForm)
            await type_into(pilot, form.form, "note", "Haushalt gesperrt")
            await tick(pilot, form, "declared")
            await pilot.press("ctrl+s")
            for _ in range(10):
                await settle(pilot)
            assert app.screen is detail and app.backend.status.pending == 1 and detail.steps() == []
            footer = screen_text(app).splitlines()[-1]
            assert i18n.t("key.cancel_order") not in footer, footer
            await pilot.press("escape")  # the orders list: its row says the step waits
            for _ in range(5):
                await settle(pilot)
            row = next(line for line in screen_text(app).splitlines() if line.strip().startswith(f"{order_id} "))
            assert "Bestellt · ausstehend" in row, row
    finally:
        own.stop()


async def test_back_from_the_order_just_made_returns_to_the_offering(live_server, tmp_path):
    """An interest sent from the catalog opens its order in the orders area; `escape` goes back
    to where the user came from, the offering's detail in the catalog — not the orders list
    (walk T6)."""
    offering = orderable_offering(live_server)
    app = make_app(live_server, tmp_path / "client", identity="customer")
    async with app.run_test(size=SIZE) as pilot:
        await open_interest_form(app, pilot, offering["id"])
        assert app.current_mode == "catalog"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen), app.screen
        assert app.current_mode == "orders"
        await pilot.press("escape")
        await settle(pilot)
        assert app.current_mode == "catalog"
        assert isinstance(app.screen, OfferingScreen), app.screen
        assert app.screen.offering_id == offering["id"]
        # The orders area is left as a list, the new order on it; back there it is not a detail.
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, OrdersScreen), app.screen
        # Opened from the offering again (`enter`: its open order), then left by `1` and come back
        # to by `2`: `escape` now leaves the detail for the orders list, as from any detail there.
        await pilot.press("1")
        await settle(pilot)
        assert isinstance(app.screen, OfferingScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen) and app.current_mode == "orders"
        await pilot.press("1")
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.current_mode == "orders"
        assert isinstance(app.screen, OrdersScreen), app.screen


async def test_jumping_to_the_order_on_screen_opens_no_second_copy(live_server, tmp_path):
    """`:order 75` with order 75's detail open pushed a second one; the first `escape` then
    seemed to do nothing (helper walk)."""
    with httpx.Client(base_url=live_server) as http:
        order_id = http.get("/orders", params={"limit": 1}, headers=auth("customer")).json()["items"][0]["id"]
    app = make_app(live_server, tmp_path, identity="customer")
    async with app.run_test(size=SIZE) as pilot:
        await synced(pilot)
        await jump(pilot, f"order {order_id}")
        assert isinstance(app.screen, OrderScreen)
        depth = len(app.screen_stack)
        await jump(pilot, f"order {order_id}")
        assert isinstance(app.screen, OrderScreen) and len(app.screen_stack) == depth
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, OrdersScreen), app.screen
