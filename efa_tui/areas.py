"""The areas of the app, one line each: the app's modes, the number keys, ``:`` jump, the command
palette and the header title all read this table (an area is added here and nowhere else).

``screen`` names the screen class as ``module:Class`` and is imported when the area is first
opened (the catalog paints before the other areas' modules are loaded). ``roles``: who has the
area (empty: everyone); areas for a role share the role key (``4``). Headless: no Textual.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Area:
    key: str  # the mode's name
    title: str  # message id of the header title and the palette entry
    command: str  # message id of the palette entry
    verbs: tuple[str, ...]  # what ":" accepts: the English word, then the German one (see verb_in)
    screen: str  # "module:Class", built with the session
    roles: frozenset[str] = frozenset()  # empty: every role
    number: str = ""  # its number key ("4": the role's own area)

    def verb_in(self, language: str) -> str:
        """The jump word the palette shows in ``language`` (":verwaltung" stood in the English one)."""
        return self.verbs[1] if language == "de" and len(self.verbs) > 1 else self.verbs[0]

    def for_role(self, role: str | None) -> bool:
        return not self.roles or (role or "") in self.roles

    def build(self, session: Any) -> Any:
        module, _, name = self.screen.partition(":")
        return getattr(importlib.import_module(module), name)(session)


AREAS: tuple[Area, ...] = (
    Area("catalog", "area.catalog", "cmd.catalog", ("catalog", "katalog"), "efa_tui.screens.catalog:CatalogScreen", number="1"),
    Area("orders", "area.orders", "cmd.orders", ("orders", "bestellungen"), "efa_tui.screens.orders:OrdersScreen", number="2"),
    Area("invoices", "area.invoices", "cmd.invoices", ("invoices", "rechnungen"), "efa_tui.screens.invoices:InvoicesScreen",
         number="3"),
    Area("support", "area.support", "cmd.support", ("support",), "efa_tui.screens.support:SupportScreen",
         frozenset({"support", "operator"}), "4"),
    Area("my_offerings", "area.my_offerings", "cmd.my_offerings", ("my_offerings", "angebote"),
         "efa_tui.screens.my_offerings:MyOfferingsScreen", frozenset({"provider"}), "4"),
    # Everyone: the operator manages every organisation, an organisation's admin its users, the
    # others see their organisation and its users.
    Area("admin", "area.admin", "cmd.admin", ("admin", "verwaltung"),
         "efa_tui.screens.administration:AdministrationScreen", number="5"),
)
BY_KEY = {a.key: a for a in AREAS}
BY_VERB = {verb: a for a in AREAS for verb in a.verbs}
ROLE_KEY = "4"


def area(key: str) -> Area:
    return BY_KEY.get(key, AREAS[0])


def role_area(role: str | None) -> Area | None:
    """The role's own area (the ``4`` key): Meine Angebote for providers, Support for staff."""
    return next((a for a in AREAS if a.number == ROLE_KEY and a.roles and a.for_role(role)), None)


def number_keys(role: str | None) -> list[tuple[str, Area]]:
    """The number keys a role has, in order: (key, area) — ``4`` only where the role has its own area."""
    keys = [(a.number, a) for a in AREAS if a.number and not a.roles]
    own = role_area(role)
    if own is not None:
        keys.append((ROLE_KEY, own))
    return sorted(keys, key=lambda pair: pair[0])


def verbs() -> list[str]:
    """Every area's jump verbs (for the ``:`` completion)."""
    return [a.verbs[0] for a in AREAS]
