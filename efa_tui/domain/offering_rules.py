"""What makes an offering's fields valid, whatever language the user types in: lengths, LeiKa and
OZG keys, contact details, Länder, keywords, terms in months; and the provider's overview (orders
per offering, what a customer would miss before publishing).

Pure functions. Each check answers ``None`` (fine) or a message id (the screen translates it);
the server validates again on its own, this only spares the user a round trip. Amounts are read
in the user's locale, so they are checked in ``efa_tui/offering_text.py``, not here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from .catalog import BUNDESLAENDER, MATURITY_LEVELS, THEMENFELDER

MAX_MONEY = Decimal("9999999999.99")  # twelve digits, two of them cents: what the server stores
_LEIKA = re.compile(r"^\d{14}$")  # LeiKa-Schlüssel: 14 digits
_OZG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-_. ]{0,19}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()/\-]{4,48}$")
_NAMES = {name.casefold(): code for code, name in BUNDESLAENDER.items()}

LIMITS = {"title": 200, "summary": 500, "description": 20_000, "contract_terms": 5000, "unit_label": 100,
          "contact_name": 200, "contact_email": 200, "contact_phone": 50, "ozg_id": 20, "leika_key": 20}


def check_title(text: str) -> str | None:
    if not text.strip():
        return "offering.err.required"
    return "offering.err.too_long" if len(text) > LIMITS["title"] else None


def check_length(name: str) -> Callable[[str], str | None]:
    def check(text: str) -> str | None:
        return "offering.err.too_long" if len(text) > LIMITS[name] else None
    return check


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


def check_months(maximum: int) -> Callable[[str], str | None]:
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


# --- the provider's overview -----------------------------------------------------------------------

OPEN_STATES = ("interest", "proposed")  # waiting on the provider or on the customer
CONTRACT_STATES = ("ordered", "active")  # binding: ordered (not yet running) and running contracts


def count_orders(orders: Sequence[Mapping[str, Any]]) -> dict[int, tuple[int, int]]:
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
