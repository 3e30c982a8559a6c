"""Screens that own the keyboard, walked with Pilot against the real reference server: typed right
after a form opens, `q`, digits and `o` go into its first field (not to the app's shortcuts); `q`
in a form asks; quitting with unsent writes says how many; a form left with escape and its changes
discarded opens fresh (the offering's fees, not the abandoned ones), a form left for another area
is off the stack; a restored draft is checked at once (a bad Leitweg-ID shows its reason)."""

from __future__ import annotations

import httpx
import pytest
from app_support import make_app, screen_text, settle
from support import auth, post_interest
from textual import events
from textual.keys import key_to_character
from textual.widgets import Select, TextArea

from efa_tui import formatting
from efa_tui.screens.confirm import ConfirmScreen
from efa_tui.screens.form_screen import FormScreen
from efa_tui.screens.offering_detail import OfferingScreen
from efa_tui.screens.offering_form import OfferingFormScreen
from efa_tui.screens.order_detail import OrderScreen
from efa_tui.screens.order_forms import InterestForm, ProposalForm, StepForm
from efa_tui.screens.outbox import OutboxScreen
from efa_tui.screens.support import SupportScreen, TrailScreen
from efa_tui.services.orders import OrdersService

SIZE = (80, 24)
TYPED = ("q", "1", "o", "2", "colon")  # the app's quit, area, outbox, area and jump keys


def first_order(base: str, who: str, state: str) -> dict:
    with httpx.Client(base_url=base) as http:
        items = http.get("/orders", params={"limit": 500}, headers=auth(who)).json()["items"]
    return next(o for o in items if o["state"] == state)


def orderable_offering(base: str) -> dict:
    """A published offering of the demo provider (AKDB), not priced by target group, not yet ordered."""
    with httpx.Client(base_url=base) as http:
        provider = http.get("/me", headers=auth("provider")).json()["organization"]["id"]
        ordered = {o["offering"]["id"] for o in http.get("/orders", params={"limit": 500}, headers=auth("customer")).json()["items"]}
        items = http.get("/offerings", params={"provider": provider, "status": "published", "limit": 200},
                         headers=auth("customer")).json()["items"]
    return next(o for o in items if o["fees"]["distribution_key"] != "target_group" and o["id"] not in ordered)


def field_text(form_screen: FormScreen, name: str) -> str:
    control = form_screen.form.control(name)
    return control.text if isinstance(control, TextArea) else str(control.value)


async def synced(pilot) -> None:
    await settle(pilot)
    pilot.app._start_session_once()
    await settle(pilot)


async def open_order(pilot, order_id: int) -> None:
    await synced(pilot)
    pilot.app.open_record("order", str(order_id))
    await settle(pilot)
    assert isinstance(pilot.app.screen, OrderScreen)


async def open_new_offering_form(pilot) -> OfferingFormScreen:
    """Meine Angebote (4), then `n`: the form of a new offering, settled."""
    await open_area(pilot, "4")
    await pilot.press("n")
    await settle(pilot)
    assert isinstance(pilot.app.screen, OfferingFormScreen), pilot.app.screen
    return pilot.app.screen


async def open_area(pilot, key: str):
    """Synced, then the area behind ``key``: the screen on top."""
    await synced(pilot)
    await pilot.press(key)
    await settle(pilot)
    return pilot.app.screen


async def open_offering(pilot, offering_id: int) -> None:
    await synced(pilot)
    pilot.app.push_screen(OfferingScreen(pilot.app.session.services.catalog, offering_id))
    await settle(pilot)


# --- typing at once -------------------------------------------------------------------------------

async def type_ahead(app, pilot, *keys: str) -> None:
    """Keys as a terminal delivers them when typed fast: all at once, none waiting for the one
    before to be handled (Pilot's press waits after each key)."""
    for key in keys:
        app.post_message(events.Key(key, key_to_character(key)))
    await settle(pilot)


