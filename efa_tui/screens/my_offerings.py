""""Meine Angebote": a provider's own offerings — drafts, published and retired — with the open
interests and the contracts on each; create, edit, publish and retire (after a preview of the
catalog entry), and usage reporting for per-case offerings.

The list comes from the local cache (a provider's sync holds its own drafts and retired
offerings too) and is refreshed from the server in the background. Every write goes through
the outbox; the server's answer is put into the cache at once so the list shows it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Static

from .. import formatting, i18n
from ..api.models import Me, Offering, Organization, as_offering
from ..domain import offering_rules as rules
from ..services import Conflict, Done, Queued
from ..text import clean
from ..widgets.detail_text import DetailText
from ..widgets.lists import DetailScroll, ListTable
from .base import AppScreen
from .offering_detail import describe

STATUS_STYLE = {"draft": "yellow", "published": "green", "retired": "dim"}


def status_text(status: str | None) -> Text:
    return Text(i18n.t(f"offering.status.{status or 'draft'}"), style=STATUS_STYLE.get(str(status), ""))


class MyOfferingsScreen(AppScreen):
    # A sync, a save or status change answered or queued, an interest on an offering: counts and states.
    DATA_KINDS = frozenset(("offerings", "orders", "outbox"))
    BINDINGS = [
        Binding("n", "new", "offerings.key.new", id="offerings.new"),
        Binding("e", "edit", "offerings.key.edit", id="offerings.edit"),
        Binding("v", "preview", "offerings.key.preview", id="offerings.preview"),
        Binding("p", "publish", "offerings.key.publish", id="offerings.publish"),
        Binding("x", "retire", "offerings.key.retire", id="offerings.retire"),
        Binding("u", "usage", "offerings.key.usage", id="offerings.usage"),
    ]
    DEFAULT_CSS = """
    MyOfferingsScreen #offerings-head { padding: 0 1; height: auto; }
    MyOfferingsScreen DataTable { height: 1fr; }
    """

    def __init__(self, session, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.offerings_service = session.services.offerings
        self.offerings: dict[int, Offering] = {}
        self._generation = 0
        self.waiting: set[int] = set()  # offerings with a change still in the outbox

    def compose(self) -> ComposeResult:
        yield Static("", id="offerings-head")
        table = ListTable(id="offerings", flex=("title",), opens=True)
        self._columns(table)
        yield table

    def _columns(self, table: DataTable) -> None:
        # The title takes what the other columns leave (at 80 columns without the date).
        self.wide = self.app.size.width >= 100
        table.add_column(i18n.t("offerings.col.title"), key="title")
        table.add_column(i18n.t("offerings.col.status"), key="status")
        table.add_column(i18n.t("offerings.col.open"), key="open")
        table.add_column(i18n.t("offerings.col.contracts"), key="contracts")
        table.add_column(i18n.t("offerings.col.annual_fee"), key="fee")
        if self.wide:
            table.add_column(i18n.t("offerings.col.updated"), key="updated")

    async def relabel(self) -> None:
        """The language changed: new column titles, rows again."""
        self.table.clear(columns=True)
        self._columns(self.table)
        self.reload()

    def data_synced(self) -> None:
        self.reload()

    def on_mount(self) -> None:
        self.reload()
        self.fetch()

    @property
    def table(self) -> ListTable:
        return self.query_one("#offerings", ListTable)

    # --- loading ----------------------------------------------------------------------------------

    def reload(self) -> None:
        """The list from the cache. Only the newest load is shown: an older one may finish later,
        with older data."""
        self._generation += 1
        self._load(self._generation)

    @work(thread=True, group="offerings-load", exit_on_error=False)
    def _load(self, generation: int) -> None:
        service = self.offerings_service
        offerings, counts = service.own(self.me)  # the app knows who this is from its start (the cache's /me)
        # Changes still in the outbox (offline, or the server busy): the row says so.
        self.waiting = service.waiting()
        self.app.call_from_thread(self._show, offerings, counts, generation)

    def _show(self, offerings: list[Offering], counts: dict[int, tuple[int, int]], generation: int = 0) -> None:
        if generation and generation != self._generation:
            return
        self.offerings = {o.id: o for o in offerings}
        rows = []
        for o in offerings:
            n_open, n_contracts = counts.get(o.id, (0, 0))
            status = status_text(o.status)
            if o.id in self.waiting:
                status.append(" " + i18n.t("row.waiting"), style="italic yellow")
            cells = [Text(clean(o.title), overflow="ellipsis", no_wrap=True), status,
                     Text(formatting.number(n_open), justify="right"), Text(formatting.number(n_contracts), justify="right"),
                     Text(formatting.money(o.fees.annual_fee if o.fees else None), justify="right")]
            if self.wide:
                cells.append(Text(formatting.day(o.updated_at)))
            rows.append((o.id, cells))
        table = self.table
        table.fill(rows)
        by_status = {s: sum(1 for o in offerings if o.status == s) for s in ("draft", "published", "retired")}
        head = Text(i18n.tn("offerings.count", n=len(offerings), draft=by_status["draft"], published=by_status["published"],
                           retired=by_status["retired"]))
        if not offerings:
            head.append("\n" + i18n.t("offerings.empty"), style="dim")
        elif self.wide:
            head.append("\n" + i18n.t("offerings.legend"), style="dim")
        self.query_one("#offerings-head", Static).update(head)
        table.focus()

    @work(exclusive=True, group="offerings-fetch", exit_on_error=False)
    async def fetch(self) -> None:
        """Background: the provider's offerings straight from the server (all states) into the cache."""
        me = getattr(self.app, "me", None)
        org_id = me.organization.id if me else None
        if org_id is None or not getattr(self.app, "start_network", True):
            return
        items = (await self.offerings_service.fetch_own(org_id)).value
        if items:  # none offline: the cached list stays; the status line says offline
            await asyncio.to_thread(self.offerings_service.remember, items)
            self.reload()

    # --- the selected offering ----------------------------------------------------------------------

    def selected_id(self) -> int | None:
        key = self.table.cursor_key
        return int(key) if key is not None else None

    def selected(self) -> Offering | None:
        offering = self.table.selected(self.offerings, none="offerings.none_selected")
        if offering is not None:
            self.table.remember()  # back from what opens now lands on this row, also after a reload
        return offering

    @on(DataTable.RowSelected, "#offerings")
    def _row_selected(self) -> None:
        self.action_edit()

    # --- create and edit ---------------------------------------------------------------------------

    def action_new(self) -> None:
        from .offering_form import OfferingFormScreen

        self.app.push_screen(OfferingFormScreen(self.session), self._saved)

    def action_edit(self) -> None:
        offering = self.selected()
        if offering is None:
            return
        if offering.status == "retired":
            self.notify(i18n.t("offerings.retired_no_edit"), severity="warning")
            self.efa.release_keys()  # nothing opens: the keys typed after Enter stay on the list
            return
        if not self.session.services.status.online:
            # Known offline: say so now. Asked anyway, the request waited out its retries (11 s of
            # nothing, walk F6) and the form came up later over whatever the user had gone on to.
            self.notify(i18n.t("offerings.edit_offline"), severity="warning", timeout=8)
            self.efa.release_keys()
            return
        self.keys_to_next_screen()  # typed while the version is fetched: the form's
        self.open_editor(offering.id)

    @work(exclusive=True, group="offerings-edit", exit_on_error=False)
    async def open_editor(self, offering_id: int) -> None:
        """The version to edit: the one a saved draft was written against, else the server's current one
        (with its ETag, for If-Match)."""
        from .offering_form import OfferingFormScreen, base_key, draft_key, save_base, version_to_edit

        key = draft_key(offering_id)
        drafts = self.session.services.drafts
        stored = await asyncio.to_thread(drafts.load, base_key(offering_id))
        draft = await asyncio.to_thread(drafts.load, key)
        kept = as_offering(stored.get("offering")) if stored and draft and stored.get("etag") else None
        if stored and kept is not None:
            offering, etag = kept, stored["etag"]
        else:
            slow = self.set_timer(0.5, lambda: self.notify(i18n.t("offerings.edit_loading"), timeout=3))
            try:
                current = await version_to_edit(self, offering_id)
            finally:
                slow.stop()
            if current is None:
                self.efa.release_keys()
                return
            offering, etag = current
            await asyncio.to_thread(save_base, drafts, offering, etag)
        if self.app.screen is not self:
            # The user went on meanwhile: no form over another screen (F6: it came up over the outbox).
            self.efa.release_keys()
            return
        self.app.push_screen(OfferingFormScreen(self.session, offering, etag), self._saved)

    def _saved(self, offering: dict[str, Any] | None) -> None:
        if offering:
            self.notify(i18n.t("offerings.saved", title=clean(offering.get("title"))))
            if offering.get("id") is not None:
                # The cursor on what was saved: a new draft sat on row 1 and `v`/`p` went to
                # another offering (helper walk).
                self.table.remember(offering["id"])
            self.store(offering)
        else:
            self.reload()

    @work(thread=True, group="offerings-store", exit_on_error=False)
    def store(self, offering: dict[str, Any]) -> None:
        """The server's answer into the cache (never cancelled), then the list from it."""
        self.offerings_service.remember([offering])
        self.app.call_from_thread(self.reload)

    # --- publish, retire, preview -------------------------------------------------------------------

    def action_preview(self) -> None:
        offering = self.selected()
        if offering is not None:
            self.app.push_screen(PreviewScreen(offering))

    def action_publish(self) -> None:
        offering = self.selected()
        if offering is None:
            return
        if offering.status == "published":
            self.notify(i18n.t("offerings.already_published"))
            return
        self._confirm(offering, "publish")

    def action_retire(self) -> None:
        offering = self.selected()
        if offering is None:
            return
        if offering.status != "published":
            self.notify(i18n.t("offerings.retire_only_published"), severity="warning")
            return
        self._confirm(offering, "retire")

    def _confirm(self, offering: Offering, action: str) -> None:
        def decided(go: bool | None) -> None:
            if go:
                self.change_status(offering, action)

        self.app.push_screen(PreviewScreen(offering, action=action), decided)

    @work(group="offerings-status", exit_on_error=False)
    async def change_status(self, offering: Offering, action: str) -> None:
        oid, title = offering.id, clean(offering.title)
        outcome = await self.session.services.writes.submit(
            self.offerings_service.change_status(oid, action),
            label=i18n.t(f"offerings.label.{action}", title=title), related=f"offering:{oid}")
        if isinstance(outcome, Done):
            self.notify(i18n.t(f"offerings.done.{action}", title=title))
            if isinstance(outcome.record, dict):
                self.store(outcome.record)
        elif isinstance(outcome, Queued):
            self.notify(i18n.t("form.queued"), severity="warning", timeout=8)
            self.reload()  # the row says "ausstehend" (the reload on return may have read the outbox before)
        else:
            await self.session.services.writes.discard(outcome.item_id)
            detail = i18n.problem(outcome.problem, outcome.detail if not isinstance(outcome, Conflict) else "")
            self.notify(i18n.t("form.refused", detail=detail),
                        severity="error", timeout=10)

    # --- usage ------------------------------------------------------------------------------------

    def action_usage(self) -> None:
        from .usage import UsageScreen

        self.app.push_screen(UsageScreen(self.session))


