"""Keys bound in config.toml do what the help says: every key Textual knows, spelled by its character
or its name (";", "semicolon", ":", "F3", "Esc", " ", ",", "Ctrl+/"), becomes the key the terminal's
event is called, so pressing it acts, and the help and the footer show it; a key Textual does not know
is said once and its binding keeps the default."""

from __future__ import annotations

import pytest
from app_support import make_app, screen_text, settle
from textual.widgets import Footer

from efa_tui.config import load_config
from efa_tui.screens.help import HelpScreen, binding_rows
from efa_tui.screens.jump import JumpScreen
from efa_tui.screens.keys import UnknownKey, key_list


@pytest.mark.parametrize(("spelled", "name"), [
    (";", "semicolon"), ("semicolon", "semicolon"), ("Semicolon", "semicolon"), (":", "colon"), ("/", "slash"),
    ("?", "question_mark"), (",", "comma"), (" ", "space"), ("ä", "ä"), ("G", "G"), ("shift+g", "G"),
    ("F3", "f3"), ("Esc", "escape"), ("Return", "enter"), ("Del", "delete"), ("PgDn", "pagedown"),
    ("Page_Down", "pagedown"), ("Ctrl+/", "ctrl+slash"), ("Ctrl+O", "ctrl+o"), ("Shift+Ctrl+X", "ctrl+shift+x"),
    ("ctrl+G", "ctrl+g"), ("strg+p", "ctrl+p"), ("j, down", "j,down"), ("escape,q", "escape,q"), ("ctrl++", "ctrl+plus"),
])
def test_a_key_as_written_is_the_key_textual_names(spelled, name):
    assert key_list(spelled) == name


@pytest.mark.parametrize("spelled", ["escpae", "cmd+p", "ctrl+", "", "a,,b", "hyper+"])
def test_a_key_textual_does_not_know_is_refused(spelled):
    with pytest.raises(UnknownKey):
        key_list(spelled)


def config_keymap(tmp_path, toml: str) -> dict[str, str]:
    path = tmp_path / "config.toml"
    path.write_text(toml, encoding="utf-8")
    return load_config(path).keymap


# (as written in config.toml, the key the terminal sends, as the help and the footer show it)
JUMP_KEYS = [(";", "semicolon", ";"), ("semicolon", "semicolon", ";"), (":", "colon", ":"), ("F3", "f3", "f3"),
             ("Ins", "insert", "insert"), (" ", "space", "space"), (",", "comma", ","), ("ä", "ä", "ä"),
             ("Ctrl+/", "ctrl+slash", "^/")]


@pytest.mark.parametrize(("spelled", "pressed", "shown"), JUMP_KEYS)
async def test_a_rebound_key_does_it_and_the_help_and_footer_show_it(server, tmp_path, spelled, pressed, shown):
    keymap = config_keymap(tmp_path, f'[keymap]\n"app.jump" = "{spelled}"\n')
    app = make_app(server, tmp_path, keymap=keymap)
    async with app.run_test(size=(200, 30)) as pilot:
        await settle(pilot)
        rows = {bid: keys for keys, _label, bid in binding_rows(app.screen)}
        assert rows["app.jump"] == shown
        footer = app.screen.query_one(Footer)
        assert f"{shown} Springen" in screen_text(app), footer
        await pilot.press(pressed)
        await settle(pilot)
        assert isinstance(app.screen, JumpScreen)
        await pilot.press("escape")
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert any(keys == shown and bid == "app.jump" for keys, _label, bid in app.screen.rows)


async def test_an_unknown_key_is_said_and_the_default_key_stays(server, tmp_path):
    keymap = config_keymap(tmp_path, '[keymap]\n"app.jump" = "semikolon"\n')
    app = make_app(server, tmp_path, keymap=keymap)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert any('app.jump = "semikolon"' in n.message for n in app._notifications)
        await pilot.press("colon")
        await settle(pilot)
        assert isinstance(app.screen, JumpScreen)
