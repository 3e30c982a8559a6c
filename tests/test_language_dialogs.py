"""A language switch redraws every open screen, pushed ones included: a dialog open at the switch
(help, the question before leaving a form, an invoice's save dialog, the jump box) shows its texts
in the new language at once — with what was typed into it kept — instead of the language it was
opened in."""

from __future__ import annotations

from app_support import make_app, screen_text, settle
from textual.widgets import Input

from efa_tui.screens.confirm import ConfirmScreen
from efa_tui.screens.help import HelpScreen
from efa_tui.screens.invoice_dialogs import PathDialog
from efa_tui.screens.jump import JumpScreen

SIZE = (100, 30)


async def synced(app, pilot) -> None:
    await settle(pilot, 4)
    app._start_session_once()  # now, not after the first paint's timer
    await settle(pilot, 6)


async def switch(app, pilot) -> str:
    await app.action_toggle_language()
    await settle(pilot)
    return screen_text(app)


async def test_the_help_redraws_in_the_new_language(server, tmp_path):
    app = make_app(server, tmp_path, start_network=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen) and "Hilfe – Tastenbelegung" in screen_text(app)
        text = await switch(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "Help – key bindings" in text and "Binding id" in text and "Quit" in text, text
        assert "Tastenbelegung" not in text and "Taste " not in text
        # The screen under it, drawn through it: its status line in English too.
        assert "no data yet" in text and "noch keine Daten" not in text


async def test_the_question_before_leaving_a_form_redraws_with_its_keys(server, tmp_path):
    app = make_app(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await synced(app, pilot)
        await pilot.press("enter")  # the first offering
        await settle(pilot)
        await pilot.press("b")  # the interest form
        await settle(pilot)
        await pilot.press(*"Hallo")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and "Formular verlassen?" in screen_text(app)
        text = await switch(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Leave the form?" in text and "Discard (d)" in text and "Keep (k)" in text, text
        assert "Verwerfen" not in text and "Formular" not in text
        await pilot.press("k")  # the English key keeps the draft and leaves the form
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen) and "Leave the form?" not in screen_text(app)


async def test_an_invoice_dialog_and_the_jump_box_redraw_keeping_what_was_typed(server, tmp_path):
    app = make_app(server, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await synced(app, pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("enter")  # the first invoice
        await settle(pilot)
        await pilot.press("x")  # save its XRechnung: the path dialog
        await settle(pilot)
        assert isinstance(app.screen, PathDialog) and "XRechnung speichern unter" in screen_text(app)
        box = app.screen.query_one("#dialog-path", Input)
        box.value = "/tmp/meine-rechnung.xml"
        text = await switch(app, pilot)
        assert isinstance(app.screen, PathDialog)
        assert "Save XRechnung as" in text and "Enter: go" in text and "speichern" not in text, text
        assert app.screen.query_one("#dialog-path", Input).value == "/tmp/meine-rechnung.xml"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("colon", *"ord")
        await settle(pilot)
        assert isinstance(app.screen, JumpScreen)
        await switch(app, pilot)
        assert isinstance(app.screen, JumpScreen) and app.screen.query_one(Input).value == "ord"
