"""Ausgaben: spending per month of a year, per year, and per offering, as bar charts
(textual-plotext), with the figures as text under the chart. Gross amounts (what is paid);
cancelled invoices and their credit notes cancel out and are left out."""

from __future__ import annotations

import math
from decimal import Decimal

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static
from textual_plotext import PlotextPlot

from .. import formatting, i18n
from ..api.models import Invoice
from ..store import invoice_list as il
from ..text import clean
from .base import AppScreen

MODES = ("month", "year", "offering")
MONTHS_DE = ("Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def axis_ticks(maximum: float, count: int = 5) -> tuple[list[float], list[str]]:
    """The ticks of a value axis: from 0 at a round step (1, 2, 2.5 or 5 × 10^k), labelled in the
    user's locale ("2,5" in German: plotext's own labels are "2.5" in every language)."""
    if maximum <= 0:
        return [0.0], [formatting.number(0)]
    raw = maximum / (count - 1)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    digits = max(0, -int(Decimal(str(step)).normalize().as_tuple().exponent))
    ticks = [round(i * step, 10) for i in range(math.ceil(maximum / step - 1e-9) + 1)]
    return ticks, [formatting.number(Decimal(str(t)), digits) for t in ticks]


def short(label: str, width: int = 22) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


class SpendingScreen(AppScreen):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "key.back", id="spending.back"),
        Binding("m", "cycle_mode", "invoices.key.chart_mode", id="spending.mode"),
        Binding("y", "cycle_year", "invoices.key.year", id="spending.year"),
    ]
    DEFAULT_CSS = """
    SpendingScreen PlotextPlot { height: 1fr; min-height: 8; }
    SpendingScreen #spending-figures { height: auto; max-height: 8; padding: 0 1; overflow-y: auto; }
    SpendingScreen #spending-title { height: 1; padding: 0 1; text-style: bold; }
    """

    def __init__(self, session, invoices: list[Invoice], **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.invoices = invoices
        self.mode = "month"
        years = sorted({i.year for i in invoices if i.year}, reverse=True)
        issue_years = sorted({i.issue_date.year for i in invoices if i.issue_date}, reverse=True)
        self.years = issue_years or years or [formatting.today().year]
        self.year = self.years[0]
        self.with_lines: list[Invoice] | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="spending-title")
        yield PlotextPlot(id="spending-plot")
        yield Static(id="spending-figures")

    def on_mount(self) -> None:
        self.draw()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cycle_year":
            # Only the month view is of one year, and only with more than one to choose (walk T8:
            # `y Jahr` was offered in every view and changed nothing).
            return self.mode == "month" and len(self.years) > 1
        return True

    def _titled(self, view: str) -> str:
        """The customer's spending; for the operator, support and providers the amounts invoiced
        (the operator's chart read "Ausgaben" for the money it bills)."""
        from .invoices import role_of

        return f"invoices.spending.{view}" if role_of(self.app) == "customer" else f"invoices.invoiced.{view}"

    def action_cycle_mode(self) -> None:
        self.mode = MODES[(MODES.index(self.mode) + 1) % len(MODES)]
        self.refresh_bindings()
        self.draw()

    def action_cycle_year(self) -> None:
        self.year = self.years[(self.years.index(self.year) + 1) % len(self.years)]
        self.draw()

    def draw(self) -> None:
        if self.mode == "offering" and self.with_lines is None:
            self.query_one("#spending-title", Static).update(Text(i18n.t("invoices.spending.loading")))
            self.load_lines()
            return
        if self.mode == "month":
            labels = list(MONTHS_DE if i18n.current_language() == "de" else MONTHS_EN)
            values = il.spending_by_month(self.invoices, self.year)
            title = i18n.t(self._titled("by_month"), year=self.year)
        elif self.mode == "year":
            by_year = il.spending_by_year(self.invoices)
            labels, values = [str(y) for y in by_year], list(by_year.values())
            title = i18n.t(self._titled("by_year"))
        else:
            pairs = il.spending_by_offering(self.with_lines or [])[:12]
            labels, values = [short(clean(name)) for name, _ in pairs], [v for _, v in pairs]
            title = i18n.t(self._titled("by_offering"))
        unit = "invoices.spending.net" if self.mode == "offering" else "invoices.spending.gross"
        self.query_one("#spending-title", Static).update(Text(title + " · " + i18n.t(unit)))
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        if values and any(values):
            thousands = [float(v / 1000) for v in values]  # plotext draws floats; the figures below are exact
            ticks, tick_labels = axis_ticks(max(thousands))
            if self.mode == "offering":
                plt.bar(labels, thousands, orientation="horizontal", width=0.6)
                plt.xticks(ticks, tick_labels)
                plt.xlim(0, ticks[-1])
                plt.xlabel(i18n.t("invoices.spending.unit"))
            else:
                plt.bar(labels, thousands, width=0.6)
                plt.yticks(ticks, tick_labels)
                plt.ylim(0, ticks[-1])
                plt.ylabel(i18n.t("invoices.spending.unit"))
        else:
            plt.title(i18n.t("invoices.spending.nothing"))
        plot.refresh()
        self.query_one("#spending-figures", Static).update(self._figures(labels, values))

    def _figures(self, labels: list[str], values: list[Decimal]) -> Text:
        text = Text()
        total = sum(values, Decimal(0))
        parts = [f"{label} {formatting.money(v)}" for label, v in zip(labels, values, strict=True) if v]
        text.append(" · ".join(parts) or i18n.t("invoices.spending.nothing"))
        text.append("\n" + i18n.t("invoices.spending.total", total=formatting.money(total)), style="bold")
        return text

    @work(group="spending-lines", exclusive=True, exit_on_error=False)
    async def load_lines(self) -> None:
        """Per offering needs the invoices' lines: from the cache where an invoice was opened
        before, else from the server (a few at a time)."""
        wanted = [i for i in self.invoices if i.kind != "credit_note" and i.status != "cancelled"]
        cached = await self.session.services.invoices.with_lines(wanted)
        self.with_lines = cached
        if any(i.lines is None for i in cached):
            self.notify(i18n.t("invoices.spending.partial"), severity="warning")
        self.draw()
