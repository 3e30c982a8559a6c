"""The order state machine of the EfA-Marktplatz.

interest → proposed → ordered (binding) → active → terminated; side exits withdrawn (customer,
before binding), rejected (provider), cancelled (after binding, before the contract starts).
Each action belongs to one side; the server refuses the rest and the client does not offer them.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
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

# The words people read for states and actions are in the UI's message catalog
# (efa_tui/translations/orders.py: state.*, action.*), in German and English.


class TransitionError(Exception):
    def __init__(self, reason: str, *, forbidden: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.forbidden = forbidden  # True: the role may never take it; False: not from this state


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
