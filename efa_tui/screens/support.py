"""The "Support" area: find any order or invoice — by number, organisation, offering, state or
date range, across all organisations — and read it: the order itself (``app.open_order``), its
audit trail, and the raw JSON of any record (pretty, scrollable, copyable via OSC 52).

Read only, on purpose: no binding here leads to a write (a test presses every one of them and
checks that nothing reached the outbox), and the server refuses support writes as well.
Searches run on the local cache (support staff's sync holds every organisation's records), so
they are instant and work offline; the trail is read from the server.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Select, Static

from .. import formatting, i18n
from ..api.models import Invoice, Order, OrderEvent
from ..order_words import action_word, order_state_word, phase_word
from ..store import invoice_list, record_search
from ..store.record_search import Found, RecordQuery
from ..text import clean
from ..widgets.detail_text import DetailText
from ..widgets.lists import DetailScroll, ListTable
from ..widgets.text_fields import TextField
from .base import AppScreen
from .records import RecordScreen

FILTERS = ("number", "organisation", "offering", "since", "until")


def state_text(record: Found) -> str:
    """One vocabulary: an order's state reads as on the customer's and the provider's screens
    ("Gekündigt zum 31.03.2027" included), an invoice's as in the invoices list (offen,
    überfällig … and Gutschrift: the search called every document "gestellt", a credit note too)."""
    if isinstance(record, Invoice):
        return i18n.t(f"invoices.state.{invoice_list.invoice_state(record, formatting.today())}")
    return order_state_word(record) if record.state else "–"


def state_name(kind: str, value: str) -> str:
    """A state's own name (the filter, the count line, a step of the trail)."""
    return i18n.t(f"invoices.state.{value}") if kind == "invoices" else phase_word(value)


def count_line(q: RecordQuery, n: int) -> Text:
    """How many records the search found, and by which filters (none: the newest of all)."""
    if q.empty:
        return Text(i18n.tn("support.count_all", n))
    parts = []
    for name in ("number", "organisation", "offering"):
        value = getattr(q, name)
        if value:
            parts.append(i18n.t("support.filter_is", name=i18n.t(f"support.f.{name}"), value=clean(value)))
    if q.state:
        parts.append(i18n.t("support.filter_is", name=i18n.t("support.f.state"), value=state_name(q.kind, q.state)))
    for name in ("since", "until"):
        day = getattr(q, name)
        if day is not None:
            parts.append(i18n.t(f"support.filter.{name}", value=formatting.day(day)))
    return Text(i18n.tn("support.count", n, filters=", ".join(parts)))


