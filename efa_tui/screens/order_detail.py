"""One order: the parties, what was asked, the agreed fees and terms with the cost for the
customer's organisation, the contract dates, writes still in the outbox, and the timeline of every
event (who, when, note). The steps the user may take now are keys; the others are not offered."""

from __future__ import annotations

import asyncio
from datetime import date
from functools import partial
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from .. import formatting, i18n
from ..api.errors import ApiError
from ..api.models import Fees, Me, Order, OrderEvent, as_order
from ..domain.orders import Action, allowed_actions
from ..order_words import action_word, fees_heading, no_fees, order_state_word, state_word
from ..services import Conflict, Done, Queued
from ..text import clean
from ..widgets.detail_text import DetailText, label
from ..widgets.form import TickBox
from ..widgets.lists import DetailScroll
from .base import AppScreen
from .offering_detail import fee_lines, price_for
from .order_forms import ProposalForm, StepForm, transition_request
from .outbox import waiting_text

# Each step's key binding: action → (key, message id). Shown only when the step is allowed.
STEP_KEYS = {
    "propose": ("p", "key.propose"),
    "order": ("b", "key.order_binding"),
    "activate": ("a", "key.activate"),
    "reject": ("x", "key.reject"),
    "withdraw": ("w", "key.withdraw"),
    "cancel": ("c", "key.cancel_order"),
    "terminate": ("t", "key.terminate"),
}


def fees_block(fees: Fees | None, terms: str | None, state: str | None = None) -> Text:
    """The fees and terms: proposed before the binding order, agreed from it on (order_words)."""
    text = Text()
    text.append(fees_heading(state) + "\n", style="bold underline")
    if not fees:
        text.append("  " + no_fees(state), style="italic")
        return text
    text.append_text(fee_lines(fees))
    text.append("\n")
    if terms:
        text.append(i18n.t("order.terms") + "\n", style="bold")
        text.append("  " + clean(terms, multiline=True))
    return text


def state_text(order: Order, today: date) -> str:
    """The state as people read it, the same in the list, the detail and support (order_words)."""
    return order_state_word(order, today)


def contract_start(order: Order, today: date) -> date | None:
    """When the contract starts (or would): the start if activated, else the desired start if it
    still lies ahead; None lets the pricing pick the 1st of next month."""
    if order.start_date:
        return order.start_date
    if order.desired_start and order.desired_start >= today:
        return order.desired_start
    return None


def describe_order(order: Order, me: Me | None, today: date) -> list[Text]:
    head = Text()
    head.append(i18n.t("order.title", n=order.id) + " · ", style="bold")
    head.append(clean(order.offering.title if order.offering else ""), style="bold")
    head.append("\n" + i18n.t("col.state") + ": ")
    head.append(state_text(order, today), style="bold reverse")
    blocks = [head]

    parties = Text()
    parties.append(i18n.t("order.parties") + "\n", style="bold underline")
    rows = [
        ("order.customer", order.customer.name if order.customer else ""),
        ("order.provider", order.provider.name if order.provider else ""),
        ("order.contact", order.contact_name),
        ("order.leitweg_id", order.leitweg_id),
        ("order.cost_centre", order.cost_centre),
        ("order.desired_start", formatting.day(order.desired_start) if order.desired_start else None),
    ]
    for name, value in rows:
        if value:
            label(parties, f"  {i18n.t(name)}: ", "bold")
            parties.append(clean(value) + "\n")
    if order.message:
        parties.append(f"  {i18n.t('order.message')}:\n", style="bold")
        parties.append("    " + clean(order.message, multiline=True).replace("\n", "\n    "))
    blocks.append(parties)

    blocks.append(fees_block(order.fees, order.terms, order.state))
    if order.fees and me and me.role == "customer":
        blocks.append(price_for(order.fees, me, today, start=contract_start(order, today),
                                target_group_size=order.target_group_size))

    contract = Text()
    if order.ordered_at:
        contract.append(i18n.t("order.ordered", at=formatting.moment(order.ordered_at), by=clean(order.ordered_by)))
    for day, name in ((order.start_date, "order.start"), (order.end_date, "order.end")):
        if day:
            contract.append(f"\n{i18n.t('order.contract')} – {i18n.t(name)}: {formatting.day(day)}")
    if contract:
        blocks.append(contract)
    return blocks


