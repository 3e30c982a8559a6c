"""Orders read alike everywhere: one vocabulary for states, timeline steps and fees (customer,
provider and support, German and English); support's search folds German spellings as the
catalog does; the orders list sorts titles and names by the German sort key, as the catalog."""

from __future__ import annotations

import httpx
from app_support import make_app
from support import auth
from test_support_area import open_support, type_in

from efa_tui.api.models import OfferingRef, Order, Ref
from efa_tui.domain.collation import search_fold, sort_key
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
