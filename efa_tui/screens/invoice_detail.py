"""One invoice: its lines with the contract each comes from, payment details, and the check —
every line recomputed from the contract's agreed fees (expected amount, difference), the sums
re-added. Customers record "sachlich richtig" and "rechnerisch richtig" or dispute lines;
operators mark paid or cancel with a credit note; support reads. The XRechnung can be saved
and validated."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.widgets import Static

from .. import formatting, i18n
from ..api.errors import ApiError, Unreachable
from ..api.models import Invoice, InvoiceLine, Payment, as_invoice
from ..domain.invoice_check import InvoiceCheck, LineCheck, LineStatus
from ..domain.invoicing import why_not_cancellable
from ..domain.pricing import TIME_BASED
from ..services import Conflict, DataChanged, Done, Outcome, Queued, Refused
from ..services.invoices import InvoicesService
from ..store import invoice_list as il
from ..store.invoice_detail import InvoiceDetail
from ..text import clean
from ..widgets.detail_text import DetailText
from ..widgets.virtual_table import Column, VirtualTable
from . import invoice_signoff
from .base import AppScreen
from .invoices import NARROW, role_of
from .outbox import waiting_text

MARK = {LineStatus.OK: "✓", LineStatus.WRONG: "✗", LineStatus.NO_CONTRACT: "✗", LineStatus.MISSING: "✗",
        LineStatus.UNVERIFIED: "?"}


def line_columns(width: int) -> list[Column]:
    if width < NARROW:
        return [Column("pos", i18n.t("invoice.col.pos"), width=3, align="right"),
                Column("name", i18n.t("invoice.col.name")),
                Column("net", i18n.t("invoice.col.net"), width=12, align="right"),
                Column("expected", i18n.t("invoice.col.expected"), width=12, align="right"),
                Column("diff", i18n.t("invoice.col.diff"), width=11, align="right"),
                Column("mark", "", width=1)]
    return [Column("pos", i18n.t("invoice.col.pos"), width=3, align="right"),
            Column("name", i18n.t("invoice.col.name")),
            Column("contract", i18n.t("invoice.col.contract"), width=8),
            Column("qty", i18n.t("invoice.col.qty"), width=16, align="right"),
            Column("price", i18n.t("invoice.col.price"), width=12, align="right"),
            Column("net", i18n.t("invoice.col.net"), width=12, align="right"),
            Column("vat", i18n.t("invoice.col.vat"), width=11, align="right"),
            Column("gross", i18n.t("invoice.col.gross"), width=12, align="right"),
            Column("expected", i18n.t("invoice.col.expected"), width=12, align="right"),
            Column("diff", i18n.t("invoice.col.diff"), width=11, align="right"),
            Column("mark", "", width=1)]


def quantity(value: Decimal | None, kind: str) -> str:
    if value is None:
        return ""
    return formatting.number(value, 3 if kind in ("per_inhabitant", "target_group") else 0)


def billed_quantity(line: InvoiceLine) -> str:
    """The quantity with the pro-rata factor, so that the line can be re-added: "5/12" of the
    annual fee, "1.488,202 × 9/12" thousand inhabitants (domain.pricing: full calendar months)."""
    kind = line.kind
    qty = quantity(line.quantity, kind)
    months = line.months
    if kind not in TIME_BASED or not months:
        return qty
    factor = f"{months}/12"
    return factor if line.quantity == 1 else f"{qty} × {factor}"


def signed_money(value: Decimal | None) -> str:
    if value is None:
        return "–"
    text = formatting.money(value)
    return ("+" + text) if value > 0 else text


class LineSource:
    """The invoice's lines (and the charges the contracts give that it does not bill)."""

    def __init__(self, detail: InvoiceDetail, columns: tuple[str, ...]):
        self.rows = line_rows(detail)
        self.columns = columns

    def count(self) -> int:
        return len(self.rows)

    def fetch(self, offset: int, limit: int) -> list[tuple[Any, list[str]]]:
        return [(key, [c.get(k, "") for k in self.columns]) for key, c in self.rows[offset:offset + limit]]


