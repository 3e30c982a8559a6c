"""Verwaltung in the terminal app, as the operator uses it against a real server: accredit a
newly registered municipality, set its in-house relationship, add its first user and hand over a
token — which then works, is shown once and never listed; revoke it again."""

from __future__ import annotations

import httpx
from app_support import make_app, screen_text, settle
from support import auth
from textual.widgets import Input, Select

from efa_tui.api.models import User
from efa_tui.domain.leitweg import make_leitweg_id
from efa_tui.screens.administration import (
    AccreditationForm,
    AdministrationScreen,
    InhouseForm,
    OrganizationForm,
    OrganizationScreen,
    TokenForm,
    TokenShownScreen,
    TokensScreen,
    UserEditForm,
    UserForm,
)
from efa_tui.screens.confirm import ConfirmScreen
from efa_tui.screens.edit_conflict import EditConflictScreen


def server_url(app) -> str:
    return app.session.services.administration.server_url()


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


async def _until(pilot, done, rounds: int = 40) -> None:
    """Settle until ``done()`` holds (a worker's answer shown), at most ``rounds`` times; then it fails."""
    for _ in range(rounds):
        await settle(pilot)
        if done():
            return
    raise AssertionError(f"not after {rounds} rounds: {done.__code__.co_filename}:{done.__code__.co_firstlineno}")


async def _administration(pilot, shown=lambda screen: bool(screen.organizations), rounds: int = 40):
    """Verwaltung opened on top, once its list holds what ``shown`` waits for (by default: any)."""
    pilot.app.push_screen(AdministrationScreen(pilot.app.session))
    screen = await _wait_for(pilot, AdministrationScreen)
    for _ in range(rounds):
        await settle(pilot)
        if shown(screen):
            break
    return screen


async def test_the_operator_accredits_a_municipality_adds_its_user_and_hands_over_a_token(live_server, tmp_path):
    org = _register(live_server)
    assert org["accreditation"]["state"] == "applied"
    app = make_app(live_server, tmp_path, identity="operator")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await _administration(pilot, lambda screen: org["id"] in screen.organizations)
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
        operator = next(op for op in detail.operators if op.key == "govdigital")
        form.query_one("#field-inhouse_operator_id", Select).value = str(operator.id)
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
        await settle(pilot)
        assert "Noch kein Token: mit n geben Sie eines aus" in screen_text(app)  # not a silent empty table
        assert not tokens.check_action("revoke", ()) and "Widerrufen" not in _lines(app)[-1]  # nothing to revoke
        await pilot.press("n")
        await _wait_for(pilot, TokenForm)
        await pilot.press(*"Arbeitsplatz Roth", "ctrl+s")
        shown = await _wait_for(pilot, TokenShownScreen)
        secret = shown.token["token"]
        assert secret.startswith("efa_") and secret in screen_text(app)
        # How to log in with it, with this very server's address (not a placeholder "URL").
        assert f"efa-tui login --server {live_server}" in screen_text(app).replace("\n", "")
        await pilot.press("c")
        assert app.clipboard == secret  # sent to the terminal as OSC 52 (tmux passes it on with set-clipboard on)
        await pilot.press("escape")
        await _wait_for(pilot, TokensScreen)
        for _ in range(40):  # the list of tokens reloads after the new one is closed
            await settle(pilot)
            if "Arbeitsplatz Roth" in (shown_now := screen_text(app)):
                break
        assert secret not in shown_now and "Arbeitsplatz Roth" in shown_now, shown_now

    me = httpx.get(f"{live_server}/me", headers={"Authorization": f"Bearer {secret}"}).json()
    assert me["name"] == "Jana Roth" and me["can_order"] is True
    listed = httpx.get(f"{live_server}/users/{me['id']}/tokens", headers=auth("operator")).json()["items"]
    assert [t["name"] for t in listed] == ["Arbeitsplatz Roth"] and "token" not in listed[0]
    assert tokens.tokens  # the list the screen showed came from the server

    # Revoking is irreversible: asked first, and `x x` revokes nothing (walk finding F9).
    as_her = {"Authorization": f"Bearer {secret}"}
    app = make_app(live_server, tmp_path, identity="operator")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _open_organization(pilot, org["id"])
        await pilot.press("t")
        tokens = await _wait_for(pilot, TokensScreen)
        await _until(pilot, lambda: bool(tokens.tokens))
        await pilot.press("x")
        await _wait_for(pilot, ConfirmScreen)
        assert "nicht zurücknehmen" in screen_text(app)
        await pilot.press("x")
        await settle(pilot)
        assert httpx.get(f"{live_server}/me", headers=as_her).status_code == 200
        await pilot.press("j")  # j moves down a list: no answer to an irreversible question
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and "Widerrufen (w)" in screen_text(app)
        assert httpx.get(f"{live_server}/me", headers=as_her).status_code == 200
        await pilot.press("w")
        await _wait_for(pilot, TokensScreen)
        await _until(pilot, lambda: "widerrufen" in screen_text(app))
        # On the token's own row at 80 columns, not only in the note (the state column was off screen).
        await _until(pilot, lambda: any("Arbeitsplatz Roth" in line and "widerrufen" in line for line in _lines(app)))
        # Every column whole at 80 (the last was cut: "zuletzt genutzt  er").
        header = next(line for line in _lines(app) if "Bezeichnung" in line)
        assert header.rstrip().endswith("genutzt"), header
    assert httpx.get(f"{live_server}/me", headers=as_her).status_code == 401