def timeline(events: list[OrderEvent], offline: bool) -> Text:
    text = Text()
    text.append(i18n.t("order.timeline_offline" if offline else "order.timeline") + "\n", style="bold underline")
    if not events:
        text.append("  " + i18n.t("order.no_events"), style="italic")
    for ev in events:
        who = clean(ev.actor.name)
        if ev.actor.organization:
            who += f" ({clean(ev.actor.organization)})"
        label(text, f"  {formatting.moment(ev.at)}  ", "dim")
        step = action_word(ev.action)
        text.append(step, style="bold")
        target = state_word(ev.to_state) if ev.to_state else ""
        if target and target != step:  # "Abgelehnt → Abgelehnt" says nothing twice
            text.append(f" → {target}")
        text.append(f"  {who}\n")
        if ev.note:
            text.append("      " + clean(ev.note, multiline=True).replace("\n", "\n      ") + "\n", style="italic")
    return text


class OrderScreen(AppScreen):
    # The outbox part follows the outbox (a queued step delivered, or refused, shows at once); a
    # newer version of the order (someone else moved it) is shown in place.
    DATA_KINDS = frozenset(("orders", "outbox"))
    BINDINGS = [
        Binding("escape,q", "back", "key.back", id="order.back"),
        *(Binding(key, f"step('{action}')", label, id=f"order.{action}") for action, (key, label) in STEP_KEYS.items()),
        Binding("J", "raw", "key.raw", id="order.raw"),
        Binding("a", "trail", "support.key.trail", id="order.trail"),  # support staff (a provider's `a` activates)
        Binding("r", "reload", "key.refresh", id="order.refresh"),
    ]
    DEFAULT_CSS = """
    OrderScreen VerticalScroll { padding: 0 1; }
    OrderScreen Static { margin-bottom: 1; }
    OrderScreen #order-outbox { color: $warning; }
    OrderScreen #order-outbox.-empty { display: none; }
    """

    def __init__(self, session, order: Order, *, etag: str | None = None, **kwargs):
        """``etag``: ``order`` is the server's answer to a write just now (that answer's ETag), so
        only the timeline is read, not the order again."""
        super().__init__(**kwargs)
        self.session = session
        self.order = order
        self.etag: str | None = etag  # of the version on screen, as the server sent it
        self.events: list[OrderEvent] = []
        self.offline = False
        # Steps of this order in the outbox (waiting to be sent, or refused and not settled): no
        # further step until they are through — offline a binding order could be queued twice,
        # and a withdrawal offered beside the binding order already on its way.
        self.queued_steps = 0

    @property
    def order_id(self) -> int:
        return self.order.id

    @property
    def record_key(self) -> tuple[str, int] | None:
        return ("order", self.order.id)

    @property
    def role(self) -> str:
        me = getattr(self.app, "me", None)
        return me.role if me else ""

    def compose(self) -> ComposeResult:
        yield DetailScroll(DetailText(id="order-head"), DetailText(id="order-steps"), DetailText(id="order-outbox"),
                           DetailText(id="order-body"), DetailText(id="order-timeline"), id="order")

    def on_mount(self) -> None:
        self.show()
        if self.etag is not None:
            self.load_timeline()
        else:
            self.reload()
        self.query_one("#order").focus()

    # --- steps ----------------------------------------------------------------------------------

    def steps(self) -> list[str]:
        """What this user may do now, by the domain's state machine (the server agrees)."""
        state = self.order.state
        if self.queued_steps:
            return []
        steps = [a.value for a in allowed_actions(state, self.role)] if state else []
        me = getattr(self.app, "me", None)
        if "order" in steps and me and not me.can_order:
            steps.remove("order")  # no in-house relationship: the detail says why
        return steps

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "step":
            return parameters[0] in self.steps()
        if action == "trail":
            return self.role in ("support", "operator")
        return True

    def action_trail(self) -> None:
        """Support staff: the audit trail of this order, from its detail wherever it was opened."""
        if self.role not in ("support", "operator"):
            return
        from .support import TrailScreen

        self.app.push_screen(TrailScreen(self.session, self.order))

    def action_step(self, action: str) -> None:
        if action not in self.steps():
            return
        self.keys_to_next_screen()  # typed while the form is being opened: the form's
        if action == "propose":
            self.open_proposal()
        elif action == "order":
            confirm = ConfirmOrderScreen(self.session, self.order, self.etag)
            self.app.push_screen(confirm, partial(self._after_step, confirm))
        else:
            self.open_step(action)

    @work(exclusive=True, group="step")
    async def open_proposal(self) -> None:
        offering = await asyncio.to_thread(self.session.services.orders.offering, self._offering_id)
        form = ProposalForm(self.session, self.order, offering)
        self.app.push_screen(form, partial(self._after_step, form))

    @work(exclusive=True, group="step")
    async def open_step(self, action: str) -> None:
        offering = await asyncio.to_thread(self.session.services.orders.offering, self._offering_id)
        notice = (offering.notice_period_months if offering else None) or 3
        form = StepForm(self.session, self.order, action, notice_months=notice)
        self.app.push_screen(form, partial(self._after_step, form))

    @property
    def _offering_id(self) -> int | None:
        return self.order.offering.id if self.order.offering else None

    def _after_step(self, step: Any, answer: Any) -> None:
        """A step was sent (``step.sent``: the server's answer and its ETag), queued or given up."""
        sent, newer = getattr(step, "sent", None), getattr(step, "newer", None)
        order = as_order(answer)  # the write's answer: the order's new state
        if order is not None and order.id == self.order_id:
            self.order = order
            action = getattr(step, "action", None)
            done = action_word(action) if isinstance(action, str) else state_word(order.state)
            self.notify(i18n.t("order.done", action=done, n=self.order_id))
        current = as_order(newer.current) if isinstance(newer, Conflict) else None
        if isinstance(sent, Done) and sent.etag is not None and sent.record is answer:
            self.etag = sent.etag  # the answer is the order's new state: only the step's entry is new
        elif isinstance(newer, Conflict) and current is not None:
            self.order, self.etag = current, newer.etag  # changed meanwhile: the service read it
        else:
            self.show()
            self.reload()
            return
        self.show()
        self.load_timeline()

    # --- data -----------------------------------------------------------------------------------

    def action_reload(self) -> None:
        self.reload()

    def data_synced(self) -> None:
        """A sync, the live event stream or a write changed orders or the outbox: the outbox part
        at once, and the order in place when the cache has a newer version."""
        self.run_worker(self._show_outbox(), group="order-outbox")
        self._reload_if_newer()

    @work(exclusive=True, group="order-newer", exit_on_error=False)
    async def _reload_if_newer(self) -> None:
        cached = await asyncio.to_thread(self.session.services.orders.cached_order, self.order_id)
        if cached and cached.version > self.order.version:
            self.reload()  # someone else moved it: the new state and timeline, in place

    @work(exclusive=True, group="order-load", exit_on_error=False)
    async def load_timeline(self) -> None:
        """Only the timeline: the order on screen is the server's answer to a write just now."""
        read = await self.session.services.orders.events(self.order_id)
        self.offline = read.offline
        self.events = read.value
        await self._show_outbox()
        self.show()

    @work(exclusive=True, group="order-load", exit_on_error=False)
    async def reload(self) -> None:
        """The newest version and the timeline from the server; offline, the cached ones."""
        try:
            read = await self.session.services.orders.detail(self.order_id)
        except ApiError as exc:
            self.notify(i18n.problem(exc), severity="error")
        else:
            self.offline = read.offline
            self.events = read.value.events
            if read.value.order is not None:
                self.order, self.etag = read.value.order, read.value.etag
        await self._show_outbox()
        self.show()

    async def _show_outbox(self) -> None:
        items = await asyncio.to_thread(self.session.services.outbox.open_items, related=f"order:{self.order_id}")
        text = waiting_text(items)
        queued = len(items)
        if self.is_attached:
            outbox = self.query_one("#order-outbox", Static)
            outbox.update(text)
            outbox.set_class(not items, "-empty")
            if queued != self.queued_steps:
                self.queued_steps = queued
                self.show()  # the steps it offers

    def show(self) -> None:
        if not self.is_attached:
            return
        me = getattr(self.app, "me", None)
        head, *rest = describe_order(self.order, me, formatting.today())
        self.query_one("#order-head", Static).update(head)
        self.query_one("#order-body", Static).update(Text("\n\n").join(rest))
        steps = self.steps()
        if steps:
            keys = " · ".join(f"[{STEP_KEYS[s][0]}] {i18n.t(STEP_KEYS[s][1])}" for s in steps)
            self.query_one("#order-steps", Static).update(Text(i18n.t("order.actions", keys=keys), style="bold"))
        elif self.queued_steps:
            self.query_one("#order-steps", Static).update(Text(i18n.t("order.step_queued"), style="bold"))
        else:
            self.query_one("#order-steps", Static).update(Text(i18n.t("order.no_actions"), style="dim"))
        self.query_one("#order-timeline", Static).update(timeline(self.events, self.offline))
        self.refresh_bindings()

    async def relabel(self) -> None:
        """After a language switch."""
        self.show()
        await self._show_outbox()

    def action_raw(self) -> None:
        from .records import RecordScreen

        record = self.order.model_dump(mode="json") | {"events": [e.model_dump(mode="json") for e in self.events]}
        self.app.push_screen(RecordScreen(i18n.t("order.title", n=self.order_id), record))


