"""What makes an offering's fields valid, as a provider types them — and how form text becomes
the request body and back.

Pure functions. Each check answers ``None`` (fine) or a message id (the screen translates it);
the server validates again on its own, this only spares the user a round trip. Amounts are
typed the German way ("1.234,56") or the wire's way ("1234.56"); both become ``Decimal``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .catalog import BUNDESLAENDER, MATURITY_LEVELS, THEMENFELDER
from .money import money_str
from .pricing import DistributionKey

MAX_MONEY = Decimal("9999999999.99")  # twelve digits, two of them cents: what the server stores
_GERMAN_AMOUNT = re.compile(r"^\d{1,3}(\.\d{3})+(,\d{1,2})?$|^\d+(,\d{1,2})?$")
_WIRE_AMOUNT = re.compile(r"^\d+(\.\d{1,2})?$")
_LEIKA = re.compile(r"^\d{14}$")  # LeiKa-Schlüssel: 14 digits
_OZG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-_. ]{0,19}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()/\-]{4,48}$")
_NAMES = {name.casefold(): code for code, name in BUNDESLAENDER.items()}

# Form field → where it sits in the server's offering document.
FEE_FIELDS = ("annual_fee", "one_time_fee", "distribution_key", "unit_price", "unit_label", "vat_rate")
CONTACT_FIELDS = {"contact_name": "name", "contact_email": "email", "contact_phone": "phone"}
TEXT_FIELDS = ("title", "summary", "description", "category", "ozg_id", "leika_key", "contract_terms")
FIELDS = (*TEXT_FIELDS, "bundeslaender", "maturity", *FEE_FIELDS, "minimum_term_months", "notice_period_months",
          *CONTACT_FIELDS, "keywords")
LIMITS = {"title": 200, "summary": 500, "description": 20_000, "contract_terms": 5000, "unit_label": 100,
          "contact_name": 200, "contact_email": 200, "contact_phone": 50, "ozg_id": 20, "leika_key": 20}


def parse_amount(text: str) -> Decimal | None:
    """ "1.234,56", "1234,5", "1234.56" → Decimal('1234.56'); None when it is no amount.
    A lone dot with three digits after it ("1.234") is a thousands separator, as a German reads it."""
    text = text.strip().removesuffix("€").removesuffix("EUR").strip().replace(" ", "").replace("\u202f", "")
    if not text:
        return None
    if _GERMAN_AMOUNT.match(text):
        value = text.replace(".", "").replace(",", ".")
    elif _WIRE_AMOUNT.match(text):
        value = text
    else:
        return None
    try:
        return Decimal(value).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def check_title(text: str) -> str | None:
    if not text.strip():
        return "offering.err.required"
    return "offering.err.too_long" if len(text) > LIMITS["title"] else None


def check_length(name: str):
    def check(text: str) -> str | None:
        return "offering.err.too_long" if len(text) > LIMITS[name] else None
    return check


def check_money(text: str) -> str | None:
    amount = parse_amount(text)
    if amount is None:
        return "offering.err.money"
    return "offering.err.money_range" if amount > MAX_MONEY else None


def check_vat(text: str) -> str | None:
    amount = parse_amount(text)
    if amount is None or amount > 100:
        return "offering.err.vat"
    return None


def check_leika(text: str) -> str | None:
    return None if _LEIKA.match(text.strip()) else "offering.err.leika"


def check_ozg(text: str) -> str | None:
    return None if _OZG.match(text.strip()) else "offering.err.ozg"


def check_email(text: str) -> str | None:
    if len(text) > LIMITS["contact_email"]:
        return "offering.err.too_long"
    return None if _EMAIL.match(text.strip()) else "offering.err.email"


def check_phone(text: str) -> str | None:
    return None if _PHONE.match(text.strip()) else "offering.err.phone"


def check_months(maximum: int):
    def check(text: str) -> str | None:
        text = text.strip()
        if not text.isdigit() or not 0 <= int(text) <= maximum:
            return "offering.err.months_" + str(maximum)
        return None
    return check


def parse_laender(text: str) -> list[str] | None:
    """ "BY, Hessen; nw" → ["BY", "HE", "NW"]; empty → [] (bundesweit); None if one is unknown."""
    codes: list[str] = []
    for part in re.split(r"[,;]", text):
        part = part.strip()
        if not part:
            continue
        code = part.upper() if part.upper() in BUNDESLAENDER else _NAMES.get(part.casefold())
        if code is None:
            return None
        if code not in codes:
            codes.append(code)
    return codes


def check_laender(text: str) -> str | None:
    return None if parse_laender(text) is not None else "offering.err.laender"


def parse_keywords(text: str) -> list[str]:
    return [k.strip() for k in text.split(",") if k.strip()]


def check_keywords(text: str) -> str | None:
    words = parse_keywords(text)
    if len(words) > 20:
        return "offering.err.keywords_count"
    return "offering.err.keyword_long" if any(len(w) > 50 for w in words) else None


def unit_price_problem(distribution_key: str, unit_price: str) -> str | None:
    """The cross-field rule: a distribution key other than "fixed" needs a unit price; "fixed" has none."""
    if not distribution_key:
        return None
    amount = parse_amount(unit_price) if unit_price.strip() else None
    if DistributionKey(distribution_key) is DistributionKey.FIXED:
        return "offering.err.unit_price_fixed" if amount not in (None, Decimal(0)) else None
    return "offering.err.unit_price_needed" if amount is None else None


# --- form text ↔ the server's offering ----------------------------------------------------------------


def form_values(offering: Mapping[str, Any] | None) -> dict[str, Any]:
    """An offering from the server as form text (amounts the German way)."""
    o = dict(offering or {})
    fees = o.get("fees") or {}
    contact = o.get("contact") or {}

    def amount(value: Any) -> str:
        return "" if value in (None, "") else format_amount(Decimal(str(value)))

    values: dict[str, Any] = {k: str(o.get(k) or "") for k in TEXT_FIELDS}
    values["bundeslaender"] = ", ".join(o.get("bundeslaender") or [])
    values["maturity"] = str(o.get("maturity")) if o.get("maturity") is not None else ""
    values["annual_fee"] = amount(fees.get("annual_fee"))
    values["one_time_fee"] = amount(fees.get("one_time_fee"))
    values["distribution_key"] = fees.get("distribution_key") or ""
    values["unit_price"] = amount(fees.get("unit_price"))
    values["unit_label"] = fees.get("unit_label") or ""
    values["vat_rate"] = amount(fees.get("vat_rate")) if fees.get("vat_rate") is not None else ""
    for key in ("minimum_term_months", "notice_period_months"):
        values[key] = "" if o.get(key) is None else str(o.get(key))
    for form_key, key in CONTACT_FIELDS.items():
        values[form_key] = contact.get(key) or ""
    values["keywords"] = ", ".join(o.get("keywords") or [])
    return values


def format_amount(amount: Decimal) -> str:
    """1234.5 → "1.234,50": how a German types an amount (the form shows what it will read back)."""
    whole, cents = f"{amount.quantize(Decimal('0.01')):.2f}".split(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return ".".join(groups) + "," + cents


def body_value(name: str, text: Any) -> Any:
    """One form field as the request body holds it (the checks have passed)."""
    text = str(text if text is not None else "").strip()
    if name in ("annual_fee", "one_time_fee", "unit_price", "vat_rate"):
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


def reapply(base: Mapping[str, Any], mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """After a conflict: their version with my changes on top, and the fields both of us changed
    differently (the user must look at those before sending again)."""
    mine_changed = changed_fields(base, mine)
    theirs_changed = set(changed_fields(base, theirs))
    merged = dict(theirs)
    clashes = []
    for name in mine_changed:
        merged[name] = mine.get(name, "")
        if name in theirs_changed and body_value(name, mine.get(name, "")) != body_value(name, theirs.get(name, "")):
            clashes.append(name)
    return merged, clashes


# --- the provider's overview -----------------------------------------------------------------------

OPEN_STATES = ("interest", "proposed")  # waiting on the provider or on the customer
CONTRACT_STATES = ("ordered", "active")  # binding: ordered (not yet running) and running contracts


def count_orders(orders: list[Mapping[str, Any]]) -> dict[int, tuple[int, int]]:
    """Offering id → (open interests, active contracts)."""
    counts: dict[int, list[int]] = {}
    for order in orders:
        oid = (order.get("offering") or {}).get("id") or order.get("offering_id")
        if oid is None:
            continue
        slot = counts.setdefault(int(oid), [0, 0])
        state = order.get("state")
        if state in OPEN_STATES:
            slot[0] += 1
        elif state in CONTRACT_STATES:
            slot[1] += 1
    return {k: (v[0], v[1]) for k, v in counts.items()}


def publish_gaps(offering: Mapping[str, Any]) -> list[str]:
    """What a customer would miss in the catalog (message ids): publishing is still allowed,
    the preview says it before the offering goes out."""
    gaps = []
    contact = offering.get("contact") or {}
    if not str(offering.get("summary") or "").strip():
        gaps.append("offering.gap.summary")
    if not str(offering.get("description") or "").strip():
        gaps.append("offering.gap.description")
    if not str(offering.get("contract_terms") or "").strip():
        gaps.append("offering.gap.terms")
    if not (contact.get("email") or contact.get("phone")):
        gaps.append("offering.gap.contact")
    return gaps


CATEGORIES = THEMENFELDER
MATURITIES = tuple(str(m) for m in MATURITY_LEVELS)
