"""Orders read alike everywhere: one vocabulary for states, timeline steps and fees (customer,
provider and support, German and English); support's search folds German spellings as the
catalog does; the orders list sorts titles and names by the German sort key, as the catalog."""

from __future__ import annotations

import re
import uuid
from datetime import date

import httpx
import pytest
from app_support import make_app, settle, table_of
from support import auth
from test_ordering import jump, synced
from test_support_area import open_support, type_in

from efa_tui import i18n
from efa_tui.api.models import OfferingRef, Order, Ref
from efa_tui.domain.collation import search_fold, sort_key
from efa_tui.screens.order_detail import OrderScreen
from efa_tui.screens.support import TrailScreen
from efa_tui.store import record_search
from efa_tui.store.order_list import choices, sort_orders
from efa_tui.store.record_search import RecordQuery

# Titles where the folded search text and the German sort key (DIN 5007-1) order differently:
# "ö" sorts as "o" ("Ofen" before "Öl"), but folds to "oe" ("oel" before "ofen").
TITLES = ["Öl", "Ofen", "Müller", "Muff", "Ärztekammer", "Amt", "abfall", "Ost"]
DIN_ORDER = ["abfall", "Amt", "Ärztekammer", "Muff", "Müller", "Ofen", "Öl", "Ost"]


def test_the_titles_chosen_are_ones_where_folding_and_sort_key_differ():
    assert sorted(TITLES, key=search_fold) != DIN_ORDER
    assert sorted(TITLES, key=sort_key) == DIN_ORDER


def test_orders_sort_by_the_german_sort_key_like_the_catalog():
    orders = [Order(id=i + 1, offering=OfferingRef(id=i + 1, title=t), customer=Ref(id=100 + i, name=t),
                    provider=Ref(id=200, name="AKDB"), state="interest") for i, t in enumerate(TITLES)]
    by_offering = [o.offering.title for o in sort_orders(orders, "offering", "provider") if o.offering]
    assert by_offering == DIN_ORDER
    by_customer = [o.customer.name for o in sort_orders(orders, "counterpart", "provider") if o.customer]
    assert by_customer == DIN_ORDER
    offerings, customers = choices(orders, "provider")  # the filters' options, in the same order
    assert [name for _, name in offerings] == DIN_ORDER
    assert [name for _, name in customers] == DIN_ORDER


# --- support's search folds German spellings -------------------------------------------------------


def straße_order(server: str) -> dict:
    """An interest of the demo customer (München) in an offering with "Straße" in its title."""
    with httpx.Client(base_url=server) as http:
        offerings = http.get("/offerings", params={"q": "straße", "limit": 50}, headers=auth("customer")).json()["items"]
        offering = next(o for o in offerings if "Straße" in o["title"] and o["fees"]["distribution_key"] != "target_group")
        answer = http.post("/orders", json={"offering_id": offering["id"], "message": "Straßenfest"},
                           headers=auth("customer", **{"Idempotency-Key": f"vocab-{offering['id']}"}))
        assert answer.status_code in (200, 201), answer.text
        return answer.json()


async def test_support_search_folds_german_spellings_both_ways(server, tmp_path):
    order = straße_order(server)
    app = make_app(server, tmp_path, identity="support")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_support(pilot)
        await type_in(pilot, screen, "organisation", "muenchen")  # as typed without umlauts
        found = list(screen.records.values())
        assert found and all(any("München" in p.name for p in (o.customer, o.provider) if p) for o in found)
        await type_in(pilot, screen, "organisation", "München")
        assert set(screen.records) == {o.id for o in found}
        await type_in(pilot, screen, "organisation", "")
        await type_in(pilot, screen, "offering", "strasse")
        assert order["id"] in screen.records
        assert all("Straße" in o.offering.title for o in screen.records.values() if isinstance(o, Order) and o.offering)


def test_support_search_finds_spellings_without_umlauts_from_the_umlaut_too():
    """The other way round: a name written "Muenchen", a title "Hauptstrasse" (as some are
    spelled), found by "München" and "Straße"."""
    order = Order(id=7, offering=OfferingRef(id=1, title="Sondernutzung Hauptstrasse"),
                  customer=Ref(id=2, name="Stadtwerke Muenchen"), provider=Ref(id=3, name="AKDB"), state="interest")
    assert record_search.matches(order, RecordQuery(organisation="München"))
    assert record_search.matches(order, RecordQuery(offering="Straße"))
    assert record_search.matches(order, RecordQuery(organisation="MÜNCHEN", offering="hauptstraße"))
    assert not record_search.matches(order, RecordQuery(organisation="Münster"))


