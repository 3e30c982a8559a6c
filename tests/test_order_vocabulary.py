"""Orders read alike everywhere: one vocabulary for states, timeline steps and fees (customer,
provider and support, German and English); support's search folds German spellings as the
catalog does; the orders list sorts titles and names by the German sort key, as the catalog."""

from __future__ import annotations

from efa_tui.api.models import OfferingRef, Order, Ref
from efa_tui.domain.collation import search_fold, sort_key
from efa_tui.store.order_list import choices, sort_orders

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
