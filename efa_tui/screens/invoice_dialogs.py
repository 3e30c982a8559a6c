"""The invoice screens' smaller parts: dispute and cancellation forms (through the outbox),
saving the XRechnung, validating an XRechnung file, exporting the list, and the operator's
billing run with its progress and summary."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Select, Static

from .. import formatting, i18n
from ..api.errors import ApiError, Unreachable
from ..api.models import Invoice, InvoiceLine
from ..files import unused_name, write_document
from ..services.invoices import InvoicesService
from ..store import invoice_list as il
from ..text import clean
from ..widgets.detail_text import DetailText
from ..widgets.form import FormField
from ..widgets.lists import DetailScroll
from ..widgets.text_fields import TextField
from .base import AppModal, AppScreen
from .form_screen import FormScreen, Request


def downloads_dir() -> Path:
    """The user's download directory (XDG on Linux), else the home directory."""
    import platformdirs

    path = Path(platformdirs.user_downloads_dir())
    return path if path.is_dir() else Path.home()


# --- forms: dispute, cancel ------------------------------------------------------------------------


def _reason_check(value: str) -> str | None:
    return i18n.t("invoice.reason_short") if len(value.strip()) < 10 else None


class DisputeScreen(FormScreen):
    """Beanstanden: the chosen lines with a reason the provider and operator can act on."""

    title_id = "invoice.dispute_title"

    def __init__(self, session, invoice: Invoice, lines: list[InvoiceLine], suggestion: str = ""):
        self.invoice = invoice
        self.lines = lines
        ids = "-".join(str(x.id) for x in lines)
        super().__init__(session, f"invoice-dispute:{invoice.id}:{ids}", {"reason": suggestion})

    def intro(self) -> Text:
        text = Text(i18n.t("invoice.dispute_intro", number=clean(self.invoice.number)) + "\n")
        for x in self.lines:
            text.append(f"  {x.position}. {clean(x.name)} – {formatting.money(x.net)}\n")
        return text

    def fields(self) -> list[FormField]:
        return [FormField("reason", "invoice.dispute_reason", kind="area", required=True, check=_reason_check,
                          hint="invoice.dispute_hint")]

    def submit_label(self) -> str:
        return i18n.t("invoice.key.dispute")

    def request(self, values: dict[str, Any]) -> Request:
        inv_id = self.invoice.id
        return Request(InvoicesService.review(inv_id, "dispute", [x.id for x in self.lines], values["reason"].strip()),
                       i18n.t("invoice.label.dispute", number=clean(self.invoice.number)), related=f"invoice:{inv_id}")


class CancelScreen(FormScreen):
    """Stornieren (operator): the invoice is cancelled and a credit note over the same lines issued."""

    title_id = "invoice.cancel_title"

    def __init__(self, session, invoice: Invoice):
        self.invoice = invoice
        super().__init__(session, f"invoice-cancel:{invoice.id}")

    def intro(self) -> Text:
        return Text(i18n.t("invoice.cancel_intro", number=clean(self.invoice.number),
                           gross=formatting.money(self.invoice.gross),
                           customer=clean(il.party_name(self.invoice, "customer"))))

    def fields(self) -> list[FormField]:
        return [FormField("reason", "invoice.cancel_reason", kind="area", required=True, check=_reason_check)]

    def submit_label(self) -> str:
        return i18n.t("invoice.key.cancel")

    def request(self, values: dict[str, Any]) -> Request:
        inv_id = self.invoice.id
        return Request(InvoicesService.cancel(inv_id, values["reason"].strip()),
                       i18n.t("invoice.label.cancel", number=clean(self.invoice.number)), related=f"invoice:{inv_id}")


# --- a path, asked for ------------------------------------------------------------------------------