# --- one vocabulary for order states, steps and fees -----------------------------------------------

# How each state reads, in both languages, whoever looks (a terminated contract before its end: "Gekündigt zum …").
WORDS = {
    "de": {"interest": "Interesse", "proposed": "Entgeltvorschlag", "ordered": "Bestellt", "active": "Aktiv",
           "terminated": "Gekündigt zum ", "withdrawn": "Zurückgezogen", "rejected": "Abgelehnt", "cancelled": "Storniert"},
    "en": {"interest": "Interest", "proposed": "Fee proposal", "ordered": "Ordered", "active": "Active",
           "terminated": "Terminated as of ", "withdrawn": "Withdrawn", "rejected": "Rejected", "cancelled": "Cancelled"},
}
FEES = {"de": ("Vorgeschlagene Entgelte", "Vereinbarte Entgelte"), "en": ("Proposed fees", "Agreed fees")}
BOUND = {"ordered", "active", "terminated", "cancelled"}  # after the binding order: the fees are agreed
# The steps that lead to each state, by whom (customer c, provider p).
STORIES = {
    "interest": [],
    "proposed": [("p", {"action": "propose"})],
    "ordered": [("p", {"action": "propose"}), ("c", {"action": "order"})],
    "active": [("p", {"action": "propose"}), ("c", {"action": "order"}), ("p", {"action": "activate", "start_date": "today"})],
    "terminated": [("p", {"action": "propose"}), ("c", {"action": "order"}), ("p", {"action": "activate", "start_date": "today"}),
                   ("c", {"action": "terminate", "note": "Umstieg"})],
    "withdrawn": [("c", {"action": "withdraw"})],
    "rejected": [("p", {"action": "reject", "note": "Nicht in Ihrem Land"})],
    "cancelled": [("p", {"action": "propose"}), ("c", {"action": "order"}), ("c", {"action": "cancel", "note": "Kein Budget"})],
}


def _post(base: str, who: str, path: str, body: dict) -> dict:
    r = httpx.post(f"{base}{path}", json=body, headers=auth(who, **{"Idempotency-Key": str(uuid.uuid4())}), timeout=30)
    assert r.status_code in (200, 201), r.text
    return r.json()


@pytest.fixture(scope="module")
def every_state(server) -> dict[str, int]:
    """One order of the demo customer (München) with the demo provider (AKDB) in each state,
    driven there over HTTP: state → order id."""
    provider = httpx.get(f"{server}/me", headers=auth("provider")).json()["organization"]["id"]
    offering = next(o for o in httpx.get(f"{server}/offerings", params={"provider": provider, "status": "published", "limit": 50},
                                         headers=auth("customer")).json()["items"] if o["fees"]["distribution_key"] != "target_group")
    ids = {}
    for state, story in STORIES.items():
        order = _post(server, "customer", "/orders", {"offering_id": offering["id"], "message": f"Test {state}"})
        for who, body in story:
            body = {k: (date.today().isoformat() if v == "today" else v) for k, v in body.items()}
            order = _post(server, "customer" if who == "c" else "provider", f"/orders/{order['id']}/transitions", body)
        assert order["state"] == state
        ids[state] = order["id"]
    return ids


def _detail_text(app) -> str:
    screen = app.screen
    assert isinstance(screen, OrderScreen), screen
    return "\n".join(str(screen.query_one(f"#{part}").content) for part in ("order-head", "order-body", "order-timeline"))


# Each role once, both languages among them: the words come from one table (order_words.py), so a
# role in the other language reads the same table (6 pairs took two minutes of CI for nothing new).
@pytest.mark.parametrize("identity, language", [("customer", "de"), ("provider", "en"), ("support", "de"),
                                                ("support", "en")])
async def test_every_state_reads_the_same_for_customer_provider_and_support(server, every_state, tmp_path, identity, language):
    words = WORDS[language]
    app = make_app(server, tmp_path, identity=identity, language=language)
    async with app.run_test(size=(120, 40)) as pilot:
        await synced(pilot)
        await pilot.press("2")  # the orders list
        await settle(pilot)
        table = table_of(app)
        rows = {row[0]: row[1] for row in (table.row_at(i) for i in range(min(table.total, 40))) if row}
        for state, order_id in every_state.items():
            assert rows[order_id][3].startswith(words[state]), (state, rows[order_id])
        if identity == "support":  # and the support area's results
            screen = await open_support(pilot)
            for state, order_id in every_state.items():
                cell = str(screen.table.get_row(str(order_id))[3])
                assert cell.startswith(words[state]), (state, cell)
        for state, order_id in every_state.items():
            await jump(pilot, f"order {order_id}")
            shown = _detail_text(app)
            status = re.search(rf"{i18n.t('col.state')}: (.*)", shown)
            assert status and status.group(1).startswith(words[state]), (state, shown[:300])
            proposed, agreed = FEES[language]
            if state in BOUND:
                assert agreed in shown and proposed not in shown, state
            elif state != "interest":  # an interest has no fees yet
                assert proposed in shown and agreed not in shown, state
            await pilot.press("escape")
            await settle(pilot)


