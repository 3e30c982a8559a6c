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
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Static

from .. import formatting, i18n
from ..api.models import Order, UsageReport
from ..services import Conflict, Done, Outcome, Queued, Refused
from ..services.usage import UsageService
from ..store import usage_import
from ..text import clean
from ..widgets.form import FormField
from ..widgets.lists import ListTable
from ..widgets.text_fields import TextField
from .base import AppModal, AppScreen
from .confirm import rebind
from .form_screen import FormScreen, Request

MAX_FILE = 5 << 20  # a month's usage of every contract fits in far less


def contract_label(order: Order) -> str:
    return (f"#{order.id} {clean(order.customer.name if order.customer else '')} – "
            f"{clean(order.offering.title if order.offering else '')}")


def period_label(year: int | None, month: int | None) -> str:
    return f"{month:02d}/{year}" if year and month else "–"


class UsageScreen(AppScreen):
    PLACE = "offerings.key.usage"
    BINDINGS = [
        Binding("m", "report", "usage.key.report", id="usage.report"),
        Binding("i", "import_csv", "usage.key.import", id="usage.import"),
        Binding("escape,q", "app.pop_screen", "key.back", id="usage.back"),
    ]
    DEFAULT_CSS = """
    UsageScreen #usage-head { padding: 0 1; height: auto; }
    UsageScreen DataTable { height: 1fr; }
    """

    def __init__(self, session, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.contracts: dict[int, Order] = {}
        self.reports: list[UsageReport] = []

    def compose(self) -> ComposeResult:
        yield Static(Text(i18n.t("usage.intro")), id="usage-head")
        # Order, month and cases always in full; customer and offering share the rest.
        table = ListTable(id="usage", flex=("customer", "offering"), names=("customer",))
        for key in ("customer", "offering", "order", "period", "cases"):
            table.add_column(i18n.t(f"usage.col.{key}"), key=key)
        yield table

    def on_mount(self) -> None:
        self.load()

    def _reload(self, _: object = None) -> None:
        """Load again (also: a dialog's answer, whatever it is)."""
        self.load()

    @work(exclusive=True, group="usage-load", exit_on_error=False)
    async def load(self) -> None:
        usage = self.session.services.usage
        self.contracts = (await asyncio.to_thread(usage.contracts, self.me)).value
        self._show()
        if not self.contracts:
            return
        read = await usage.reports()
        if read.offline:
            self.notify(i18n.t("usage.reports_offline"), severity="warning")
            return
        self.reports = read.value
        self._show()

    def _show(self) -> None:
        table = self.query_one("#usage", ListTable)
        table.fill((f"{oid}-{year}-{month}", [
            Text(clean(customer), no_wrap=True, overflow="ellipsis"), Text(clean(offering), no_wrap=True, overflow="ellipsis"),
            f"#{oid}", period_label(year, month), Text(formatting.number(cases) if cases is not None else "–", justify="right")])
            for customer, offering, oid, year, month, cases in usage_import.usage_rows(self.contracts, self.reports))
        head = Text(i18n.t("usage.intro") + "\n")
        head.append(i18n.tn("usage.count", n=len(self.contracts)) if self.contracts else i18n.t("usage.no_contracts"), style="dim")
        self.query_one("#usage-head", Static).update(head)
        table.focus()

    def action_report(self) -> None:
        if not self.contracts:
            self.notify(i18n.t("usage.no_contracts"), severity="warning")
            return
        self.app.push_screen(UsageFormScreen(self.session, self.contracts, self.reports), self._reload)

    def action_import_csv(self) -> None:
        if not self.contracts:
            self.notify(i18n.t("usage.no_contracts"), severity="warning")
            return
        self.app.push_screen(UsageImportScreen(self.session, self.contracts, self.reports), self._reload)


def _check_period(text: str) -> str | None:
    period = usage_import.parse_period(text)
    if period is None:
        return i18n.t("usage.err.period", value=clean(text))
    return usage_import.future_problem(period, formatting.today())


def _check_cases(text: str) -> str | None:
    cases = usage_import.parse_cases(text, language=None)
    return None if cases is not None else i18n.t("usage.err.cases", value=clean(text))


class ReplaceDialog(AppModal[bool]):
    """Figures already reported that a report would replace, old → new; True to replace them."""

    # Confirmed with j/y (key.yes), not ctrl+s: the form's send key pressed twice replaced the
    # figures before anyone read old → new (walk finding M10). The cancel button has the focus.
    BINDINGS = [Binding("escape", "close", "key.back", id="usage_replace.back")]
    DEFAULT_CSS = """
    ReplaceDialog { align: center middle; }
    ReplaceDialog > Vertical { width: 76; max-width: 100%; height: auto; max-height: 90%; border: round $warning;
                               background: $surface; padding: 0 1; }
    ReplaceDialog #replace-lines { height: auto; max-height: 12; margin: 1 0; }
    ReplaceDialog Horizontal { height: auto; }
    ReplaceDialog Button { margin-right: 2; }
    """

    def __init__(self, changes: list[tuple[str, str, int, int]], **kwargs):
        super().__init__(**kwargs)
        self.changes = changes  # (contract, period, old, new)
        self._yes = ""
        self._bind_yes()

    def _bind_yes(self) -> None:
        self._yes = rebind(self, self._yes, i18n.t("key.yes"), "confirm", i18n.t("usage.replace.confirm"))

    async def relabel(self) -> None:
        self._bind_yes()  # j in German, y in English
        await super().relabel()

    def compose(self) -> ComposeResult:
        lines = Text()
        for contract, period, old, new in self.changes:
            lines.append(i18n.t("usage.replace.line", contract=clean(contract), period=period, old=formatting.number(old),
                                new=formatting.number(new)) + "\n")
        with Vertical():
            yield Static(Text(i18n.t("usage.replace.title"), style="bold"))
            yield Static(Text(i18n.t("usage.replace.intro")))
            with VerticalScroll(id="replace-lines"):
                yield Static(lines, id="replace-text")
            with Horizontal():
                yield Button(i18n.t("usage.replace.confirm") + f" ({self._yes})", variant="warning", id="replace-confirm")
                yield Button(i18n.t("form.cancel") + " (esc)", id="replace-cancel")

    def on_mount(self) -> None:
        self.query_one("#replace-cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "replace-confirm")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)


class UsageFormScreen(FormScreen):
    """One report: contract (none preselected), month of its term, cases; a figure already
    reported for that month is replaced only after the user saw old → new and confirmed it."""

    title_id = "usage.form.title"
    AUTO_FOCUS = "#field-order_id"

    def __init__(self, session, contracts: dict[int, Order], reports: list[UsageReport] | None = None, **kwargs):
        self.contracts = contracts
        self.known = usage_import.reported(reports or [])
        self.replaces: int | None = None  # the old figure the user agreed to replace
        today = formatting.today()
        last = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
        super().__init__(session, "usage.report", {"period": f"{last[1]:02d}/{last[0]}"}, **kwargs)

    def _key(self, values: dict[str, Any]) -> tuple[int, int, int] | None:
        period = usage_import.parse_period(str(values.get("period") or ""))
        if period is None or not str(values.get("order_id") or "").isdigit():
            return None
        return int(values["order_id"]), period[0], period[1]

    def validate(self, values: dict[str, Any]) -> dict[str, str]:
        key = self._key(values)
        if key is None or key[0] not in self.contracts:
            return {}
        problem = usage_import.term_problem(self.contracts[key[0]], key[1:], formatting.today())
        return {"period": problem} if problem else {}

    def action_submit(self) -> None:
        values = self.form.values()
        key = self._key(values)
        cases = usage_import.parse_cases(str(values.get("cases") or ""), language=None)
        old = self.known.get(key) if key else None
        if self._sending or key is None or old is None or cases is None or cases == old or self.replaces == old \
                or self.form.check() or self.validate(values):
            super().action_submit()
            return
        self._confirm_replace(key, old, cases)

    def _confirm_replace(self, key: tuple[int, int, int], old: int, new: int) -> None:
        def answer(yes: bool | None) -> None:
            if yes:
                self.replaces = old
                super(UsageFormScreen, self).action_submit()

        order = self.contracts.get(key[0]) or Order(id=key[0])
        self.app.push_screen(ReplaceDialog([(contract_label(order), period_label(key[1], key[2]), old, new)]), answer)

    async def _settle(self, outcome: Outcome, values: dict[str, Any]) -> None:
        problem = outcome.problem if isinstance(outcome, (Refused, Conflict)) else {}
        if str(problem.get("type") or "").endswith("usage-exists") and isinstance(problem.get("current_cases"), int):
            # Reported meanwhile (or not loaded here): ask with the server's figure, nothing is overwritten unseen.
            await self.session.services.writes.discard(outcome.item_id)
            key = self._key(values)
            cases = usage_import.parse_cases(str(values.get("cases") or ""), language=None)
            if key is not None and cases is not None:
                self.known[key] = problem["current_cases"]
                self.replaces = None
                self._confirm_replace(key, problem["current_cases"], cases)
                return
        await super()._settle(outcome, values)

    def fields(self) -> list[FormField]:
        options = [(str(oid), contract_label(o)) for oid, o in sorted(self.contracts.items())]
        return [
            FormField("order_id", "usage.f.contract", kind="select", options=options, required=True),
            FormField("period", "usage.f.period", required=True, check=_check_period, hint="usage.h.period", retype=True,
                      aliases=("year", "month")),
            FormField("cases", "usage.f.cases", required=True, check=_check_cases, notation="count"),
        ]

    def submit_label(self) -> str:
        return i18n.t("usage.form.send")

    def request(self, values: dict[str, Any]) -> Request:
        year, month = usage_import.parse_period(values["period"]) or (0, 0)
        order_id = int(values["order_id"])
        body = {"order_id": order_id, "year": year, "month": month,
                "cases": usage_import.parse_cases(values["cases"], language=None)}
        if self.replaces is not None and self.known.get((order_id, year, month)) == self.replaces:
            body["replaces"] = self.replaces
        return Request(UsageService.report(body),
                       label=i18n.t("usage.label", order=order_id, period=period_label(year, month)),
                       related=f"order:{order_id}")

    def done(self, outcome: Done | Queued) -> None:
        if isinstance(outcome, Done):
            self.notify(i18n.t("usage.sent_one"))
        super().done(outcome)


class UsageImportScreen(AppScreen[bool]):
    """A CSV file checked line by line; sent only when every line is fine."""
    PLACE = "usage.key.import"

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

    def __init__(self, session, contracts: dict[int, Order], reports: list[UsageReport] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.contracts = contracts
        self.reports = list(reports or [])
        self.parsed: usage_import.UsageImport | None = None
        self.replacing: dict[int, int] = {}  # file line → the figure it replaces
        self._sending = False

    def compose(self) -> ComposeResult:
        yield Static(Text(i18n.t("usage.import.title")), id="import-title")
        yield Static(Text(i18n.t("usage.import.help"), style="dim"))
        yield TextField(placeholder=i18n.t("usage.import.path"), id="import-path")
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
            text.append(i18n.tn("usage.import.errors", n=len(parsed.errors)) + "\n", style="bold red")
            for error in parsed.errors:
                text.append("  " + clean(str(error)) + "\n")
        elif parsed is not None:
            self.replacing = usage_import.replacements(parsed.lines, self.reports)
            text.append(i18n.tn("usage.import.ready", n=len(parsed.lines)) + "\n", style="bold green")
            if self.replacing:
                text.append(i18n.tn("usage.import.replacing", n=len(self.replacing)) + "\n", style="bold yellow")
            for line in parsed.lines:
                old = self.replacing.get(line.line)
                figure = f"{formatting.number(old)} → {formatting.number(line.cases)}" if old is not None else formatting.number(line.cases)
                text.append(f"  {contract_label(self.contracts[line.order_id])}  {period_label(line.year, line.month)}: {figure}\n",
                            style="yellow" if old is not None else "")
        self.query_one("#import-report", Static).update(text)
        self.query_one("#import-send", Button).disabled = not (parsed is not None and parsed.ok)

    def action_send(self) -> None:
        if self._sending or self.parsed is None or not self.parsed.ok:
            if not self._sending:
                self.notify(i18n.t("usage.import.check_first"), severity="warning")
            return
        parsed = self.parsed
        if self.replacing:
            changes = [(contract_label(self.contracts[x.order_id]), period_label(x.year, x.month), self.replacing[x.line], x.cases)
                       for x in parsed.lines if x.line in self.replacing]

            def answer(yes: bool | None) -> None:
                if yes:
                    self._start_send(parsed)

            self.app.push_screen(ReplaceDialog(changes), answer)
            return
        self._start_send(parsed)

    def _start_send(self, parsed: usage_import.UsageImport) -> None:
        self._sending = True
        self.query_one("#import-send", Button).disabled = True
        self.send(parsed)

    @work(group="import-send", exit_on_error=False)
    async def send(self, parsed: usage_import.UsageImport) -> None:
        sent = queued = refused = 0
        problems: list[str] = []
        for line in parsed.lines:
            outcome = await self.session.services.writes.submit(
                UsageService.report(line.body(self.replacing.get(line.line))),
                label=i18n.t("usage.label", order=line.order_id, period=period_label(line.year, line.month)),
                related=f"order:{line.order_id}")
            if isinstance(outcome, Done):
                sent += 1
            elif isinstance(outcome, Queued):
                queued += 1
            else:
                refused += 1
                detail = i18n.problem(outcome.problem, outcome.detail if isinstance(outcome, Refused) else "")
                problems.append(i18n.t("usage.err.line", line=line.line, message=detail.replace("\n", " – ")))
        summary = i18n.t("usage.import.summary", sent=sent, queued=queued, refused=refused)
        if problems:
            # Refused lines stay in the outbox (needs attention) with the server's reason.
            self.notify(summary + "\n" + "\n".join(problems[:5]), severity="error", timeout=15)
        else:
            self.notify(summary, severity="warning" if queued else "information", timeout=8)
        self.dismiss(True)
