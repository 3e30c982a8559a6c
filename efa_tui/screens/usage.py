"""Usage reporting for per-case offerings ("Nutzung melden"): the cases reported per customer and
month, one report by hand (a form with its draft), or a whole month from a CSV file.

Contracts come from the cache (the provider's orders); the reports themselves from the server
(``GET /usage``), read in the background. Every report goes through the outbox: offline it
waits and is sent once, with its Idempotency-Key, when the server is back.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Input, Static

from .. import formatting, i18n
from ..api.errors import ApiError, Unreachable
from ..store import usage_import
from ..store.outbox import DONE, PENDING
from ..text import clean
from ..widgets.form import FormField
from .base import AppScreen
from .form_screen import FormScreen, Request

MAX_FILE = 5 << 20  # a month's usage of every contract fits in far less


def load_contracts(cache, me: dict[str, Any] | None) -> dict[int, Any]:
    org_id = ((me or {}).get("organization") or {}).get("id")
    if org_id is None:
        return {}
    orders = cache.list_records("orders", where={"provider_id": org_id, "state": list(usage_import.REPORTABLE_STATES)},
                                limit=200_000)
    return usage_import.per_case_contracts(orders)


def contract_label(order: dict[str, Any]) -> str:
    return (f"#{order.get('id')} {clean((order.get('customer') or {}).get('name'))} – "
            f"{clean((order.get('offering') or {}).get('title'))}")


def period_label(year: int | None, month: int | None) -> str:
    return f"{month:02d}/{year}" if year and month else "–"


class UsageScreen(AppScreen):
    BINDINGS = [
        Binding("m", "report", "usage.key.report", id="usage.report"),
        Binding("i", "import_csv", "usage.key.import", id="usage.import"),
        Binding("escape", "app.pop_screen", "key.back", id="usage.back"),
    ]
    DEFAULT_CSS = """
    UsageScreen #usage-head { padding: 0 1; height: auto; }
    UsageScreen DataTable { height: 1fr; }
    """

    def __init__(self, session, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.contracts: dict[int, Any] = {}
        self.reports: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Static(Text(i18n.t("usage.intro")), id="usage-head")
        table: DataTable = DataTable(cursor_type="row", zebra_stripes=True, id="usage")
        # Order, month and cases always in view; customer and offering share the rest.
        rest = max(24, self.app.size.width - 6 - 8 - 8 - 10 - 12)
        widths = {"customer": rest * 2 // 5, "offering": rest - rest * 2 // 5, "order": 6, "period": 8, "cases": 8}
        for key, width in widths.items():
            table.add_column(i18n.t(f"usage.col.{key}"), key=key, width=width)
        yield table

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="usage-load", exit_on_error=False)
    async def load(self) -> None:
        me = getattr(self.app, "me", None) or await asyncio.to_thread(self.session.cache.get_state, "me")
        self.contracts = await asyncio.to_thread(load_contracts, self.session.cache, me)
        self._show()
        if not self.contracts:
            return
        try:
            self.reports = [r async for r in self.session.api.iter_items("/usage")]
        except (ApiError, Unreachable):
            self.notify(i18n.t("usage.reports_offline"), severity="warning")
            return
        self._show()

    def _show(self) -> None:
        table = self.query_one("#usage", DataTable)
        table.clear()
        for customer, offering, oid, year, month, cases in usage_import.usage_rows(self.contracts, self.reports):
            table.add_row(Text(clean(customer), no_wrap=True, overflow="ellipsis"), Text(clean(offering), no_wrap=True,
                          overflow="ellipsis"), f"#{oid}", period_label(year, month),
                          Text(formatting.number(cases) if cases is not None else "–", justify="right"))
        head = Text(i18n.t("usage.intro") + "\n")
        head.append(i18n.t("usage.count", n=len(self.contracts)) if self.contracts else i18n.t("usage.no_contracts"), style="dim")
        self.query_one("#usage-head", Static).update(head)
        table.focus()

    def action_report(self) -> None:
        if not self.contracts:
            self.notify(i18n.t("usage.no_contracts"), severity="warning")
            return
        self.app.push_screen(UsageFormScreen(self.session, self.contracts), lambda _: self.load())

    def action_import_csv(self) -> None:
        if not self.contracts:
            self.notify(i18n.t("usage.no_contracts"), severity="warning")
            return
        self.app.push_screen(UsageImportScreen(self.session, self.contracts), lambda _: self.load())


def _check_period(text: str) -> str | None:
    period = usage_import.parse_period(text)
    if period is None:
        return i18n.t("usage.err.period", value=clean(text))
    return usage_import.future_problem(period, formatting.today())


def _check_cases(text: str) -> str | None:
    cases = usage_import.parse_cases(text, language=None)
    return None if cases is not None else i18n.t("usage.err.cases", value=clean(text))


class UsageFormScreen(FormScreen):
    """One report: contract, month, cases."""

    title_id = "usage.form.title"
    AUTO_FOCUS = "#field-order_id"

    def __init__(self, session, contracts: dict[int, Any], **kwargs):
        self.contracts = contracts
        today = formatting.today()
        last = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
        super().__init__(session, "usage.report", {"period": f"{last[1]:02d}/{last[0]}"}, **kwargs)

    def fields(self) -> list[FormField]:
        options = [(str(oid), contract_label(o)) for oid, o in sorted(self.contracts.items())]
        return [
            FormField("order_id", "usage.f.contract", kind="select", options=options, required=True),
            FormField("period", "usage.f.period", required=True, check=_check_period, hint="usage.h.period",
                      aliases=("year", "month")),
            FormField("cases", "usage.f.cases", required=True, check=_check_cases),
        ]

    def submit_label(self) -> str:
        return i18n.t("usage.form.send")

    def request(self, values: dict[str, Any]) -> Request:
        year, month = usage_import.parse_period(values["period"]) or (0, 0)
        body = {"order_id": int(values["order_id"]), "year": year, "month": month,
                "cases": usage_import.parse_cases(values["cases"], language=None)}
        return Request("usage.report", "POST", "/usage", body,
                       label=i18n.t("usage.label", order=body["order_id"], period=period_label(year, month)),
                       related=f"order:{body['order_id']}")

    def done(self, item) -> None:
        if item.state == DONE:
            self.notify(i18n.t("usage.sent_one"))
        super().done(item)


class UsageImportScreen(AppScreen[bool]):
    """A CSV file checked line by line; sent only when every line is fine."""

    OWNS_KEYBOARD = True  # a decision to take: area keys off, `q` asks (base.py)
    BINDINGS = [
        Binding("ctrl+s", "send", "usage.key.send", id="usage_import.send"),
        Binding("escape", "close", "key.back", id="usage_import.back"),
    ]
    DEFAULT_CSS = """
    UsageImportScreen { padding: 0 1; }
    UsageImportScreen #import-title { text-style: bold; }
    UsageImportScreen #import-result { height: 1fr; }
    UsageImportScreen .buttons { height: auto; }
    UsageImportScreen .buttons Button { margin-right: 2; }
    """

    def __init__(self, session, contracts: dict[int, Any], **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.contracts = contracts
        self.parsed: usage_import.UsageImport | None = None
        self._sending = False

    def compose(self) -> ComposeResult:
        yield Static(Text(i18n.t("usage.import.title")), id="import-title")
        yield Static(Text(i18n.t("usage.import.help"), style="dim"))
        yield Input(placeholder=i18n.t("usage.import.path"), id="import-path")
        with VerticalScroll(id="import-result"):
            yield Static("", id="import-report")
        with Horizontal(classes="buttons"):
            yield Button(i18n.t("usage.import.check") + " (enter)", id="import-check")
            yield Button(i18n.t("usage.import.send") + " (ctrl+s)", variant="primary", id="import-send", disabled=True)
            yield Button(i18n.t("form.cancel") + " (esc)", id="import-cancel")

    def on_mount(self) -> None:
        self.query_one("#import-path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.check_file(event.value)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.parsed = None
        self.query_one("#import-send", Button).disabled = True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "import-check":
            self.check_file(self.query_one("#import-path", Input).value)
        elif event.button.id == "import-send":
            self.action_send()
        else:
            self.action_close()

    def action_close(self) -> None:
        self.dismiss(False)

    @work(thread=True, exclusive=True, group="import-check", exit_on_error=False)
    def check_file(self, path_text: str) -> None:
        path = Path(path_text.strip()).expanduser()
        try:
            if path.stat().st_size > MAX_FILE:
                raise ValueError(i18n.t("usage.err.too_big"))
            data = path.read_bytes()
        except (OSError, ValueError) as exc:
            message = str(exc) if isinstance(exc, ValueError) else i18n.t("usage.err.file", path=clean(str(path)),
                                                                            reason=clean(exc.strerror or exc))
            self.app.call_from_thread(self._report, None, message)
            return
        parsed = usage_import.parse(data, self.contracts, today=formatting.today())
        self.app.call_from_thread(self._report, parsed, None)

    def _report(self, parsed: usage_import.UsageImport | None, failure: str | None) -> None:
        self.parsed = parsed
        text = Text()
        if failure:
            text.append(failure, style="bold red")
        elif parsed is not None and parsed.errors:
            text.append(i18n.t("usage.import.errors", n=len(parsed.errors)) + "\n", style="bold red")
            for error in parsed.errors:
                text.append("  " + clean(str(error)) + "\n")
        elif parsed is not None:
            text.append(i18n.t("usage.import.ready", n=len(parsed.lines)) + "\n", style="bold green")
            for line in parsed.lines:
                text.append(f"  {contract_label(self.contracts[line.order_id])}  {period_label(line.year, line.month)}: "
                            f"{formatting.number(line.cases)}\n")
        self.query_one("#import-report", Static).update(text)
        self.query_one("#import-send", Button).disabled = not (parsed is not None and parsed.ok)

    def action_send(self) -> None:
        if self._sending or self.parsed is None or not self.parsed.ok:
            if not self._sending:
                self.notify(i18n.t("usage.import.check_first"), severity="warning")
            return
        self._sending = True
        self.query_one("#import-send", Button).disabled = True
        self.send(self.parsed)

    @work(group="import-send", exit_on_error=False)
    async def send(self, parsed: usage_import.UsageImport) -> None:
        sent = queued = refused = 0
        problems: list[str] = []
        for line in parsed.lines:
            item, _ = await self.session.backend.submit(
                "usage.report", "POST", "/usage", line.body(),
                label=i18n.t("usage.label", order=line.order_id, period=period_label(line.year, line.month)),
                related=f"order:{line.order_id}")
            if item.state == DONE:
                sent += 1
            elif item.state == PENDING:
                queued += 1
            else:
                refused += 1
                detail = (item.problem or {}).get("detail") or item.last_error or ""
                problems.append(i18n.t("usage.err.line", line=line.line, message=clean(detail)))
        summary = i18n.t("usage.import.summary", sent=sent, queued=queued, refused=refused)
        if problems:
            # Refused lines stay in the outbox (needs attention) with the server's reason.
            self.notify(summary + "\n" + "\n".join(problems[:5]), severity="error", timeout=15)
        else:
            self.notify(summary, severity="warning" if queued else "information", timeout=8)
        self.dismiss(True)