class PathDialog(AppModal):
    """Asks for a file path (with a sensible default) and acts on Enter."""

    BINDINGS = [Binding("escape", "close", "key.back", id="invoice_dialog.back")]
    DEFAULT_CSS = """
    PathDialog { align: center middle; }
    PathDialog > Vertical { width: 76; max-width: 100%; height: auto; border: round $primary; background: $surface;
                             padding: 0 1; }
    PathDialog .dialog-title { text-style: bold; }
    PathDialog Input { margin: 1 0 0 0; }
    PathDialog #dialog-result { height: auto; margin-top: 1; }
    """
    title_id = ""
    WRITES = False  # it writes the file: an existing one is overwritten only on a second Enter

    def __init__(self, default: Path | str, **kwargs):
        super().__init__(**kwargs)
        self.default = str(unused_name(Path(default)) if self.WRITES else default)
        self._overwrite: Path | None = None  # the existing file a second Enter overwrites

    def extra(self) -> ComposeResult:
        yield from ()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(i18n.t(self.title_id)), classes="dialog-title")
            yield from self.extra()
            yield TextField(self.default, id="dialog-path", select_on_focus=False)
            yield Static(Text(i18n.t("invoice.path_hint"), style="dim"))
            yield Static(id="dialog-result")

    def on_mount(self) -> None:
        self.query_one("#dialog-path", Input).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def result(self, text: Text) -> None:
        self.query_one("#dialog-result", Static).update(text)

    @on(Input.Submitted, "#dialog-path")
    def _submitted(self, event: Input.Submitted) -> None:
        typed = event.value.strip()
        if not typed:
            return
        path = Path(typed).expanduser()
        if self.WRITES and path.is_file() and path != self._overwrite:
            # The export of the same day silently replaced the one a user had annotated (walk T23).
            self._overwrite = path
            self.result(Text(i18n.t("invoice.file_exists", path=str(path)), style="bold yellow"))
            return
        self.act(path)

    def act(self, path: Path) -> Any:
        """Act on the path (subclasses: a worker)."""
        raise NotImplementedError


class SaveXmlDialog(PathDialog):
    """Saves the invoice's XRechnung (as the server sends it) and validates what was saved."""

    title_id = "invoice.save_title"
    WRITES = True

    def __init__(self, session, invoice: Invoice, directory: Path | None = None):
        number = "".join(ch for ch in clean(invoice.number) if ch.isalnum() or ch in "-_") or str(invoice.id)
        super().__init__((directory or downloads_dir()) / f"XRechnung-{number}.xml")
        self.session = session
        self.invoice = invoice
        self.saved: Path | None = None

    @work(group="save-xml", exclusive=True, exit_on_error=False)
    async def act(self, path: Path) -> None:
        try:
            xml = await self.session.services.invoices.xrechnung(self.invoice.id)
        except Unreachable:
            self.result(Text(i18n.t("invoice.xml_offline"), style="bold red"))
            return
        except ApiError as exc:
            self.result(Text(i18n.t("form.refused", detail=i18n.problem(exc)), style="bold red"))
            return
        try:
            await asyncio.to_thread(write_document, path, xml)
        except OSError as exc:
            self.result(Text(i18n.t("invoice.write_failed", path=str(path), reason=clean(exc.strerror or exc)), style="bold red"))
            return
        from ..xrechnung.validate import check_document

        report = await asyncio.to_thread(check_document, xml, name=path.name)
        self.saved = path
        self.notify(i18n.t("invoice.xml_saved", path=str(path)) + " " + verdict_text(report))
        self.dismiss(path)


class ValidateFileDialog(PathDialog):
    """Opens any XRechnung CII file and shows what the validator finds."""

    title_id = "invoice.validate_title"

    def __init__(self, directory: Path | None = None):
        super().__init__(str(directory or downloads_dir()) + os.sep)

    @work(group="validate-file", exclusive=True, exit_on_error=False)
    async def act(self, path: Path) -> None:
        if not path.is_file():
            self.result(Text(i18n.t("invoice.no_file", path=str(path)), style="bold red"))
            return
        from ..xrechnung.validate import check_document

        self.result(Text(i18n.t("invoice.validating"), style="dim"))
        report = await asyncio.to_thread(check_document, path, name=path.name)
        self.app.switch_screen(FindingsScreen(path.name, report))


