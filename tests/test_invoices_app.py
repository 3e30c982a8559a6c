"""The invoices area in the terminal (Pilot, against the reference server over HTTP): list with
filter and totals, the check of a tampered invoice, recording the review (visible to the
operator), disputing a line, the operator's billing run, pay and cancel, read-only support,
export and XRechnung saving."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime
from decimal import Decimal

import httpx
import pytest
from app_support import make_app, screen_text, settle
from support import auth, backdate_binding_order, start_server, stop_server
from test_invoice_check import _tamper
from textual.widgets import Button, Input, Static

from efa_tui import formatting, i18n
from efa_tui.screens.invoice_detail import InvoiceScreen
from efa_tui.screens.invoice_dialogs import BillingRunScreen, DisputeScreen, ExportDialog, FindingsScreen, SaveXmlDialog
from efa_tui.screens.invoice_signoff import AttestDialog, PaymentForm
from efa_tui.screens.invoices import InvoicesScreen
from efa_tui.widgets.virtual_table import VirtualTable


@pytest.fixture(autouse=True)
def _german():
    i18n.set_language("de")
    yield
    i18n.set_language("de")


async def build(base: str, tmp, **kwargs):
    """The app with its cache synced first (make_app syncs only outside a running event loop)."""
    return await asyncio.to_thread(make_app, base, tmp, **kwargs)


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


async def open_invoices(pilot):
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)
    assert isinstance(pilot.app.screen, InvoicesScreen)
    return pilot.app.screen


async def open_number(pilot, number: str):
    screen = await open_invoices(pilot)
    await pilot.press("slash", *number, "enter")
    await settle(pilot)
    assert [i.number for i in screen.rows] == [number]
    await pilot.press("enter")
    await settle(pilot, 5)
    detail = pilot.app.screen
    assert isinstance(detail, InvoiceScreen) and detail.loaded
    return detail


def _api(base: str, who: str, path: str, **params):
    return httpx.get(f"{base}{path}", params=params, headers=auth(who)).json()


async def test_list_filter_state_and_totals(server, tmp_path):
    app = await build(server, tmp_path, start_network=False)
    api = _api(server, "customer", "/invoices")["items"]
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_invoices(pilot)
        assert sorted(i.number for i in screen.rows) == sorted(i["number"] for i in api)
        gross = sum((Decimal(i["gross"]) for i in api), Decimal(0))
        totals = text_of(app, "#totals")
        assert f"{len(api)} Rechnungen" in totals
        assert f"{gross:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".") in totals
        await pilot.press("t", "t")  # alle → offen → überfällig
        await settle(pilot)
        overdue = [i["number"] for i in api if i["overdue"]]
        assert [i.number for i in screen.rows] == overdue and overdue
        assert "überfällig" in text_of(app, "#info")
        table = screen.query_one(VirtualTable)
        assert table.total == len(overdue)


async def test_a_tampered_line_is_flagged_and_disputed(db_url, tmp_path):
    invoice_id, line_id, original = _tamper(db_url)
    from support import start_server, stop_server

    proc, base = start_server(db_url)
    try:
        number = _api(base, "customer", f"/invoices/{invoice_id}")["number"]
        app = await build(base, tmp_path, start_network=False)
        async with app.run_test(size=(100, 30)) as pilot:
            detail = await open_number(pilot, number)
            check = text_of(app, "#inv-check")
            assert "1 Abweichung" in check and "✗" in check
            wrong = detail.detail.check.wrong_lines
            assert [x.line_id for x in wrong] == [line_id] and wrong[0].difference == Decimal("100.00")
            # put the cursor on the flagged line: the panel says what it should be
            position = wrong[0].position
            table = detail.query_one(VirtualTable)
            table.move_cursor(position - 1)
            await settle(pilot)
            panel = text_of(app, "#inv-line")
            assert "Soll" in panel and "+100,00" in panel and "Betrag weicht ab" in panel
            assert f"{original:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".") in panel
            # "rechnerisch richtig" is an attestation: the dialog warns of the difference; leaving it records nothing
            await pilot.press("a")
            await settle(pilot)
            assert isinstance(app.screen, AttestDialog) and app.screen.warning
            await pilot.press("escape")
            await settle(pilot)
            assert not _api(base, "customer", f"/invoices/{invoice_id}")["review"]["arithmetic_ok_at"]
            # dispute the flagged line, with the suggested reason
            await pilot.press("d")
            await settle(pilot)
            form = app.screen
            assert isinstance(form, DisputeScreen)
            assert "Abweichung +100,00" in form.form.values()["reason"]
            await pilot.press("ctrl+s")
            await settle(pilot, 5)
            assert isinstance(app.screen, InvoiceScreen)
            # back in the list (after a sync) the invoice shows as disputed
            await app.backend.refresh(kinds=("invoices",))
            await pilot.press("escape")
            await settle(pilot)
            listed = next(i for i in app.screen.rows if i.number == number)
            assert listed.disputed_lines == 1
            assert app.screen.table.row_at(app.screen.rows.index(listed))[1][-1] == "beanstandet"  # 100 columns: the long word
        lines = _api(base, "operator", f"/invoices/{invoice_id}")["lines"]
        disputed = [x for x in lines if x["dispute"]]
        assert [x["id"] for x in disputed] == [line_id]
        assert disputed[0]["dispute"]["by"] and "+100,00" in disputed[0]["dispute"]["reason"]
    finally:
        stop_server(proc)


async def test_review_is_recorded_and_visible_to_the_operator(live_server, tmp_path):
    number = _api(live_server, "customer", "/invoices", sort="-id")["items"][0]["number"]
    app = await build(live_server, tmp_path, start_network=False)
    async with app.run_test(size=(100, 30)) as pilot:
        detail = await open_number(pilot, number)
        assert detail.detail.check.ok
        assert "Abgleich mit den Verträgen" in text_of(app, "#inv-check") and "Positionen stimmen" in text_of(app, "#inv-check")
        for key in ("f", "a"):  # each an attestation, confirmed in its dialog
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, AttestDialog)
            await pilot.press("ctrl+s")
            await settle(pilot, 5)
        review = text_of(app, "#inv-review")
        assert review.count("Anna Schmidt") == 2
    seen = _api(live_server, "operator", "/invoices", number=number)["items"][0]["review"]
    assert seen["factual_ok_by"] == seen["arithmetic_ok_by"] == "Anna Schmidt"
    assert seen["factual_ok_at"] and seen["arithmetic_ok_at"]


@pytest.fixture
def unbilled_server(unbilled_url):
    """The reference server on a marketplace whose current year nobody has billed yet."""
    proc, base = start_server(unbilled_url)
    yield base, unbilled_url
    stop_server(proc)


async def test_operator_billing_run_previews_confirms_with_the_totals_and_shows_the_history(unbilled_server, tmp_path):
    unbilled_server, db_url = unbilled_server
    year = date.today().year
    app = await build(unbilled_server, tmp_path, identity="operator", start_network=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_invoices(pilot)
        await pilot.press("b")
        await settle(pilot)
        run = app.screen
        assert isinstance(run, BillingRunScreen)
        await settle(pilot, 4)
        assert "Bisherige Abrechnungsläufe" in text_of(app, "#run-history")
        before = len(run.history)
        confirm = run.query_one("#run-confirm", Button)
        assert confirm.disabled, "no run without a preview"
        run.query_one("#run-year", Input).value = str(year)
        await pilot.press("enter")  # the preview
        await settle(pilot, 6)
        preview = run.preview
        assert preview is not None and preview["invoices_to_create"] > 0
        assert _api(unbilled_server, "operator", "/invoices", year=year)["items"] == [], "a preview writes nothing"
        details = text_of(app, "#run-details")
        gross = formatting.money(preview["gross_total"])
        assert f"{preview['invoices_to_create']} Rechnungen zu erstellen" in details and gross in details
        assert not confirm.disabled and gross in str(confirm.label)
        # Meanwhile another contract starts this year: the confirmed figures are stale.
        _activate_contract(unbilled_server, db_url, date(year, 2, 1))
        await pilot.click("#run-confirm")
        await settle(pilot, 6)
        assert run.run is None and "geändert" in text_of(app, "#run-status")
        assert run.preview["gross_total"] != preview["gross_total"], "the new figures are shown"
        assert _api(unbilled_server, "operator", "/invoices", year=year)["items"] == []
        await pilot.click("#run-confirm")  # confirm the new figures
        await settle(pilot, 6)
        assert run.run is not None and run.run["status"] == "done" and run.run["invoices_created"] > 0
        summary = text_of(app, "#run-summary")
        assert i18n.tn("billing.created", run.run["invoices_created"]) in summary  # 1 Rechnung / 2 Rechnungen
        await settle(pilot, 4)
        assert len(run.history) == before + 1 and run.history[0]["id"] == run.run["id"]
        history = text_of(app, "#run-history")
        assert f"Jahr {year}" in history and "Katharina Lorenz" in history
        # a second preview for the same year bills nobody and says why
        await pilot.click("#run-preview")
        await settle(pilot, 6)
        assert "0 Rechnungen zu erstellen" in text_of(app, "#run-details")
        assert "bereits abgerechnet" in text_of(app, "#run-details")
        assert confirm.disabled, "nothing to bill: nothing to confirm"
        assert str(confirm.label) == "Nichts abzurechnen"  # not "brutto 0,00 € bestätigen"
        # a year not yet begun: the server's reason at once
        run.query_one("#run-year", Input).value = str(year + 1)
        await pilot.click("#run-preview")
        await settle(pilot, 6)
        assert run.preview is None and f"{year + 1} hat noch nicht begonnen" in text_of(app, "#run-status")


def _activate_contract(base: str, db_url: str, start: date) -> None:
    import uuid


    def hdr(who):
        return auth(who, **{"Idempotency-Key": str(uuid.uuid4())})

    with httpx.Client(base_url=base, timeout=30) as http:
        me = http.get("/me", headers=auth("provider")).json()
        offering = http.get("/offerings", params={"provider": me["organization"]["id"]}, headers=auth("provider")).json()["items"][0]
        order = http.post("/orders", json={"offering_id": offering["id"]}, headers=hdr("customer2")).json()
        fees = {"annual_fee": "1200.00", "one_time_fee": "0.00", "distribution_key": "fixed", "vat_rate": "19.00"}
        for who, body in (("provider", {"action": "propose", "fees": fees}), ("customer2", {"action": "order"}),
                          ("provider", {"action": "activate", "start_date": start.isoformat()})):
            if body["action"] == "activate":
                backdate_binding_order(db_url, order["id"], datetime(start.year, 1, 1, 9, 0))
            assert http.post(f"/orders/{order['id']}/transitions", json=body, headers=hdr(who)).status_code == 200


async def test_operator_marks_paid_and_cancels_with_a_credit_note(live_server, tmp_path):
    items = _api(live_server, "operator", "/invoices", status="issued", kind="invoice", sort="-id")["items"]
    to_pay, to_cancel = items[0]["number"], items[1]["number"]
    app = await build(live_server, tmp_path, identity="operator", start_network=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_number(pilot, to_pay)
        await pilot.press("p")  # the payment form: value date today, the open amount, a bank reference
        await settle(pilot)
        assert isinstance(app.screen, PaymentForm)
        await pilot.press("ctrl+s")  # the reference is required
        await settle(pilot)
        assert _api(live_server, "operator", "/invoices", number=to_pay)["items"][0]["status"] == "issued"
        app.screen.form.set_value("bank_reference", "E2E 4711")
        await pilot.press("ctrl+s")
        await settle(pilot, 5)
        assert _api(live_server, "operator", "/invoices", number=to_pay)["items"][0]["status"] == "paid"
        assert "bezahlt" in text_of(app, "#inv-head")
        await pilot.press("escape", "escape")
        await settle(pilot)
        app.screen.query_one("#filter", Input).value = ""
        await settle(pilot)
        await pilot.press("escape")
        detail = await open_number(pilot, to_cancel)
        await pilot.press("c")
        await settle(pilot)
        form = app.screen
        form.form.set_value("reason", "Falscher Leistungszeitraum berechnet")
        await pilot.press("ctrl+s")
        await settle(pilot, 6)
        assert app.screen is detail
    cancelled = _api(live_server, "operator", "/invoices", number=to_cancel)["items"][0]
    assert cancelled["status"] == "cancelled"
    credit = [i for i in _api(live_server, "operator", "/invoices", kind="credit_note")["items"]
              if i["cancels_invoice"] == to_cancel]
    assert len(credit) == 1 and credit[0]["gross"] == cancelled["gross"]


async def test_a_partly_paid_invoice_is_not_offered_for_cancellation(live_server, tmp_path):
    """`c` opened the cancellation form for an invoice with a part payment booked, and only after
    the reason was typed did the server refuse it: the detail says why at once, and what to do."""
    from efa_tui.screens.invoice_dialogs import CancelScreen

    item = _api(live_server, "operator", "/invoices", status="issued", kind="invoice", sort="-id")["items"][0]
    paid = httpx.post(f"{live_server}/invoices/{item['id']}/payments", headers={**auth("operator"), "Idempotency-Key": "part-1"},
                      json={"value_date": item["issue_date"], "amount": "100.00", "bank_reference": "Teil 1"})
    assert paid.status_code in (200, 201), paid.text
    app = await build(live_server, tmp_path, identity="operator", start_network=False)
    async with app.run_test(size=(100, 30)) as pilot:
        detail = await open_number(pilot, item["number"])
        await pilot.press("c")
        await settle(pilot)
        assert app.screen is detail and not isinstance(app.screen, CancelScreen)
        shown = " ".join(str(n.message) for n in app._notifications)
        assert "Nicht stornierbar" in shown and "Teilgutschrift" in shown and "100,00" in shown, shown
    assert _api(live_server, "operator", "/invoices", number=item["number"])["items"][0]["status"] == "issued"


async def test_support_reads_but_cannot_act(server, tmp_path):
    number = _api(server, "support", "/invoices", status="issued", kind="invoice")["items"][0]["number"]
    app = await build(server, tmp_path, identity="support", start_network=False)
    async with app.run_test(size=(100, 30)) as pilot:
        detail = await open_number(pilot, number)
        for action in ("factual_ok", "arithmetic_ok", "dispute", "pay", "cancel_invoice"):
            assert not detail.check_action(action, ())
        await pilot.press("f", "a", "d", "p", "c")
        await settle(pilot)
        assert app.screen is detail
        assert detail.check_action("save_xml", ())
    after = _api(server, "support", "/invoices", number=number)["items"][0]
    assert after["status"] == "issued" and not after["review"]["factual_ok_at"]


async def test_export_and_save_xml(server, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr("efa_tui.screens.invoice_dialogs.downloads_dir", lambda: out)
    app = await build(server, tmp_path, start_network=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_invoices(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ExportDialog)
        await pilot.press("enter")
        await settle(pilot)
        files = list(out.glob("Rechnungen-*.csv"))
        assert len(files) == 1
        rows = list(csv.reader(io.StringIO(files[0].read_text("utf-8-sig")), delimiter=";"))
        assert sorted(r[0] for r in rows[1:]) == sorted(i.number for i in screen.rows)
        # A second export the same day does not land on the first (walk T23: an annotated copy was
        # overwritten silently): a free name by default, and a typed existing one needs Enter twice.
        files[0].write_text("meine Notizen", encoding="utf-8")
        await pilot.press("e")
        await settle(pilot)
        assert app.screen.query_one("#dialog-path", Input).value.endswith(" (2).csv")
        app.screen.query_one("#dialog-path", Input).value = str(files[0])
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ExportDialog) and files[0].read_text("utf-8") == "meine Notizen"
        assert "existiert bereits" in text_of(app, "#dialog-result")
        await pilot.press("enter")
        await settle(pilot)
        assert files[0].read_text("utf-8-sig").startswith(rows[0][0])
        await pilot.press("enter")
        await settle(pilot, 5)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, SaveXmlDialog)
        await pilot.press("enter")
        await settle(pilot, 5)
        saved = list(out.glob("XRechnung-*.xml"))
        assert len(saved) == 1 and saved[0].read_bytes().startswith(b"<?xml")
        # open the saved file from the list's "XML prüfen"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        app.screen.query_one("#dialog-path", Input).value = str(saved[0])
        await pilot.press("enter")
        await settle(pilot, 5)
        assert isinstance(app.screen, FindingsScreen) and app.screen.findings == []


async def test_jump_to_an_invoice_by_number(server, tmp_path):
    number = _api(server, "customer", "/invoices")["items"][-1]["number"]
    app = await build(server, tmp_path, start_network=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.run_jump(f"invoice {number}")
        await settle(pilot, 5)
        assert isinstance(app.screen, InvoiceScreen) and app.current_mode == "invoices"
        assert number in text_of(app, "#inv-head")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, InvoicesScreen)


def test_every_invoice_message_id_built_at_runtime_exists():
    """Ids put together from a code (states, reasons, sorts …) and the bindings' descriptions: the
    catalog test finds only literal ids, so these are listed here from the code's own tuples."""
    from efa_tui.domain import invoice_check as ic
    from efa_tui.screens.invoice_chart import SpendingScreen
    from efa_tui.screens.invoice_dialogs import FindingsScreen, PathDialog
    from efa_tui.store import invoice_list as il

    reasons = [v for k, v in vars(ic).items() if k.isupper() and isinstance(v, str) and k not in ("TIME_BASED",)]
    ids = [f"invoices.state.{s}" for s in il.STATES]
    ids += [f"invoices.{kind}.{c}" for c in il.CHECKS for kind in ("check", "check_short")]
    ids += [f"invoices.filter_state.{s or 'all'}" for s in il.STATE_FILTERS]
    ids += [f"invoices.sort.{s}" for s in il.SORTS]
    ids += [f"invoice.kind.{k}" for k in ("annual", "one_time", "per_inhabitant", "target_group", "per_case")]
    ids += [f"invoice.kind_title.{k}" for k in ("invoice", "credit_note")]
    ids += [f"invoice.reason.{r}" for r in reasons]
    ids += [f"invoice.label.{a}" for a in ("factual_ok", "arithmetic_ok", "dispute", "cancel")]
    ids += [f"invoice.severity.{s}" for s in ("fatal", "warning")]
    ids += [f"billing.reason.{r}" for r in ("already_billed", "no_operator", "nothing_to_bill")]
    ids += [f"billing.category.{c}" for c in ("S", "O")]
    for screen in (InvoicesScreen, InvoiceScreen, SpendingScreen, BillingRunScreen, FindingsScreen, PathDialog):
        ids += [b.description for b in screen.BINDINGS if b.description]
        assert all(b.id for b in screen.BINDINGS), screen
    missing = [i for i in ids if i not in i18n.MESSAGES]
    assert not missing, missing
    assert len(reasons) >= 10