def sample_customer() -> Me:
    """Whom the preview shows the offering to: a customer that may order, of a typical size — so
    the provider sees the catalog entry, the cost preview and the order hint as customers do."""
    return Me(id=0, role="customer", can_order=True,
              organization=Organization(id=0, name=i18n.t("offerings.preview.sample"), population=100_000))


class PreviewScreen(AppScreen[bool]):
    """How the offering appears in the catalog (the catalog's own detail view), and — before
    publishing or retiring — the question whether to go ahead."""
    PLACE = "offerings.key.preview"

    BINDINGS = [
        Binding("ctrl+s", "go", "offerings.key.confirm", id="preview.confirm"),
        Binding("escape,q", "cancel", "key.back", id="preview.back"),
    ]
    DEFAULT_CSS = """
    PreviewScreen #preview-title { padding: 0 1; text-style: bold; }
    PreviewScreen #preview { padding: 0 1; height: 1fr; }
    PreviewScreen #preview Static { margin-bottom: 1; }
    PreviewScreen #preview-gaps { color: $warning; }
    PreviewScreen #preview-buttons { height: auto; padding: 0 1; }
    PreviewScreen #preview-buttons Button { margin-right: 2; }
    """

    def __init__(self, offering: Offering, action: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.offering, self.action = offering, action
        if action is None:
            self._bindings.key_to_bindings.pop("ctrl+s", None)

    def compose(self) -> ComposeResult:
        title = i18n.t(f"offerings.preview.{self.action or 'show'}", title=clean(self.offering.title))
        yield Static(Text(title), id="preview-title")
        with DetailScroll(id="preview"):
            gaps = rules.publish_gaps(self.offering.model_dump()) if self.action == "publish" else []
            if gaps:
                yield Static(Text(i18n.t("offerings.preview.gaps") + "\n" + "\n".join("  • " + i18n.t(g) for g in gaps)),
                             id="preview-gaps")
            for block in describe(self.offering, sample_customer(), formatting.today()):
                yield DetailText(block)
        if self.action:
            with Horizontal(id="preview-buttons"):
                yield Button(i18n.t(f"offerings.confirm.{self.action}") + " (ctrl+s)", variant="primary", id="preview-go")
                yield Button(i18n.t("form.cancel") + " (esc)", id="preview-cancel")

    def on_mount(self) -> None:
        self.query_one("#preview", VerticalScroll).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "preview-go":
            self.action_go()
        else:
            self.action_cancel()

    def action_go(self) -> None:
        if self.action:
            self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
