"""Katalog: every offering, filtered as you type, from the local cache — only visible rows are
rendered (VirtualTable), and every query runs in a thread worker."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache, partial
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Select, Static

from .. import formatting, i18n, startup
from ..api.models import Me
from ..catalog_words import category_name
from ..domain.catalog import BUNDESLAENDER
from ..domain.collation import sort_key
from ..org_names import fit_name
from ..services.catalog import CatalogService, Filters
from ..text import clean
from ..widgets.filter_box import FilterBox, FilterKeys
from ..widgets.virtual_table import Column, VirtualTable
from .base import AppScreen


@lru_cache(maxsize=8192)
def _money(amount: Decimal, language: str) -> str:
    """Fees repeat across thousands of offerings; Babel takes ~25 µs for each one."""
    return formatting.money(amount)


SORTS = ("title", "provider", "annual_fee", "-annual_fee", "updated")
FACETS = ("category", "provider", "bundesland", "inhouse_orderable")


@dataclass(frozen=True)
class CatalogSource:
    """The rows of the catalog table for one query, filters and sort — read in a worker thread."""

    catalog: CatalogService
    query: str
    filters: Filters
    sort: str
    columns: tuple[str, ...] = ("title", "provider", "category", "annual_fee", "key")
    # Whether the last window's total was exact (a broad query's rows come first, its count after).
    answered: dict[str, bool] = field(default_factory=lambda: {"exact": True}, compare=False)

    @property
    def exact(self) -> bool:
        return self.answered["exact"]

    def count(self) -> int:
        return self.catalog.count(self.query, filters=self.filters)

    def fetch(self, offset: int, limit: int) -> list[tuple[Any, list[str]]]:
        return self.window(offset, limit)[1]

    def window(self, offset: int, limit: int) -> tuple[int, list[tuple[Any, list[str]]]]:
        """The total and the rows ``[offset, offset + limit)``: one search, one cache read. For a
        broad query the total may be an estimate (``exact`` False): the screen counts after."""
        page = self.catalog.search(self.query, filters=self.filters, sort=self.sort, offset=offset, limit=limit,
                                   exact=False)
        self.answered["exact"] = page.exact
        return page.total, self._cells(page.rows)

    def _cells(self, found) -> list[tuple[Any, list[str]]]:
        rows = []
        language = i18n.current_language()
        for r in found:
            cells = {"title": clean(r.title), "provider": clean(r.provider_name), "category": category_name(r.category),
                     "annual_fee": _money(r.annual_fee, language), "key": i18n.t(f"key.{r.distribution_key}")}
            rows.append((r.id, [cells[k] for k in self.columns]))
        return rows


EXACT_AFTER_S = 0.15
"""How long the typing must pause before a broad query (shown with an estimated total) is
counted exactly."""

HOLD_S = 0.035
"""How long a keystroke in the filter may hold back the screen's repaint for its rows (see
`CatalogScreen._hold_paint`)."""

TYPEAHEAD_S = 10.0
"""The longest wait of keys typed before the first rows are on screen (an empty cache, offline)."""

TITLE_MIN = 18  # what the offering is: beside the facet panel at 80 columns the provider gives way
NARROW = 100  # below this width the title needs the room more than category and key do


def catalog_columns(width: int = 120) -> list[Column]:
    columns = [
        Column("title", i18n.t("col.title"), min_width=TITLE_MIN),
        Column("provider", i18n.t("col.provider"), width=16, shorten=fit_name),
        Column("category", i18n.t("col.category"), width=14),
        Column("annual_fee", i18n.t("col.annual_fee"), width=13, align="right"),
        Column("key", i18n.t("col.key"), width=12),
    ]
    return columns if width >= NARROW else [c for c in columns if c.key not in ("category", "key")]


class CatalogScreen(FilterKeys, AppScreen):
    """The catalog area. Keeps its filter, facets, sort and selection while you are elsewhere."""
    DATA_KINDS = frozenset(("offerings",))  # A sync or a provider's publish/retire: rows and the total ("83 von 83") read anew.
    # The table from the start, not Textual's first focusable (the filter) until on_mount: the
    # footer's keys were made for the filter first, and again for the table (12 ms).
    AUTO_FOCUS = "#catalog-table"

    BINDINGS = [
        Binding("slash", "focus_filter", "key.filter", id="catalog.filter"),
        Binding("s", "cycle_sort", "key.sort", id="catalog.sort"),
        Binding("f", "toggle_facets", "key.facets", id="catalog.facets"),
        # Not in the footer (the line of active filters names it, and 80 columns are few).
        Binding("x", "reset_filters", "key.reset_filters", show=False, id="catalog.reset_filters"),
        Binding("escape", "leave_filter", "key.back", show=False, id="catalog.leave_filter"),
    ]
    DEFAULT_CSS = """
    CatalogScreen #facets { width: 34; display: none; padding: 0 1; }
    CatalogScreen.-facets #facets { display: block; }
    CatalogScreen #facets Select { margin-bottom: 1; }
    CatalogScreen #count { height: 1; width: 1fr; padding: 0 1; color: $text-muted; }
    CatalogScreen #active-filters { height: auto; width: 1fr; padding: 0 1; color: $warning; display: none; }
    CatalogScreen.-filtered #active-filters { display: block; }
    CatalogScreen VirtualTable { height: 1fr; }
    """

    def __init__(self, session: Any, **kwargs):
        super().__init__(**kwargs)
        self.catalog: CatalogService = session.services.catalog
        self.query_text = ""
        self.filters = Filters()
        self.sort = "title"
        self._all: int | None = None  # offerings in the cache (changes only with a sync)
        self._provider_name: str | None = None  # the name behind filters.provider_id (the facet's value)
        self._hold: Any = None  # the timer that ends a held repaint, while one is held
        self._source: CatalogSource | None = None  # the rows on screen (or coming)
        self._exact_timer: Any = None  # counts a broad query exactly once the typing pauses
        self._facets_built = False  # the facet selects are made when first shown: half the widgets
        # Babel reads its locale data on first use (~10 ms alone). Here, before the screen is
        # built, rather than in the first rows' worker thread: that one shares the CPU with the
        # start-up's styling and took over 100 ms for it, on the way to the first rows.
        _money(Decimal("0"), i18n.current_language())
        # Keys typed before the first rows are on screen (a first start waits for the demo server
        # and the first sync) wait for them: `Enter b` typed ahead opens the first offering and
        # its interest form instead of meeting an empty table, and no letter of it reaches the
        # app's single keys (`o` outbox). At most TYPEAHEAD_S: an empty, offline cache lets go.
        self.keyboard_ready = False
        self._synced_once = False

    def compose(self) -> ComposeResult:
        yield FilterBox(placeholder=i18n.t("catalog.filter_placeholder"), id="filter")
        with Horizontal():
            with Vertical(id="facets"):
                if self._facets_built:  # a recompose (language switch) after they were shown
                    yield from self._facet_selects()
            with Vertical():
                yield Static(id="count")
                yield Static(id="active-filters", markup=False)
                # 100-row blocks: the first window of a new filter is one short query (~40 rows show)
                yield VirtualTable(catalog_columns(self.app.size.width), id="catalog-table", opens=True,
                                   empty_text=i18n.t("catalog.empty_cache"), block_size=100)

    @staticmethod
    def _facet_selects() -> list[Select]:
        return [Select([], prompt=i18n.t(f"facet.{facet}"), id=f"facet-{facet}", allow_blank=True) for facet in FACETS]

    def data_synced(self) -> None:
        self.reload(keep_cursor=True)

    def on_mount(self) -> None:
        self._apply_may_order(self.me)
        self.reload()
        self.query_one(VirtualTable).focus()
        if not self.keyboard_ready:
            self.set_timer(TYPEAHEAD_S, self.take_keyboard)

    def opened(self) -> None:
        """Shown: the keys typed so far still wait for the first rows (`_loaded`)."""

    def first_sync_over(self) -> None:
        """The app's first sync ended (rows or none, online or not): keys typed ahead go on once
        the rows it brought are loaded."""
        self._synced_once = True
        if not self.query_one(VirtualTable).is_loading:
            self.take_keyboard()

    def identity_changed(self, me: Me) -> None:
        if self._apply_may_order(me):
            self.reload(keep_cursor=True)

    def _apply_may_order(self, me: Me | None) -> bool:
        """The in-house facet answers for the user's own organisation (``/me``'s can_order):
        Jena, without an in-house relationship, sees every offering as not orderable."""
        may = me.can_order if me else True
        if may == self.filters.may_order:
            return False
        self.filters = replace(self.filters, may_order=may)
        return True

    # --- data ----------------------------------------------------------------------------------

    def reload(self, *, keep_cursor: bool = False) -> None:
        """Show the rows for the current filter (called on every keystroke and after a sync)."""
        table = self.query_one(VirtualTable)
        if keep_cursor:  # after a sync (or a language switch): the cache's total may have changed
            self._all = None
        columns = tuple(c.key for c in table.columns)
        self._source = CatalogSource(self.catalog, self.query_text, self.filters, self.sort, columns)
        if self._exact_timer is not None:
            self._exact_timer.stop()
            self._exact_timer = None
        table.set_source(self._source, keep_cursor=keep_cursor)
        self._show_active_filters()
        if self.has_class("-facets"):
            self.load_facets()

    def active_filters(self) -> list[tuple[str, str]]:
        """(facet, value as shown) of every facet that filters the list, in the panel's order."""
        return [(facet, _facet_label(facet, value)) for facet in FACETS if (value := self._facet_value(facet)) is not None]

    def _show_active_filters(self) -> None:
        """One line above the rows that says which facets filter them and the key that resets them."""
        active = self.active_filters()
        self.set_class(bool(active), "-filtered")
        if not active:
            return
        parts = " · ".join(f"{i18n.t('facet.' + facet)}: {value}" for facet, value in active)
        key = next((self.app.get_key_display(b) for bs in self._bindings.key_to_bindings.values() for b in bs
                    if b.action == "reset_filters"), "x")
        self.query_one("#active-filters", Static).update(i18n.t("catalog.active_filters", filters=parts, reset=key))

    @work(thread=True, exclusive=True, group="facets", exit_on_error=False)
    def load_facets(self) -> None:
        facets = self.catalog.facets(self.query_text, filters=self.filters)
        self.app.call_from_thread(self._show_facets, facets)

    def _show_facets(self, facets: dict[str, list[tuple[str, int]]]) -> None:
        """Options in a stable order (by name, not by count: they do not jump while you type),
        each with its count; the value that filters the list stays selected even when the query
        leaves it no match (then with 0), so a select never hides an active filter."""
        for facet in FACETS:
            select = self.query_one(f"#facet-{facet}", Select)
            counts = dict(facets.get(facet, []))
            current = self._facet_value(facet)
            if current is not None:
                counts.setdefault(current, 0)
            if facet == "inhouse_orderable":  # both answers, always: "ja (0)" says it plainly
                counts.setdefault("ja", 0)
                counts.setdefault("nein", 0)
            ordered = sorted(counts, key=partial(_facet_order, facet))
            options = [(f"{_facet_label(facet, v)} ({formatting.number(counts[v])})", v) for v in ordered]
            with select.prevent(Select.Changed):
                select.set_options(options)
                if current is not None:
                    select.value = current

    def _facet_value(self, facet: str) -> str | None:
        """The value of ``facet`` that filters the list now, as its select's options name it."""
        f = self.filters
        if facet == "category":
            return f.category
        if facet == "provider":
            return self._provider_name if f.provider_id is not None else None
        if facet == "bundesland":
            return f.bundesland
        return None if f.inhouse_orderable is None else "ja" if f.inhouse_orderable else "nein"

    @on(VirtualTable.Loaded)
    def _loaded(self, event: VirtualTable.Loaded) -> None:
        self._release_paint()
        startup.rows_shown()  # the collector runs again a moment after these rows (startup.py)
        if (event.total or self._synced_once or not getattr(self.app, "start_network", False)) and not self.keyboard_ready:
            self.call_after_refresh(self.take_keyboard)  # the rows painted, then the keys typed ahead
        source = self._source
        exact = source is None or source.exact
        if self._all is None:
            self._count_all(event.total, self.sort, exact)
        else:  # on every keystroke: in the same frame as the rows, no worker
            self._set_count(event.total, self.sort, self._all, exact)
        if not exact and source is not None:
            # A broad query: its rows came first, with an estimate; the exact count once the
            # typing pauses (a count costs more than the rows, and the next key makes it moot).
            self._exact_timer = self.set_timer(EXACT_AFTER_S, partial(self._count_exactly, source))

    @work(thread=True, exclusive=True, group="count-exact", exit_on_error=False)
    def _count_exactly(self, source: CatalogSource) -> None:
        if source is not self._source:
            return
        total = source.count()
        self.app.call_from_thread(self._counted, source, total)

    def _counted(self, source: CatalogSource, total: int) -> None:
        if source is not self._source:
            return
        self.query_one(VirtualTable).set_total(source, total)
        if self._all is not None:
            self._set_count(total, self.sort, self._all)

    @work(thread=True, exclusive=True, group="count-all", exit_on_error=False)
    def _count_all(self, shown: int, sort: str, exact: bool = True) -> None:
        total = self.catalog.offering_count()
        self.app.call_from_thread(self._set_count, shown, sort, total, exact)

    def _set_count(self, shown: int, sort: str, total: int, exact: bool = True) -> None:
        self._all = total
        count = (i18n.tn("catalog.count", total, shown=formatting.number(shown)) if exact
                 else i18n.tn("catalog.count_about", total, shown=formatting.number(shown)))
        text = f"{count} · {i18n.t('sort.now', sort=i18n.t('sort.' + sort))}"
        self.query_one("#count", Static).update(text, layout=False)  # one line, its width fixed
        # An empty cache is still loading; an empty result is a filter that matches nothing.
        self.query_one(VirtualTable).empty_text = i18n.t("catalog.empty") if total else i18n.t("catalog.empty_cache")

    # --- input -----------------------------------------------------------------------------------

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self._hold_paint()
        self.reload()

    def _hold_paint(self) -> None:
        """Paint the typed character and its rows in one frame. Textual paints at most 60
        frames a second: painting the echo at once would take the frame slot the rows need
        (they come a few ms later, from a worker), so they would wait for the next one. The
        hold ends when the rows are in, or after HOLD_S, whichever is first (an app timer: it
        fires even if this screen goes away), and never stacks."""
        if self._hold is not None or not self.is_current:
            return
        self.app._begin_batch()
        self._hold = self.app.set_timer(HOLD_S, self._hold_expired, name="catalog-hold-paint")

    def _hold_expired(self) -> None:
        if self._hold is not None:
            self._hold = None
            self.app._end_batch()

    def _release_paint(self) -> None:
        hold, self._hold = self._hold, None
        if hold is not None:
            hold.stop()
            self.app._end_batch()

    @on(VirtualTable.LoadFailed)
    def _load_failed(self) -> None:
        self._release_paint()
        startup.release_collections()
        self.take_keyboard()

    def on_screen_suspend(self) -> None:
        self._release_paint()

    def on_unmount(self) -> None:
        self._release_paint()

    @on(Select.Changed)
    def _facet_changed(self, event: Select.Changed) -> None:
        facet = (event.select.id or "").removeprefix("facet-")
        value = None if event.value is Select.NULL else event.value
        if facet == "provider" and value is not None:
            self._filter_by_provider(str(value))
            return
        if facet == "provider":
            self._provider_name = None
        if facet == "inhouse_orderable":
            self.filters = replace(self.filters, inhouse_orderable=None if value is None else value == "ja")
        elif facet == "category":
            self.filters = replace(self.filters, category=None if value is None else str(value))
        elif facet == "bundesland":
            self.filters = replace(self.filters, bundesland=None if value is None else str(value))
        elif facet == "provider":
            self.filters = replace(self.filters, provider_id=None)
        self.reload()

    @work(thread=True, exclusive=True, group="provider", exit_on_error=False)
    def _filter_by_provider(self, name: str) -> None:
        # The facet lists provider names; the filter needs the id (a cache lookup, off the loop).
        provider_id = self.catalog.provider_id(name)
        self.app.call_from_thread(self._set_provider, provider_id, name)

    def _set_provider(self, provider_id: int | None, name: str | None = None) -> None:
        self.filters = replace(self.filters, provider_id=provider_id)
        self._provider_name = name if provider_id is not None else None
        self.reload()

    def action_reset_filters(self) -> None:
        """Every filter off: each facet back to "alle", and the typed query too (walk T22: with
        "bHallo" in the box and 0 offerings, `x Filter zurücksetzen` did nothing)."""
        facets = bool(self.active_filters())
        if facets:
            self._clear_facets()
        if self.query_text:
            self.query_one("#filter", Input).value = ""  # its change reloads
        elif facets:
            self.reload()

    def _clear_facets(self) -> None:
        self.filters = Filters(status=self.filters.status, may_order=self.filters.may_order)
        self._provider_name = None
        for select in self.query("#facets Select").results(Select):
            with select.prevent(Select.Changed):
                select.clear()

    @on(VirtualTable.RowSelected)
    def _open(self, event: VirtualTable.RowSelected) -> None:
        from .offering_detail import OfferingScreen

        self.app.push_screen(OfferingScreen(self.catalog, event.key))

    def action_cycle_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.reload()

    async def action_toggle_facets(self) -> None:
        """Show the facet panel and go into it (its first select), or hide it and go back to the
        table: focus never stays on a select that cannot be seen."""
        if not self._facets_built:
            # Four selects (24 widgets with their parts) that most starts never show: made on
            # first use, they do not slow the first paint.
            self._facets_built = True
            await self.query_one("#facets", Vertical).mount_all(self._facet_selects())
        self.toggle_class("-facets")
        if self.has_class("-facets"):
            self.load_facets()
            self.set_focus(self.query_one("#facets Select", Select))  # at once: a Tab typed next moves on from there
        else:
            self.set_focus(self.query_one(VirtualTable))

    def _in_facets(self) -> bool:
        node = self.focused
        while node is not None:
            if node.id == "facets":
                return True
            node = node.parent  # type: ignore[assignment]
        return False

    async def action_leave_filter(self) -> None:  # type: ignore[override]  # Textual awaits an action either way
        """escape: in the filter box, clear it, and a second escape leaves it; in the facet panel,
        hide it (back to the table)."""
        if self._in_facets() and self.has_class("-facets"):
            await self.action_toggle_facets()
            return
        super().action_leave_filter()

    async def relabel(self) -> None:
        """After a language switch: rebuild the widgets with the new texts, keep the place."""
        await self.recompose()
        self.query_one("#filter", Input).value = self.query_text
        self.reload(keep_cursor=True)

    def set_filter(self, text: str) -> None:
        """Show the catalog filtered by ``text``, every facet reset (what ``:offering NAME`` lists)."""
        self._clear_facets()
        self.query_one("#filter", Input).value = text
        self.query_text = text
        self.reload()
        self.query_one(VirtualTable).focus()

    @work(thread=True, exclusive=True, group="find-offering", exit_on_error=False)
    def find_offering(self, text: str) -> None:
        """``:offering NAME``: open the offering when one matches (or one's title is NAME
        exactly); when several do, the catalog lists them to choose from; when none, it says so."""
        page = self.catalog.search(text, limit=50)
        exact = [r for r in page.rows if sort_key(r.title) == sort_key(text)]
        one = page.rows[0].id if page.total == 1 else exact[0].id if len(exact) == 1 else None
        self.app.call_from_thread(self._found_offering, text, one, page.total)

    def _found_offering(self, text: str, offering_id: int | None, total: int) -> None:
        self.set_filter(text)
        if offering_id is not None:
            from .offering_detail import OfferingScreen

            self.app.push_screen(OfferingScreen(self.catalog, offering_id))
        elif total == 0:
            self.notify(i18n.t("jump.not_found", text=clean(text)), severity="warning")


def _facet_label(facet: str, value: str) -> str:
    if facet == "inhouse_orderable":
        return i18n.t("yes") if value == "ja" else i18n.t("no")
    if facet == "bundesland":
        return i18n.t("facet.nationwide") if value == "bundesweit" else clean(BUNDESLAENDER.get(value, value))
    if facet == "category":
        return category_name(value)
    return clean(value)


def _facet_order(facet: str, value: str) -> tuple:
    """A stable order of a facet's options: yes before no, nationwide before the Länder, else by name."""
    if facet == "inhouse_orderable":
        return (value != "ja",)
    return (facet == "bundesland" and value != "bundesweit", sort_key(_facet_label(facet, value)))