async def _typed_at_once(app, pilot, open_key: str, form_class: type) -> FormScreen:
    await type_ahead(app, pilot, open_key, *TYPED)  # typed while the form is still opening
    assert isinstance(app.screen, form_class), app.screen
    assert app.is_running
    form_screen = app.screen
    first = form_screen.form.fields[0].name
    assert form_screen.focused is form_screen.form.control(first)
    assert field_text(form_screen, first).endswith("q1o2:"), field_text(form_screen, first)
    return form_screen


async def _open_interest_form_screen(server, pilot) -> None:
    await open_offering(pilot, orderable_offering(server)["id"])


async def _open_an_interest(server, pilot) -> None:
    await open_order(pilot, first_order(server, "provider", "interest")["id"])


async def _open_my_offerings(server, pilot) -> None:
    await synced(pilot)
    await pilot.press("4")
    await settle(pilot)


# (who, how to get where the key opens the form, the key, the form): one test for every form
TYPE_AHEAD = {
    "interest-message": ("customer", _open_interest_form_screen, "b", InterestForm),
    "proposal-annual-fee": ("provider", _open_an_interest, "p", ProposalForm),
    "reject-reason": ("provider", _open_an_interest, "x", StepForm),
    "new-offering-title": ("provider", _open_my_offerings, "n", OfferingFormScreen),
}


@pytest.mark.parametrize("case", TYPE_AHEAD)
async def test_typing_right_after_a_form_opens_goes_into_its_first_field(server, tmp_path, case):
    identity, go, key, form_class = TYPE_AHEAD[case]
    app = make_app(server, tmp_path, identity=identity)
    async with app.run_test(size=SIZE) as pilot:
        await go(server, pilot)
        await _typed_at_once(app, pilot, key, form_class)


# --- q, digits and escape in a form ---------------------------------------------------------------

async def test_q_in_a_form_asks_and_area_keys_do_not_leave_it(server, tmp_path):
    order = first_order(server, "provider", "interest")
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=SIZE) as pilot:
        await open_order(pilot, order["id"])
        await pilot.press("p")
        await settle(pilot)
        form_screen = app.screen
        assert isinstance(form_screen, ProposalForm)
        from textual.widgets import Button

        form_screen.query(Button).first().focus()  # takes no letters (a select takes them as a choice)
        await pilot.pause()
        await pilot.press("1", "o")
        await settle(pilot)
        assert app.screen is form_screen  # neither the catalog nor the outbox
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and "beenden?" in screen_text(app)
        await pilot.press("escape")  # stay
        await settle(pilot)
        assert app.is_running and app.screen is form_screen


async def test_quitting_with_unsent_writes_says_how_many(server, tmp_path):
    app = make_app(server, tmp_path, identity="customer", start_network=False)
    for n in range(2):
        app.session.outbox.enqueue("order.create", "POST", "/orders", {"offering_id": n}, label=f"Interesse {n}")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "2 Änderungen sind noch nicht beim Server" in screen_text(app)  # the plural rule
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running
        await pilot.press("q", "q")  # asked, and confirmed
        await settle(pilot)
        assert not app.is_running


async def test_an_abandoned_proposal_opens_again_with_the_offerings_fees(server, tmp_path):
    order = first_order(server, "provider", "interest")
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=SIZE) as pilot:
        await open_order(pilot, order["id"])
        await pilot.press("p")
        await settle(pilot)
        offered = field_text(app.screen, "annual_fee")
        await pilot.press("backspace", "backspace", "backspace", "9", "9")
        await settle(pilot)
        assert field_text(app.screen, "annual_fee") != offered
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("v")  # verwerfen
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
        assert not any(isinstance(s, FormScreen) for s in app.screen_stack)  # gone for good
        await pilot.press("escape")  # back to the list: no form comes back
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen)
        await open_order(pilot, order["id"])
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ProposalForm) and not app.screen.restored
        assert field_text(app.screen, "annual_fee") == offered


async def test_a_form_left_for_another_area_does_not_come_back(server, tmp_path):
    order = first_order(server, "provider", "interest")
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=SIZE) as pilot:
        await open_order(pilot, order["id"])
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ProposalForm)
        app.run_jump("catalog")  # as the palette does
        await settle(pilot)
        app.run_jump("orders")
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
        app.run_jump(f"order {order['id']}")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert not any(isinstance(s, FormScreen) for s in app.screen_stack)


