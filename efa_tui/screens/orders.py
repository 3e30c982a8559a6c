"""Bestellungen: the orders of the user's organisation (a provider: the orders on its offerings;
support and operator: all), filtered by state, offering and counterpart, searched as you type,
sorted. Above the table the inbox: what waits for this user (interests to answer, orders to
activate, proposals to decide on)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Select, Static

from .. import formatting, i18n
from ..api.models import Order
from ..domain.orders import PHASES
from ..order_words import phase_word, state_width
from ..org_names import fit_name
from ..store.order_list import SORTS, OrderFilter, choices, counterpart, select_orders, state_counts, waiting_count
from ..text import clean
from ..widgets.filter_box import FilterBox, FilterKeys
from ..widgets.virtual_table import Column, VirtualTable
from .base import AppScreen
from .order_detail import state_text

LIMIT = 20_000  # orders read from the cache at once; an organisation has far fewer


@dataclass(frozen=True)
class OrderRows:
    """The selected orders as table rows (already filtered in the worker)."""

    orders: tuple[Order, ...]
    role: str
    waiting: frozenset[int] = frozenset()  # orders with a step still in the outbox

    def count(self) -> int:
        return len(self.orders)

    def fetch(self, offset: int, limit: int) -> list[tuple[Any, list[str]]]:
        rows = []
        for o in self.orders[offset:offset + limit]:
            rows.append((o.id, [str(o.id), clean(o.offering.title if o.offering else ""),
                                clean(counterpart(o, self.role).name),
                                state_text(o, formatting.today()) + (f" {i18n.t('row.waiting')}" if o.id in self.waiting else ""),
                                formatting.day(o.updated_at)]))
        return rows


def order_columns(role: str, width: int = 120) -> list[Column]:
    other = "col.provider" if role == "customer" else "col.customer"
    columns = [
        Column("id", i18n.t("col.number"), width=6, align="right"),
        Column("offering", i18n.t("col.offering")),
        # The other side is what a provider's inbox is read by: written short where cut
        # ("LH Dresden", "LH München" — both were "Landeshauptstad…").
        Column("counterpart", i18n.t(other), width=30 if width >= 100 else 16, shorten=fit_name),
        # Up to the longest state word, "Gekündigt zum 31.03.2027" included (the date matters; the
        # table gives it only what the rows shown need: without a notice date the title keeps that room).
        # (and "· ausstehend" when a step waits in the outbox: the column is as wide as its rows need)
        Column("state", i18n.t("col.state"), width=state_width() + 1 + len(i18n.t("row.waiting"))),
        Column("updated", i18n.t("col.updated"), width=10),
    ]
    return columns if width >= 90 else [c for c in columns if c.key != "updated"]


# The roles orders wait for (an interest to answer, a proposal to accept): the "waiting" filter.
INBOX_ROLES = ("provider", "customer")


class OrdersScreen(FilterKeys, AppScreen):
    DATA_KINDS = frozenset(("orders", "outbox"))  # A sync, a step taken in an order, an interest sent or queued: the list reads the cache again.
    BINDINGS = [
        Binding("slash", "focus_filter", "key.filter", id="orders.filter"),
        Binding("s", "cycle_sort", "key.sort", id="orders.sort"),
        Binding("e", "toggle_waiting", "key.waiting", id="orders.waiting"),
        Binding("escape", "leave_filter", "key.back", show=False, id="orders.leave_filter"),
        Binding("r", "app.refresh", "key.refresh", id="orders.refresh"),
    ]
    DEFAULT_CSS = """
    OrdersScreen #orders-inbox { height: auto; padding: 0 1; text-style: bold; }
    OrdersScreen #orders-pending { height: auto; padding: 0 1; color: $warning; display: none; }
    OrdersScreen #orders-pending.-shown { display: block; }
    OrdersScreen #orders-selects { height: auto; }
    OrdersScreen #orders-selects Select { width: 1fr; }
    OrdersScreen #orders-count { height: 1; padding: 0 1; color: $text-muted; }
    OrdersScreen VirtualTable { height: 1fr; }
    """

    def __init__(self, session, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.filter = OrderFilter()
        self._all: list[Order] = []
        self._waiting: frozenset[int] = frozenset()
        self._role_seen: str | None = None

    @property
    def role(self) -> str:
        me = getattr(self.app, "me", None)
        return (me.role if me else "") or "customer"

    def compose(self) -> ComposeResult:
        self._role_seen = self.role
        yield Static(id="orders-inbox")
        yield Static(id="orders-pending")
        yield FilterBox(placeholder=i18n.t("orders.filter_placeholder"), id="orders-filter")
        with Horizontal(id="orders-selects"):
            yield Select(self._state_options({}), prompt=i18n.t("orders.all_states"), id="orders-state", compact=True)
            yield Select([], prompt=i18n.t("orders.all_offerings"), id="orders-offering", compact=True)
            yield Select([], prompt=i18n.t("orders.all_counterparts"), id="orders-counterpart", compact=True)
        yield Static(id="orders-count")
        yield VirtualTable(order_columns(self.role, self.app.size.width), id="orders-table", empty_text=i18n.t("orders.empty"),
                           opens=True)

    def data_synced(self) -> None:
        self.load()

    def on_mount(self) -> None:
        self.load()
        self.query_one(VirtualTable).focus()

    # --- data ----------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="orders-load", exit_on_error=False)
    def load(self) -> None:
        """All cached orders (and the writes not yet at the server), read in a thread."""
        orders = self.session.services.orders.cached(limit=LIMIT).value
        creates = self.session.services.orders.waiting_interests()
        waiting = frozenset(self.session.services.orders.waiting_steps())
        self.app.call_from_thread(self._loaded, orders, creates, waiting)

    def _loaded(self, orders: list[Order], creates: list, waiting: frozenset[int] = frozenset()) -> None:
        self._all = orders
        self._waiting = waiting
        if self._role_seen != self.role:
            # /me arrived after the table was built: the counterpart column is the other side.
            self.run_worker(self.relabel(), group="orders-relabel", exclusive=True)
            return
        counts = state_counts(orders, formatting.today())
        self._show_inbox(counts, len(orders))
        pending = self.query_one("#orders-pending", Static)
        pending.update(Text(i18n.t("orders.pending", labels="; ".join(clean(i.label) for i in creates))))
        pending.set_class(bool(creates), "-shown")
        self._set_options(counts)
        self.apply()
        self.refresh_bindings()  # `e` is there for the roles with an inbox (the role comes with /me)

    def _show_inbox(self, counts, total: int) -> None:
        role = self.role
        if role == "provider":
            text = i18n.t("orders.inbox_provider", interests=i18n.tn("orders.new_interests", counts.get("interest", 0)),
                          ordered=i18n.tn("orders.to_activate", counts.get("ordered", 0)))
        elif role == "customer":
            text = i18n.tn("orders.inbox_customer", counts.get("proposed", 0))
        else:
            text = i18n.tn("orders.inbox_staff", total)
        inbox = self.query_one("#orders-inbox", Static)
        inbox.update(Text(text, style="bold" if waiting_count(counts, role) else ""))

    def _state_options(self, counts) -> list[tuple[str, str]]:
        options = []
        if self.role in INBOX_ROLES:
            options.append((f"{i18n.t('orders.waiting')} ({waiting_count(counts, self.role)})", "waiting"))
        options += [(f"{phase_word(p)} ({counts.get(p, 0)})", p) for p in PHASES]
        return options

    def _set_options(self, counts) -> None:
        """The selects' options, each showing the value the list is filtered by — the filter is
        the one source: a select built anew (a language switch recomposes the screen) showed "all
        states" while the list stayed filtered. A value no longer among the options (an offering
        gone) filters no more."""
        offerings, others = choices(self._all, self.role)
        f = self.filter
        for select_id, field, options in (
                ("#orders-state", "state", self._state_options(counts)),
                ("#orders-offering", "offering_id", [(Text(clean(name)), oid) for oid, name in offerings]),
                ("#orders-counterpart", "counterpart_id", [(Text(clean(name)), oid) for oid, name in others])):
            select = self.query_one(select_id, Select)
            current = getattr(f, field) or None
            with select.prevent(Select.Changed):
                select.set_options(options)
                if current is not None and any(v == current for _, v in options):
                    select.value = current
                elif current is not None:
                    f = replace(f, **{field: "" if field == "state" else None})
        self.filter = f

    def apply(self, *, keep_cursor: bool = True) -> None:
        """Filter and sort in a worker, then show the rows."""
        self._select(self.filter, keep_cursor)

    @work(thread=True, exclusive=True, group="orders-select", exit_on_error=False)
    def _select(self, f: OrderFilter, keep_cursor: bool) -> None:
        rows = select_orders(self._all, f, self.role, formatting.today())
        self.app.call_from_thread(self._show_rows, rows, keep_cursor)

    def _show_rows(self, rows: list[Order], keep_cursor: bool) -> None:
        self.query_one(VirtualTable).set_source(OrderRows(tuple(rows), self.role, self._waiting), keep_cursor=keep_cursor)
        self.query_one("#orders-count", Static).update(Text(
            f"{i18n.tn('orders.count', len(self._all), shown=formatting.number(len(rows)))} · "
            f"{i18n.t('orders.sort', sort=i18n.t('orders.sort.' + self.filter.sort))}"))

    # --- input ---------------------------------------------------------------------------------

    @on(Input.Changed, "#orders-filter")
    def _text_changed(self, event: Input.Changed) -> None:
        self.filter = replace(self.filter, text=event.value)
        self.apply(keep_cursor=False)

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        value = None if event.value is Select.NULL else event.value
        if event.select.id == "orders-state":
            self.filter = replace(self.filter, state=value or "")
        elif event.select.id == "orders-offering":
            self.filter = replace(self.filter, offering_id=value)
        elif event.select.id == "orders-counterpart":
            self.filter = replace(self.filter, counterpart_id=value)
        self.apply(keep_cursor=False)

    @on(VirtualTable.RowSelected)
    def _open(self, event: VirtualTable.RowSelected) -> None:
        order = next((o for o in self._all if o.id == event.key), None)
        if order is not None:
            self.efa.open_order(order)

    def action_cycle_sort(self) -> None:
        self.filter = replace(self.filter, sort=SORTS[(SORTS.index(self.filter.sort) + 1) % len(SORTS)])
        self.apply()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_waiting":
            return self.role in INBOX_ROLES  # support and the operator have no inbox: no key
        return True

    def action_toggle_waiting(self) -> None:
        if self.role not in INBOX_ROLES:
            return  # (a keymap may still send it) support's state select has no "waiting": it crashed
        select = self.query_one("#orders-state", Select)
        select.value = Select.NULL if self.filter.state == "waiting" else "waiting"

    async def relabel(self) -> None:
        await self.recompose()
        # recompose() took the chrome (header, status line) too: /me arriving after the screen
        # opened left it without a status line until the next area switch.
        self.show_chrome()
        self.query_one("#orders-filter", Input).value = self.filter.text
        self.load()
