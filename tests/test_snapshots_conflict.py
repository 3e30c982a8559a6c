"""Snapshots of the edit conflict view (412: both versions whole, the differing words marked, a
choice per field) and of the question before a second interest in the same offering — at 80x24
in German, and once in English. Update with ``--snapshot-update`` and look at the SVGs."""

from __future__ import annotations

import httpx
import pytest
from app_support import fix_clock, make_app, quiet
from support import auth

from efa_tui import formatting, i18n
from efa_tui.domain.orders import is_open
from efa_tui.screens.edit_conflict import Clash, EditConflictScreen
from efa_tui.screens.offering_detail import OfferingScreen

SIZE = (80, 24)
BASE = "Antrag online stellen, Nachweise hochladen und den Stand jederzeit einsehen."
MINE = "Antrag online stellen, Nachweise hochladen und den Bescheid als PDF im Postfach erhalten."
THEIRS = ("Antrag online stellen, Nachweise hochladen und den Stand jederzeit einsehen. Neu: Anmeldung auch "
          "mit dem BundID-Konto der Bürgerinnen und Bürger möglich.")


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    fix_clock(monkeypatch)
    monkeypatch.setattr(formatting, "day", lambda value: "27.11.2026" if value else "–")
    yield
    i18n.set_language("de")


def clashes() -> list[Clash]:
    return [Clash("description", i18n.t("offering.f.description"), MINE, THEIRS, MINE, THEIRS, multiline=True),
            Clash("annual_fee", i18n.t("offering.f.annual_fee"), "1.111,00", "999,00", "1.111,00", "999,00")]


def shot(snap_compare, server, tmp_path, identity: str, language: str, screen, keys: tuple[str, ...]) -> bool:
    """``screen(app)`` pushed over the app, ``keys`` pressed, the terminal compared."""
    async def run_before(pilot):
        await quiet(pilot)
        pilot.app.push_screen(screen(pilot.app))
        await quiet(pilot)
        for key in keys:
            await pilot.press(key)
            await quiet(pilot)

    app = make_app(server, tmp_path, identity=identity, start_network=False, language=language)
    return snap_compare(app, terminal_size=SIZE, run_before=run_before)


def conflict_shot(snap_compare, server, tmp_path, language: str, *keys: str) -> bool:
    return shot(snap_compare, server, tmp_path, "provider", language,
                lambda app: EditConflictScreen(clashes(), kept=[i18n.t("offering.f.summary")]), keys)


def test_conflict_view_de(snap_compare, server, tmp_path):
    assert conflict_shot(snap_compare, server, tmp_path, "de")


def test_conflict_view_after_a_choice_de(snap_compare, server, tmp_path):
    # "1" on the description: mine chosen, the focus on the next field still to decide.
    assert conflict_shot(snap_compare, server, tmp_path, "de", "1")


def test_conflict_view_en(snap_compare, server, tmp_path):
    assert conflict_shot(snap_compare, server, tmp_path, "en")


def open_order_offering(base: str) -> int:
    """An offering the demo customer's organisation has an open order for (the seed has some)."""
    with httpx.Client(base_url=base) as http:
        orders = http.get("/orders", params={"limit": 500}, headers=auth("customer")).json()["items"]
    return min(o["offering"]["id"] for o in orders if is_open(o["state"]))  # the domain's rule


def second_interest_shot(snap_compare, server, tmp_path, language: str, *keys: str) -> bool:
    offering_id = open_order_offering(server)
    return shot(snap_compare, server, tmp_path, "customer", language,
                lambda app: OfferingScreen(app.session.services.catalog, offering_id), keys)


def test_offering_detail_names_the_open_order_de(snap_compare, server, tmp_path):
    assert second_interest_shot(snap_compare, server, tmp_path, "de")


def test_second_interest_question_de(snap_compare, server, tmp_path):
    assert second_interest_shot(snap_compare, server, tmp_path, "de", "b")


def test_second_interest_question_en(snap_compare, server, tmp_path):
    assert second_interest_shot(snap_compare, server, tmp_path, "en", "b")
