"""An offering as its form shows it and back: form text (amounts in the user's locale) ↔ the
request body, the amount checks, and the merge after a conflicting edit.

Not in ``domain/``: reading "1.234,56" depends on the UI language; the locale-free rules (lengths,
keys, contact, Länder) stay in ``domain/offering_rules.py``. No Textual here.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from . import formatting
from .api.models import Contact, Fees, Offering
from .domain.merge import Merge
from .domain.merge import merge as merge_fields
from .domain.money import money_str
from .domain.offering_rules import MAX_MONEY, parse_keywords, parse_laender
from .domain.pricing import DistributionKey
from .formatting import InputError

# Form field → where it sits in the server's offering document.
FEE_FIELDS = ("annual_fee", "one_time_fee", "distribution_key", "unit_price", "unit_label", "vat_rate")
CONTACT_FIELDS = {"contact_name": "name", "contact_email": "email", "contact_phone": "phone"}
TEXT_FIELDS = ("title", "summary", "description", "category", "ozg_id", "leika_key", "contract_terms")
FIELDS = (*TEXT_FIELDS, "bundeslaender", "maturity", *FEE_FIELDS, "minimum_term_months", "notice_period_months",
          *CONTACT_FIELDS, "keywords")


def parse_amount(text: str) -> Decimal | None:
    """An amount as typed in the form ("1.234,56", "1234,5", or the wire's "1234.56"); None when it is none."""
    try:
        return formatting.parse_money(text, wire_too=True)
    except InputError:
        return None


def check_money(text: str) -> str | None:
    amount = parse_amount(text)
    if amount is None:
        return "offering.err.money"
    return "offering.err.money_range" if amount > MAX_MONEY else None


def check_vat(text: str) -> str | None:
    try:
        formatting.parse_vat(text, wire_too=True)
    except InputError:
        return "offering.err.vat"
    return None


def unit_price_problem(distribution_key: str, unit_price: str) -> str | None:
    """The cross-field rule: a distribution key other than "fixed" needs a unit price; "fixed" has none."""
    if not distribution_key:
        return None
    amount = parse_amount(unit_price) if unit_price.strip() else None
    if DistributionKey(distribution_key) is DistributionKey.FIXED:
        return "offering.err.unit_price_fixed" if amount not in (None, Decimal(0)) else None
    return "offering.err.unit_price_needed" if amount is None else None


def form_values(offering: Offering | Mapping[str, Any] | None) -> dict[str, Any]:
    """An offering from the server as form text (amounts in the user's locale, grouped: 1.234,50)."""
    o = offering if isinstance(offering, Offering) else Offering.model_validate({"id": 0, **(offering or {})})
    fees = o.fees or Fees()
    contact = o.contact or Contact()

    def amount(value: Any) -> str:
        return formatting.money_input(value, grouped=True)

    values: dict[str, Any] = {k: str(getattr(o, k) or "") for k in TEXT_FIELDS}
    values["bundeslaender"] = ", ".join(o.bundeslaender)
    values["maturity"] = str(o.maturity) if o.maturity is not None else ""
    values["annual_fee"] = amount(fees.annual_fee)
    values["one_time_fee"] = amount(fees.one_time_fee)
    values["distribution_key"] = (fees.distribution_key if o.fees else "") or ""
    values["unit_price"] = amount(fees.unit_price)
    values["unit_label"] = fees.unit_label or ""
    values["vat_rate"] = amount(fees.vat_rate) if fees.vat_rate is not None else ""
    for key in ("minimum_term_months", "notice_period_months"):
        values[key] = "" if getattr(o, key) is None else str(getattr(o, key))
    for form_key, key in CONTACT_FIELDS.items():
        values[form_key] = getattr(contact, key) or ""
    values["keywords"] = ", ".join(o.keywords)
    return values


AMOUNT_FIELDS = ("annual_fee", "one_time_fee", "unit_price", "vat_rate")  # typed 1.234,50; sent "1234.50"


def body_value(name: str, text: Any) -> Any:
    """One form field as the request body holds it (the checks have passed)."""
    text = str(text if text is not None else "").strip()
    if name in AMOUNT_FIELDS:
        amount = parse_amount(text)
        return None if amount is None else money_str(amount)
    if name in ("maturity", "minimum_term_months", "notice_period_months"):
        return int(text) if text.isdigit() else None
    if name == "bundeslaender":
        return parse_laender(text) or []
    if name == "keywords":
        return parse_keywords(text)
    if name == "distribution_key":
        return text or None
    return text


def create_body(values: Mapping[str, Any]) -> dict[str, Any]:
    """POST /offerings: every field the user filled in (empty optional fields left to the server)."""
    body: dict[str, Any] = {}
    for name in FIELDS:
        value = body_value(name, values.get(name, ""))
        if value in (None, "") and name not in ("bundeslaender", "keywords"):
            continue
        body[name] = value
    return body


def changed_fields(base: Mapping[str, Any], values: Mapping[str, Any]) -> list[str]:
    """The fields the user changed against the version they started from (compared as the body
    would send them, so "1200" and "1.200,00" are the same)."""
    return [n for n in FIELDS if body_value(n, values.get(n, "")) != body_value(n, base.get(n, ""))]


def patch_body(base: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """PATCH /offerings/{id}: only what the user changed — another admin's edits to other fields stay."""
    return {n: body_value(n, values.get(n, "")) for n in changed_fields(base, values)}


def form_text(name: str, value: Any) -> str:
    """One field of a request body as the form shows it (``body_value`` the other way round)."""
    if value is None:
        return ""
    if name in AMOUNT_FIELDS:
        return formatting.money_input(value, grouped=True)
    if name in ("bundeslaender", "keywords") and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def queued_edit(body: Mapping[str, Any], theirs: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A PATCH refused with 412 from the outbox, against the version the server has now: the form's
    values (the user's changes over their version) and the clashes — the fields the user changed
    that now differ from theirs. The version the user started from is gone with the form, so each
    of those fields is shown to decide (they may have changed it too); equal ones need nothing."""
    mine = dict(theirs)
    for name in FIELDS:
        if name in body:
            mine[name] = form_text(name, body[name])
    return mine, [n for n in FIELDS if n in body and body_value(n, mine[n]) != body_value(n, theirs.get(n, ""))]


def merge(base: Mapping[str, Any], mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> Merge:
    """After a conflict: the three-way merge of the form (``domain.merge``), values compared as
    the body would send them ("1200" and "1.200,00" are the same amount)."""
    return merge_fields(base, mine, theirs, FIELDS, lambda name, a, b: body_value(name, a) == body_value(name, b))