async def test_a_customer_admin_sees_only_its_own_organisation(live_server, tmp_path):
    app = make_app(live_server, tmp_path, identity="customer")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await _administration(pilot)
        names = [o.name for o in screen.organizations.values()]
        assert names == ["Landeshauptstadt München"]
        assert "Kommune" in screen_text(app)  # its Art, not only its role (Kunde)
        await pilot.press("enter")
        detail = await _wait_for(pilot, OrganizationScreen)
        for _ in range(20):
            await settle(pilot)
            if detail.operators:
                break
        # The in-house relationship names its operator for the customer too (not its id).
        operator = httpx.get(f"{server_url(app)}/organizations/{detail.org.inhouse_operator_id}",
                             headers=auth("customer")).json()
        assert f"Inhouse-Beziehung mit {operator['name']}" in screen_text(app).replace("\n", " ")
        await pilot.press("a")  # only the operator accredits
        await settle(pilot)
        assert isinstance(app.screen, OrganizationScreen)


async def _open_organization(pilot, org_id: int) -> OrganizationScreen:
    screen = await _administration(pilot, lambda screen: org_id in screen.organizations)
    table = screen.query_one("#admin-orgs")
    table.move_cursor(row=table.get_row_index(str(org_id)))
    await pilot.press("enter")
    detail = await _wait_for(pilot, OrganizationScreen)
    for _ in range(20):
        await settle(pilot)
        if detail.users or detail.etag:
            break
    return detail


async def _edit_organization(pilot, org_id: int) -> OrganizationForm:
    """The organisation's detail, then its edit form (`e`), settled."""
    await _open_organization(pilot, org_id)
    await pilot.press("e")
    form = await _wait_for(pilot, OrganizationForm)
    await settle(pilot)
    return form


async def _change_street(pilot, server: str, org_id: int, street: str) -> None:
    """The organisation's edit form, a new street, ctrl+s: back on its detail, and the server has it."""
    form = await _edit_organization(pilot, org_id)
    form.form.set_value("street", street)
    await settle(pilot)
    await pilot.press("ctrl+s")
    await _wait_for(pilot, OrganizationScreen)
    await _until(pilot, lambda: _org(server, org_id)["address"]["street"] == street)


