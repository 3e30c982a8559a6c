"""Who may be what in the marketplace: organisations' accreditation, users' roles, tokens.

Pure rules, used by the server (which enforces them) and the client (which offers only what
they allow and explains the rest).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

# Accreditation of an organisation by the marketplace's operator: an organisation applies
# (beantragt), is accredited (akkreditiert) or suspended (gesperrt). Only an accredited
# organisation takes part: its customers may order, its provider may publish.
APPLIED = "applied"
ACCREDITED = "accredited"
SUSPENDED = "suspended"
ACCREDITATION_STATES = (APPLIED, ACCREDITED, SUSPENDED)
ACCREDITATION_STEPS: dict[str, frozenset[str]] = {
    APPLIED: frozenset({ACCREDITED, SUSPENDED}),
    ACCREDITED: frozenset({SUSPENDED}),
    SUSPENDED: frozenset({ACCREDITED}),
}

# The roles a user may have, by the kind of the organisation it belongs to: an operator's
# staff run the marketplace or support it; a provider's staff manage its offerings; a
# customer's staff order.
# A user's e-mail address: one @ between parts without spaces (the server's check and the form's).
USER_EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"


def user_email_ok(text: str) -> bool:
    return re.match(USER_EMAIL_PATTERN, text.strip()) is not None


ROLES_BY_KIND: dict[str, tuple[str, ...]] = {
    "operator": ("operator", "support"),
    "provider": ("provider",),
    "customer": ("customer",),
}

# An organisation's roles in the marketplace are a set: a member orders (customer), publishes
# offerings (provider) or both — a Land or an IT-Dienstleister often does both. An operator
# organisation has the one role operator, as before; its staff are operator or support.
MEMBER_ROLES = ("customer", "provider")


def roles_refusal(roles: list[str] | tuple[str, ...]) -> Refusal | None:
    """None when ``roles`` is a set of marketplace roles a member organisation may have."""
    if not roles:
        return Refusal("roles", "an organisation needs at least one role: customer, provider or both",
                       "eine Organisation braucht mindestens eine Rolle: Kunde, Bereitsteller oder beide")
    if len(set(roles)) != len(roles) or any(r not in MEMBER_ROLES for r in roles):
        return Refusal("roles", "the roles are customer and provider, each once",
                       "die Rollen sind Kunde und Bereitsteller, jede einmal")
    return None


def ordered_roles(roles: Iterable[str]) -> tuple[str, ...]:
    """The set in its one order (operator, customer, provider): how the server lists it."""
    have = set(roles)
    return tuple(r for r in ("operator", *MEMBER_ROLES) if r in have)


def kind_of(roles: Iterable[str]) -> str:
    """The one word older clients read as ``kind``: operator, else customer when it orders (the
    in-house relationship and ordering rules concern customers), else provider."""
    have = set(roles)
    return "operator" if "operator" in have else "customer" if "customer" in have else "provider"


def user_roles(org_roles: Iterable[str]) -> tuple[str, ...]:
    """The roles a user of an organisation with ``org_roles`` may have."""
    return tuple(dict.fromkeys(r for role in ordered_roles(org_roles) for r in ROLES_BY_KIND.get(role, ())))


# What kind of body an organisation is (its Art), apart from its role in the marketplace (its
# ``kind``: customer, provider, operator). Only an operator is a Betreiber, and an operator is
# nothing else.
ORGANIZATION_TYPES = ("kommune", "kreis", "land", "it_dienstleister", "betreiber")
TYPES_BY_KIND: dict[str, tuple[str, ...]] = {
    "operator": ("betreiber",),
    "provider": ("kommune", "kreis", "land", "it_dienstleister"),
    "customer": ("kommune", "kreis", "land", "it_dienstleister"),
}

TOKEN_SCOPES = ("read", "write")
MAX_TOKEN_DAYS = 730  # two years: a token that lives for ever is a leak waiting to happen
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Refusal:
    """Why something is not allowed, in both languages."""

    code: str
    en: str
    de: str


# The states in the server's German refusals (the client's own words: admin.accreditation.* —
# "im Stand „accredited“" reached German users).
_DE = {"applied": "beantragt", "accredited": "akkreditiert", "suspended": "gesperrt"}


def accreditation_step(current: str, target: str, kind: str = "") -> Refusal | None:
    """None when ``current`` → ``target`` is a step the operator may take (``kind``: the
    organisation's; the marketplace's operator is not suspended — it would lock itself out)."""
    if target not in ACCREDITATION_STATES:
        return Refusal("unknown-state", f"unknown accreditation state {target!r}",
                       f"unbekannter Akkreditierungsstand „{target}“")
    if kind == "operator" and target == SUSPENDED:
        return Refusal("operator-suspended", "the marketplace's operator cannot be suspended",
                       "der Betreiber des Marktplatzes kann nicht gesperrt werden")
    if target == current:
        return Refusal("accreditation-step", f"the organisation is {target} already",
                       f"die Organisation ist bereits {_DE[target]}")
    if target not in ACCREDITATION_STEPS.get(current, frozenset()):
        return Refusal("accreditation-step", f"an organisation that is {current} cannot become {target}",
                       f"von „{_DE.get(current, current)}“ nach „{_DE[target]}“ ist kein Schritt der Akkreditierung")
    return None


def inhouse_refusal(org_kind: str, org_roles: Iterable[str], partner_kind: str | None) -> Refusal | None:
    """None when an organisation may have an in-house relationship with ``partner_kind`` (None:
    the relationship ends). It exempts a customer's orders from a tender (procurement law), so it
    binds a customer to an operator — never an operator to another (walk F13)."""
    if partner_kind is None:
        return None
    if org_kind == "operator" or "customer" not in set(org_roles):
        return Refusal("inhouse-not-customer", "only a customer organisation can have an in-house relationship",
                       "nur eine Kunden-Organisation kann eine Inhouse-Beziehung haben")
    if partner_kind != "operator":
        return Refusal("inhouse-not-operator", "an in-house relationship is with an operator",
                       "eine Inhouse-Beziehung besteht mit einem Betreiber")
    return None


def role_for_roles(org_roles: Iterable[str], role: str) -> Refusal | None:
    """None when a user of an organisation with the roles ``org_roles`` may have ``role``."""
    org_roles = ordered_roles(org_roles)
    allowed = user_roles(org_roles)
    if role in allowed:
        return None
    return Refusal("role-for-kind",
                   f"a user of an organisation with the roles {', '.join(ordered_roles(org_roles)) or 'none'} "
                   f"can be {' or '.join(allowed) or 'nothing'}, not {role}",
                   f"ein Benutzer einer Organisation mit den Rollen {', '.join(ordered_roles(org_roles)) or 'keine'} "
                   f"kann nicht die Rolle „{role}“ haben")


def order_refusal(role: str, inhouse: bool, accreditation: str) -> Refusal | None:
    """Why a user may not order, or None when it may: only customers, of an accredited
    organisation, with an in-house relationship to an operator of the marketplace."""
    if role != "customer":
        return Refusal("not-customer", "only customers order", "nur Kunden bestellen")
    if accreditation != ACCREDITED:
        return Refusal("not-accredited", "the organisation is not accredited at the marketplace"
                       + (" (suspended)" if accreditation == SUSPENDED else ""),
                       "die Organisation ist am Marktplatz nicht akkreditiert"
                       + (" (gesperrt)" if accreditation == SUSPENDED else ""))
    if not inhouse:
        return Refusal("not-inhouse", "no in-house relationship (Inhouse-Beziehung) with an operator of the marketplace",
                       "keine Inhouse-Beziehung zu einem Betreiber des Marktplatzes")
    return None


def scope_allows(scope: str, method: str) -> bool:
    """A read token may only read; a write token may do what its user may."""
    return scope == "write" or method.upper() in READ_METHODS


def may_manage_users(role: str, admin: bool, own_organization: int, organization: int) -> bool:
    """The operator manages every organisation's users; an organisation's admin its own —
    except support staff, who read everything and change nothing."""
    return role == "operator" or (admin and role != "support" and own_organization == organization)


def may_read_users(role: str, admin: bool, own_organization: int, organization: int) -> bool:
    """Everyone sees the users of its own organisation; support (which changes nothing) and
    the operator those of every organisation."""
    return role in ("support", "operator") or own_organization == organization


def type_for_kind(kind: str, organization_type: str) -> Refusal | None:
    """None when an organisation of marketplace role ``kind`` (operator, or a member: customer,
    provider — the same types for both) may be of ``organization_type``."""
    allowed = TYPES_BY_KIND.get(kind, ())
    if organization_type in allowed:
        return None
    return Refusal("type-for-kind",
                   f"an organisation of role {kind} can be of type {', '.join(allowed) or 'none'}, not {organization_type}",
                   f"eine Organisation mit der Rolle „{kind}“ kann nicht von der Art „{organization_type}“ sein")


# The official key of a municipality or its region: the AGS (Amtlicher Gemeindeschlüssel) of a
# Land (2 digits), a Regierungsbezirk (3), a Kreis (5) or a Gemeinde (8: Land, Bezirk, Kreis,
# Gemeinde), or the ARS (Amtlicher Regionalschlüssel) of a Gemeindeverband (9) or a Gemeinde
# (12: the Kreis, four digits of the Gemeindeverband, then the Gemeinde). Both begin with the
# Land's number, 01 (Schleswig-Holstein) to 16 (Thüringen).
AGS_LENGTHS = (2, 3, 5, 8)
ARS_LENGTHS = (9, 12)


def ags_refusal(value: str) -> Refusal | None:
    """None when ``value`` is an AGS or ARS in form (digits, length, a Land's number)."""
    text = value.strip()
    if not text.isascii() or not text.isdigit() or len(text) not in AGS_LENGTHS + ARS_LENGTHS:
        return Refusal("ags", "an AGS has 2, 3, 5 or 8 digits, an ARS 9 or 12",
                       "ein AGS hat 2, 3, 5 oder 8 Ziffern, ein ARS 9 oder 12")
    if not 1 <= int(text[:2]) <= 16:
        return Refusal("ags", f"an AGS/ARS begins with the number of a Land, 01 to 16, not {text[:2]}",
                       f"ein AGS/ARS beginnt mit der Nummer eines Landes, 01 bis 16, nicht {text[:2]}")
    return None



_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def organization_key(name: str) -> str:
    """The directory key a new organisation gets from its (short) name when none is given:
    lower-case ASCII letters, digits and hyphens ("Stadt Bad Neustadt a. d. Saale" →
    "stadt-bad-neustadt-a-d-saale"), 2 to 64 characters."""
    text = unicodedata.normalize("NFKD", name.lower().translate(_UMLAUTS)).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:64].strip("-")
    return key if len(key) >= 2 else f"org-{key}".strip("-")