# --- drafts -----------------------------------------------------------------------------------------

async def test_a_restored_draft_with_a_wrong_leitweg_id_shows_the_reason_at_once(server, tmp_path):
    offering = orderable_offering(server)
    app = make_app(server, tmp_path, identity="customer")
    app.session.drafts.save(f"interest:{offering['id']}", {"message": "Bitte ein Angebot.", "contact_name": "Frau Test",
                                                          "leitweg_id": "04011000-1234512345-07",
                                                          "desired_start": formatting.day_input(formatting.today())})
    async with app.run_test(size=SIZE) as pilot:
        await open_offering(pilot, offering["id"])
        await pilot.press("b")
        await settle(pilot)
        form_screen = app.screen
        assert isinstance(form_screen, InterestForm) and form_screen.restored
        assert "Prüfziffern 07 stimmen nicht" in form_screen.form.errors.get("leitweg_id", "")
        assert form_screen.form.control("leitweg_id").has_class("-invalid")
        assert form_screen.focused is form_screen.form.control("leitweg_id")
        assert "Prüfziffern 07 stimmen nicht" in screen_text(app)


async def test_changes_kept_as_a_draft_come_back(server, tmp_path):
    order = first_order(server, "provider", "interest")
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=SIZE) as pilot:
        await open_order(pilot, order["id"])
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        typed = field_text(app.screen, "annual_fee")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("b")  # als Entwurf behalten
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
        await pilot.press("p")
        await settle(pilot)
        assert app.screen.restored and field_text(app.screen, "annual_fee") == typed
        assert isinstance(app.screen.form.control("distribution_key"), Select)


async def test_keys_typed_before_the_first_rows_wait_for_them(server, tmp_path):
    """A first start: the cache is empty until the first sync. `Enter` typed at once opens the
    first offering once it is listed, and `o` typed before it is not the outbox: the keys wait
    for the rows (they met an empty table and the app's single keys before)."""
    app = make_app(server, tmp_path, identity="customer", presync=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")  # before any row is in
        for _ in range(100):
            await settle(pilot)
            if isinstance(app.screen, OfferingScreen):
                break
        assert isinstance(app.screen, OfferingScreen), type(app.screen).__name__
        assert "Abfallbehälter" in screen_text(app)


@pytest.mark.parametrize("enter", ["enter", "ctrl+j"], ids=["enter", "enter-typed-before-the-app-had-the-terminal"])
async def test_enter_b_and_text_typed_at_the_first_start_reach_the_interest_form(server, tmp_path, enter):
    """Typed as the app starts (tmux: `scripts/demo` and at once `Enter b Hallo`). Typed before the
    app has the terminal, Enter arrives as ctrl+j: the terminal was still in cooked mode, which
    turns the Enter key's CR into LF; then it did nothing, `b` neither, and the `o` of Hallo opened
    the outbox."""
    app = make_app(server, tmp_path, identity="customer", presync=False)
    async with app.run_test(size=SIZE) as pilot:
        await type_ahead(app, pilot, enter, "b", *"Hallo")
        for _ in range(100):
            await settle(pilot)
            if isinstance(app.screen, InterestForm):
                break
        assert isinstance(app.screen, InterestForm), type(app.screen).__name__
        assert "Hallo" in str(app.screen.form.value("message"))


async def test_keys_typed_after_enter_in_a_list_go_to_what_it_opens(server, tmp_path):
    """A provider over SSH types `Enter` on an offering and goes on typing: the letters belong to
    its form, which opens after the version is fetched; before, `q` reached the list and quit."""
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_area(pilot, "4")
        rows = [o for o in screen.offerings.values() if o.status == "published"]
        screen.table.move_cursor(row=screen.table.get_row_index(str(rows[0].id)))
        await type_ahead(app, pilot, "enter", "q", "1")
        for _ in range(50):
            await settle(pilot)
            if isinstance(app.screen, OfferingFormScreen):
                break
        assert app.is_running
        assert isinstance(app.screen, OfferingFormScreen), type(app.screen).__name__
        first = app.screen.form.fields[0].name
        assert "q1" in field_text(app.screen, first)


# --- a burst of keys, in the order typed (the walk: a fee proposal sent with another amount) --------

async def test_editing_keys_and_tab_in_a_burst_keep_their_place_among_the_characters(server, tmp_path):
    """Textual types a character in the field at once but runs backspace, ctrl+u and Tab only
    after they bubbled up to the app: typed in one burst (a fast typist, SSH, a paste), `51⌫0`
    came out as "51" with the last character gone instead of the 1, and `Titel Tab Kurz` put
    both words into the title."""
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=SIZE) as pilot:
        form_screen = await open_new_offering_form(pilot)
        fields = [f.name for f in form_screen.form.fields]
        await type_ahead(app, pilot, *"Titel", "tab", *"Kurzx", "backspace", "tab", *"ab", "ctrl+u", *"Lang", "left", "X")
        assert field_text(form_screen, fields[0]) == "Titel"
        assert field_text(form_screen, fields[1]) == "Kurz"
        assert field_text(form_screen, fields[2]) == "LanXg"