class ConfirmOrderScreen(AppScreen):
    """The binding order: says so plainly, shows exactly what is agreed, and asks twice (the
    authorisation checkbox, then the button). Sent with If-Match of the version shown, so a
    proposal changed meanwhile is not accepted blindly."""

    action = "order"  # the step, named in the notice after it (order_words.action_word)
    OWNS_KEYBOARD = True  # a decision to take: area keys off, `q` asks (base.py)
    BINDINGS = [
        Binding("escape", "close", "key.back", id="confirm.back"),
        Binding("x", "tick", "confirm.key.tick", id="confirm.tick"),
        Binding("ctrl+s", "order", "confirm.key.order", id="confirm.order"),
        Binding("ctrl+d,pagedown", "scroll('down')", "detail.key.half_page_down", show=False, id="confirm.down"),
        Binding("ctrl+u,pageup", "scroll('up')", "detail.key.half_page_up", show=False, id="confirm.up"),
    ]
    DEFAULT_CSS = """
    ConfirmOrderScreen #confirm-scroll { height: 1fr; padding: 0 1; }
    ConfirmOrderScreen #confirm-scroll Static { margin-bottom: 1; }
    ConfirmOrderScreen #confirm-more { height: 1; padding: 0 1; color: $text-warning; text-style: bold; }
    ConfirmOrderScreen #confirm-more.-all { display: none; }
    ConfirmOrderScreen #confirm-bar { height: auto; padding: 0 1; background: $boost; }
    ConfirmOrderScreen #confirm-legal { border-left: thick $warning; padding-left: 1; }
    ConfirmOrderScreen #confirm-check-row { height: auto; }
    ConfirmOrderScreen #confirm-check-label { width: 1fr; }
    ConfirmOrderScreen #confirm-buttons { height: auto; }
    ConfirmOrderScreen #confirm-buttons Button { margin-right: 2; }
    """

    def __init__(self, session, order: Order, etag: str | None, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.order = order
        self.etag = etag
        self._sending = False
        self.sent: Done | None = None  # the binding order accepted (the answer and its ETag)
        self.newer: Conflict | None = None  # refused: the proposal changed (with the version it is now)
        # Whether the whole of what is agreed (terms, fees, cost) has been on screen: at 80x24 it
        # is below the fold, and tick + ctrl+s concluded the contract unseen (walk T15).
        self.seen_all = False

    def compose(self) -> ComposeResult:
        me = getattr(self.app, "me", None)
        order = self.order
        org = clean((me.organization.name if me else "") or (order.customer.name if order.customer else ""))
        provider = clean(order.provider.name if order.provider else "")
        today = formatting.today()
        what = Text()
        what.append(i18n.t("confirm.title") + "\n", style="bold")
        label(what, f"{i18n.t('confirm.offering')}: ", "bold")
        what.append(clean(order.offering.title if order.offering else "") + "\n")
        label(what, f"{i18n.t('order.provider')}: ", "bold")
        what.append(provider + "\n")
        label(what, f"{i18n.t('order.customer')}: ", "bold")
        what.append(org)
        for value, name in ((order.leitweg_id, "order.leitweg_id"), (order.cost_centre, "order.cost_centre")):
            if value:
                label(what, f"\n{i18n.t(name)}: ", "bold")
                what.append(clean(value))
        # What is ordered, the fees and the cost scroll; "↓ mehr" says when some of it is below.
        with DetailScroll(id="confirm-scroll"):
            yield DetailText(what)
            yield DetailText(fees_block(order.fees, order.terms), id="confirm-fees")
            yield DetailText(price_for(order.fees, me, today, start=contract_start(order, today),
                                   target_group_size=order.target_group_size), id="confirm-cost")
        yield Static(Text(i18n.t("confirm.more")), id="confirm-more")
        # Always in view, also at 80x24: what it means, the authorisation and the buttons.
        with Vertical(id="confirm-bar"):
            yield Static(Text(i18n.t("confirm.legal", org=org, provider=provider)), id="confirm-legal")
            with Horizontal(id="confirm-check-row"):
                yield TickBox(id="confirm-check")
                # The label wraps (a Checkbox's own label is one line, cut at the edge).
                yield Static(Text(i18n.t("confirm.check", org=org) + " " + i18n.t("confirm.check_key")),
                             id="confirm-check-label")
            with Horizontal(id="confirm-buttons"):
                yield Button(i18n.t("confirm.cancel"), id="confirm-cancel", compact=True)
                yield Button(i18n.t("confirm.button") + " [ctrl+s]", variant="warning", id="confirm-order", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm-cancel", Button).focus()  # the safe choice is the default
        scroll = self.query_one("#confirm-scroll", DetailScroll)
        self.watch(scroll, "scroll_y", lambda _: self._show_more(), init=False)
        self.call_after_refresh(self._show_more)

    def on_resize(self) -> None:
        self.call_after_refresh(self._show_more)

    def _show_more(self) -> None:
        scroll = self.query_one("#confirm-scroll", DetailScroll)
        at_end = scroll.scroll_y >= scroll.max_scroll_y
        self.seen_all = self.seen_all or (at_end and scroll.size.height > 0)
        self.query_one("#confirm-more", Static).set_class(at_end, "-all")

    def action_scroll(self, direction: str) -> None:
        scroll = self.query_one("#confirm-scroll", DetailScroll)
        scroll.action_half_page_down() if direction == "down" else scroll.action_half_page_up()

    def action_tick(self) -> None:
        self.query_one("#confirm-check", TickBox).toggle()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_order(self) -> None:
        if not self.seen_all:
            # Before the binding order, what it binds to: the rest comes into view, and the
            # authorisation is given again after it — a doubled ctrl+s does not order (review).
            self.query_one("#confirm-scroll", DetailScroll).scroll_end(animate=False)
            self.call_after_refresh(self._show_more)
            self.seen_all = True
            box = self.query_one("#confirm-check", TickBox)
            if box.value:
                box.toggle()
            self.notify(i18n.t("confirm.read_first"), severity="warning")
            return
        if not self.query_one("#confirm-check", TickBox).value:
            self.notify(i18n.t("confirm.check_first"), severity="warning")
            self.query_one("#confirm-check", TickBox).focus()
            return
        if not self._sending:
            self._sending = True
            self.send()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm-cancel":
            self.dismiss(None)
        elif event.button.id == "confirm-order":
            self.action_order()

    @work(group="confirm", exit_on_error=False)
    async def send(self) -> None:
        req = transition_request(self.order, Action.ORDER.value, if_match=self.etag)
        try:
            outcome = await self.session.services.writes.submit(req.write, label=req.label, related=req.related)
        finally:
            self._sending = False
        if isinstance(outcome, Done):
            self.sent = outcome
            self.notify(i18n.t("confirm.sent", n=self.order.id))
            self.dismiss(outcome.record)
        elif isinstance(outcome, Queued):
            self.notify(i18n.t("form.queued"), severity="warning", timeout=8)
            self.dismiss(None)
        elif isinstance(outcome, Conflict):
            # The proposal changed after the user read it: nothing was ordered; show the new one
            # (the service read it with the refusal).
            self.newer = outcome
            await self.session.services.writes.discard(outcome.item_id)
            self.notify(i18n.t("order.changed"), severity="error", timeout=10)
            self.dismiss(None)
        else:
            await self.session.services.writes.discard(outcome.item_id)
            self.notify(i18n.t("form.refused", detail=i18n.problem(outcome.problem, outcome.detail)), severity="error", timeout=10)
            self.dismiss(None)
