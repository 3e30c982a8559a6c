"""Pure domain rules: Leitweg-ID, money, pro rata, distribution keys, totals, the state machine."""

from datetime import date
from decimal import Decimal as D

import pytest

from efa_tui.domain.invoicing import invoice_totals
from efa_tui.domain.leitweg import check_digits, check_leitweg_id, make_leitweg_id
from efa_tui.domain.money import MoneyError, money_str, parse_money, round_cents
from efa_tui.domain.orders import (
    TRANSITIONS,
    Action,
    OrderState,
    TransitionError,
    allowed_actions,
    next_state,
    termination_date,
)
from efa_tui.domain.pricing import DistributionKey, Fees, billable_months, cost_preview, year_charges

# --- Leitweg-ID -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["04011000-1234512345-06", "992-90009-96", "04011000-1234512345-06 "])
def test_leitweg_examples_of_design_are_valid(value):
    assert check_leitweg_id(value).ok


@pytest.mark.parametrize("value, expected", [("04011000-1234512345-07", "06"), ("992-90009-69", "96"), ("992-90009-00", "96")])
def test_wrong_check_digits_say_which_are_expected(value, expected):
    result = check_leitweg_id(value)
    assert not result.ok
    assert f"erwartet {expected}" in result.reason and "MOD 97-10" in result.reason


@pytest.mark.parametrize("value", ["", "1-96", "1234567890123-96", "992-90009", "992_90009-96", "992-ÄÖÜ-96",
                                   "992-" + "A" * 31 + "-96", "04011000-1234512345-6"])
def test_malformed_leitweg_ids_explain_the_form(value):
    result = check_leitweg_id(value)
    assert not result.ok and result.reason


def test_letters_count_as_numbers_a_is_10():
    lw = make_leitweg_id("09162000", "RITEFA01")
    assert check_leitweg_id(lw).ok
    assert check_leitweg_id(lw.lower()).ok  # letters are case-insensitive in MOD 97-10
    assert check_digits("992", "90009") == "96"


# --- money ------------------------------------------------------------------------------------


def test_round_half_up_to_cents():
    assert round_cents(D("0.005")) == D("0.01")
    assert round_cents(D("2.345")) == D("2.35")
    assert round_cents(D("-2.345")) == D("-2.35")  # half away from zero, as in commerce


def test_money_is_never_a_float():
    with pytest.raises(MoneyError):
        parse_money(0.1)
    with pytest.raises(MoneyError):
        parse_money("1.001")
    assert parse_money("1234.5") == D("1234.50")
    assert money_str(D("1234.5")) == "1234.50"


# --- pro rata by full months --------------------------------------------------------------------


@pytest.mark.parametrize("start, end, months", [
    (date(2026, 1, 1), None, 12),
    (date(2025, 7, 15), None, 12),  # began last year: the whole year
    (date(2026, 3, 1), None, 10),  # March counts: it runs on every day of March
    (date(2026, 3, 15), None, 9),  # March does not: April … December
    (date(2026, 12, 2), None, 0),
    (date(2027, 1, 1), None, 0),
    (date(2025, 3, 1), date(2026, 6, 30), 6),  # ends on the last day of June: June counts
    (date(2025, 3, 1), date(2026, 6, 29), 5),
    (date(2026, 2, 1), date(2026, 2, 28), 1),
    (date(2025, 1, 1), date(2025, 12, 31), 0),
])
def test_billable_months(start, end, months):
    assert billable_months(start, end, 2026) == months


def test_pro_rata_annual_fee_to_the_cent():
    fees = Fees(D("1000.00"), D("0.00"), DistributionKey.FIXED)
    (line,) = year_charges(fees, 2026, date(2026, 6, 15))  # July … December: 6 months
    assert (line.months, line.net) == (6, D("500.00"))
    (line,) = year_charges(fees, 2026, date(2026, 2, 2))  # 10 months: 833.333… → 833.33
    assert line.net == D("833.33")
    (line,) = year_charges(Fees(D("100.00"), D("0"), DistributionKey.FIXED), 2026, date(2026, 5, 1))  # 8/12 → 66.666…
    assert line.net == D("66.67")


