"""Verwaltung in the terminal app, as the operator uses it against a real server: accredit a
newly registered municipality, set its in-house relationship, add its first user and hand over a
token — which then works, is shown once and never listed; revoke it again."""

from __future__ import annotations

import httpx
from app_support import make_app, screen_text, settle
from support import auth
from textual.widgets import Input, Select

from efa_tui.screens.administration import (
    AccreditationForm,
    AdministrationScreen,
    InhouseForm,
    OrganizationScreen,
    TokenForm,
    TokenShownScreen,
    TokensScreen,
    UserForm,
)


def _register(server: str) -> dict:
    r = httpx.post(f"{server}/organizations", headers=auth("operator"), json={
        "key": "bad-neustadt", "kind": "customer", "name": "Stadt Bad Neustadt a. d. Saale", "leitweg_id": "992-90009-96"})
    assert r.status_code in (201, 409), r.text
    return next(o for o in httpx.get(f"{server}/organizations", params={"limit": 1000, "q": "neustadt"},
                                     headers=auth("operator")).json()["items"] if o["key"] == "bad-neustadt")


async def _wait_for(pilot, kind, rounds: int = 40):
    for _ in range(rounds):
        await settle(pilot)
        if isinstance(pilot.app.screen, kind):
            return pilot.app.screen
    raise AssertionError(f"{kind.__name__} did not open; on {type(pilot.app.screen).__name__}")


async def test_the_operator_accredits_a_municipality_adds_its_user_and_hands_over_a_token(live_server, tmp_path):
    org = _register(live_server)
    assert org["accreditation"]["state"] == "applied"
    app = make_app(live_server, tmp_path, identity="operator")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(AdministrationScreen(app.session))
        screen = await _wait_for(pilot, AdministrationScreen)
        for _ in range(20):
            await settle(pilot)
            if org["id"] in screen.organizations:
                break
        assert "beantragt" in screen_text(app)
        table = screen.query_one("#admin-orgs")
        table.move_cursor(row=table.get_row_index(str(org["id"])))
        await pilot.press("enter")
        detail = await _wait_for(pilot, OrganizationScreen)
        await settle(pilot)
        assert "Stadt Bad Neustadt" in screen_text(app) and "Keine Inhouse-Beziehung" in screen_text(app)

        # Accredit, with the reason recorded.
        await pilot.press("a")
        form = await _wait_for(pilot, AccreditationForm)
        await pilot.press(*"Unterlagen geprüft")  # typed right after the form opened
        await pilot.press("ctrl+s")
        await _wait_for(pilot, OrganizationScreen)
        server_org = httpx.get(f"{live_server}/organizations/{org['id']}", headers=auth("operator")).json()
        assert server_org["accreditation"]["state"] == "accredited"
        assert server_org["accreditation"]["reason"] == "Unterlagen geprüft"

        # The in-house relationship, with its basis.
        await pilot.press("i")
        form = await _wait_for(pilot, InhouseForm)
        operator = next(op for op in detail.operators if op["key"] == "govdigital")
        form.query_one("#field-inhouse_operator_id", Select).value = str(operator["id"])
        form.query_one("#field-inhouse_basis", Input).value = "Mitglied der govdigital eG"
        await pilot.press("ctrl+s")
        await _wait_for(pilot, OrganizationScreen)
        await settle(pilot)
        assert "Inhouse-Beziehung mit govdigital" in screen_text(app)

        # Its first user.
        await pilot.press("n")
        await _wait_for(pilot, UserForm)
        await pilot.press(*"Jana Roth", "tab", *"jana.roth@bad-neustadt.example")
        await pilot.press("ctrl+s")
        await _wait_for(pilot, OrganizationScreen)
        for _ in range(20):
            await settle(pilot)
            if detail.users:
                break
        assert "Jana Roth" in screen_text(app)

        # A token for her, shown once.
        await pilot.press("t")
        tokens = await _wait_for(pilot, TokensScreen)
        await pilot.press("n")
        await _wait_for(pilot, TokenForm)
        await pilot.press(*"Arbeitsplatz Roth", "ctrl+s")
        shown = await _wait_for(pilot, TokenShownScreen)
        secret = shown.token["token"]
        assert secret.startswith("efa_") and secret in screen_text(app)
        await pilot.press("c")
        await pilot.press("escape")
        await _wait_for(pilot, TokensScreen)
        await settle(pilot)
        assert secret not in screen_text(app) and "Arbeitsplatz Roth" in screen_text(app)

    me = httpx.get(f"{live_server}/me", headers={"Authorization": f"Bearer {secret}"}).json()
    assert me["name"] == "Jana Roth" and me["can_order"] is True
    listed = httpx.get(f"{live_server}/users/{me['id']}/tokens", headers=auth("operator")).json()["items"]
    assert [t["name"] for t in listed] == ["Arbeitsplatz Roth"] and "token" not in listed[0]
    assert tokens.tokens  # the list the screen showed came from the server


async def test_a_customer_admin_sees_only_its_own_organisation(live_server, tmp_path):
    app = make_app(live_server, tmp_path, identity="customer")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(AdministrationScreen(app.session))
        screen = await _wait_for(pilot, AdministrationScreen)
        for _ in range(20):
            await settle(pilot)
            if screen.organizations:
                break
        names = [o["name"] for o in screen.organizations.values()]
        assert names == ["Landeshauptstadt München"]
        await pilot.press("enter")
        await _wait_for(pilot, OrganizationScreen)
        await pilot.press("a")  # only the operator accredits
        await settle(pilot)
        assert isinstance(app.screen, OrganizationScreen)


async def test_a_token_the_server_refuses_shows_the_reason_at_its_field(live_server, tmp_path):
    """A 422 on a token (a name longer than the server takes) puts the server's message at the
    name field; the form stays open with what was typed."""
    me = httpx.get(f"{live_server}/me", headers=auth("operator")).json()
    app = make_app(live_server, tmp_path, identity="operator")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(TokenForm(app.session, {"id": me["id"], "name": me["name"]}))
        form = await _wait_for(pilot, TokenForm)
        form.form.set_value("name", "x" * 101)
        await pilot.press("ctrl+s")
        for _ in range(20):
            await settle(pilot)
            if form.form.errors:
                break
        assert isinstance(app.screen, TokenForm)
        assert set(form.form.errors) == {"name"}, form.form.errors
        assert form.form.value("name") == "x" * 101
