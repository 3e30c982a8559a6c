"""The sign-offs, payments and partial credit notes in the terminal (Pilot, against the reference
server over HTTP): an attestation is a dialog that says what is attested and records only when
confirmed; a disputed line blocks "sachlich richtig" with the reason; a sign-off is withdrawn with
a reason; the operator books a partial payment and a partial credit note."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import httpx
import pytest
from app_support import settle
from support import auth
from test_invoices_app import _api, build, open_number, text_of

from efa_tui import i18n
from efa_tui.screens.invoice_detail import InvoiceScreen
from efa_tui.screens.invoice_signoff import AttestDialog, CreditNoteForm, HistoryScreen, PaymentForm, WithdrawForm


@pytest.fixture(autouse=True)
def _german():
    i18n.set_language("de")
    yield
    i18n.set_language("de")


def _post(base: str, who: str, path: str, body: dict) -> dict:
    r = httpx.post(f"{base}{path}", json=body, headers=auth(who, **{"Idempotency-Key": str(uuid.uuid4())}))
    assert r.status_code in (200, 201), r.text
    return r.json()


def _current(base: str) -> dict:
    items = _api(base, "customer", "/invoices", status="issued", kind="invoice", sort="-id")["items"]
    return _api(base, "customer", f"/invoices/{items[0]['id']}")


def _messages(app) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


async def test_an_attestation_says_what_is_attested_and_records_only_when_confirmed(live_server, tmp_path):
    inv = _current(live_server)
    app = await build(live_server, tmp_path, start_network=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_number(pilot, inv["number"])
        await pilot.press("f")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, AttestDialog)
        said = text_of(app, "#attest-statement")
        assert "Anna Schmidt" in said and inv["number"] in said and "sachlich richtig" in said and "erbracht" in said
        await pilot.press("enter")  # the focus is on "Abbrechen": enter alone attests nothing
        await settle(pilot)
        assert isinstance(app.screen, InvoiceScreen)
        assert _api(live_server, "customer", f"/invoices/{inv['id']}")["review"]["factual_ok_at"] is None
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot, 5)
        assert "Anna Schmidt" in text_of(app, "#inv-review")
        # withdrawn again, with a reason: recorded, and shown in the history
        await pilot.press("F")
        await settle(pilot)
        assert isinstance(app.screen, WithdrawForm)
        app.screen.form.set_value("reason", "Leistung doch nicht vollständig erbracht")
        await pilot.press("ctrl+s")
        await settle(pilot, 5)
        assert isinstance(app.screen, InvoiceScreen)
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen)
        history = text_of(app, "#history-text")
        assert "sachlich richtig bestätigt" in history and "zurückgezogen" in history and "Leistung doch nicht" in history
    seen = _api(live_server, "operator", f"/invoices/{inv['id']}")
    assert seen["review"]["factual_ok_at"] is None
    assert [h["action"] for h in seen["review_history"]] == ["factual_ok", "withdraw_factual"]
    # what was attested is kept word for word, as the dialog showed it
    assert seen["review_history"][0]["reason"] == said


async def test_a_disputed_line_blocks_sachlich_richtig_and_the_tui_says_why(live_server, tmp_path):
    inv = _current(live_server)
    line = inv["lines"][0]
    _post(live_server, "customer", f"/invoices/{inv['id']}/review",
          {"action": "dispute", "line_ids": [line["id"]], "reason": "Leistung erst ab Mai erbracht"})
    app = await build(live_server, tmp_path, start_network=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_number(pilot, inv["number"])
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceScreen)  # no dialog: it could not be recorded
        assert f"Beanstandung von Pos. {line['position']}" in _messages(app)
    assert _api(live_server, "customer", f"/invoices/{inv['id']}")["review"]["factual_ok_at"] is None


async def test_operator_books_a_partial_payment_and_a_partial_credit_note(live_server, tmp_path):
    inv = _current(live_server)
    app = await build(live_server, tmp_path, identity="operator", start_network=False)
    async with app.run_test(size=(100, 30)) as pilot:
        detail = await open_number(pilot, inv["number"])
        await pilot.press("p")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, PaymentForm)
        assert form.form.values()["value_date"] == date.today().strftime("%d.%m.%Y")
        form.form.set_value("amount", "1.000,00")
        form.form.set_value("bank_reference", "Abschlag Q4")
        await pilot.press("ctrl+s")
        await settle(pilot, 5)
        assert app.screen is detail
        head = text_of(app, "#inv-head") + text_of(app, "#inv-review")
        assert "teilweise bezahlt" in head and "Abschlag Q4" in head
        await pilot.press("n")  # a partial credit note for the highlighted line
        await settle(pilot)
        credit = app.screen
        assert isinstance(credit, CreditNoteForm)
        credit.form.set_value("net", "50,00")
        credit.form.set_value("reason", "Zwei Wochen Ausfall")
        await pilot.press("ctrl+s")
        await settle(pilot, 6)
        assert app.screen is detail
    after = _api(live_server, "operator", f"/invoices/{inv['id']}")
    assert after["paid_amount"] == "1000.00" and after["partially_paid"]
    assert Decimal(after["open_amount"]) == Decimal(inv["gross"]) - 1000 - Decimal(after["credited_amount"])
    assert [c["scope"] for c in after["credit_notes"]] == ["partial"]


async def test_the_second_signoff_by_the_same_person_is_told_the_four_eyes_rule(live_server, tmp_path):
    """Walk T7: one user gave "sachlich richtig" and "rechnerisch richtig" within a minute, with no
    word of the four-eyes principle of municipal cash rules."""
    inv = _current(live_server)
    app = await build(live_server, tmp_path, start_network=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_number(pilot, inv["number"])
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, AttestDialog) and not app.screen.query("#attest-four-eyes")
        await pilot.press("ctrl+s")
        await settle(pilot, 5)
        assert "Anna Schmidt" in text_of(app, "#inv-review")
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, AttestDialog)
        assert "Vier-Augen-Prinzip" in text_of(app, "#attest-four-eyes") and "sachlich richtig" in text_of(app, "#attest-four-eyes")
        await pilot.press("ctrl+s")  # a warning, not a block
        await settle(pilot, 5)
    assert _api(live_server, "customer", f"/invoices/{inv['id']}")["review"]["arithmetic_ok_at"] is not None