async def test_a_payment_waiting_offline_is_shown_and_no_second_one_is_booked_meanwhile(demo_template, tmp_path):
    """Offline the operator booked a part payment; the detail still said "offen", `p` opened the
    form again with the same open amount, and both went through later (helper walk). Now the
    detail names the waiting write, and no further step is offered until it is through — as the
    order detail does."""
    import shutil

    path = tmp_path / "m.sqlite3"
    shutil.copy(demo_template, path)
    proc, base = start_server(f"sqlite:///{path}")
    number = _api(base, "operator", "/invoices", status="issued", kind="invoice", sort="-id")["items"][0]["number"]
    app = await build(base, tmp_path / "client", identity="operator", start_network=False)
    app.backend.probe_min = app.backend.probe_max = 3600
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            detail = await open_number(pilot, number)
            stop_server(proc)
            await pilot.press("p")
            await settle(pilot)
            form = app.screen
            assert isinstance(form, PaymentForm)
            form.form.set_value("amount", formatting.money_input(Decimal("1000")))
            form.form.set_value("bank_reference", "Teil 1")
            await pilot.press("ctrl+s")
            await settle(pilot, 5)
            assert app.screen is detail
            assert app.backend.status.pending == 1
            shown = " ".join(screen_text(app).split())
            assert "wartet auf Versand" in shown, shown
            assert not detail.check_action("pay", ()) and not detail.check_action("cancel_invoice", ())
            await pilot.press("p")
            await settle(pilot)
            assert app.screen is detail  # no second payment form
    finally:
        stop_server(proc)