def _lines(app) -> list[str]:
    """The terminal's lines as the user sees them (the compositor's output, one per row)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def _org(server: str, org_id: int) -> dict:
    return httpx.get(f"{server}/organizations/{org_id}", headers=auth("operator")).json()


async def test_the_operator_registers_a_municipality_field_errors_at_their_fields(live_server, tmp_path):
    app = make_app(live_server, tmp_path, identity="operator")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(AdministrationScreen(app.session))
        await _wait_for(pilot, AdministrationScreen)
        await pilot.press("n")
        await pilot.press(*"Gemeinde Testhausen")  # typed at once: into the first field, the name
        form = await _wait_for(pilot, OrganizationForm)
        await settle(pilot)
        assert form.form.value("name") == "Gemeinde Testhausen"
        fields = form.form
        fields.set_value("customer_type", "kommune")
        fields.set_value("ags", "17123456")  # no Land has the number 17
        fields.set_value("leitweg_ids", "992-90009-97")  # wrong check digits
        fields.set_value("population", "4.711")
        await settle(pilot)
        assert "01 bis 16" in fields.errors["ags"] and "leitweg_ids" in fields.errors
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, OrganizationForm)  # nothing sent: the rules said no
        fields.set_value("ags", "091620000000")  # an ARS (12 digits)
        fields.set_value("leitweg_ids", "992-90009-96")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert list(fields.errors) == ["population_date"]  # a population needs its reference date
        fields.set_value("population_date", "31.12.2025")
        fields.set_value("postcode", "12345678901")  # only the server knows its limit: 422 at the field
        await settle(pilot)
        await pilot.press("ctrl+s")
        for _ in range(20):
            await settle(pilot)
            if "postcode" in fields.errors:
                break
        assert isinstance(app.screen, OrganizationForm) and "postcode" in fields.errors
        assert fields.value("name") == "Gemeinde Testhausen" and fields.value("ags") == "091620000000"  # kept
        assert app.focused is fields.control("postcode")
        fields.set_value("postcode", "83209")
        fields.set_value("city", "Testhausen")
        await settle(pilot)
        await pilot.press("ctrl+s")
        detail = await _wait_for(pilot, OrganizationScreen)  # straight on to the new organisation
        await settle(pilot)
        assert "Gemeinde Testhausen" in screen_text(app) and "beantragt" in screen_text(app)

    org = _org(live_server, detail.org.id)
    assert org["key"] == "gemeinde-testhausen" and org["kind"] == "customer" and org["customer_type"] == "kommune"
    assert (org["ags"], org["population"], org["population_date"]) == ("091620000000", 4711, "2025-12-31")
    assert org["leitweg_id"] == "992-90009-96" and org["address"]["city"] == "Testhausen"
    assert org["accreditation"]["state"] == "applied"


async def test_the_operator_edits_an_organisation_with_if_match_and_a_conflict_is_merged(live_server, tmp_path):
    muenchen = httpx.get(f"{live_server}/me", headers=auth("customer")).json()["organization"]
    app = make_app(live_server, tmp_path, identity="operator")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        form = await _edit_organization(pilot, muenchen["id"])
        assert form.form.value("name") == muenchen["name"] and app.focused is form.form.control("name")
        form.form.set_value("population", "1.510.378")
        form.form.set_value("population_date", "31.12.2025")
        await settle(pilot)
        # Meanwhile someone else changes the organisation.
        current = httpx.get(f"{live_server}/organizations/{muenchen['id']}", headers=auth("operator"))
        r = httpx.patch(f"{live_server}/organizations/{muenchen['id']}", json={"city": "München (Stadt)"},
                        headers=auth("operator", **{"If-Match": current.headers["etag"]}))
        assert r.status_code == 200, r.text
        await pilot.press("ctrl+s")  # 412, no field both changed: merged and saved onto the current version
        await _wait_for(pilot, OrganizationScreen)

    org = _org(live_server, muenchen["id"])
    assert (org["population"], org["population_date"]) == (1510378, "2025-12-31")
    assert org["address"]["city"] == "München (Stadt)"  # the other change stays
    assert org["name"] == muenchen["name"]  # only what changed was sent


async def test_the_operator_edits_a_user_and_disables_and_enables_it(live_server, tmp_path):
    me = httpx.get(f"{live_server}/me", headers=auth("customer")).json()
    org_id = me["organization"]["id"]
    app = make_app(live_server, tmp_path, identity="operator")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        detail = await _open_organization(pilot, org_id)
        table = detail.query_one("#org-users")
        table.move_cursor(row=table.get_row_index(str(me["id"])))
        await pilot.press("u")
        form = await _wait_for(pilot, UserEditForm)
        await settle(pilot)
        assert form.form.value("email") == me["email"]
        await pilot.press("end", *" (Kämmerei)")
        await pilot.press("ctrl+s")
        await _wait_for(pilot, OrganizationScreen)
        for _ in range(20):
            await settle(pilot)
            if "(Kämmerei)" in screen_text(app):
                break
        assert "(Kämmerei)" in screen_text(app)

        await pilot.press("d")
        await _wait_for(pilot, ConfirmScreen)
        await pilot.press("enter")  # the safe answer has the focus: nothing happens
        await _wait_for(pilot, OrganizationScreen)
        await settle(pilot)
        assert not detail.users[me["id"]].disabled
        await pilot.press("d")
        await _wait_for(pilot, ConfirmScreen)
        await pilot.press("d")  # a doubled key is no answer (walk F18: "escape d" disabled a user)
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and not detail.users[me["id"]].disabled
        await pilot.press("s")  # sperren
        await _wait_for(pilot, OrganizationScreen)
        for _ in range(20):
            await settle(pilot)
            if (row := detail.users.get(me["id"])) is not None and row.disabled:
                break
        assert "gesperrt" in screen_text(app)
        assert httpx.get(f"{live_server}/me", headers=auth("customer")).status_code == 401

        await pilot.press("d")
        await _wait_for(pilot, ConfirmScreen)
        await pilot.press("e")  # entsperren
        await _wait_for(pilot, OrganizationScreen)
        for _ in range(20):
            await settle(pilot)
            if (row := detail.users.get(me["id"])) is not None and not row.disabled:
                break

    user = httpx.get(f"{live_server}/me", headers=auth("customer"))
    assert user.status_code == 200 and user.json()["name"] == me["name"] + " (Kämmerei)"
    audit = httpx.get(f"{live_server}/audit", params={"target_kind": "user", "target_id": me["id"]},
                      headers=auth("operator")).json()["items"]
    assert [e["action"] for e in audit][:3] == ["user.changed"] * 3


async def test_an_admin_who_would_lock_itself_out_is_told_so_and_nothing_waits_in_the_outbox(live_server, tmp_path):
    """The server refuses (409 self-lockout): a refusal, not a write that waits in the outbox for
    ever as if the server were busy (every 409 was taken for "still running")."""
    me = httpx.get(f"{live_server}/me", headers=auth("customer")).json()
    assert me["admin"]
    app = make_app(live_server, tmp_path, identity="customer")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        detail = await _open_organization(pilot, me["organization"]["id"])
        table = detail.query_one("#org-users")
        table.move_cursor(row=table.get_row_index(str(me["id"])))
        await pilot.press("d")
        await _wait_for(pilot, ConfirmScreen)
        assert "Abbrechen (esc)" in screen_text(app)
        await pilot.press("s")
        await _wait_for(pilot, OrganizationScreen)
        for _ in range(20):
            await settle(pilot)
            if any("abgelehnt" in str(n.message).lower() or "refus" in str(n.message) for n in app._notifications):
                break
        messages = [str(n.message) for n in app._notifications]
        assert any("nicht selbst sperren" in m for m in messages), messages  # the server's German detail
        assert app.session.outbox.pending() == []
    assert httpx.get(f"{live_server}/me", headers=auth("customer")).status_code == 200


async def test_a_token_the_server_refuses_shows_the_reason_at_its_field(live_server, tmp_path):
    """A 422 on a token (a name longer than the server takes) puts the server's message at the
    name field; the form stays open with what was typed."""
    me = httpx.get(f"{live_server}/me", headers=auth("operator")).json()
    app = make_app(live_server, tmp_path, identity="operator")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(TokenForm(app.session, User(id=me["id"], name=me["name"])))
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


async def test_the_operator_registers_a_land_with_both_roles_and_two_leitweg_ids_a_bad_one_named_by_its_line(live_server, tmp_path):
    first, second = make_leitweg_id("06", "HMDI"), make_leitweg_id("06", "HZD")
    app = make_app(live_server, tmp_path, identity="operator")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(AdministrationScreen(app.session))
        await _wait_for(pilot, AdministrationScreen)
        await pilot.press("n")
        form = await _wait_for(pilot, OrganizationForm)
        await settle(pilot)
        fields = form.form
        assert fields.value("role_customer") is True and fields.value("role_provider") is False
        fields.set_value("name", "Land Testhessen")
        fields.set_value("customer_type", "land")
        fields.set_value("ags", "06")
        fields.set_value("role_provider", True)  # it publishes offerings too
        fields.set_value("leitweg_ids", f"{first}\n06-HZD-00")  # the second line's check digits are wrong
        await settle(pilot)
        assert fields.errors["leitweg_ids"].startswith("Zeile 2: Prüfziffern 00")
        await pilot.press("ctrl+s")
        await settle(pilot)
        area = fields.control("leitweg_ids")
        assert isinstance(app.screen, OrganizationForm) and app.focused is area
        assert area.cursor_location[0] == 1  # on the bad line, what was typed kept
        assert fields.value("leitweg_ids") == f"{first}\n06-HZD-00"
        fields.set_value("leitweg_ids", f"{first}\n\n{first}")  # a repeat: the list's rule, at its line
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert fields.errors["leitweg_ids"].startswith("Zeile 3: ") and area.cursor_location[0] == 2
        # A server's problem at an item ("leitweg_ids.1") lands at the line that holds it.
        fields.show_errors({"leitweg_ids.1": "vom Server"})
        assert fields.errors["leitweg_ids"] == "Zeile 3: vom Server"
        fields.set_value("role_customer", False)
        fields.set_value("role_provider", False)
        fields.set_value("leitweg_ids", f"{first}\n{second}\n")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "role_customer" in fields.errors and isinstance(app.screen, OrganizationForm)  # no role: no organisation
        fields.set_value("role_customer", True)
        fields.set_value("role_provider", True)
        await settle(pilot)
        await pilot.press("ctrl+s")
        detail = await _wait_for(pilot, OrganizationScreen)
        await settle(pilot)
        assert "Kunde · Bereitsteller" in screen_text(app) and f"Leitweg-IDs: {first}, {second}" in screen_text(app)
        org = _org(live_server, detail.org.id)
        assert org["roles"] == ["customer", "provider"] and org["leitweg_ids"] == [first, second]

        # A user of it may be a customer or a provider.
        await pilot.press("n")
        user_form = await _wait_for(pilot, UserForm)
        assert [v for v, _ in next(f for f in user_form.fields() if f.name == "role").options] == ["customer", "provider"]
        await pilot.press("escape")
        await settle(pilot)

        # Edit: the second Leitweg-ID removed (its line deleted), the provider role kept.
        await _wait_for(pilot, OrganizationScreen)
        await pilot.press("e")
        form = await _wait_for(pilot, OrganizationForm)
        await settle(pilot)
        assert form.form.value("leitweg_ids") == f"{first}\n{second}" and form.form.value("role_provider") is True
        form.form.set_value("leitweg_ids", first)
        await settle(pilot)
        await pilot.press("ctrl+s")
        await _wait_for(pilot, OrganizationScreen)
    org = _org(live_server, detail.org.id)
    assert org["leitweg_ids"] == [first] and org["roles"] == ["customer", "provider"]


async def test_an_organisation_both_edited_shows_both_versions_and_the_choice_is_saved(live_server, tmp_path):
    """The same field changed by a colleague (a second client) and me: the conflict view of the
    offering form, with both names whole; the colleague's version chosen is what the server keeps,
    my other change on top of it."""
    muenchen = httpx.get(f"{live_server}/me", headers=auth("customer")).json()["organization"]
    app = make_app(live_server, tmp_path, identity="operator")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        form = await _edit_organization(pilot, muenchen["id"])
        form.form.set_value("street", "Marienplatz 8 (Neues Rathaus, Eingang Dienerstraße)")
        form.form.set_value("city", "München (meine Schreibweise)")
        form.form.set_value("population_date", "31.12.2025")  # the demo's population has no reference date yet
        await settle(pilot)
        current = httpx.get(f"{live_server}/organizations/{muenchen['id']}", headers=auth("operator"))
        r = httpx.patch(f"{live_server}/organizations/{muenchen['id']}",
                        json={"street": "Marienplatz 8, Rathaus – Bürgerbüro im Erdgeschoss"},
                        headers=auth("operator", **{"If-Match": current.headers["etag"]}))
        assert r.status_code == 200, r.text
        await pilot.press("ctrl+s")
        view = await _wait_for(pilot, EditConflictScreen)
        assert [c.name for c in view.clashes] == ["street"]  # the city: only mine, no question
        text = " ".join(screen_text(app).replace("│", " ").split())
        assert "Marienplatz 8, Rathaus – Bürgerbüro im Erdgeschoss" in text
        assert "Marienplatz 8 (Neues Rathaus, Eingang Dienerstraße)" in text
        await pilot.press("2")  # theirs
        await pilot.press("ctrl+s")
        await _wait_for(pilot, OrganizationScreen)
    org = _org(live_server, muenchen["id"])
    assert org["address"]["street"] == "Marienplatz 8, Rathaus – Bürgerbüro im Erdgeschoss"
    assert org["address"]["city"] == "München (meine Schreibweise)"


async def test_the_organisations_are_listed_in_german_order(live_server, tmp_path):
    """"Ämterverbund …" stands with the A's (by code point, after every Z)."""
    r = httpx.post(f"{live_server}/organizations", headers=auth("operator"), json={
        "key": "aemterverbund", "kind": "customer", "name": "Ämterverbund Unterland", "leitweg_id": "992-90009-96"})
    assert r.status_code in (201, 409), r.text
    app = make_app(live_server, tmp_path, identity="operator")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await _administration(pilot)
        table = screen.query_one("#admin-orgs")
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
    assert names.index("Ämterverbund Unterland") < names.index("Freie und Hansestadt Hamburg"), names


