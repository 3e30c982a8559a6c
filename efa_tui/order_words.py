"""The words of an order, one table for every screen: a state reads the same for the customer, the
provider and support (list, filter, detail, timeline, audit trail, notices), a step of the
timeline is named the same everywhere, and the fees are "vorgeschlagen" before the binding order
and "vereinbart" after it. "Angebot" is the offering only; the provider's step is the
"Entgeltvorschlag".

The texts are the ``state.*``, ``action.*`` and ``order.fees.*`` entries of
``translations/orders.py`` (German and English side by side); which state is which phase comes from
``domain.orders``. No Textual here: the screens and the command line use it alike.
"""

from __future__ import annotations

from datetime import date

from . import formatting, i18n
from .domain.orders import BOUND_STATES, OrderState, contract_phase, ended_before_binding
from .text import clean

# A sample day as wide as every formatted day (for the state column's width).
_WIDEST_DAY = date(2000, 12, 31)


def state_word(state: str, end_date: date | None = None, today: date | None = None) -> str:
    """The state as people read it. With ``today``, a terminated contract is "Gekündigt zum
    31.03.2027" until its last day and "Beendet" after it (domain.orders.contract_phase); without,
    the state's own name (a filter, a step of the timeline). A state the client does not know
    shows as the server sent it."""
    try:
        phase = contract_phase(state, end_date, today) if today is not None else OrderState(state).value
    except ValueError:
        return clean(state)
    if phase == "terminating" and end_date is not None:
        return i18n.t("state.terminating", end=formatting.day(end_date))
    return i18n.t("state." + phase)


def phase_word(phase: str) -> str:
    """A phase (domain.orders.PHASES) as a filter names it: "Gekündigt" for a contract that still
    runs (its row adds the date), "Beendet" for one that has ended."""
    if phase == "terminating":
        return i18n.t("state.terminated")
    if phase == "ended":
        return i18n.t("state.ended")
    return state_word(phase)


def order_state_word(order, today: date | None = None) -> str:
    """An order's state (``api.models.Order``) as its list row, its detail and support show it."""
    return state_word(order.state, order.end_date, today or formatting.today())


def action_word(action: str) -> str:
    """A step of the timeline and the audit trail ("Entgelte vorgeschlagen", "Verbindlich bestellt")."""
    key = "action." + action
    return i18n.t(key) if key in i18n.MESSAGES else clean(action)


def state_width() -> int:
    """The widest state word in the current language (a notice date included), for list columns."""
    words = [i18n.t("state." + s.value) for s in OrderState]
    words += [i18n.t("state.ended"), i18n.t("state.terminating", end=formatting.day(_WIDEST_DAY))]
    return max(len(w) for w in words)


def fees_agreed(state: str | None) -> bool:
    """Whether an order's fees are agreed: from the binding order on (also when it was cancelled
    later); before it they are the provider's proposal."""
    return state in BOUND_STATES


def fees_heading(state: str | None) -> str:
    if fees_agreed(state):
        return i18n.t("order.fees.agreed")
    return i18n.t("order.fees.not_ordered" if ended_before_binding(state) else "order.fees.proposed")


def no_fees(state: str | None) -> str:
    """Where the fees would be, without a proposal: still awaited, or never made."""
    return i18n.t("order.no_fees_ended" if ended_before_binding(state) else "order.no_fees")
