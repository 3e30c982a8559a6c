"""The invoice screens' smaller parts: dispute and cancellation forms (through the outbox),
saving the XRechnung, validating an XRechnung file, exporting the list, and the operator's
billing run with its progress and summary."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, ProgressBar, Select, Static

from .. import formatting, i18n
from ..files import write_document
from ..api.errors import ApiError, Unreachable
from ..store import invoice_list as il
from ..text import clean
from ..widgets.form import FormField
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

    def __init__(self, session, invoice: dict[str, Any], lines: list[dict[str, Any]], suggestion: str = ""):
        self.invoice = invoice
        self.lines = lines
        ids = "-".join(str(x.get("id")) for x in lines)
        super().__init__(session, f"invoice-dispute:{invoice.get('id')}:{ids}", {"reason": suggestion})

    def intro(self) -> Text:
        text = Text(i18n.t("invoice.dispute_intro", number=clean(self.invoice.get("number"))) + "\n")
        for x in self.lines:
            text.append(f"  {x.get('position')}. {clean(x.get('name'))} – {formatting.money(x.get('net'))}\n")
        return text

    def fields(self) -> list[FormField]:
        return [FormField("reason", "invoice.dispute_reason", kind="area", required=True, check=_reason_check,
                          hint="invoice.dispute_hint")]

    def submit_label(self) -> str:
        return i18n.t("invoice.key.dispute")

    def request(self, values: dict[str, Any]) -> Request:
        inv_id = int(self.invoice["id"])
        return Request("invoice.review", "POST", f"/invoices/{inv_id}/review",
                       {"action": "dispute", "line_ids": [int(x["id"]) for x in self.lines], "reason": values["reason"].strip()},
                       i18n.t("invoice.label.dispute", number=clean(self.invoice.get("number"))), related=f"invoice:{inv_id}")


class CancelScreen(FormScreen):
    """Stornieren (operator): the invoice is cancelled and a credit note over the same lines issued."""

    title_id = "invoice.cancel_title"

    def __init__(self, session, invoice: dict[str, Any]):
        self.invoice = invoice
        super().__init__(session, f"invoice-cancel:{invoice.get('id')}")

    def intro(self) -> Text:
        return Text(i18n.t("invoice.cancel_intro", number=clean(self.invoice.get("number")),
                           gross=formatting.money(self.invoice.get("gross")),
                           customer=clean(il.party_name(self.invoice, "customer"))))

    def fields(self) -> list[FormField]:
        return [FormField("reason", "invoice.cancel_reason", kind="area", required=True, check=_reason_check)]

    def submit_label(self) -> str:
        return i18n.t("invoice.key.cancel")

    def request(self, values: dict[str, Any]) -> Request:
        inv_id = int(self.invoice["id"])
        return Request("invoice.cancel", "POST", f"/invoices/{inv_id}/cancel", {"reason": values["reason"].strip()},
                       i18n.t("invoice.label.cancel", number=clean(self.invoice.get("number"))), related=f"invoice:{inv_id}")


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

    def __init__(self, default: Path | str, **kwargs):
        super().__init__(**kwargs)
        self.default = str(default)

    def extra(self) -> ComposeResult:
        yield from ()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(i18n.t(self.title_id)), classes="dialog-title")
            yield from self.extra()
            yield Input(self.default, id="dialog-path", select_on_focus=False)
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
        path = event.value.strip()
        if path:
            self.act(Path(path).expanduser())

    def act(self, path: Path) -> None:
        raise NotImplementedError


class SaveXmlDialog(PathDialog):
    """Saves the invoice's XRechnung (as the server sends it) and validates what was saved."""

    title_id = "invoice.save_title"

    def __init__(self, session, invoice: dict[str, Any], directory: Path | None = None):
        number = "".join(ch for ch in clean(invoice.get("number")) if ch.isalnum() or ch in "-_") or str(invoice.get("id"))
        super().__init__((directory or downloads_dir()) / f"XRechnung-{number}.xml")
        self.session = session
        self.invoice = invoice
        self.saved: Path | None = None

    @work(group="save-xml", exclusive=True, exit_on_error=False)
    async def act(self, path: Path) -> None:
        try:
            await asyncio.to_thread(self.session.api.get)
            xml = await self.session.api.invoice_xml(int(self.invoice["id"]))
        except Unreachable:
            self.result(Text(i18n.t("invoice.xml_offline"), style="bold red"))
            return
        except ApiError as exc:
            self.result(Text(i18n.t("form.refused", detail=clean(exc.detail or exc.title)), style="bold red"))
            return
        try:
            await asyncio.to_thread(write_document, path, xml)
        except OSError as exc:
            self.result(Text(i18n.t("invoice.write_failed", path=str(path), reason=clean(exc.strerror or exc)), style="bold red"))
            return
        from ..xrechnung.validate import is_valid, validate_xrechnung

        findings = await asyncio.to_thread(validate_xrechnung, xml)
        self.saved = path
        verdict = i18n.t("invoice.xml_valid") if is_valid(findings) else i18n.t("invoice.xml_findings", n=len(findings))
        self.notify(i18n.t("invoice.xml_saved", path=str(path)) + " " + verdict)
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
        from ..xrechnung.validate import validate_xrechnung

        self.result(Text(i18n.t("invoice.validating"), style="dim"))
        findings = await asyncio.to_thread(validate_xrechnung, path)
        self.app.switch_screen(FindingsScreen(path.name, findings))