async def test_support_sees_no_key_it_may_not_use_on_an_organisation(live_server, tmp_path):
    """The walk: support saw every operator key; `s` was refused with a toast, and the reason
    typed after it ran `u` (edit a user), appended the rest to the user's name, and ctrl+s sent it."""
    app = make_app(live_server, tmp_path, identity="support")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await _administration(pilot)
        await pilot.press("enter")
        detail = await _wait_for(pilot, OrganizationScreen)
        await settle(pilot)
        shown = {b.binding.action for b in detail.active_bindings.values()}
        refused = {"accredit", "suspend", "inhouse", "edit", "new_user", "edit_user", "toggle_user", "tokens"}
        assert not shown & refused, shown & refused  # neither in the footer nor run
        assert "audit" in shown and "back" in shown
        for key in "suntei":
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is detail, (key, type(app.screen).__name__)
        assert not app._notifications  # no toast either: the keys are not there


async def test_an_organisations_roles_change_only_when_confirmed_and_an_edit_needs_no_invented_date(live_server, tmp_path):
    """Walk F21: the form said the role "stays" while its ticks changed it (Leipzig became a
    provider by a Space among address fields), and a record with a population but no Stichtag
    could not be saved at all until a date was invented."""
    orgs = httpx.get(f"{live_server}/organizations", headers=auth("operator"), params={"limit": 500}).json()["items"]
    leipzig = next(o for o in orgs if o["name"] == "Stadt Leipzig")
    assert leipzig["population"] and not leipzig.get("population_date") and leipzig["roles"] == ["customer"]
    app = make_app(live_server, tmp_path, identity="operator")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # No Stichtag asked for: the population was not touched.
        await _change_street(pilot, live_server, leipzig["id"], "Martin-Luther-Ring 4–6")

        await pilot.press("e")
        form = await _wait_for(pilot, OrganizationForm)
        await settle(pilot)
        form.form.set_value("role_provider", True)
        await settle(pilot)
        await pilot.press("ctrl+s")
        dialog = await _wait_for(pilot, ConfirmScreen)
        assert "Rollen von Stadt Leipzig ändern: Kunde → Kunde · Bereitsteller?" in screen_text(app)
        await pilot.press("ctrl+s")  # the send key again is no answer
        await settle(pilot)
        assert app.screen is dialog
        await pilot.press("escape")
        await _wait_for(pilot, OrganizationForm)
        await settle(pilot)
        assert _org(live_server, leipzig["id"])["roles"] == ["customer"]
        await pilot.press("ctrl+s", "j")
        await _wait_for(pilot, OrganizationScreen)
        await _until(pilot, lambda: _org(live_server, leipzig["id"])["roles"] == ["customer", "provider"])


