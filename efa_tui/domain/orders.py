"""The order state machine of the EfA-Marktplatz.

interest → proposed → ordered (binding) → active → terminated; side exits withdrawn (customer,
before binding), rejected (provider), cancelled (after binding, before the contract starts).
Each action belongs to one side; the server refuses the rest and the client does not offer them.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class OrderState(StrEnum):
    INTEREST = "interest"
    PROPOSED = "proposed"
    ORDERED = "ordered"
    ACTIVE = "active"
    TERMINATED = "terminated"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class Action(StrEnum):
    PROPOSE = "propose"
    ORDER = "order"
    ACTIVATE = "activate"
    REJECT = "reject"
    WITHDRAW = "withdraw"
    CANCEL = "cancel"
    TERMINATE = "terminate"


@dataclass(frozen=True)
class Transition:
    action: Action
    roles: frozenset[str]  # API role names allowed to take it
    sources: frozenset[OrderState]
    target: OrderState


S = OrderState
TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in (
        # The provider answers an interest with the agreed fees; it may revise them until bound.
        Transition(Action.PROPOSE, frozenset({"provider"}), frozenset({S.INTEREST, S.PROPOSED}), S.PROPOSED),
        # "verbindlich bestellen": only on a proposal, only by the customer.
        Transition(Action.ORDER, frozenset({"customer"}), frozenset({S.PROPOSED}), S.ORDERED),
        Transition(Action.ACTIVATE, frozenset({"provider"}), frozenset({S.ORDERED}), S.ACTIVE),
        Transition(Action.REJECT, frozenset({"provider"}), frozenset({S.INTEREST, S.PROPOSED}), S.REJECTED),
        Transition(Action.WITHDRAW, frozenset({"customer"}), frozenset({S.INTEREST, S.PROPOSED}), S.WITHDRAWN),
        # A binding order may still be cancelled by either side before the contract starts.
        Transition(Action.CANCEL, frozenset({"customer", "provider"}), frozenset({S.ORDERED}), S.CANCELLED),
        # A running contract ends by notice of either side, per its terms.
        Transition(Action.TERMINATE, frozenset({"customer", "provider"}), frozenset({S.ACTIVE}), S.TERMINATED),
    )
}

# The steps that owe the other side a reason (the note): a rejection of an interest, and the
# cancellation of a binding order — a declaration towards the other party that undoes a contract
# before it starts. The server refuses them without one (422 on ``note``); the forms require it.
REASON_OWED = frozenset({Action.REJECT, Action.CANCEL})

# The steps after which the contract is bound or undone: the customer's binding order, the
# cancellation of it and the termination of a running contract. Each is declared by a person
# who says they are authorised to (the forms ask for it, as the binding order does).
DECLARATIONS = frozenset({Action.ORDER, Action.CANCEL, Action.TERMINATE})

# The states after the binding order (only ORDER leads out of PROPOSED into them): from there on
# the fees are agreed ("vereinbart"), before it they are the provider's proposal.
BOUND_STATES = frozenset({S.ORDERED, S.ACTIVE, S.TERMINATED, S.CANCELLED})

# The words people read for states and actions are in the UI's message catalog
# (efa_tui/translations/orders.py: state.*, action.*), in German and English, read through
# efa_tui/order_words.py by every screen.


class TransitionError(Exception):
    def __init__(self, reason: str, *, forbidden: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.forbidden = forbidden  # True: the role may never take it; False: not from this state


# An order that still runs or may still come to a contract: a second interest in the same
# offering by the same organisation would most likely duplicate it (the user is asked first).
# A terminated contract is not open: ordering again after it is a new contract.
OPEN_STATES = frozenset({S.INTEREST, S.PROPOSED, S.ORDERED, S.ACTIVE})


def is_open(state: OrderState | str) -> bool:
    return state in OPEN_STATES


def ended_before_binding(state: OrderState | str | None) -> bool:
    """Rejected or withdrawn: closed before any binding order — no proposal will come, none binds."""
    return state is not None and state not in OPEN_STATES and state not in BOUND_STATES


def earlier_interest(orders: Iterable[tuple[int, str, int | None]], organization_id: int | None) -> int | None:
    """Of ``(order id, state, customer id)`` for one offering, the open order of the organisation
    a new interest would repeat: the newest one (highest id), None when there is none."""
    open_ = [oid for oid, state, customer in orders
             if is_open(state) and (organization_id is None or customer in (None, organization_id))]
    return max(open_) if open_ else None


def allowed_actions(state: OrderState | str, role: str) -> list[Action]:
    """The actions a role may take on an order in this state (what the UI offers)."""
    st = OrderState(state)
    return [a for a, t in TRANSITIONS.items() if role in t.roles and st in t.sources]


def next_state(state: OrderState | str, action: Action | str, role: str) -> OrderState:
    """The state after ``action``, or TransitionError saying why not."""
    try:
        t = TRANSITIONS[Action(action)]
    except ValueError:
        raise TransitionError(f"unknown action {action!r}") from None
    if role not in t.roles:
        raise TransitionError(f"role {role!r} may not {t.action.value} an order", forbidden=True)
    st = OrderState(state)
    if st not in t.sources:
        raise TransitionError(
            f"cannot {t.action.value} an order in state {st.value!r} "
            f"(allowed from: {', '.join(sorted(s.value for s in t.sources))})"
        )
    return t.target


def termination_date(notice_given: date, notice_months: int) -> date:
    """A contract terminated on ``notice_given`` ends on the last day of the month in which the
    notice period runs out (the usual rule of the offerings' terms)."""
    month_index = notice_given.month - 1 + notice_months
    year, month = notice_given.year + month_index // 12, month_index % 12 + 1
    return date(year, month, calendar.monthrange(year, month)[1])


# --- contract dates ------------------------------------------------------------------------------
#
# One place for the dates a contract may take (the server enforces them with a 422 that names the
# earliest allowed date; the order forms propose that date):
#
# * Activation (start of the contract): not before the day of the binding order, not more than
#   BACKDATE_MONTHS before today (a provider may record a start it forgot, not one from 0001-01-01),
#   not more than START_AHEAD_MONTHS after today.
# * Termination (end of the contract): notice is given today; the end is at the earliest the last
#   day of the month in which the notice period runs out (``termination_date``) and not before the
#   minimum term is over (start + minimum term − 1 day, to the end of that month); never before the
#   start; at most END_AHEAD_YEARS after today.
# * Usage is reported only for months that lie (at least partly) inside the contract's term and
#   not after the current month.

BACKDATE_MONTHS = 12
START_AHEAD_MONTHS = 24
END_AHEAD_YEARS = 10


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the last day of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class DateWindow:
    earliest: date
    latest: date
    reason: str  # which rule set the earliest date (English, for the problem detail)

    def contains(self, day: date) -> bool:
        return self.earliest <= day <= self.latest


def activation_window(ordered_on: date | None, today: date) -> DateWindow:
    """The start dates an activation may give."""
    floor = add_months(today, -BACKDATE_MONTHS)
    if ordered_on is not None and ordered_on >= floor:
        earliest, reason = ordered_on, f"a contract cannot start before its binding order of {ordered_on.isoformat()}"
    else:
        earliest, reason = floor, f"a contract cannot start more than {BACKDATE_MONTHS} months back"
    return DateWindow(earliest, add_months(today, START_AHEAD_MONTHS), reason)


def month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def minimum_term_end(start: date, minimum_term_months: int) -> date:
    """The last day of the minimum term (12 months from 15.03.2026: 14.03.2027)."""
    return add_months(start, max(minimum_term_months, 0)) - timedelta(days=1) if minimum_term_months > 0 else start


def termination_window(start: date | None, today: date, *, minimum_term_months: int, notice_months: int) -> DateWindow:
    """The end dates a termination given today may name."""
    by_notice = termination_date(today, max(notice_months, 0))
    earliest, reason = by_notice, f"with {notice_months} months' notice given today the contract ends on {by_notice.isoformat()} at the earliest"
    if start is not None:
        # Contracts end at the end of a month: the minimum term's last day rounded up to it.
        term_end = month_end(minimum_term_end(start, minimum_term_months))
        if term_end > earliest:
            earliest, reason = term_end, f"the minimum term of {minimum_term_months} months runs until {term_end.isoformat()}"
        if start > earliest:
            earliest, reason = start, f"a contract cannot end before it starts ({start.isoformat()})"
    return DateWindow(earliest, add_months(today, END_AHEAD_YEARS * 12), reason)


def contract_phase(state: OrderState | str, end_date: date | None, today: date) -> str:
    """What a contract is for the people reading it: "terminating" (gekündigt zum …) while a
    terminated contract still runs, "ended" (beendet) after its last day, else the state itself."""
    if OrderState(state) is OrderState.TERMINATED:
        return "ended" if end_date is None or end_date < today else "terminating"
    return OrderState(state).value


# What lists filter, count and sort orders by: the states in the flow's order, a terminated contract
# as one that still runs ("terminating": gekündigt zum …) or has ended ("ended": beendet) — the
# words its row shows (contract_phase).
PHASES = tuple(p for s in OrderState for p in (("terminating", "ended") if s is OrderState.TERMINATED else (s.value,)))


def order_phase(state: str, end_date: date | None, today: date) -> str:
    """An order's phase (PHASES); a state the client does not know is its own phase."""
    try:
        return contract_phase(state, end_date, today)
    except ValueError:
        return state


def usage_months(start: date | None, end: date | None, today: date) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The first and last (year, month) usage may be reported for: the months the contract runs
    in, up to the current month. None: no month (not started yet)."""
    if start is None:
        return None
    first = (start.year, start.month)
    last_day = min(end, today) if end is not None else today
    last = (last_day.year, last_day.month)
    return (first, last) if first <= last else None