async def test_export_and_chart_are_offered_only_with_rows_to_show(server, tmp_path):
    """A provider's invoices area holds none (the operator bills the customers), yet `e` opened
    an export of 0 invoices and `c` a chart of nothing; a filter that matches none, the same."""
    from efa_tui.screens.invoice_dialogs import ExportDialog

    app = await build(server, tmp_path, identity="provider", start_network=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_invoices(pilot)
        assert not screen.rows
        await pilot.press("e", "c")
        await settle(pilot)
        assert app.screen is screen
        assert "Export" not in screen_text(app).splitlines()[-1]
    app = await build(server, tmp_path / "customer", start_network=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_invoices(pilot)
        assert screen.rows and screen.check_action("export", ())
        await pilot.press("slash", *"zzzz-keine", "enter")
        await settle(pilot)
        assert not screen.rows and not screen.check_action("export", ()) and not screen.check_action("chart", ())
        await pilot.press("e")
        await settle(pilot)
        assert not isinstance(app.screen, ExportDialog)


async def test_the_english_cancellation_form_does_not_offer_cancel_twice(server, tmp_path):
    """It read "Cancel (ctrl+s)   Cancel (esc)": the one cancels the invoice for good (a credit
    note), the other closes the form."""
    from textual.widgets import Button

    from efa_tui import i18n
    from efa_tui.screens.invoice_dialogs import CancelScreen

    number = _api(server, "operator", "/invoices", status="issued", kind="invoice")["items"][0]["number"]
    app = await build(server, tmp_path, identity="operator", start_network=False, language="en")
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await open_number(pilot, number)
            await pilot.press("c")
            await settle(pilot)
            assert isinstance(app.screen, CancelScreen)
            labels = [str(b.label) for b in app.screen.query(Button)]
            assert "Cancel invoice (ctrl+s)" in labels and len({label.split(" (")[0] for label in labels}) == len(labels), labels
            await pilot.press("escape")
    finally:
        i18n.set_language("de")


async def test_the_chart_is_the_customers_spending_and_the_operators_invoiced_amounts(server, tmp_path):
    """The operator's chart read "Ausgaben je Monat" for the money it bills (helper walk)."""
    for identity, title, not_title in (("customer", "Ausgaben je Monat", "Rechnungsbeträge"),
                                       ("operator", "Rechnungsbeträge je Monat", "Ausgaben")):
        app = await build(server, tmp_path / identity, identity=identity, start_network=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_invoices(pilot)
            assert "Diagramm" in screen_text(app).splitlines()[-1]  # the footer: not "Ausgaben" for the biller
            await pilot.press("c")
            await settle(pilot, 4)
            head = text_of(app, "#spending-title")
            assert title in head and not_title not in head, head


async def test_the_operators_own_invoice_keys_are_in_the_footer_at_80_columns(server, tmp_path):
    """At 80 columns the operator's footer showed "esc Zurück h Verlauf x XRechnung speichern":
    payment, credit note and cancellation only in the help."""
    number = _api(server, "operator", "/invoices", status="issued", kind="invoice")["items"][0]["number"]
    app = await build(server, tmp_path, identity="operator", start_network=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_number(pilot, number)
        footer = screen_text(app).splitlines()[-1]
        assert "Zahlung buchen" in footer and "Teilgutschrift" in footer, footer


async def test_every_invoice_state_is_whole_in_the_list_at_80_columns(server, tmp_path):
    """"credit no…" in English, "teilweise bezahlt" cut at 10 cells in German."""
    from efa_tui import i18n
    from efa_tui.screens.invoices import invoice_columns
    from efa_tui.store import invoice_list as il

    try:
        for language in ("de", "en"):
            i18n.set_language(language)
            for width in (80, 120):
                for role in ("customer", "operator"):
                    state = next(c for c in invoice_columns(width, role) if c.key == "state")
                    assert all(len(i18n.t(f"invoices.state.{s}")) <= state.width for s in il.STATES), (language, width)
        app = await build(server, tmp_path, identity="support", start_network=False, language="en")
        async with app.run_test(size=(80, 24)) as pilot:
            await open_invoices(pilot)
            assert "credit no…" not in screen_text(app)
    finally:
        i18n.set_language("de")