async def test_text_typed_right_after_slash_goes_into_the_support_search(server, tmp_path):
    """`/ Saarland` at once on the support results: the `a` reached the list and opened the trail
    of the order under the cursor (the focus moved a turn of the loop later)."""
    app = make_app(server, tmp_path, identity="support")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_area(pilot, "4")
        assert isinstance(screen, SupportScreen)
        screen.set_focus(screen.table)
        await settle(pilot)
        await type_ahead(app, pilot, "slash", *"Saarland")
        assert not isinstance(app.screen, TrailScreen)
        assert app.screen.query_one("#support-number").value == "Saarland"


async def test_keys_typed_before_the_second_interest_question_are_not_its_answer(server, tmp_path):
    """The walk: `b Hallo wir` typed at once on an offering with an open order — the question
    came up, the `o` of Hallo opened that order and the `w` of "wir" went on to a withdrawal.
    Keys typed before a question are set aside: going on gives them to the form, staying drops
    them (and says so)."""
    offering = orderable_offering(server)
    post_interest(server, offering["id"], "typed-before-the-question")
    app = make_app(server, tmp_path, identity="customer")
    async with app.run_test(size=SIZE) as pilot:
        await open_offering(pilot, offering["id"])
        detail = app.screen
        await type_ahead(app, pilot, "b", *"Hallo wir")
        assert isinstance(app.screen, ConfirmScreen), type(app.screen).__name__
        await pilot.press("escape")  # not this time
        for _ in range(30):
            await pilot.pause(0.05)
            if any("verworfen" in n.message for n in app._notifications):
                break
        assert app.screen is detail
        assert any("verworfen" in n.message for n in app._notifications)

        await type_ahead(app, pilot, "b", *"Hallo wir")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("w")  # go on anyway: the form takes what was typed
        for _ in range(20):
            await settle(pilot)
            if isinstance(app.screen, InterestForm) and app.screen.keyboard_ready:
                break
        assert isinstance(app.screen, InterestForm)
        assert "Hallo wir" in field_text(app.screen, app.screen.form.fields[0].name)


async def test_enter_on_a_row_that_opens_nothing_holds_no_keys(server, tmp_path):
    """Enter in the outbox opens nothing: the key after it acts at once (a hold for the screen
    Enter would open made it wait two seconds — and the test suite 600 s longer)."""
    app = make_app(server, tmp_path, identity="customer")
    async with app.run_test(size=SIZE) as pilot:
        await synced(pilot)
        # A row in the outbox: a write the server refuses (no such offering) stays there.
        await app.session.services.writes.submit(OrdersService.interest({"offering_id": 999_999, "message": "x"}),
                                                 label="Interesse: gibt es nicht")
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, OutboxScreen) and app.screen.query_one("VirtualTable").total
        await type_ahead(app, pilot, "enter", "escape")
        assert not isinstance(app.screen, OutboxScreen) and not app._holding


