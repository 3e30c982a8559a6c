"""Every area for every role, as people move through them: open each area, open the first record,
open the help, switch the language there and back — no exception, no traceback, the area's own
words on screen. A broad net under the detailed tests of each area."""

from __future__ import annotations

import pytest
from app_support import make_app, screen_text, settle

from efa_tui.screens.help import HelpScreen
from efa_tui.widgets.chrome import AppHeader
from efa_tui.widgets.virtual_table import VirtualTable

ROLE_AREA = {"customer": None, "provider": "Meine Angebote", "support": "Support", "operator": "Support"}


@pytest.mark.parametrize("identity", sorted(ROLE_AREA))
async def test_every_area_opens_for_every_role(server, tmp_path, identity):
    app = make_app(server, tmp_path, identity=identity)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app._start_session_once()
        await settle(pilot)
        areas = [("2", "Bestellungen"), ("3", "Rechnungen")] + ([("4", ROLE_AREA[identity])] if ROLE_AREA[identity] else [])
        for key, title in areas:
            await pilot.press(key)
            await settle(pilot)
            assert title in screen_text(app), (identity, key)
            area = app.screen
            tables = area.query(VirtualTable)
            if tables and tables.first().total:
                tables.first().focus()
                await pilot.press("enter")  # the first record's detail
                await settle(pilot)
                assert app.screen is not area or identity in ("support", "operator"), (identity, key)
                await pilot.press("question_mark")
                await settle(pilot)
                assert isinstance(app.screen, HelpScreen)
                await pilot.press("escape")
                await settle(pilot)
                await app.action_toggle_language()
                await settle(pilot)
                await app.action_toggle_language()
                await settle(pilot)
                while app.screen is not area and len(app.screen_stack) > 1:
                    await pilot.press("escape")
                    await settle(pilot)
                # back in the area: its own header (name of the area), rebuilt after the switch
                assert title in str(area.query_one(AppHeader).render()), (identity, key)
        if ROLE_AREA[identity] is None:
            await pilot.press("4")  # a customer has no role area: nothing happens
            await settle(pilot)
            assert app.current_mode == "invoices"
        assert not app._exception, app._exception