def verdict_text(report) -> str:
    """One sentence for a check's verdict (the official rules' scenario, or why there is none)."""
    if report.verdict == "accepted":
        return i18n.t("xr.tui.accepted", scenario=report.scenario, rules=report.rules.name)
    if report.verdict == "incomplete":
        return i18n.t("xr.no_rules_short")
    if report.verdict == "rejected":
        return i18n.tn("xr.tui.rejected", report.errors)
    return i18n.t("xr.verdict." + report.verdict).capitalize() + "."


class FindingsScreen(AppScreen):
    """The check's verdict and findings with their official rule ids (``xrechnung.validate.Report``)."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "key.back", id="findings.back")]
    DEFAULT_CSS = """
    FindingsScreen VerticalScroll { padding: 0 1; }
    FindingsScreen .ok { color: $success; text-style: bold; }
    """
    STYLE = {"error": "bold red", "warning": "bold yellow", "information": "bold"}

    def __init__(self, title: str, report, **kwargs):
        super().__init__(**kwargs)
        self.title_text = title
        self.report = report
        self.findings = report.findings

    def compose(self) -> ComposeResult:
        head = Text(clean(self.title_text) + "\n", style="bold")
        report = self.report
        if report.verdict == "accepted":
            head.append("✓ " + verdict_text(report), style="bold green")
        elif report.verdict == "incomplete":
            head.append("? " + verdict_text(report), style="bold yellow")
        else:
            head.append("✗ " + verdict_text(report), style="bold red")
        if report.warnings:
            head.append(" " + i18n.tn("invoice.warnings", n=report.warnings))
        body = Text()
        for f in self.findings:
            body.append(f"[{clean(f.rule)}] ", style=self.STYLE.get(f.level, "bold"))
            body.append(i18n.t(f"xr.tui.level.{f.level}") + ": ", style="bold")
            body.append(clean(f.message) + "\n")
            if f.location:
                body.append("    " + clean(f.location) + "\n", style="dim")
        yield DetailScroll(DetailText(head), DetailText(body))


# --- export ------------------------------------------------------------------------------------------


class ExportDialog(PathDialog):
    """The visible rows of the list as CSV (for a spreadsheet) or JSON (for a program)."""

    title_id = "invoice.export_title"
    WRITES = True

    def __init__(self, invoices: list[Invoice], today: date, directory: Path | None = None):
        self.directory = directory or downloads_dir()
        super().__init__(self.directory / f"Rechnungen-{today.isoformat()}.csv")
        self.invoices = invoices
        self.today = today

    def extra(self) -> ComposeResult:
        yield Static(Text(i18n.tn("invoice.export_rows", n=len(self.invoices))))
        yield Select([("CSV (Excel, LibreOffice)", "csv"), ("JSON", "json")], value="csv", allow_blank=False, id="export-format")

    @on(Select.Changed, "#export-format")
    def _format(self, event: Select.Changed) -> None:
        path = self.query_one("#dialog-path", Input)
        typed = path.value.strip()
        current = Path(typed)
        if not typed or typed.endswith(os.sep) or not current.name:  # no file name (yet): the default one, in that folder
            current = Path(typed or self.directory) / f"Rechnungen-{self.today.isoformat()}"
        path.value = str(current.with_suffix("." + str(event.value)))

    @work(group="export", exclusive=True, exit_on_error=False)
    async def act(self, path: Path) -> None:
        fmt = str(self.query_one("#export-format", Select).value)
        text = il.to_csv(self.invoices, self.today, bom=True) if fmt == "csv" else il.to_json(self.invoices, self.today)
        try:
            await asyncio.to_thread(write_document, path, text.encode("utf-8"))
        except OSError as exc:
            self.result(Text(i18n.t("invoice.write_failed", path=str(path), reason=clean(exc.strerror or exc)), style="bold red"))
            return
        self.notify(i18n.tn("invoice.exported", n=len(self.invoices), path=str(path)))
        self.dismiss(path)


# --- billing run (operator) --------------------------------------------------------------------------


class BillingRunScreen(AppScreen):
    """Bill a calendar year in two steps: a preview (the server's dry run: invoices to create,
    totals net and gross, customers skipped with the reason), then a run confirmed with exactly
    that gross total — the server refuses it (409) when the figures changed meanwhile, and the
    new preview is shown to confirm again. Below, the history of billing runs."""

    BINDINGS = [Binding("escape", "close", "key.back", id="billing.back")]
    DEFAULT_CSS = """
    BillingRunScreen VerticalScroll { padding: 0 1; }
    BillingRunScreen Input { width: 12; }
    BillingRunScreen #run-row { height: auto; }
    BillingRunScreen #run-row Button { margin-left: 1; }
    BillingRunScreen #run-status { margin-top: 1; }
    BillingRunScreen #run-history { margin-top: 1; }
    """

    def __init__(self, session, year: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.year = year or formatting.today().year
        self.running = False
        self.preview: dict[str, Any] | None = None  # the dry run the confirm button refers to
        self.run: dict[str, Any] | None = None
        self.history: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text(i18n.t("billing.title"), style="bold"))
            yield Static(Text(i18n.t("billing.intro")))
            with Horizontal(id="run-row"):
                yield TextField(str(self.year), id="run-year", type="integer", max_length=4)
                yield Button(i18n.t("billing.preview"), id="run-preview")
                yield Button(i18n.t("billing.confirm_none"), variant="primary", id="run-confirm", disabled=True)
            yield Static(id="run-status")
            yield Static(id="run-details")
            yield Static(id="run-summary")
            yield DetailText(id="run-history")

    def on_mount(self) -> None:
        self.query_one("#run-year", Input).focus()
        self.load_history()

    def action_close(self) -> None:
        if self.running:
            self.notify(i18n.t("billing.still_running"), severity="warning")
            return
        self.dismiss(self.run)

    def _status(self, text: str, style: str = "") -> None:
        self.query_one("#run-status", Static).update(Text(text, style=style))

    @on(Input.Changed, "#run-year")
    def _year_changed(self) -> None:
        # A confirmation always refers to the preview on screen: another year needs its own.
        if self.preview is not None and str(self.preview.get("year")) != self.query_one("#run-year", Input).value.strip():
            self._show_preview(None)

    @on(Button.Pressed, "#run-preview")
    @on(Input.Submitted, "#run-year")
    def _preview(self) -> None:
        if self.running:
            return
        text = self.query_one("#run-year", Input).value.strip()
        if not (text.isascii() and text.isdigit()) or not 2000 <= int(text) <= 2100:
            self.notify(i18n.t("billing.bad_year"), severity="warning")
            return
        self._busy(True)
        self.fetch_preview(int(text))

    @on(Button.Pressed, "#run-confirm")
    def _confirm(self) -> None:
        if self.running or self.preview is None:
            return
        self._busy(True)
        self.start_run(int(self.preview["year"]), str(self.preview["gross_total"]), str(uuid.uuid4()))

    def _busy(self, busy: bool) -> None:
        self.running = busy
        self.query_one("#run-preview", Button).disabled = busy
        self.query_one("#run-confirm", Button).disabled = busy or not (self.preview or {}).get("invoices_to_create")

    @work(group="billing-run", exclusive=True, exit_on_error=False)
    async def fetch_preview(self, year: int) -> None:
        self._status(i18n.t("billing.previewing", year=year))
        try:
            answer = await self.session.services.invoices.preview_billing_run(year)
        except Unreachable:
            self._status(i18n.t("invoice.operator_offline"), "bold red")
            return
        except ApiError as exc:
            self._show_preview(None)
            if any(e.code == "future_year" for e in exc.errors):
                self._status(i18n.t("billing.future_year", year=year, current=formatting.today().year), "bold red")
            else:
                self._status(i18n.t("form.refused", detail=i18n.problem(exc)), "bold red")
            return
        finally:
            self._busy(False)
        self._show_preview(answer)
        self._status(i18n.t("billing.preview_ready"), "bold")
        if self.preview and self.preview.get("invoices_to_create"):
            self.query_one("#run-confirm", Button).focus()

    @work(group="billing-run", exclusive=True, exit_on_error=False)
    async def start_run(self, year: int, gross: str, key: str) -> None:
        self._status(i18n.t("billing.running", year=year))
        try:
            run = await self.session.services.invoices.start_billing_run(year, gross, key)
        except Unreachable:
            self._status(i18n.t("invoice.operator_offline"), "bold red")
            return
        except ApiError as exc:
            changed = exc.status == 409 and isinstance(exc.body.get("preview"), dict)
            if changed:
                # The figures moved since the preview: show the new ones to confirm again.
                self._show_preview(exc.body["preview"])
                self._status(i18n.t("billing.changed"), "bold red")
            else:
                self._status(i18n.t("form.refused", detail=i18n.problem(exc)), "bold red")
            return
        finally:
            self._busy(False)
        self.run = run
        self._show_preview(None)
        self._status(i18n.t("billing.done", year=year), "bold green")
        self.summary(run)
        self.load_history()

    def _show_preview(self, preview: dict[str, Any] | None) -> None:
        self.preview = preview
        confirm = self.query_one("#run-confirm", Button)
        details = self.query_one("#run-details", Static)
        if preview is None:
            confirm.label = i18n.t("billing.confirm_none")
            confirm.disabled = True
            details.update("")
            return
        gross = formatting.money(preview.get("gross_total"))
        # Nothing to bill: nothing to confirm, and the button says so (it read "brutto 0,00 €
        # bestätigen", disabled only by a shade that NO_COLOR does not show).
        confirm.label = i18n.t("billing.confirm", gross=gross) if preview.get("invoices_to_create") else i18n.t("billing.nothing")
        confirm.disabled = self.running or not preview.get("invoices_to_create")
        text = Text()
        text.append(i18n.tn("billing.preview_head", year=preview.get("year"), n=preview.get("invoices_to_create") or 0) + "\n",
                    style="bold")
        text.append(i18n.t("billing.totals", net=formatting.money(preview.get("net_total")), gross=gross) + "\n")
        for item in preview.get("invoices") or []:
            category = i18n.t(f"billing.category.{item.get('vat_category')}") if item.get("vat_category") in ("S", "O") else ""
            text.append(f"  • {clean((item.get('customer') or {}).get('name'))} ({category}): "
                        f"{formatting.money(item.get('net'))} / {formatting.money(item.get('gross'))}\n")
        self._skipped(text, preview.get("skipped") or [])
        details.update(text)

    def _skipped(self, text: Text, skipped: list[dict[str, Any]]) -> None:
        text.append(i18n.tn("billing.skipped", n=len(skipped)) + "\n", style="bold" if skipped else "")
        for s in skipped:
            reason = s.get("reason") or ""
            label = i18n.t(f"billing.reason.{reason}") if f"billing.reason.{reason}" in i18n.MESSAGES else clean(s.get("detail"))
            name = clean(s.get("customer_name")) or f"#{s.get('customer_id')}"
            if s.get("vat_category") in ("S", "O"):
                name += f" ({i18n.t('billing.category.' + s['vat_category'])})"
            text.append(f"  • {name}: {label}\n")

    def summary(self, run: dict[str, Any]) -> None:
        text = Text()
        text.append(i18n.tn("billing.created", n=run.get("invoices_created") or 0) + "\n", style="bold")
        text.append(i18n.t("billing.totals", net=formatting.money(run.get("net_total")), gross=formatting.money(run.get("gross_total")))
                    + "\n")
        self._skipped(text, run.get("skipped") or [])
        self.query_one("#run-summary", Static).update(text)

    @work(group="billing-history", exclusive=True, exit_on_error=False)
    async def load_history(self) -> None:
        """The billing runs so far, newest first: when, who, year, invoices, totals."""
        try:
            runs = await self.session.services.invoices.billing_runs(limit=10)
        except (ApiError, Unreachable):
            return
        self.history = [x for x in runs if isinstance(x, dict)]
        text = Text(i18n.t("billing.history") + "\n", style="bold")
        if not self.history:
            text.append(i18n.t("billing.history_none") + "\n")
        for run in self.history:
            who = clean((run.get("started_by") or {}).get("name")) or "–"
            text.append(i18n.tn("billing.history_row", at=formatting.moment(run.get("started_at")), year=run.get("year"), who=who,
                               n=run.get("invoices_created") or 0, net=formatting.money(run.get("net_total")),
                               gross=formatting.money(run.get("gross_total"))) + "\n")
        self.query_one("#run-history", Static).update(text)
