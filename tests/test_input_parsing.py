"""What people type into forms, read in their locale: amounts, dates, counts; and the orders
list's filters (pure functions, no server needed)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from efa_tui import formatting, i18n
from efa_tui.api.models import Order
from efa_tui.formatting import InputError
from efa_tui.order_words import phase_word
from efa_tui.store.order_list import OrderFilter, choices, select_orders, state_counts, waiting_count


@pytest.fixture
def english():
    i18n.set_language("en")
    yield
    i18n.set_language("de")


@pytest.mark.parametrize("typed, value", [
    ("1.234,56", "1234.56"), ("1234,5", "1234.50"), ("1234", "1234.00"), ("0", "0.00"), ("12 €", "12.00"),
])
def test_german_amounts(typed, value):
    assert formatting.parse_money(typed) == Decimal(value)


@pytest.mark.parametrize("typed, complaint", [
    ("-1", "negativ"), ("12,345", "Nachkommastellen"), ("abc", "Betrag wie"), ("1234.56", "Betrag wie"),
])
def test_german_amounts_refused_with_a_reason(typed, complaint):
    with pytest.raises(InputError, match=complaint):
        formatting.parse_money(typed)


def test_english_amounts(english):
    assert formatting.parse_money("1,234.56") == Decimal("1234.56")
    with pytest.raises(InputError):
        formatting.parse_money("1.234,56")


@pytest.mark.parametrize("typed", ["12.000", "3.600", "1.234,560"])
def test_three_decimals_are_no_amount_in_english_either(english, typed):
    """The walk: in the English UI a German's "12.000" was saved as €12.00 and "3.600" sent a fee
    proposal of €3.60 (three decimals, read as 12.000 = 12.00). Cents are two digits."""
    with pytest.raises(InputError):
        formatting.parse_money(typed)
    with pytest.raises(InputError):
        formatting.parse_money(typed, wire_too=True)


def test_german_twelve_thousand_stays():
    # (German: "12.000" is twelve thousand, as before)
    assert formatting.parse_money("12.000") == Decimal("12000.00")


def test_amounts_round_trip_through_the_form():
    assert formatting.money_input("1234.5") == "1234,50"
    assert formatting.parse_money(formatting.money_input("1234.5")) == Decimal("1234.50")


@pytest.mark.parametrize("typed, notation, written", [
    ("12.000,50", "money", "12,000.50"), ("12.000", "money", "12,000.00"), ("1234,5", "money", "1234.50"),
    ("7,5 %", "money", "7.50"), ("1.512.491", "count", "1,512,491"), ("300", "count", "300"),
    ("irgendwas", "money", "irgendwas"), ("1,234.50", "money", "1,234.50"), ("", "money", ""),
])
def test_a_german_draft_is_written_in_english_notation(english, typed, notation, written):
    assert formatting.renotate(typed, notation, "de") == written


def test_an_english_draft_is_written_in_german_notation_and_the_same_language_is_left_alone():
    assert formatting.renotate("12,000.50", "money", "en") == "12.000,50"
    assert formatting.renotate("12.000", "money", "en") == "12.000"  # no amount in English: kept, its field says why
    assert formatting.renotate("1.234", "money", "de") == "1.234"


@pytest.mark.parametrize("typed, day", [
    ("27.11.2026", date(2026, 11, 27)), ("1.2.27", date(2027, 2, 1)), ("2026-11-27", date(2026, 11, 27)),
])
def test_dates(typed, day):
    assert formatting.parse_day(typed) == day


@pytest.mark.parametrize("typed", ["31.02.2026", "morgen", "2026-13-01", ""])
def test_bad_dates(typed):
    with pytest.raises(InputError, match="Datum wie"):
        formatting.parse_day(typed)


def test_counts():
    assert formatting.parse_count("1.234") == 1234
    with pytest.raises(InputError):
        formatting.parse_count("-5")


def _order(id, state, offering=(1, "Bauantrag online"), customer=(10, "München"), provider=(20, "AKDB"), **kw):
    return Order.model_validate({"id": id, "state": state, "offering": {"id": offering[0], "title": offering[1]},
            "customer": {"id": customer[0], "name": customer[1]}, "provider": {"id": provider[0], "name": provider[1]},
            "updated_at": kw.get("updated_at", f"2026-01-{id:02d}T00:00:00Z"), "message": kw.get("message", "")})


ORDERS = [
    _order(1, "interest"), _order(2, "proposed", offering=(2, "Wohngeld")), _order(3, "ordered", customer=(11, "Hamburg")),
    _order(4, "active", message="Bitte zum Jahresanfang"), _order(5, "interest", customer=(11, "Hamburg"), updated_at="2026-02-01T00:00:00Z"),
]


def test_orders_filtered_by_state_offering_counterpart_and_text():
    ids = lambda f, role="provider": [o.id for o in select_orders(ORDERS, f, role)]  # noqa: E731
    assert ids(OrderFilter()) == [5, 4, 3, 2, 1]  # newest first
    assert ids(OrderFilter(state="interest")) == [5, 1]
    assert ids(OrderFilter(state="waiting")) == [5, 3, 1]  # a provider answers interests, activates orders
    assert ids(OrderFilter(state="waiting"), "customer") == [2]  # a customer decides on proposals
    assert ids(OrderFilter(offering_id=2)) == [2]
    assert ids(OrderFilter(counterpart_id=11)) == [5, 3]
    assert ids(OrderFilter(text="hamb")) == [5, 3]
    assert ids(OrderFilter(text="jahresanfang")) == [4]
    assert ids(OrderFilter(text="wohngeld münchen")) == [2]  # every word must occur
    assert ids(OrderFilter(sort="-updated")) == [5, 4, 3, 2, 1]
    assert ids(OrderFilter(sort="counterpart")) == [5, 3, 4, 2, 1]  # Hamburg before München, newest first within
    assert ids(OrderFilter(sort="state")) == [5, 1, 2, 3, 4]


def test_ended_contracts_are_a_filter_value_of_their_own():
    """A terminated contract is "Gekündigt" while it runs and "Beendet" after its last day, in the
    filter as in its row (walk F6: "Gekündigt (16)" listed ended contracts, and no filter found them)."""
    today = date(2026, 12, 3)
    orders = ORDERS + [_order(6, "terminated"), _order(7, "terminated")]
    orders[5] = orders[5].model_copy(update={"end_date": date(2027, 3, 31)})  # still runs
    orders[6] = orders[6].model_copy(update={"end_date": date(2026, 8, 31)})  # ended
    ids = lambda state: [o.id for o in select_orders(orders, OrderFilter(state=state), "support", today)]  # noqa: E731
    assert ids("terminating") == [6] and ids("ended") == [7]
    counts = state_counts(orders, today)
    assert counts["terminating"] == 1 and counts["ended"] == 1 and "terminated" not in counts
    assert [o.id for o in select_orders(orders, OrderFilter(sort="state"), "support", today)][-2:] == [6, 7]
    assert [phase_word(p) for p in ("terminating", "ended")] == ["Gekündigt", "Beendet"]


def test_counts_and_choices():
    counts = state_counts(ORDERS)
    assert counts["interest"] == 2 and waiting_count(counts, "provider") == 3 and waiting_count(counts, "customer") == 1
    offerings, others = choices(ORDERS, "customer")
    assert offerings == [(1, "Bauantrag online"), (2, "Wohngeld")]
    assert others == [(20, "AKDB")]


async def test_a_restored_choice_that_is_gone_leaves_the_select_alone():
    """A draft may name a contract no longer listed: no InvalidSelectValueError from the form."""
    from textual.app import App

    from efa_tui.widgets.form import Form, FormField

    fields = [FormField("order_id", "usage.f.contract", kind="select", options=[("12", "#12")], required=True),
              FormField("kind", "usage.f.contract", kind="select", options=[("a", "A")])]

    class FormApp(App):
        def compose(self):
            yield Form(fields, {"order_id": "12", "kind": "a"})

    app = FormApp()
    async with app.run_test() as pilot:
        form = app.query_one(Form)
        form.set_value("order_id", "99")
        form.set_value("kind", "gone")
        await pilot.pause()
        assert form.value("order_id") == "12" and not form.value("kind")