def line_rows(detail: InvoiceDetail) -> list[tuple[int, dict[str, str]]]:
    checks = {x.position: x for x in (detail.check.lines if detail.check else ())}
    rows: list[tuple[int, dict[str, str]]] = []
    for line in detail.invoice.lines or ():
        pos = line.position
        chk = checks.get(pos)
        rows.append((pos, {
            "pos": str(pos), "name": clean(line.name), "contract": f"#{line.order_id}",
            "qty": billed_quantity(line), "price": formatting.money(line.unit_price),
            "net": formatting.money(line.net), "vat": formatting.money(line.vat),
            "gross": formatting.money(line.gross),
            "expected": formatting.money(chk.expected_net) if chk and chk.expected_net is not None else "–",
            "diff": signed_money(chk.difference) if chk else "–",
            "mark": ("!" if line.dispute else MARK[chk.status]) if chk else ("!" if line.dispute else ""),
        }))
    for chk in (detail.check.lines if detail.check else ()):
        if chk.status is LineStatus.MISSING:
            order = detail.orders.get(chk.order_id or 0)
            title = clean(order.offering.title if order and order.offering else "") or f"#{chk.order_id}"
            rows.append((chk.position, {
                "pos": "–", "name": i18n.t("invoice.missing_line", title=title, kind=i18n.t(f"invoice.kind.{chk.kind}")),
                "contract": f"#{chk.order_id}", "net": formatting.money(Decimal(0)), "expected": formatting.money(chk.expected_net),
                "diff": signed_money(chk.difference), "mark": MARK[chk.status],
            }))
    return rows


def reasons_text(chk: LineCheck) -> str:
    return "; ".join(i18n.t(f"invoice.reason.{r}") for r in chk.reasons)


WRITES = frozenset({"factual_ok", "arithmetic_ok", "dispute", "withdraw", "resolve", "pay", "credit_note",
                    "cancel_invoice"})
"""The actions that send a write about this invoice."""