async def test_a_dialog_shows_no_keys_of_the_screen_it_covers(server, tmp_path):
    """Walk T5: under the open-order question the footer still said "b Interesse bekunden
    ⏎ Vorhandene öffnen" — keys of the detail below, which do nothing while the question is open."""
    offering = orderable_offering(server)
    post_interest(server, offering["id"], "dialog-covers-the-footer")
    app = make_app(server, tmp_path, identity="customer")
    async with app.run_test(size=SIZE) as pilot:
        await open_offering(pilot, offering["id"])
        detail = app.screen
        assert "Interesse bekunden" in screen_text(app).splitlines()[-1]
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Interesse bekunden" not in screen_text(app).splitlines()[-1]
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is detail and "Interesse bekunden" in screen_text(app).splitlines()[-1]


async def test_a_draft_typed_in_german_comes_back_in_english_notation(server, tmp_path):
    """A fee proposal half typed in German ("12.000,50"), kept as a draft; the user switches to
    English: the draft's amounts come back as the English UI writes them ("12,000.50"), the same
    amount — not refused as "at most two decimals" and not lost. Text that is no amount stays."""
    order = first_order(server, "provider", "interest")
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=SIZE) as pilot:
        await open_order(pilot, order["id"])
        await pilot.press("p")
        await settle(pilot)
        form = app.screen.form
        form.control("annual_fee").value = "12.000,50"
        form.control("one_time_fee").value = "irgendwas"
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("b")  # als Entwurf behalten
        await settle(pilot)
        assert isinstance(app.screen, OrderScreen)
        await app.action_toggle_language()
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ProposalForm) and app.screen.restored
        assert field_text(app.screen, "annual_fee") == "12,000.50"
        assert field_text(app.screen, "one_time_fee") == "irgendwas"
        assert not app.screen.form.errors.get("annual_fee")


async def test_keys_arriving_while_a_field_is_busy_keep_their_order_across_a_tab(server, tmp_path):
    """On a busy machine (the helper walk, 3 CPU-bound processes on 2 cores) a burst arrives in
    packets while a field still works through the keys before: `Tab` was forwarded to the title,
    the next packet went to the field focused once the title had handled it, and the title's
    leftover keys followed into whichever field had the focus by then — a summary of
    "hreibung mit Umlauten Kurz: …". Here the title is made busy by a callback that waits, the
    only stand-in for a loaded CPU that makes the order of arrival certain."""
    import asyncio

    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=SIZE) as pilot:
        form_screen = await open_new_offering_form(pilot)
        title, summary, description = (f.name for f in form_screen.form.fields[:3])
        field = form_screen.form.control(title)
        assert app.focused is field
        first, second = asyncio.Event(), asyncio.Event()
        field.call_later(first.wait)  # the title is busy: keys for it wait in its queue

        async def packet(*keys: str) -> None:
            for key in keys:
                app.post_message(events.Key(key, key_to_character(key)))
            for _ in range(5):
                await asyncio.sleep(0.01)  # the app hands them on; the title does not run yet

        await packet(*"Ti", "tab")
        field.call_later(second.wait)  # busy again right after its Tab
        await packet(*"Kurz")
        first.set()  # the title types "Ti" and moves the focus on; then it is busy again
        await packet("tab", *"La")  # the next packet, typed after "Kurz"
        second.set()
        await settle(pilot)
        assert field_text(form_screen, title) == "Ti"
        assert field_text(form_screen, summary) == "Kurz"
        assert field_text(form_screen, description) == "La"


