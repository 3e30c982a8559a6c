"""Every path of the marketplace API, in one place.

The API client, the sync, the outbox requests the services build and the tests' helpers name an
endpoint through these functions; no other module writes a URL. Paths are relative to the base
URL (``…/api/v1``); ids are checked to be integers, so a path can never carry text.
"""

from __future__ import annotations

HEALTH = "/healthz"
ME = "/me"
ORGANIZATIONS = "/organizations"
OFFERINGS = "/offerings"
ORDERS = "/orders"
INVOICES = "/invoices"
USAGE = "/usage"
BILLING_RUNS = "/billing/runs"

# The lists the local cache mirrors (delta sync by ``updated_since``), by cache kind.
SYNCED = {"organizations": ORGANIZATIONS, "offerings": OFFERINGS, "orders": ORDERS, "invoices": INVOICES}


def organization(org_id: int) -> str:
    return f"{ORGANIZATIONS}/{int(org_id)}"


def offering(offering_id: int) -> str:
    return f"{OFFERINGS}/{int(offering_id)}"


def offering_action(offering_id: int, action: str) -> str:
    """``publish`` or ``retire``."""
    if action not in ("publish", "retire"):
        raise ValueError(f"no offering action {action!r}")
    return f"{offering(offering_id)}/{action}"


def order(order_id: int) -> str:
    return f"{ORDERS}/{int(order_id)}"


def order_transitions(order_id: int) -> str:
    return f"{order(order_id)}/transitions"


def order_events(order_id: int) -> str:
    return f"{order(order_id)}/events"


def invoice(invoice_id: int) -> str:
    return f"{INVOICES}/{int(invoice_id)}"


def invoice_xrechnung(invoice_id: int) -> str:
    return f"{invoice(invoice_id)}/xrechnung"


def invoice_review(invoice_id: int) -> str:
    return f"{invoice(invoice_id)}/review"


def invoice_pay(invoice_id: int) -> str:
    return f"{invoice(invoice_id)}/pay"


def invoice_payments(invoice_id: int) -> str:
    return f"{invoice(invoice_id)}/payments"


def invoice_credit_notes(invoice_id: int) -> str:
    return f"{invoice(invoice_id)}/credit-notes"


def invoice_cancel(invoice_id: int) -> str:
    return f"{invoice(invoice_id)}/cancel"


def billing_run(run_id: int) -> str:
    return f"{BILLING_RUNS}/{int(run_id)}"