def test_per_inhabitant_part_from_population_to_the_cent():
    fees = Fees(D("1200.00"), D("500.00"), DistributionKey.PER_INHABITANT, D("12.50"))
    lines = year_charges(fees, 2026, date(2026, 3, 15), population=1_512_491, first_invoice=True)
    assert [(c.kind, c.net) for c in lines] == [
        ("annual", D("900.00")),  # 1200 × 9/12
        ("one_time", D("500.00")),
        ("per_inhabitant", D("14179.60")),  # 1512.491 × 12.50 × 9/12 = 14179.603…
    ]
    full = year_charges(fees, 2027, date(2026, 3, 15), population=1_512_491)
    assert [c.net for c in full] == [D("1200.00"), D("18906.14")]  # 1512.491 × 12.50 = 18906.1375


def test_per_case_part_from_usage_without_pro_rata():
    fees = Fees(D("0.00"), D("0.00"), DistributionKey.PER_CASE, D("1.80"))
    (line,) = year_charges(fees, 2026, date(2026, 10, 1), cases=1234)
    assert (line.kind, line.quantity, line.net) == ("per_case", D(1234), D("2221.20"))
    assert year_charges(fees, 2026, date(2026, 10, 1), cases=0) == []


def test_target_group_part_and_one_time_fee_only_on_first_invoice():
    fees = Fees(D("0.00"), D("2500.00"), DistributionKey.TARGET_GROUP, D("85.00"))
    first = year_charges(fees, 2026, date(2026, 1, 1), target_group_size=12_345, first_invoice=True)
    assert [(c.kind, c.net) for c in first] == [("one_time", D("2500.00")), ("target_group", D("1049.33"))]
    later = year_charges(fees, 2027, date(2026, 1, 1), target_group_size=12_345)
    assert [c.kind for c in later] == ["target_group"]


def test_cost_preview_first_year_and_full_year():
    fees = Fees(D("1200.00"), D("300.00"), DistributionKey.FIXED)
    preview = cost_preview(fees, date(2026, 10, 1))
    assert (preview.months_first_year, preview.first_year_net, preview.full_year_net) == (3, D("600.00"), D("1200.00"))


def test_vat_per_rate_on_summed_nets():
    # Per line 0.095 → 0.10 each (0.30 in all); on the sum 0.285 → 0.29: EN 16931 takes the sum.
    totals = invoice_totals([(D("0.50"), D("19")), (D("0.50"), D("19")), (D("0.50"), D("19")), (D("10.00"), D("0"))])
    assert (totals.net, totals.vat, totals.gross) == (D("11.50"), D("0.29"), D("11.79"))
    assert [g.rate for g in totals.groups] == [D("0.00"), D("19.00")]


# --- order state machine ----------------------------------------------------------------------

ROLES = ("customer", "provider", "support", "operator")
EXPECTED = {
    # (state, action, role) → target, for every allowed step; everything else is refused.
    ("interest", "propose", "provider"): "proposed",
    ("proposed", "propose", "provider"): "proposed",
    ("proposed", "order", "customer"): "ordered",
    ("ordered", "activate", "provider"): "active",
    ("interest", "reject", "provider"): "rejected",
    ("proposed", "reject", "provider"): "rejected",
    ("interest", "withdraw", "customer"): "withdrawn",
    ("proposed", "withdraw", "customer"): "withdrawn",
    ("ordered", "cancel", "customer"): "cancelled",
    ("ordered", "cancel", "provider"): "cancelled",
    ("active", "terminate", "customer"): "terminated",
    ("active", "terminate", "provider"): "terminated",
}


@pytest.mark.parametrize("state", [s.value for s in OrderState])
@pytest.mark.parametrize("action", [a.value for a in Action])
@pytest.mark.parametrize("role", ROLES)
def test_every_transition_allowed_or_refused(state, action, role):
    expected = EXPECTED.get((state, action, role))
    if expected:
        assert next_state(state, action, role) == expected
        assert Action(action) in allowed_actions(state, role)
    else:
        with pytest.raises(TransitionError):
            next_state(state, action, role)
        assert Action(action) not in allowed_actions(state, role)


def test_final_states_have_no_way_out_and_staff_no_actions():
    for state in ("terminated", "withdrawn", "rejected", "cancelled"):
        assert all(not allowed_actions(state, r) for r in ROLES)
    assert all(not (t.roles & {"support", "operator"}) for t in TRANSITIONS.values())


def test_termination_at_month_end_after_notice():
    assert termination_date(date(2026, 11, 27), 3) == date(2027, 2, 28)
    assert termination_date(date(2026, 1, 31), 1) == date(2026, 2, 28)