async def test_a_number_or_date_shown_in_a_field_is_typed_anew_not_appended_to(server, tmp_path):
    """The proposal's annual fee comes preset with the offering's: `p 9000` gave "4800,009000"
    (refused), and Tab into "Mindestlaufzeit" (12) then `0` gave 120 months — valid, ten years,
    unsaid (helper walk). Amounts, counts and dates take the typed value in place of the shown
    one; text fields (a title, a message) keep their text and the cursor at its end."""
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=SIZE) as pilot:
        await _open_an_interest(server, pilot)
        await type_ahead(app, pilot, "p", *"9000")
        form_screen = app.screen
        assert isinstance(form_screen, ProposalForm)
        assert field_text(form_screen, "annual_fee") == "9000"
        await pilot.press("escape")
        await settle(pilot)
        if isinstance(app.screen, ConfirmScreen):
            await pilot.press("v")  # verwerfen
            await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        form_screen = await open_new_offering_form(pilot)
        await type_ahead(app, pilot, *"Titel")
        months = form_screen.form.control("minimum_term_months")
        assert field_text(form_screen, "minimum_term_months") == "12"
        while app.focused is not months:
            await pilot.press("tab")
        await type_ahead(app, pilot, "0")
        assert field_text(form_screen, "minimum_term_months") == "0"
        assert field_text(form_screen, "title") == "Titel"


async def test_with_no_color_the_focused_field_is_told_apart_by_its_shape(server, tmp_path, monkeypatch):
    """NO_COLOR makes every colour a grey: the focused field's border was 241 on 235 against 240
    on 234 beside it, and in a walk the typing went into a search field nobody could see had the
    focus. The focus has a shape of its own: a heavy border, and a field without one underlined."""
    from textual.widgets import Input

    from efa_tui.widgets.filter_box import FilterBox

    monkeypatch.setenv("NO_COLOR", "1")  # Textual reads it when the app is made
    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=SIZE) as pilot:
        assert app.no_color
        filter_box = app.screen.query_one(FilterBox)
        await pilot.press("slash")
        await settle(pilot)
        assert app.focused is filter_box and "underline" in str(filter_box.styles.text_style)
        await pilot.press("escape", "escape")
        form_screen = await open_new_offering_form(pilot)
        focused = app.focused
        other = next(i for i in form_screen.query(Input) if i is not focused and i.display)
        assert isinstance(focused, Input)
        assert focused.styles.border_top[0] != other.styles.border_top[0]


async def test_a_choice_is_typed_on_the_closed_select(server, tmp_path):
    """The usage form's contract: a provider typed the contract's number, "85", on the closed
    select and every digit was dropped. It picks the first option holding what was typed, as a
    select box in a browser does; a letter is no shortcut there (`q` does not quit)."""
    from efa_tui.screens.usage import UsageFormScreen

    app = make_app(server, tmp_path, identity="provider")
    async with app.run_test(size=SIZE) as pilot:
        await open_area(pilot, "4")
        await pilot.press("u")
        await settle(pilot)
        usage = app.screen
        contract = sorted(usage.contracts)[-1]
        await pilot.press("m")
        await settle(pilot)
        form_screen = app.screen
        assert isinstance(form_screen, UsageFormScreen)
        assert isinstance(app.focused, Select) and form_screen.form.value("order_id") == ""
        await pilot.press(*str(contract))
        await settle(pilot)
        assert form_screen.form.value("order_id") == str(contract)
        await pilot.press("q")
        await settle(pilot)
        assert app.is_running and app.screen is form_screen


def test_q_is_back_on_every_screen_opened_over_an_area():
    """`q` on the Protokoll or the tokens list quit efa-tui at once (helper walk), while on the
    details, the chart and the outbox it went back: every screen opened over an area (not a form
    or dialog, where q is typed, and not an area itself, where it quits after asking about unsent
    writes) takes escape and q as back, in one binding."""
    import importlib
    import pkgutil

    import efa_tui.screens as package
    from efa_tui import areas
    from efa_tui.screens.base import AppScreen

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"efa_tui.screens.{module.name}")

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    roots = {area.screen.rpartition(":")[2] for area in areas.AREAS}
    missing = []
    for screen in set(subclasses(AppScreen)):
        if screen.OWNS_KEYBOARD or screen.__name__ in roots:
            continue
        backs = [b for b in screen.BINDINGS if {"escape", "q"} <= set(b.key.split(","))]
        if not backs:
            missing.append(screen.__name__)
    assert missing == ["BillingRunScreen"], missing  # its year field takes typing: escape only