class FindingsScreen(AppScreen):
    """Validator findings in plain German, with their rule ids."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "key.back", id="findings.back")]
    DEFAULT_CSS = """
    FindingsScreen VerticalScroll { padding: 0 1; }
    FindingsScreen .ok { color: $success; text-style: bold; }
    """

    def __init__(self, title: str, findings: list, **kwargs):
        super().__init__(**kwargs)
        self.title_text = title
        self.findings = findings

    def compose(self) -> ComposeResult:
        from ..xrechnung.validate import is_valid

        head = Text(clean(self.title_text) + "\n", style="bold")
        fatal = sum(1 for f in self.findings if f.severity == "fatal")
        if is_valid(self.findings):
            head.append("✓ " + i18n.t("invoice.xml_valid"), style="bold green")
            if self.findings:
                head.append(" " + i18n.t("invoice.warnings", n=len(self.findings)))
        else:
            head.append("✗ " + i18n.t("invoice.xml_invalid", n=fatal), style="bold red")
        body = Text()
        for f in self.findings:
            body.append(f"[{clean(f.rule)}] ", style="bold red" if f.severity == "fatal" else "bold yellow")
            body.append(i18n.t(f"invoice.severity.{f.severity}") + ": ", style="bold")
            body.append(clean(f.message) + "\n")
            if f.location:
                body.append("    " + clean(f.location) + "\n", style="dim")
        yield VerticalScroll(Static(head), Static(body))

# --- export ------------------------------------------------------------------------------------------


class ExportDialog(PathDialog):
    """The visible rows of the list as CSV (for a spreadsheet) or JSON (for a program)."""

    title_id = "invoice.export_title"

    def __init__(self, invoices: list[dict[str, Any]], today: date, directory: Path | None = None):
        self.directory = directory or downloads_dir()
        super().__init__(self.directory / f"Rechnungen-{today.isoformat()}.csv")
        self.invoices = invoices
        self.today = today

    def extra(self) -> ComposeResult:
        yield Static(Text(i18n.t("invoice.export_rows", n=len(self.invoices))))
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
        self.notify(i18n.t("invoice.exported", n=len(self.invoices), path=str(path)))
        self.dismiss(path)


# --- billing run (operator) --------------------------------------------------------------------------


class BillingRunScreen(AppScreen):
    """Bill a calendar year: every customer with contracts gets one Jahresrechnung. The server
    answers when the run is done; meanwhile its progress is read from /billing/runs."""

    BINDINGS = [Binding("escape", "close", "key.back", id="billing.back")]
    DEFAULT_CSS = """
    BillingRunScreen VerticalScroll { padding: 0 1; }
    BillingRunScreen Input { width: 20; }
    BillingRunScreen #run-row { height: auto; }
    BillingRunScreen #run-row Button { margin-left: 2; }
    BillingRunScreen ProgressBar { margin: 1 0; }
    """

    def __init__(self, session, year: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.year = year or formatting.today().year
        self.running = False
        self.run: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text(i18n.t("billing.title"), style="bold"))
            yield Static(Text(i18n.t("billing.intro")))
            with Horizontal(id="run-row"):
                yield Input(str(self.year), id="run-year", type="integer", max_length=4)
                yield Button(i18n.t("billing.start"), variant="primary", id="run-start")
            yield ProgressBar(total=None, show_eta=False, id="run-progress")
            yield Static(id="run-status")
            yield Static(id="run-summary")

    def on_mount(self) -> None:
        self.query_one("#run-year", Input).focus()

    def action_close(self) -> None:
        if self.running:
            self.notify(i18n.t("billing.still_running"), severity="warning")
            return
        self.dismiss(self.run)

    @on(Button.Pressed, "#run-start")
    @on(Input.Submitted, "#run-year")
    def _start(self) -> None:
        if self.running:
            return
        text = self.query_one("#run-year", Input).value.strip()
        if not text.isdigit() or not 2000 <= int(text) <= 2100:
            self.notify(i18n.t("billing.bad_year"), severity="warning")
            return
        self.running = True
        self.query_one("#run-start", Button).disabled = True
        self.start_run(int(text), str(uuid.uuid4()))

    @work(group="billing-run", exclusive=True, exit_on_error=False)
    async def start_run(self, year: int, key: str) -> None:
        self.query_one("#run-status", Static).update(Text(i18n.t("billing.running", year=year)))
        await asyncio.to_thread(self.session.api.get)
        api = self.session.api
        started = time.time()
        poll = asyncio.get_running_loop().create_task(self._watch(year, started))
        try:
            run = await api.request("POST", "/billing/runs", json={"year": year}, idempotency_key=key,
                                    timeout=max(api.timeout, 300.0))
        except Unreachable:
            self.query_one("#run-status", Static).update(Text(i18n.t("invoice.operator_offline"), style="bold red"))
            return
        except ApiError as exc:
            self.query_one("#run-status", Static).update(
                Text(i18n.t("form.refused", detail=clean(exc.detail or exc.title)), style="bold red"))
            return
        finally:
            poll.cancel()
            self.running = False
            self.query_one("#run-start", Button).disabled = False
        self.run = run.data
        self.progress(run.data)
        self.query_one("#run-status", Static).update(Text(i18n.t("billing.done", year=year), style="bold green"))
        await self.summary(run.data)

    async def _watch(self, year: int, started: float) -> None:
        """The run in progress, as the server records it, every half second."""
        while True:
            await asyncio.sleep(0.5)
            try:
                page = await self.session.api.request("GET", "/billing/runs", params={"limit": 5})
            except (ApiError, Unreachable):
                continue
            for run in page.data.get("items", []):
                if run.get("year") == year and run.get("status") == "running":
                    self.progress(run)
                    break

    def progress(self, run: dict[str, Any]) -> None:
        bar = self.query_one("#run-progress", ProgressBar)
        total = run.get("contracts_total") or 0
        bar.update(total=max(total, 1), progress=run.get("contracts_billed") or (total if run.get("status") == "done" else 0))

    async def summary(self, run: dict[str, Any]) -> None:
        names = await asyncio.to_thread(self._names, [s.get("customer_id") for s in run.get("skipped") or []])
        text = Text()
        text.append(i18n.t("billing.created", n=run.get("invoices_created") or 0) + "\n", style="bold")
        text.append(i18n.t("billing.contracts", billed=run.get("contracts_billed") or 0, total=run.get("contracts_total") or 0) + "\n")
        text.append(i18n.t("billing.totals", net=formatting.money(run.get("net_total")), gross=formatting.money(run.get("gross_total")))
                    + "\n")
        skipped = run.get("skipped") or []
        text.append(i18n.t("billing.skipped", n=len(skipped)) + "\n", style="bold" if skipped else "")
        for s in skipped:
            reason = s.get("reason") or ""
            label = i18n.t(f"billing.reason.{reason}") if f"billing.reason.{reason}" in i18n.MESSAGES else clean(s.get("detail"))
            text.append(f"  • {clean(names.get(s.get('customer_id')) or '#' + str(s.get('customer_id')))}: {label}\n")
        self.query_one("#run-summary", Static).update(text)

    def _names(self, ids: list[Any]) -> dict[Any, str]:
        out = {}
        for cid in ids:
            if isinstance(cid, int):
                org = self.session.cache.get_record("organizations", cid)
                if org:
                    out[cid] = org.get("name") or ""
        return out