async def test_the_operator_ends_an_inhouse_relationship_and_an_operator_has_none(live_server, tmp_path):
    """Walk F13: the relationship could be set but not ended; an operator could be made in-house
    with another operator, and the operator's own organisation suspended."""
    orgs = httpx.get(f"{live_server}/organizations", headers=auth("operator"), params={"limit": 500}).json()["items"]
    muenchen = next(o for o in orgs if o["key"] == "muenchen")
    fitko = next(o for o in orgs if o["key"] == "fitko")
    assert muenchen["inhouse_operator_id"]
    app = make_app(live_server, tmp_path, identity="operator")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        detail = await _open_organization(pilot, muenchen["id"])
        await pilot.press("i")
        form = await _wait_for(pilot, InhouseForm)
        await settle(pilot)
        assert "Inhouse-Beziehung von Landeshauptstadt München" in screen_text(app)
        form.form.set_value("inhouse_operator_id", InhouseForm.NONE)
        await settle(pilot)
        await pilot.press("ctrl+s")
        await _wait_for(pilot, OrganizationScreen)
        await _until(pilot, lambda: _org(live_server, muenchen["id"])["inhouse_operator_id"] is None)
        await pilot.press("escape")
        await settle(pilot)

        detail = await _open_organization(pilot, fitko["id"])
        footer = screen_text(app).splitlines()[-1]
        assert "Inhouse" not in footer and "Sperren" not in footer, footer
        await pilot.press("i", "s")
        await settle(pilot)
        assert app.screen is detail
    assert _org(live_server, fitko["id"])["inhouse_operator_id"] is None
    assert _org(live_server, fitko["id"])["accreditation"]["state"] != "suspended"