class SupportScreen(AppScreen):
    AUTO_FOCUS = "#support-results"  # the list's keys act at once; `/` goes to the search
    DATA_KINDS = frozenset(("orders", "invoices", "organizations"))  # A sync or a write answered: the search runs again on the cache.
    BINDINGS = [
        Binding("slash", "focus_search", "support.key.search", id="support.search"),
        Binding("t", "toggle_kind", "support.key.kind", id="support.kind"),
        Binding("a", "trail", "support.key.trail", id="support.trail"),
        Binding("J", "raw", "support.key.raw", id="support.raw"),
        Binding("escape", "to_results", "support.key.results", show=False, id="support.results"),
    ]
    DEFAULT_CSS = """
    SupportScreen #support-filters, SupportScreen #support-filters2 { height: 1; padding: 0 1; }
    SupportScreen #support-filters Input, SupportScreen #support-filters2 Input { width: 1fr; margin-right: 1; }
    SupportScreen #support-filters Select, SupportScreen #support-filters2 Select { width: 1fr; margin-right: 1; }
    SupportScreen #support-count { padding: 0 1; color: $text-muted; height: 1; }
    SupportScreen DataTable { height: 1fr; }
    """

    def __init__(self, session, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.kind = "orders"
        self._asked: RecordQuery | None = None
        self.records: dict[int, Found] = {}

    # --- building ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="support-filters"):
            yield Select([(Text(i18n.t("support.kind.orders")), "orders"), (Text(i18n.t("support.kind.invoices")), "invoices")],
                         value="orders", allow_blank=False, compact=True, id="support-kind")
            yield TextField(placeholder=i18n.t("support.f.number"), compact=True, id="support-number")
            yield TextField(placeholder=i18n.t("support.f.organisation"), compact=True, id="support-organisation")
        with Horizontal(id="support-filters2"):
            yield TextField(placeholder=i18n.t("support.f.offering"), compact=True, id="support-offering")
            yield Select(self._state_options(), prompt=i18n.t("support.f.state"), compact=True, id="support-state")
            yield TextField(placeholder=i18n.t("support.f.since"), compact=True, id="support-since")
            yield TextField(placeholder=i18n.t("support.f.until"), compact=True, id="support-until")
        yield Static("", id="support-count")
        yield ListTable(id="support-results", opens=True, names=("org",))

    def _state_options(self) -> list[tuple[Text, str]]:
        states = record_search.INVOICE_STATES if self.kind == "invoices" else record_search.ORDER_STATES
        return [(Text(state_name(self.kind, s)), s) for s in states]

    def _columns(self) -> None:
        table = self.table
        table.clear(columns=True)
        # Names and titles share what the other columns (sized by their content) leave, so the
        # state and the date stay in view at 80 columns.
        if self.kind == "orders":
            names, table.flex = ("number", "org", "other", "state", "date"), ("org", "other")
        else:
            names, table.flex = ("number", "org", "gross", "state", "date"), ("org",)
        for name in names:
            table.add_column(i18n.t(f"support.col.{self.kind}.{name}"), key=name)

    def data_synced(self) -> None:
        self.search()

    def on_mount(self) -> None:
        self._columns()
        self.search()


    async def relabel(self) -> None:
        """The language changed: placeholders, choices and column titles anew."""
        for name in FILTERS:
            self.query_one(f"#support-{name}", Input).placeholder = i18n.t(f"support.f.{name}")
        self.query_one("#support-kind", Select).set_options(
            [(Text(i18n.t("support.kind.orders")), "orders"), (Text(i18n.t("support.kind.invoices")), "invoices")])
        self.query_one("#support-kind", Select).value = self.kind
        state = self.query_one("#support-state", Select)
        chosen = state.value
        state.set_options(self._state_options())
        if isinstance(chosen, str):
            state.value = chosen
        self._columns()
        self.search()

    @property
    def table(self) -> ListTable:
        return self.query_one("#support-results", ListTable)

    # --- searching --------------------------------------------------------------------------------

    def record_query(self) -> RecordQuery | None:
        values = {name: self.query_one(f"#support-{name}", Input).value.strip() for name in FILTERS}
        state = self.query_one("#support-state", Select).value
        days = {}
        for name in ("since", "until"):
            try:
                days[name] = formatting.parse_day(values[name]) if values[name] else None
            except formatting.InputError:
                self.query_one("#support-count", Static).update(Text(i18n.t("support.bad_date", value=clean(values[name])),
                                                                     style="bold red"))
                return None
        return RecordQuery(self.kind, values["number"], values["organisation"], values["offering"],
                           state if isinstance(state, str) else "", days["since"], days["until"])

    @on(Input.Changed)
    @on(Select.Changed, "#support-state")
    def _changed(self) -> None:
        self.search()

    @on(Select.Changed, "#support-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        if event.value in ("orders", "invoices") and event.value != self.kind:
            self.kind = str(event.value)
            self.query_one("#support-state", Select).set_options(self._state_options())
            self._columns()
            self.search()
            self.refresh_bindings()  # `a` Verlauf is the orders' (walk F5: offered for invoices too)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Of the record under the cursor: over no results J answered "Kein Eintrag ausgewählt".
        if action == "trail":
            return self.kind == "orders" and bool(self.records)
        if action == "raw":
            return bool(self.records)
        return True

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_to_results()

    def search(self) -> None:
        q = self.record_query()
        if q is not None:
            self._asked = q
            self._find(q)

    @work(thread=True, exclusive=True, group="support-find", exit_on_error=False)
    def _find(self, q: RecordQuery) -> None:
        found = self.session.services.support.find(q, today=formatting.today()).value
        self.app.call_from_thread(self._show, q, found)

    def _show(self, q: RecordQuery, found: list[Found]) -> None:
        if q is not self._asked:
            return  # the answer to an earlier question, finished late: a newer one is on its way
        self.records = {r.id: r for r in found}
        rows = []
        for r in found:
            customer = clean(r.customer.name if r.customer else "")
            if isinstance(r, Order):
                cells = [Text(f"#{r.id}"), Text(customer, no_wrap=True, overflow="ellipsis"),
                         Text(clean(r.offering.title if r.offering else ""), no_wrap=True, overflow="ellipsis"),
                         Text(clean(state_text(r))), formatting.day(r.created_at)]
            else:
                # DataTable reads a plain str as markup: every cell from the server is Text.
                cells = [Text(clean(r.number)), Text(customer, no_wrap=True, overflow="ellipsis"),
                         # signed as in the invoices list: a credit note is money back (minus)
                         Text(formatting.money(invoice_list.signed(r, "gross")), justify="right"),
                         Text(clean(state_text(r))),
                         formatting.day(r.issue_date)]
            rows.append((r.id, cells))
        self.table.fill(rows)
        self.query_one("#support-count", Static).update(count_line(q, len(found)))
        self.refresh_bindings()  # trail and raw data need a result

    # --- acting on a result (reading only) ------------------------------------------------------------

    def selected(self) -> Found | None:
        record = self.table.selected(self.records, none="support.none_selected")
        if record is not None:
            self.table.remember()  # back from its detail lands on this row, also after a new search
        return record

    @on(DataTable.RowSelected, "#support-results")
    def _open(self) -> None:
        record = self.selected()
        if record is None:
            return
        if isinstance(record, Order):
            self.efa.open_order(record)
        else:
            self.efa.open_invoice(record)

    def action_trail(self) -> None:
        if self.kind != "orders":
            self.notify(i18n.t("support.trail_orders_only"), severity="warning")
            return
        record = self.selected()
        if isinstance(record, Order):
            self.app.push_screen(TrailScreen(self.session, record))

    def action_raw(self) -> None:
        record = self.selected()
        if record is not None:
            title = clean(record.number) if isinstance(record, Invoice) else f"#{record.id}"
            self.app.push_screen(RecordScreen(i18n.t(f"support.raw.{self.kind}", id=title), record.model_dump(mode="json")))

    def action_toggle_kind(self) -> None:
        select = self.query_one("#support-kind", Select)
        select.value = "invoices" if self.kind == "orders" else "orders"

    def action_focus_search(self) -> None:
        # At once (Widget.focus() waits a turn of the loop): what is typed right after `/` goes
        # into the field, not to the results' single keys (`a` opened an order's trail).
        self.set_focus(self.query_one("#support-number", Input))

    def action_to_results(self) -> None:
        self.table.focus()


class TrailScreen(AppScreen):
    """The audit trail of one order: every transition with who (name, role, organisation), when,
    from which state to which, and the note — read from the server, newest last."""
    PLACE = "support.key.trail"

    BINDINGS = [
        Binding("J", "raw", "support.key.raw", id="trail.raw"),
        Binding("escape,q", "app.pop_screen", "key.back", id="trail.back"),
    ]
    DEFAULT_CSS = """
    TrailScreen #trail { padding: 0 1; }
    """

    def __init__(self, session, order: Order, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.order = order
        self.events: list[OrderEvent] = []

    def compose(self) -> ComposeResult:
        with DetailScroll(id="trail"):
            yield DetailText(self._head(), id="trail-head")
            yield DetailText(Text(i18n.t("support.trail.loading"), style="dim"), id="trail-events")

    def _head(self) -> Text:
        o = self.order
        text = Text()
        text.append(i18n.t("support.trail.title", id=o.id) + "\n", style="bold")
        text.append(f"{clean(o.offering.title if o.offering else '')}\n")
        # A line each: joined by " · " they wrapped at 80 columns with the dot left at a line's end.
        text.append(f"{i18n.t('support.trail.customer')}: {clean(o.customer.name if o.customer else '')}\n"
                    f"{i18n.t('support.trail.provider')}: {clean(o.provider.name if o.provider else '')}\n"
                    f"{i18n.t('support.trail.state')}: {state_text(o)}\n")
        return text

    def on_mount(self) -> None:
        self.query_one("#trail", DetailScroll).focus()
        self.load()

    @work(exclusive=True, group="trail", exit_on_error=False)
    async def load(self) -> None:
        oid = self.order.id
        # Offline: the trail as last read, if it was read on this machine before.
        read = await self.session.services.support.trail(oid)
        self.events, offline = read.value, read.offline
        self.query_one("#trail-events", Static).update(trail_text(self.events, offline=offline))

    def action_raw(self) -> None:
        self.app.push_screen(RecordScreen(i18n.t("support.raw.trail", id=self.order.id),
                                          {"order": self.order.model_dump(mode="json"),
                                           "events": [e.model_dump(mode="json") for e in self.events]}))


def trail_text(events: list[OrderEvent], *, offline: bool = False) -> Text:
    text = Text()
    if offline:
        text.append(i18n.t("support.trail.offline") + "\n\n", style="yellow")
    if not events:
        text.append(i18n.t("support.trail.empty"), style="dim")
        return text
    for e in events:
        actor = e.actor
        text.append(formatting.moment(e.at), style="bold")
        text.append("  ")
        source = state_name("orders", e.from_state) if e.from_state else "–"
        target = state_name("orders", str(e.to_state))
        text.append(action_word(e.action), style="bold")  # the step, named as in the order's timeline
        text.append(f"  ({source} → {target})\n")
        role = actor.role
        text.append(f"    {clean(actor.name)}")
        text.append(f" · {i18n.t('role.' + role)}" if role in ("customer", "provider", "support", "operator") else "")
        text.append(f" · {clean(actor.organization)}\n" if actor.organization else "\n")
        if e.note:
            text.append("    " + clean(e.note, multiline=True).replace("\n", "\n    ") + "\n", style="italic")
        text.append("\n")
    return text
