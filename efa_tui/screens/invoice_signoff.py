"""The attestations of the invoice check and the operator's bookings, as dialogs and forms:

* "sachlich richtig" / "rechnerisch richtig" are formal attestations: a dialog states what is
  attested, by whom, for which invoice, and that it is recorded on the server — only its
  confirmation sends it;
* withdrawing a sign-off (before a payment) and ending a dispute are forms with a reason;
* payments (value date, amount, bank reference; partial ones too) and partial credit notes for
  a line (operator);
* the check's history (who did what when) with the payments and credit notes.

What may be done when is the server's rule (routes/invoices.py); :func:`blocked` says the same
before a key is pressed so the user is told why without a round trip.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from .. import formatting, i18n
from ..api.models import Invoice, InvoiceLine
from ..domain.money import money_str
from ..formatting import InputError
from ..services.invoices import InvoicesService
from ..store import invoice_list as il
from ..text import clean
from ..widgets.detail_text import DetailText
from ..widgets.form import FormField
from ..widgets.lists import DetailScroll
from .base import AppModal, AppScreen
from .form_screen import FormScreen, Request


def disputed_positions(invoice: Invoice) -> list[str]:
    return [str(x.position) for x in invoice.lines or () if x.dispute]


def has_payment(invoice: Invoice) -> bool:
    return invoice.status == "paid" or invoice.paid_amount > 0


def blocked(invoice: Invoice, action: str) -> str | None:
    """Why the customer cannot take this review step now (translated), or None."""
    review = invoice.review
    if action == "factual_ok":
        if review.factual_ok_at:
            return i18n.t("invoice.already_confirmed")
        positions = disputed_positions(invoice)
        if positions:
            return i18n.t("signoff.blocked_disputed", positions=i18n.tn("signoff.positions", len(positions), list=", ".join(positions)))
    elif action == "arithmetic_ok":
        if review.arithmetic_ok_at:
            return i18n.t("invoice.already_confirmed")
    elif action in ("withdraw_factual", "withdraw_arithmetic"):
        which = "factual_ok" if action == "withdraw_factual" else "arithmetic_ok"
        if not getattr(review, f"{which}_at"):
            return i18n.t("signoff.not_confirmed")
        if has_payment(invoice):
            return i18n.t("signoff.blocked_paid")
    return None


def signed_other_step(invoice: Invoice, action: str, who: str) -> bool:
    """Four eyes: whether ``who`` gave the other sign-off of this invoice already ("sachlich
    richtig" and "rechnerisch richtig" are two people's in municipal cash rules; the app took both
    from one user without a word, walk T7). A warning, not a block: a small office may have one."""
    other = "arithmetic_ok_by" if action == "factual_ok" else "factual_ok_by"
    by = getattr(invoice.review, other, None)
    return bool(who and by) and clean(by).casefold() == clean(who).casefold()


def _period(invoice: Invoice) -> str:
    return f"{formatting.day(invoice.period_start)}–{formatting.day(invoice.period_end)}"


def statement(invoice: Invoice, action: str, who: str) -> str:
    """What the user attests, in words (the dialog shows it before anything is recorded)."""
    key = "signoff.factual_statement" if action == "factual_ok" else "signoff.arithmetic_statement"
    return i18n.t(key, who=clean(who), customer=clean(il.party_name(invoice, "customer")), number=clean(invoice.number),
                  gross=formatting.money(invoice.gross), period=_period(invoice))


class AttestDialog(AppModal[bool]):
    """Shows the attestation word for word; True only when the user confirms it."""

    BINDINGS = [
        Binding("ctrl+s", "confirm", "signoff.confirm", id="signoff.confirm"),
        Binding("escape", "close", "key.back", id="signoff.back"),
    ]
    DEFAULT_CSS = """
    AttestDialog { align: center middle; }
    AttestDialog > Vertical { width: 76; max-width: 100%; height: auto; border: round $primary; background: $surface; padding: 0 1; }
    AttestDialog .dialog-title { text-style: bold; }
    AttestDialog #attest-statement { margin: 1 0; }
    AttestDialog #attest-warning, AttestDialog .attest-warning { color: $warning; }
    AttestDialog Horizontal { height: auto; margin-top: 1; }
    AttestDialog Button { margin-right: 2; }
    """

    def __init__(self, invoice: Invoice, action: str, who: str, *, warning: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.invoice = invoice
        self.action = action
        self.who = who
        self.warning = warning

    def compose(self) -> ComposeResult:
        title = "signoff.factual_title" if self.action == "factual_ok" else "signoff.arithmetic_title"
        with Vertical():
            yield Static(Text(i18n.t(title)), classes="dialog-title")
            yield Static(Text(statement(self.invoice, self.action, self.who)), id="attest-statement")
            if self.warning:
                yield Static(Text(i18n.t("signoff.check_warning")), id="attest-warning")
            if signed_other_step(self.invoice, self.action, self.who):
                other = "signoff.word.arithmetic" if self.action == "factual_ok" else "signoff.word.factual"
                yield Static(Text(i18n.t("signoff.four_eyes", other=i18n.t(other))), id="attest-four-eyes",
                             classes="attest-warning")
            yield Static(Text(i18n.t("signoff.recorded"), style="dim"))
            with Horizontal():
                yield Button(i18n.t("signoff.confirm") + " (ctrl+s)", variant="primary", id="attest-confirm")
                yield Button(i18n.t("form.cancel") + " (esc)", id="attest-cancel")

    def on_mount(self) -> None:
        self.query_one("#attest-cancel", Button).focus()  # enter alone does not attest

    @on(Button.Pressed, "#attest-confirm")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#attest-cancel")
    def action_close(self) -> None:
        self.dismiss(False)


class WithdrawForm(FormScreen):
    """Withdraw "sachlich richtig" or "rechnerisch richtig" (before a payment), with a reason."""

    def __init__(self, session, invoice: Invoice, action: str, **kwargs):
        self.invoice = invoice
        self.action = action
        super().__init__(session, f"invoice-{action}:{invoice.id}", **kwargs)

    @property
    def title_text(self) -> str:
        return i18n.t(f"signoff.{self.action}_title")

    def intro(self) -> Text:
        review = self.invoice.review
        key = "factual_ok" if self.action == "withdraw_factual" else "arithmetic_ok"
        return Text(i18n.t("signoff.withdraw_intro", who=clean(getattr(review, f"{key}_by")),
                           at=formatting.moment(getattr(review, f"{key}_at")), number=clean(self.invoice.number)))

    def fields(self) -> list[FormField]:
        return [FormField("reason", "signoff.reason", kind="area", required=True)]

    def submit_label(self) -> str:
        return i18n.t("signoff.withdraw")

    def request(self, values: dict[str, Any]) -> Request:
        inv_id = self.invoice.id
        return Request(InvoicesService.review(inv_id, self.action, [], values["reason"].strip()),
                       i18n.t(f"signoff.label.{self.action}", number=clean(self.invoice.number)), related=f"invoice:{inv_id}")


class ResolveForm(FormScreen):
    """End the dispute of a line (the customer who disputed it, once it is settled)."""

    title_id = "signoff.resolve_title"

    def __init__(self, session, invoice: Invoice, line: InvoiceLine, **kwargs):
        self.invoice = invoice
        self.line = line
        super().__init__(session, f"invoice-resolve:{invoice.id}:{line.id}", **kwargs)

    def intro(self) -> Text:
        dispute = self.line.dispute
        return Text(i18n.t("signoff.resolve_intro", pos=self.line.position, reason=clean(dispute.reason if dispute else "")))

    def fields(self) -> list[FormField]:
        return [FormField("reason", "signoff.reason", kind="area")]

    def submit_label(self) -> str:
        return i18n.t("signoff.resolve")

    def request(self, values: dict[str, Any]) -> Request:
        inv_id = self.invoice.id
        return Request(InvoicesService.review(inv_id, "resolve", [self.line.id], values.get("reason", "").strip()),
                       i18n.t("signoff.label.resolve", number=clean(self.invoice.number)), related=f"invoice:{inv_id}")


def _amount_check(limit: Decimal, message_id: str, **kwargs: Any):
    def check(text: str) -> str | None:
        try:
            amount = formatting.parse_money(text)
        except InputError as exc:
            return str(exc)
        if amount <= 0:
            return i18n.t("signoff.positive")
        if amount > limit:
            return i18n.t(message_id, **kwargs)
        return None

    return check


def _day_check(text: str) -> str | None:
    try:
        day = formatting.parse_day(text)
    except InputError as exc:
        return str(exc)
    return i18n.t("signoff.future") if day > formatting.today() else None


class PaymentForm(FormScreen):
    """A payment as the bank statement shows it; less than the open amount is a partial payment."""

    title_id = "signoff.payment_title"

    def __init__(self, session, invoice: Invoice, **kwargs):
        self.invoice = invoice
        self.open = il.open_amount(invoice)
        defaults = {"value_date": formatting.day_input(formatting.today()), "amount": formatting.money_input(self.open)}
        super().__init__(session, f"invoice-payment:{invoice.id}", defaults, **kwargs)

    def intro(self) -> Text:
        return Text(i18n.t("signoff.payment_intro", number=clean(self.invoice.number),
                           gross=formatting.money(self.invoice.gross),
                           paid=formatting.money(self.invoice.paid_amount), open=formatting.money(self.open)))

    def fields(self) -> list[FormField]:
        return [
            FormField("value_date", "signoff.f.value_date", required=True, check=_day_check, retype=True),
            FormField("amount", "signoff.f.amount", required=True,
                      check=_amount_check(self.open, "signoff.more_than_open", open=formatting.money(self.open)), notation="money"),
            FormField("bank_reference", "signoff.f.bank_reference", required=True),
        ]

    def submit_label(self) -> str:
        return i18n.t("signoff.payment_send")

    def request(self, values: dict[str, Any]) -> Request:
        inv_id = self.invoice.id
        amount = formatting.parse_money(values["amount"])
        body = {"value_date": formatting.parse_day(values["value_date"]).isoformat(), "amount": money_str(amount),
                "bank_reference": values["bank_reference"].strip()}
        return Request(InvoicesService.payment(inv_id, body),
                       i18n.t("signoff.label.payment", number=clean(self.invoice.number), amount=formatting.money(amount)),
                       related=f"invoice:{inv_id}")


class CreditNoteForm(FormScreen):
    """A partial credit note for one line (the whole line, or the amount in dispute)."""

    def __init__(self, session, invoice: Invoice, line: InvoiceLine, suggested: Decimal | None = None, **kwargs):
        self.invoice = invoice
        self.line = line
        self.line_net = line.net
        amount = suggested if suggested is not None and 0 < suggested <= self.line_net else self.line_net
        dispute = line.dispute.reason if line.dispute else ""
        super().__init__(session, f"invoice-credit:{invoice.id}:{line.id}",
                         {"net": formatting.money_input(amount), "reason": dispute}, **kwargs)

    @property
    def title_text(self) -> str:
        return i18n.t("signoff.credit_title", pos=self.line.position)

    def intro(self) -> Text:
        return Text(i18n.t("signoff.credit_intro", number=clean(self.invoice.number), pos=self.line.position,
                           name=clean(self.line.name), net=formatting.money(self.line_net)))

    def fields(self) -> list[FormField]:
        return [
            FormField("net", "signoff.f.credit_net", required=True,
                      check=_amount_check(self.line_net, "signoff.more_than_line", net=formatting.money(self.line_net)), notation="money"),
            FormField("reason", "signoff.reason", kind="area", required=True),
        ]

    def submit_label(self) -> str:
        return i18n.t("signoff.credit_send")

    def request(self, values: dict[str, Any]) -> Request:
        inv_id = self.invoice.id
        net = formatting.parse_money(values["net"])
        body = {"line_id": self.line.id, "net": money_str(net), "reason": values["reason"].strip()}
        return Request(InvoicesService.credit_note(inv_id, body),
                       i18n.t("signoff.label.credit", number=clean(self.invoice.number), amount=formatting.money(net)),
                       related=f"invoice:{inv_id}")


def money_lines(invoice: Invoice) -> Text:
    """Payments and what is open, for the invoice detail (one line)."""
    text = Text()
    if invoice.kind != "invoice":
        return text
    payments = invoice.payments or []
    if payments:
        text.append(i18n.t("signoff.payments") + ": ", style="bold")
        text.append(" · ".join(i18n.t("signoff.payment_line", amount=formatting.money(p.amount), day=formatting.day(p.value_date),
                                      reference=clean(p.bank_reference)) for p in payments))
        text.append("   ")
    if invoice.credited_amount > 0:
        text.append(i18n.t("signoff.credited", amount=formatting.money(invoice.credited_amount)) + "   ")
    # What is open, when it is not simply the gross (paid in part, credited) or it is overdue.
    if invoice.status == "issued" and (text.plain or invoice.overdue):
        state_style = "bold red" if invoice.overdue else "bold"
        text.append(i18n.t("signoff.open", amount=formatting.money(il.open_amount(invoice))), style=state_style)
    return text


class HistoryScreen(AppScreen):
    """Who checked, attested, withdrew, disputed and resolved what, when; payments and credit notes."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "key.back", id="signoff_history.back")]
    DEFAULT_CSS = "HistoryScreen VerticalScroll { padding: 0 1; }"

    def __init__(self, invoice: Invoice, **kwargs):
        super().__init__(**kwargs)
        self.invoice = invoice

    def compose(self) -> ComposeResult:
        inv = self.invoice
        positions = {x.id: x.position for x in inv.lines or ()}
        body = Text()
        body.append(i18n.t("signoff.history_title", number=clean(inv.number)) + "\n\n", style="bold")
        history = inv.review_history or []
        if not history:
            body.append(i18n.t("signoff.history_empty") + "\n", style="dim")
        for h in history:
            body.append(f"{formatting.moment(h.at)}  {clean(h.by)}: ", style="bold")
            action = h.action
            body.append(i18n.t(f"signoff.action.{action}") if f"signoff.action.{action}" in i18n.MESSAGES else clean(action))
            if h.line_ids:
                body.append(" · " + i18n.t("invoice.col.pos") + " " + ", ".join(str(positions.get(i, i)) for i in h.line_ids))
            if h.reason:
                body.append(f" – {clean(h.reason)}")
            body.append("\n")
        body.append("\n")
        body.append_text(money_lines(inv))
        for note in inv.credit_notes or []:
            body.append(f"\n{clean(note.number)} {formatting.day(note.issue_date)} {formatting.money(note.gross)}")
        yield DetailScroll(DetailText(body, id="history-text"))