async def test_an_organisation_without_a_recorded_art_is_edited_without_inventing_one(live_server, tmp_path):
    """Helper walk: AKDB (a provider, no Art recorded — the list reads "IT-Dienstleister" by its
    role) could not get a new street without an Art picked first ("Pflichtfeld"); the server asks
    for none. A recorded Art stays required (it is not cleared by mistake), a new one is chosen."""
    orgs = httpx.get(f"{live_server}/organizations", headers=auth("operator"), params={"limit": 500}).json()["items"]
    without = next(o for o in orgs if not o.get("customer_type") and o["kind"] == "provider")
    app = make_app(live_server, tmp_path, identity="operator")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _change_street(pilot, live_server, without["id"], "Hansastraße 12–16")
        assert not _org(live_server, without["id"]).get("customer_type")


async def test_an_accredited_organisation_offers_no_accreditation_and_a_refusal_speaks_german(live_server, tmp_path):
    """Helper walk: an accredited organisation's footer offered `a Akkreditieren`, which ended in
    "eine Organisation im Stand „accredited“ kann nicht „accredited“ werden"."""
    from efa_tui.domain.administration import accreditation_step

    orgs = httpx.get(f"{live_server}/organizations", headers=auth("operator"), params={"limit": 500}).json()["items"]
    accredited = next(o for o in orgs if o["accreditation"]["state"] == "accredited" and o["kind"] != "operator")
    app = make_app(live_server, tmp_path, identity="operator")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        detail = await _open_organization(pilot, accredited["id"])
        assert not detail.check_action("accredit", ()) and detail.check_action("suspend", ())
    refusal = accreditation_step("accredited", "accredited")
    assert refusal and refusal.de == "die Organisation ist bereits akkreditiert"
    other = accreditation_step("accredited", "applied")
    assert other and "„akkreditiert“" in other.de and "accredited" not in other.de