class InvoiceScreen(AppScreen):
    BINDINGS = [
        Binding("escape,q", "back", "key.back", id="invoice.back"),
        Binding("f", "factual_ok", "invoice.key.factual", id="invoice.factual"),
        Binding("a", "arithmetic_ok", "invoice.key.arithmetic", id="invoice.arithmetic"),
        Binding("d", "dispute", "invoice.key.dispute", id="invoice.dispute"),
        Binding("F", "withdraw('withdraw_factual')", "signoff.key.withdraw_factual", id="invoice.withdraw_factual"),
        Binding("A", "withdraw('withdraw_arithmetic')", "signoff.key.withdraw_arithmetic", id="invoice.withdraw_arithmetic"),
        Binding("u", "resolve", "signoff.key.resolve", id="invoice.resolve"),
        # The role's own steps before what every role may do: the footer shows them in this order,
        # and at 80 columns the operator's p, n and c were never in it (only in the help).
        Binding("p", "pay", "invoice.key.pay", id="invoice.pay"),
        Binding("n", "credit_note", "signoff.key.credit", id="invoice.credit_note"),
        Binding("c", "cancel_invoice", "invoice.key.cancel", id="invoice.cancel"),
        Binding("v", "validate_xml", "invoice.key.validate", id="invoice.validate"),
        Binding("x", "save_xml", "invoice.key.save_xml", id="invoice.save_xml"),
        Binding("h", "history", "signoff.key.history", id="invoice.history"),
        Binding("r", "reload", "key.refresh", id="invoice.reload"),
    ]
    DEFAULT_CSS = """
    InvoiceScreen #inv-head { height: auto; padding: 0 1; }
    InvoiceScreen #inv-review { height: auto; padding: 0 1; }
    InvoiceScreen #inv-outbox { height: auto; padding: 0 1; }
    InvoiceScreen #inv-outbox.-empty { display: none; }
    InvoiceScreen VirtualTable { height: 1fr; min-height: 3; }
    InvoiceScreen #inv-line { height: auto; padding: 0 1; background: $boost; }
    InvoiceScreen #inv-check { height: auto; padding: 0 1; }
    InvoiceScreen #inv-check.-wrong { color: $error; }
    """

    def __init__(self, session, invoice: Invoice, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.record = invoice
        self.detail = InvoiceDetail(invoice, online=False)
        self.loaded = False
        self._busy = False
        # This invoice's writes in the outbox (offline, or refused and not settled): no further
        # step until they are through — offline a second part payment was booked beside the first
        # with the same open amount shown (helper walk), as the order detail prevents.
        self.queued = 0

    @property
    def invoice(self) -> Invoice:
        return self.detail.invoice

    @property
    def record_key(self) -> tuple[str, int] | None:
        return ("invoice", self.invoice.id)

    def compose(self) -> ComposeResult:
        yield DetailText(id="inv-head")
        yield Static(id="inv-review")
        yield Static(id="inv-outbox", classes="-empty")
        self.table = VirtualTable(line_columns(self.app.size.width), id="invoice-lines",
                                  empty_text=i18n.t("invoice.loading"))
        yield self.table
        yield DetailText(id="inv-line")
        yield DetailText(id="inv-check")

    def on_mount(self) -> None:
        self.show()
        self.table.focus()
        self.load()
        self.show_outbox()

    def data_changed(self, change: DataChanged) -> None:
        if change.kind == "outbox":
            self.show_outbox()
        super().data_changed(change)

    @work(exclusive=True, group="invoice-outbox", exit_on_error=False)
    async def show_outbox(self) -> None:
        items = await asyncio.to_thread(self.session.services.outbox.open_items, related=f"invoice:{self.invoice.id}")
        if not self.is_attached:
            return
        text = waiting_text(items)
        if items:
            text.append(i18n.t("order.step_queued"), style="bold")
        box = self.query_one("#inv-outbox", Static)
        box.update(text)
        box.set_class(not items, "-empty")
        was, self.queued = self.queued, len(items)
        if self.queued != was:
            self.refresh_bindings()
            if was and not self.queued:
                self.load()  # through: the invoice as the server has it now

    # --- loading --------------------------------------------------------------------------------

    @work(exclusive=True, group="invoice-load", exit_on_error=False)
    async def load(self) -> None:
        try:
            detail = await self.session.services.invoices.detail(self.record)
        except ApiError as exc:
            self.loaded = True
            self.notify(i18n.t("form.refused", detail=i18n.problem(exc)), severity="error")
            self.show()
            return
        self.detail = detail
        self.loaded = True
        self.show()

    def action_reload(self) -> None:
        self.load()

    def data_synced(self) -> None:
        """Called by the app after a sync brought changes (the live event stream, or r)."""
        self._reload_if_newer()

    @work(exclusive=True, group="invoice-newer", exit_on_error=False)
    async def _reload_if_newer(self) -> None:
        cached = await asyncio.to_thread(self.session.services.invoices.cached_invoice, self.invoice.id)
        if cached and cached.version > self.invoice.version:
            self.load()  # paid, cancelled or checked meanwhile: shown in place

    async def relabel(self) -> None:
        """After a language switch: the same invoice and check, in the other language."""
        await self.recompose()
        self.show()

    # --- showing ----------------------------------------------------------------------------------

    def show(self) -> None:
        inv = self.invoice
        state = il.invoice_state(inv, formatting.today())
        kind = i18n.t(f"invoice.kind_title.{inv.kind or 'invoice'}")
        head = Text(no_wrap=False)
        head.append(f"{kind} {clean(inv.number)}", style="bold")
        head.append(" · " + i18n.t(f"invoices.state.{state}"), style="bold red" if state == "overdue" else "bold")
        head.append(f" · {i18n.t('invoice.gross')} ")
        head.append(formatting.money(inv.gross), style="bold")
        if inv.kind != "credit_note":
            head.append(f" · {i18n.t('invoice.due')} ")
            head.append(formatting.day(inv.due_date), style="bold")
        if inv.paid_at:
            head.append(" · " + i18n.t("invoice.paid_at", at=formatting.day(inv.paid_at)))
        head.append(f"\n{clean(il.party_name(inv, 'issuer'))} → {clean(il.party_name(inv, 'customer'))} · "
                    f"{formatting.day(inv.period_start)}–{formatting.day(inv.period_end)}")
        if inv.cancels_invoice:
            head.append(" · " + i18n.t("invoice.cancels", number=clean(inv.cancels_invoice)))
        pay = inv.payment or Payment()
        if inv.kind == "credit_note":
            head.append("\n" + i18n.t("invoice.settlement"))  # set off or refunded: no payment asked
        else:
            head.append(f"\nIBAN {format_iban(clean(pay.iban))}")
        if pay.bic:
            head.append(f" · BIC {clean(pay.bic)}")
        head.append(f" · {i18n.t('invoice.leitweg')} {clean(inv.leitweg_id) or '–'}")
        self.query_one("#inv-head", Static).update(head)
        self.query_one("#inv-review", Static).update(self._review_text())
        self.table.empty_text = i18n.t("invoice.no_lines") if self.loaded else i18n.t("invoice.loading")
        self.table.set_source(LineSource(self.detail, tuple(c.key for c in self.table.columns)), keep_cursor=True)
        self._show_check()
        self._show_line(self.table.cursor_key)
        self.refresh_bindings()

    def _review_text(self) -> Text:
        review = self.invoice.review
        text = Text()
        for by, at, label in ((review.factual_ok_by, review.factual_ok_at, "invoice.factual"),
                              (review.arithmetic_ok_by, review.arithmetic_ok_at, "invoice.arithmetic")):
            text.append(i18n.t(label) + ": ", style="bold")
            if at:
                text.append(i18n.t("invoice.confirmed_by", who=clean(by), at=formatting.moment(at)), style="green")
            else:
                text.append(i18n.t("invoice.not_confirmed"), style="dim")
            text.append("   ")
        money = invoice_signoff.money_lines(self.invoice)
        if money.plain:
            text.append("\n")
            text.append_text(money)
        return text

    def _show_check(self) -> None:
        box = self.query_one("#inv-check", Static)
        check: InvoiceCheck | None = self.detail.check
        text = Text()
        if not self.loaded:
            text.append(i18n.t("invoice.check_loading"), style="dim")
        elif check is None:
            text.append(i18n.t("invoice.check_offline"), style="bold")
        else:
            wrong, unverified = check.wrong_lines, check.unverified
            real = [x for x in check.lines if x.status is not LineStatus.MISSING]
            ok = sum(1 for x in real if x.ok)
            if check.ok:
                text.append("✓ " + i18n.tn("invoice.check_ok", n=len(real)), style="bold green")
            else:
                text.append("✗ " if wrong or not check.sums.ok else "? ", style="bold")
                text.append(i18n.tn("invoice.check_summary", len(real), ok=ok, wrong=i18n.tn("invoice.differences", len(wrong))), style="bold")
                if wrong:
                    text.append(" · " + i18n.t("invoice.check_expected", gross=formatting.money(check.expected.gross),
                                                diff=signed_money(check.difference)))
                if unverified:
                    text.append("\n" + i18n.tn("invoice.check_unverified", n=len(unverified)))
            sums = check.sums
            text.append("\n" + i18n.t("invoice.sums") + ": ")
            for label, good, stated, readded in (("invoice.net", sums.net_ok, sums.stated_net, sums.readded.net),
                                                 ("invoice.vat", sums.vat_ok, sums.stated_vat, sums.readded.vat),
                                                 ("invoice.gross", sums.gross_ok, sums.stated_gross, sums.readded.gross)):
                text.append(f"{i18n.t(label)} {formatting.money(stated)} ")
                if good:
                    text.append("✓ ", style="green")
                else:
                    text.append(i18n.t("invoice.sum_wrong", stated=formatting.money(stated), readded=formatting.money(readded)) + " ",
                                style="bold red")
            if not self.detail.online:
                text.append("\n" + i18n.t("invoice.offline_note"), style="dim")
        box.update(text)
        box.set_class(bool(check is not None and not check.ok), "-wrong")

    @on(VirtualTable.RowHighlighted)
    def _highlighted(self, event: VirtualTable.RowHighlighted) -> None:
        self._show_line(event.key)

    def _line(self, position: Any) -> InvoiceLine | None:
        return next((x for x in self.invoice.lines or () if x.position == position), None)

    def _check_of(self, position: Any) -> LineCheck | None:
        return next((x for x in (self.detail.check.lines if self.detail.check else ()) if x.position == position), None)

    def _show_line(self, position: Any) -> None:
        box = self.query_one("#inv-line", Static)
        line, chk = self._line(position), self._check_of(position)
        if line is None and chk is None:
            box.update(Text(i18n.t("invoice.pro_rata_rule"), style="dim"))
            return
        text = Text()
        if line is not None:  # the whole name: the table cuts it at 80 columns
            text.append(f"{i18n.t('invoice.col.pos')} {line.position} · ", style="bold")
            text.append(clean(line.name) + "\n", style="bold")
        order_id = (line.order_id if line else None) or (chk.order_id if chk else None)
        order = self.detail.orders.get(order_id or 0)
        text.append(i18n.t("invoice.contract", id=order_id or "–"), style="bold")
        if order:
            text.append(f" {clean(order.offering.title if order.offering else '')} · {i18n.t('invoice.since')} "
                        f"{formatting.day(order.start_date)}")
            if order.end_date:
                text.append(f" {i18n.t('invoice.until')} {formatting.day(order.end_date)}")
        if chk is not None and chk.ok:
            text.append(" · ✓ " + i18n.t("invoice.line_ok"), style="green")
        if line is not None:
            # The invoice's own words (German: it is the legal document), labelled as such: in the
            # English UI they read as a language leak with German numbers (walk T12).
            text.append("\n" + i18n.t("invoice.line_text") + ": ", style="dim")
            text.append(clean(line.description))
            text.append(f"\n{i18n.t('invoice.col.net')} {formatting.money(line.net)} + {i18n.t('invoice.vat')} "
                        f"{formatting.number(line.vat_rate, 0)} % {formatting.money(line.vat)} = "
                        f"{i18n.t('invoice.gross')} {formatting.money(line.gross)}")
        if chk is not None and not chk.ok:
            text.append("\n")
            style = "bold yellow" if chk.status is LineStatus.UNVERIFIED else "bold red"
            expected = formatting.money(chk.expected_net) if chk.expected_net is not None else "–"
            text.append(i18n.t("invoice.line_wrong", expected=expected, diff=signed_money(chk.difference),
                               reasons=reasons_text(chk)), style=style)
            if chk.expected_unit_price is not None and chk.expected_quantity is not None:
                months = f" × {chk.expected_months}/12" if chk.expected_months is not None else ""
                text.append("\n" + i18n.t("invoice.line_expected_calc", qty=quantity(chk.expected_quantity, chk.kind),
                                           price=formatting.money(chk.expected_unit_price), months=months))
        dispute = line.dispute if line else None
        if dispute:
            text.append("\n" + i18n.t("invoice.disputed", who=clean(dispute.by), at=formatting.moment(dispute.at),
                                      reason=clean(dispute.reason)), style="bold")
        box.update(text)

    # --- who may do what ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITES and self.queued:
            return False  # the write before is not through yet (the outbox part says so)
        role = role_of(self.app)
        inv = self.invoice
        live = inv.status != "cancelled"
        if action in ("factual_ok", "arithmetic_ok", "dispute", "withdraw", "resolve"):
            return role == "customer" and live and inv.kind != "credit_note"
        if action in ("pay", "credit_note"):
            return role == "operator" and inv.kind == "invoice" and inv.status == "issued"
        if action == "cancel_invoice":  # offered while issued; a partly settled one says why not (the action)
            return role == "operator" and why_not_cancellable(inv.kind, inv.status, Decimal(0), Decimal(0)) is None
        return True

    # --- the customer's check ----------------------------------------------------------------------

    def action_factual_ok(self) -> None:
        self._attest("factual_ok")

    def action_arithmetic_ok(self) -> None:
        self._attest("arithmetic_ok")

    def _attest(self, action: str) -> None:
        """A formal attestation: the dialog states what is attested; only its confirmation sends it."""
        reason = invoice_signoff.blocked(self.invoice, action)
        if reason:
            self.notify(reason, severity="warning", timeout=10)
            return
        check = self.detail.check
        me = getattr(self.app, "me", None)
        who = me.name if me else ""

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._review(action, statement=invoice_signoff.statement(self.invoice, action, who))

        self.app.push_screen(invoice_signoff.AttestDialog(self.invoice, action, who, warning=check is None or not check.ok), confirmed)

    def action_withdraw(self, action: str) -> None:
        reason = invoice_signoff.blocked(self.invoice, action)
        if reason:
            self.notify(reason, severity="warning", timeout=10)
            return
        self.app.push_screen(invoice_signoff.WithdrawForm(self.session, self.invoice, action), self._form_done)

    def action_resolve(self) -> None:
        line = self._line(self.table.cursor_key)
        if line is None or not line.dispute:
            self.notify(i18n.t("signoff.not_disputed"), severity="warning")
            return
        self.app.push_screen(invoice_signoff.ResolveForm(self.session, self.invoice, line), self._form_done)

    def action_history(self) -> None:
        self.app.push_screen(invoice_signoff.HistoryScreen(self.invoice))

    def _form_done(self, result: Any) -> None:
        if isinstance(result, dict):
            self._take(result)
            self.notify(i18n.t("invoice.saved"))

    def _review(self, action: str, line_ids: list[int] | None = None, reason: str = "", statement: str = "") -> None:
        if self._busy:
            return
        self._busy = True
        self.send_review(action, line_ids or [], reason, statement)

    @work(group="invoice-review", exit_on_error=False)
    async def send_review(self, action: str, line_ids: list[int], reason: str, statement: str = "") -> None:
        try:
            inv_id = self.invoice.id
            label = i18n.t(f"invoice.label.{action}", number=clean(self.invoice.number))
            outcome = await self.session.services.writes.submit(
                InvoicesService.review(inv_id, action, line_ids, reason, statement), label=label, related=f"invoice:{inv_id}")
            self._settled(outcome)
        finally:
            self._busy = False

    def _settled(self, outcome: Outcome) -> None:
        if isinstance(outcome, Done) and isinstance(outcome.record, dict):
            self._take(outcome.record)
            self.notify(i18n.t("invoice.saved"))
        elif isinstance(outcome, Queued):
            self.notify(i18n.t("form.queued"), severity="warning", timeout=8)
        elif isinstance(outcome, (Refused, Conflict)):
            detail = i18n.problem(outcome.problem, outcome.detail if isinstance(outcome, Refused) else "")
            self.notify(i18n.t("form.refused", detail=detail), severity="error", timeout=10)

    def _take(self, answer: dict[str, Any]) -> None:
        """A fresh copy of the invoice from the server (after a write): keep the contracts and the check."""
        from ..store.invoice_detail import run_check

        invoice = as_invoice(answer)
        if invoice is None or invoice.id != self.invoice.id:
            return
        self.detail.invoice = invoice
        if self.detail.check is not None:
            self.detail.check = run_check(invoice, self.detail.orders, self.detail.population, self.detail.cases)
        self.run_worker(asyncio.to_thread(self.session.services.invoices.remember, answer), exit_on_error=False)
        self.show()

    def action_dispute(self) -> None:
        from .invoice_dialogs import DisputeScreen

        if self.invoice.review.factual_ok_at:
            cursor = self._line(self.table.cursor_key)
            self.notify(i18n.t("signoff.blocked_confirmed", pos=(cursor.position if cursor else None) or "–"),
                        severity="warning", timeout=10)
            return
        # The highlighted line; on a "missing" row (or none), every line the check flagged.
        line = self._line(self.table.cursor_key)
        if line is not None:
            lines = [line]
        else:
            flagged = {x.line_id for x in (self.detail.check.wrong_lines if self.detail.check else ()) if x.line_id}
            lines = [x for x in self.invoice.lines or () if x.id in flagged]
        if not lines:
            self.notify(i18n.t("invoice.no_line_chosen"), severity="warning")
            return
        suggestions = []
        for x in lines:
            chk = self._check_of(x.position)
            if chk is not None and not chk.ok and chk.expected_net is not None:
                suggestions.append(i18n.t("invoice.dispute_suggestion", pos=x.position, billed=formatting.money(chk.billed_net),
                                          expected=formatting.money(chk.expected_net), diff=signed_money(chk.difference)))

        def done(result: Any) -> None:
            if isinstance(result, dict):
                self._take(result)
                self.notify(i18n.t("invoice.disputed_saved"))

        self.app.push_screen(DisputeScreen(self.session, self.invoice, lines, "\n".join(suggestions)), done)

    # --- XRechnung ---------------------------------------------------------------------------------

    def action_save_xml(self) -> None:
        from .invoice_dialogs import SaveXmlDialog

        self.app.push_screen(SaveXmlDialog(self.session, self.invoice))

    @work(group="invoice-xml", exclusive=True, exit_on_error=False)
    async def action_validate_xml(self) -> None:
        from .invoice_dialogs import FindingsScreen

        xml = await self._ask(lambda invoices: invoices.xrechnung(self.invoice.id), "invoice.xml_offline", "warning")
        if xml is None:
            return
        from ..xrechnung.validate import check_document

        title = f"XRechnung {clean(self.invoice.number)}"
        report = await asyncio.to_thread(check_document, xml, name=title)
        self.app.push_screen(FindingsScreen(title, report))

    async def _ask(self, call, offline_id: str, offline_severity: SeverityLevel):
        """The server's answer to ``call(invoices service)``; None after telling the user why there is none."""
        try:
            return await call(self.session.services.invoices)
        except Unreachable:
            self.notify(i18n.t(offline_id), severity=offline_severity)
        except ApiError as exc:
            self.notify(i18n.t("form.refused", detail=i18n.problem(exc)), severity="error")
        return None

    # --- operator ------------------------------------------------------------------------------------

    def action_pay(self) -> None:
        def done(result: Any) -> None:
            if isinstance(result, dict):
                self._take(result)
                self.notify(i18n.t("signoff.payment_saved"))

        self.app.push_screen(invoice_signoff.PaymentForm(self.session, self.invoice), done)

    def action_credit_note(self) -> None:
        line = self._line(self.table.cursor_key)
        if line is None:
            self.notify(i18n.t("invoice.no_line_chosen"), severity="warning")
            return
        chk = self._check_of(line.position)
        # Billed more than the contract gives: the difference is what a credit note would return.
        suggested = chk.difference if chk is not None and chk.difference is not None and chk.difference > 0 else None

        def done(result: Any) -> None:
            note = as_invoice(result)  # the credit note the server issued
            if note is not None:
                self.notify(i18n.t("signoff.credit_saved", number=clean(note.number)), timeout=10)
                self.load()

        self.app.push_screen(invoice_signoff.CreditNoteForm(self.session, self.invoice, line, suggested), done)

    def action_cancel_invoice(self) -> None:
        from .invoice_dialogs import CancelScreen

        inv = self.invoice
        if why_not_cancellable(inv.kind, inv.status, inv.paid_amount, inv.credited_amount) == "partly-settled":
            # The form would only end in the server's refusal, after the reason was typed.
            self.notify(i18n.t("invoice.cancel_partly_settled", paid=formatting.money(inv.paid_amount),
                               credited=formatting.money(inv.credited_amount), open=formatting.money(inv.open_amount)),
                        severity="warning", timeout=10)
            return

        def done(result: Any) -> None:
            note = as_invoice(result)  # the credit note that cancels it
            if note is not None:
                self.notify(i18n.t("invoice.cancelled_saved", number=clean(note.number)), timeout=10)
                self.load()

        self.app.push_screen(CancelScreen(self.session, self.invoice), done)


def format_iban(iban: str) -> str:
    """DE36 1005 0000 0190 4587 12: IBANs are read out and typed in groups of four."""
    compact = iban.replace(" ", "")
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4)) or "–"
