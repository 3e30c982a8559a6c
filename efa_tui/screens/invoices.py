"""Rechnungen: the invoices of the user's organisation (staff: of everyone) from the local cache —
filter as you type, by state and year, sort, totals of the visible rows, CSV/JSON export, the
spending chart; operators start a billing run here. Enter opens an invoice with its check."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from .. import formatting, i18n
from ..api.models import Invoice
from ..org_names import fit_name
from ..store import invoice_list as il
from ..text import clean
from ..widgets.detail_text import DetailText
from ..widgets.filter_box import FilterBox, FilterKeys
from ..widgets.virtual_table import Column, VirtualTable
from .base import AppScreen

NARROW = 100  # below this width: no period, net or second party column (the totals line has the net)


def role_of(app) -> str:
    me = getattr(app, "me", None)
    return (me.role if me else "") or "customer"


def state_width() -> int:
    """Up to the longest state word in the language now ("teilweise bezahlt", "credit note" were
    cut at 10: "credit no…"); the column takes only what the rows shown need."""
    return max(len(i18n.t(f"invoices.state.{state}")) for state in il.STATES)


def invoice_columns(width: int, role: str) -> list[Column]:
    staff = role in ("operator", "support")
    party = Column("customer", i18n.t("invoices.col.customer"), shorten=fit_name) if staff \
        else Column("issuer", i18n.t("invoices.col.issuer"), shorten=fit_name)
    if width < NARROW:
        return [
            Column("number", i18n.t("invoices.col.number"), width=11), party,
            Column("gross", i18n.t("invoices.col.gross"), width=13, align="right"),
            Column("due", i18n.t("invoices.col.due"), width=10), Column("state", i18n.t("invoices.col.state"), width=state_width()),
            Column("check", i18n.t("invoices.col.check"), width=9),
        ]
    cols = [Column("number", i18n.t("invoices.col.number"), width=11),
            Column("period", i18n.t("invoices.col.period"), width=21),
            Column("issuer", i18n.t("invoices.col.issuer"), width=None if not staff else 14, shorten=fit_name)]
    if staff:
        cols.append(Column("customer", i18n.t("invoices.col.customer"), shorten=fit_name))
    cols += [
        Column("net", i18n.t("invoices.col.net"), width=13, align="right"),
        Column("gross", i18n.t("invoices.col.gross"), width=13, align="right"),
        Column("due", i18n.t("invoices.col.due"), width=10), Column("state", i18n.t("invoices.col.state"), width=state_width()),
        Column("check", i18n.t("invoices.col.check"), width=11),
    ]
    return cols


def period(inv: Invoice) -> str:
    return f"{formatting.day(inv.period_start)}–{formatting.day(inv.period_end)}"


def cells(inv: Invoice, today: date, narrow: bool) -> dict[str, str]:
    check = il.check_state(inv)
    return {
        "number": clean(inv.number), "period": period(inv),
        "issuer": clean(il.party_name(inv, "issuer")), "customer": clean(il.party_name(inv, "customer")),
        "net": formatting.money(il.signed(inv, "net")), "gross": formatting.money(il.signed(inv, "gross")),
        "due": formatting.day(inv.due_date) if inv.kind != "credit_note" else "",
        "state": i18n.t(f"invoices.state.{il.invoice_state(inv, today)}"),
        "check": "" if inv.kind == "credit_note" else i18n.t(f"invoices.{'check_short' if narrow else 'check'}.{check}"),
    }


@dataclass(frozen=True)
class InvoiceSource:
    """The visible rows (already filtered and sorted in memory: a customer has tens of invoices,
    an operator a few thousand) as the VirtualTable asks for them."""

    rows: tuple[Invoice, ...]
    columns: tuple[str, ...]
    today: date
    narrow: bool

    def count(self) -> int:
        return len(self.rows)

    def fetch(self, offset: int, limit: int) -> list[tuple[Any, list[str]]]:
        out = []
        for inv in self.rows[offset:offset + limit]:
            c = cells(inv, self.today, self.narrow)
            out.append((inv.id, [c[k] for k in self.columns]))
        return out


class InvoicesScreen(FilterKeys, AppScreen):
    DATA_KINDS = frozenset(("invoices",))  # A sync, a billing run, a review or payment answered: the list reads the cache again.
    BINDINGS = [
        Binding("slash", "focus_filter", "key.filter", id="invoices.filter"),
        Binding("t", "cycle_state", "invoices.key.state", id="invoices.state"),
        Binding("y", "cycle_year", "invoices.key.year", id="invoices.year"),
        Binding("s", "cycle_sort", "key.sort", id="invoices.sort"),
        Binding("e", "export", "invoices.key.export", id="invoices.export"),
        Binding("c", "chart", "invoices.key.chart", id="invoices.chart"),
        Binding("v", "open_file", "invoices.key.open_file", id="invoices.open_file"),  # "o" is the outbox, app-wide
        Binding("b", "billing_run", "invoices.key.billing_run", id="invoices.billing_run"),
        Binding("escape", "leave_filter", "key.back", show=False, id="invoices.leave_filter"),
    ]
    DEFAULT_CSS = """
    InvoicesScreen #info { height: 1; padding: 0 1; color: $text-muted; }
    InvoicesScreen VirtualTable { height: 1fr; }
    InvoicesScreen #totals { height: auto; padding: 0 1; background: $boost; }
    """

    def __init__(self, session, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.invoices_service = session.services.invoices
        self.query_state = il.ListQuery()
        self.invoices: list[Invoice] = []
        self.rows: list[Invoice] = []
        self._synced = False  # the server confirmed the cached invoices at least once
        self.today = formatting.today()  # the day the states (overdue) are worked out for

    def compose(self) -> ComposeResult:
        yield FilterBox(placeholder=i18n.t("invoices.filter_placeholder"), id="filter")
        yield Static(id="info")
        self.table = VirtualTable(invoice_columns(self.app.size.width, role_of(self.app)), id="invoices-table", opens=True,
                                  empty_text=self.empty_text())
        yield self.table
        yield DetailText(id="totals")

    def data_synced(self) -> None:
        self.reload()

    def on_mount(self) -> None:
        self.load()
        self.table.focus()


    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "billing_run":
            return role_of(self.app) == "operator"
        if action in ("export", "chart"):  # of the rows shown: with none, an empty file or chart
            return bool(self.rows)
        return True

    # --- data ----------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="invoices-load", exit_on_error=False)
    def load(self, keep_cursor: bool = False) -> None:
        read = self.invoices_service.cached(limit=100_000)
        records, synced = read.value, read.as_of is not None
        self.app.call_from_thread(self._loaded, records, keep_cursor, synced)

    def _loaded(self, records: list[Invoice], keep_cursor: bool, synced: bool = False) -> None:
        self.invoices = records
        self._synced = synced
        self.refresh_bindings()
        self.show(keep_cursor=keep_cursor)

    def reload(self, *, keep_cursor: bool = True) -> None:
        """After a sync or a write: read the cache again."""
        self.load(keep_cursor=keep_cursor)

    def show(self, *, keep_cursor: bool = False) -> None:
        table = self._table()
        narrow = self.app.size.width < NARROW
        self.rows = il.select(self.invoices, self.query_state, self.today)
        columns = tuple(c.key for c in table.columns)
        table.empty_text = self.empty_text()
        table.set_source(InvoiceSource(tuple(self.rows), columns, self.today, narrow), keep_cursor=keep_cursor)
        self._show_info()
        self._show_totals()
        self.refresh_bindings()  # export and chart need rows

    def empty_text(self) -> str:
        """What an empty table says: nothing matches the filter; or what the area holds for this
        role — none for a provider (the operator invoices the customers), none issued yet once
        synced — and only before the first sync that it is syncing."""
        if self.invoices:
            return i18n.t("invoices.empty")
        if role_of(self.app) == "provider":
            return i18n.t("invoices.none_for_provider")
        return i18n.t("invoices.none_yet") if self._synced else i18n.t("invoices.empty_cache")

    async def relabel(self) -> None:
        """After a language switch: rebuild the widgets with the new texts, keep filter and place."""
        await self.recompose()
        self.query_one("#filter", Input).value = self.query_state.text
        self.show(keep_cursor=True)

    def _table(self) -> VirtualTable:
        """The table, rebuilt when its columns no longer fit (width crossed NARROW, or the role —
        customers see the issuer, staff the customer — became known after the first paint)."""
        table = self.table
        columns = invoice_columns(self.app.size.width, role_of(self.app))
        if [c.key for c in table.columns] == [c.key for c in columns]:
            return table
        focused = self.focused is table
        fresh = VirtualTable(columns, id="invoices-table", empty_text=table.empty_text, opens=True)
        table.remove()
        self.mount(fresh, before=self.query_one("#totals"))
        self.table = fresh
        if focused:
            fresh.focus()
        return fresh

    def on_resize(self) -> None:
        if self.is_mounted and self.invoices:
            self.show(keep_cursor=True)

    def _show_info(self) -> None:
        q = self.query_state
        state = i18n.t(f"invoices.filter_state.{q.state or 'all'}")
        year = str(q.year) if q.year else i18n.t("invoices.all")
        self.query_one("#info", Static).update(Text(i18n.t(
            "invoices.info", state=state, year=year, sort=i18n.t(f"invoices.sort.{q.sort}"),
            shown=formatting.number(len(self.rows)), total=formatting.number(len(self.invoices)))))

    def _show_totals(self) -> None:
        tot = il.totals(self.rows, self.today)
        self.query_one("#totals", DetailText).update(Text(i18n.tn(
            "invoices.totals", n=tot.count, net=formatting.money(tot.net),
            gross=formatting.money(tot.gross), open=formatting.money(tot.open_gross)), style="bold"))

    # --- input -----------------------------------------------------------------------------------

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_state = replace(self.query_state, text=event.value)
        self.show()

    def filter_target(self) -> VirtualTable:
        return self.table

    def action_cycle_state(self) -> None:
        states = il.STATE_FILTERS
        self.query_state = replace(self.query_state, state=states[(states.index(self.query_state.state) + 1) % len(states)])
        self.show()

    def action_cycle_year(self) -> None:
        years = [None, *sorted({i.year for i in self.invoices if i.year}, reverse=True)]
        now = self.query_state.year if self.query_state.year in years else None
        self.query_state = replace(self.query_state, year=years[(years.index(now) + 1) % len(years)])
        self.show()

    def action_cycle_sort(self) -> None:
        sorts = il.SORTS
        self.query_state = replace(self.query_state, sort=sorts[(sorts.index(self.query_state.sort) + 1) % len(sorts)])
        self.show()

    @on(VirtualTable.RowSelected)
    def _open(self, event: VirtualTable.RowSelected) -> None:
        record = next((i for i in self.rows if i.id == event.key), None)
        if record is not None:
            self.open_invoice(record)

    def open_invoice(self, record: Invoice) -> None:
        from .invoice_detail import InvoiceScreen

        self.app.push_screen(InvoiceScreen(self.session, record))

    def action_export(self) -> None:
        from .invoice_dialogs import ExportDialog

        self.app.push_screen(ExportDialog(list(self.rows), self.today))

    def action_chart(self) -> None:
        from .invoice_chart import SpendingScreen

        self.app.push_screen(SpendingScreen(self.session, list(self.rows)))

    def action_open_file(self) -> None:
        from .invoice_dialogs import ValidateFileDialog

        self.app.push_screen(ValidateFileDialog())

    def action_billing_run(self) -> None:
        from .invoice_dialogs import BillingRunScreen

        def done(_result: Any) -> None:
            self.run_worker(self._resync(), group="invoices-resync", exit_on_error=False)

        self.app.push_screen(BillingRunScreen(self.session), done)

    async def _resync(self) -> None:
        await self.invoices_service.resync()
        await asyncio.sleep(0)
        self.reload()