async def test_the_timeline_and_the_audit_trail_name_the_steps_alike(server, every_state, tmp_path):
    order_id = every_state["terminated"]
    steps = ["Interesse bekundet", "Entgelte vorgeschlagen", "Verbindlich bestellt", "Vertrag aktiviert", "Gekündigt"]
    seen = {}
    for identity in ("customer", "provider", "support"):
        app = make_app(server, tmp_path / identity, identity=identity)
        async with app.run_test(size=(120, 40)) as pilot:
            await synced(pilot)
            await jump(pilot, f"order {order_id}")
            timeline = str(app.screen.query_one("#order-timeline").content)
            seen[identity] = [step for step in steps if step in timeline]
            if identity == "support":
                await pilot.press("a")
                await settle(pilot)
                assert isinstance(app.screen, TrailScreen)
                trail = str(app.screen.query_one("#trail-events").content)
                seen["trail"] = [step for step in steps if step in trail]
                assert "(propose)" not in trail and "propose" not in trail  # no ids of the wire
    assert all(found == steps for found in seen.values()), seen


def test_angebot_never_names_the_fee_proposal():
    """"Angebot" is the offering; the provider's step and its fees are the "Entgeltvorschlag"."""
    ids = ["state.proposed", "action.propose", "key.propose", "order.fees.proposed", "order.fees.agreed", "order.no_fees",
           "proposal.title", "orders.inbox_customer", "news.proposal"]
    for language in ("de", "en"):
        i18n.set_language(language)
        for key in ids:
            text = i18n.MESSAGES[key][0 if language == "de" else 1]
            assert "Angebot" not in text and not re.search(r"\boffer\b", text, re.I), (key, text)
    i18n.set_language("de")


async def test_a_proposal_on_screen_says_entgeltvorschlag_not_angebot(server, tmp_path):
    """The demo's proposals too: the customer's message asked for "ein Angebot"."""
    mine = httpx.get(f"{server}/orders", params={"limit": 500}, headers=auth("customer")).json()["items"]
    demo = next(o for o in mine if o["state"] == "proposed" and not o["message"].startswith("Test"))
    app = make_app(server, tmp_path, identity="customer")
    async with app.run_test(size=(120, 40)) as pilot:
        await synced(pilot)
        await jump(pilot, f"order {demo['id']}")
        shown = _detail_text(app)
        title = demo["offering"]["title"]
        assert "Entgeltvorschlag" in shown
        assert "Angebot" not in shown.replace(title, ""), shown


@pytest.mark.parametrize("language", ["de", "en"])
def test_an_order_ended_before_the_binding_order_waits_for_no_proposal(language):
    """A rejected or withdrawn order read "Noch kein Entgeltvorschlag" under "verbindlich erst mit
    der Bestellung" (support walk): nothing comes any more, and nothing was ordered."""
    from efa_tui.screens.order_detail import fees_block

    i18n.set_language(language)
    try:
        waiting = fees_block(None, None, "interest").plain
        assert i18n.t("order.no_fees") in waiting and i18n.t("order.fees.proposed") in waiting
        for state in ("rejected", "withdrawn"):
            ended = fees_block(None, None, state).plain
            assert i18n.t("order.no_fees") not in ended and i18n.t("order.fees.proposed") not in ended, ended
            assert FEES[language][0] in ended  # still the proposal's heading, marked as not ordered
    finally:
        i18n.set_language("de")


def test_the_provider_is_the_bereitsteller_in_every_german_text():
    """The catalog's filter said "Titel, Anbieter, …" over a column "Bereitsteller" (helper walk):
    the provider is the Bereitsteller, the operator the Betreiber; "Anbieter" names neither."""
    german = {key: entry[0] for key, entry in i18n.MESSAGES.items() if isinstance(entry, tuple)}
    assert not {key: text for key, text in german.items() if "Anbieter" in text}
    assert not [text for text in german.values() if re.search(r"\bvon Herr\b|\bvon \{by\}", text)]
