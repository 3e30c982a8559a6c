"""The orders list as people use it: filtered by state, offering and counterpart, searched as
they type, sorted — over the cached orders (a few thousand at most per organisation, so plain
Python in a worker thread is quick enough; the catalog's 100,000 offerings need the FTS index,
orders do not).

"Counterpart" is the other side of an order: the provider for a customer, the customer for a
provider, and for support staff (who see everything) the customer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from .. import formatting
from ..api.models import Order, Ref
from ..domain.orders import PHASES, OrderState, order_phase
from .cache import fold, sort_key

# What waits for whom: the inbox of each role.
WAITING_FOR = {
    "provider": (OrderState.INTEREST, OrderState.ORDERED),  # answer interests, activate bound orders
    "customer": (OrderState.PROPOSED,),  # accept or withdraw a proposal
}

SORTS = ("-id", "-updated", "offering", "counterpart", "state")
# Phases in the order of the flow, for sorting by state.
_PHASE_RANK = {p: i for i, p in enumerate(PHASES)}
_NOBODY = Ref(id=0)  # an order that names no counterpart
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class OrderFilter:
    text: str = ""
    state: str = ""  # one phase (domain.orders.PHASES), "" for all, "waiting" for what waits for this role
    offering_id: int | None = None
    counterpart_id: int | None = None
    sort: str = "-id"


def counterpart(order: Order, role: str) -> Ref:
    """The other side (an empty ``Ref`` when the order does not name it)."""
    side = order.provider if role == "customer" else order.customer
    return side or _NOBODY


def _haystack(order: Order) -> str:
    parts = [str(order.id), order.offering.title if order.offering else "", order.customer.name if order.customer else "",
             order.provider.name if order.provider else "", order.message, order.leitweg_id, order.cost_centre]
    return fold(" ".join(str(p) for p in parts if p))


def phase(order: Order, today: date) -> str:
    """What the order's row says it is: a terminated contract still runs or has ended."""
    return order_phase(order.state, order.end_date, today)


def select_orders(orders: Iterable[Order], f: OrderFilter, role: str, today: date | None = None) -> list[Order]:
    today = today or formatting.today()
    words = fold(f.text).split()
    waiting = {s.value for s in WAITING_FOR.get(role, ())}
    out = []
    for order in orders:
        if f.state == "waiting" and order.state not in waiting:
            continue
        if f.state and f.state != "waiting" and phase(order, today) != f.state:
            continue
        if f.offering_id is not None and (order.offering.id if order.offering else None) != f.offering_id:
            continue
        if f.counterpart_id is not None and counterpart(order, role).id != f.counterpart_id:
            continue
        if words:
            hay = _haystack(order)
            if not all(w in hay for w in words):
                continue
        out.append(order)
    return sort_orders(out, f.sort, role, today)


def sort_orders(orders: list[Order], sort: str, role: str, today: date | None = None) -> list[Order]:
    by_id = sorted(orders, key=lambda o: o.id, reverse=True)  # newest first breaks ties
    if sort == "-updated":
        return sorted(by_id, key=lambda o: o.updated_at or _NEVER, reverse=True)
    # Titles and names in the German order, by the catalog's key (ä as a, ö as o, ß as ss; not
    # the search folding, whose "oe" would put "Öl" before "Ofen").
    if sort == "offering":
        return sorted(by_id, key=lambda o: sort_key(o.offering.title if o.offering else ""))
    if sort == "counterpart":
        return sorted(by_id, key=lambda o: sort_key(counterpart(o, role).name))
    if sort == "state":
        day = today or formatting.today()
        return sorted(by_id, key=lambda o: _PHASE_RANK.get(phase(o, day), 99))
    return by_id


def state_counts(orders: Iterable[Order], today: date | None = None) -> Counter[str]:
    """How many orders are in each phase (the filter's counts)."""
    day = today or formatting.today()
    return Counter(phase(o, day) for o in orders)


def waiting_count(counts: Counter[str], role: str) -> int:
    return sum(counts.get(s.value, 0) for s in WAITING_FOR.get(role, ()))


def choices(orders: Iterable[Order], role: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The offerings and counterparts that occur, by name: the options of the two filters."""
    offerings: dict[int, str] = {}
    others: dict[int, str] = {}
    for order in orders:
        if order.offering is not None:
            offerings[order.offering.id] = order.offering.title
        other = counterpart(order, role)
        if other is not _NOBODY:
            others[other.id] = other.name
    by_name = lambda items: sorted(items.items(), key=lambda kv: sort_key(kv[1]))  # noqa: E731
    return by_name(offerings), by_name(others)
