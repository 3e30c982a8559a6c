"""The example configuration tells the truth: every binding id it names (also in its commented
lines) is a binding of the app, each key is one Textual understands and is that binding's default,
and its theme is one the app has."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import tomllib
from pathlib import Path

from textual.binding import Binding
from textual.keys import Keys, _character_to_key

from efa_tui import THEMES, screens, widgets
from efa_tui.app import EfaApp, normalize_keymap
from efa_tui.config import load_config

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "efa-tui.example.toml"
MODIFIERS = {"ctrl", "shift", "alt", "meta", "super", "hyper"}
# Textual's names of the printable keys: "slash", "question_mark", "colon" …
CHARACTER_KEYS = {_character_to_key(chr(c)) for c in range(33, 127)} | {"space"}


def app_bindings() -> dict[str, str]:
    """Every binding id of the app and its screens and widgets → its default keys (Textual's names)."""
    classes = [EfaApp]
    for package in (screens, widgets):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            classes += [c for _, c in inspect.getmembers(module, inspect.isclass) if c.__module__ == module.__name__]
    found: dict[str, str] = {}
    for cls in classes:
        for binding in getattr(cls, "BINDINGS", []):
            if isinstance(binding, Binding) and binding.id:
                found[binding.id] = normalize_keymap({binding.id: binding.key})[binding.id]
    return found


def example_keymap() -> dict[str, str]:
    """The [keymap] table, with the commented examples in it ("# "app.palette" = "ctrl+p"")."""
    text = EXAMPLE.read_text(encoding="utf-8")
    table = text.split("[keymap]", 1)[1].split("\n[", 1)[0]
    entries = {}
    for line in table.splitlines():
        line = line.lstrip("# ").strip()
        if re.match(r'^"[\w.]+"\s*=', line):
            entries.update(tomllib.loads(line))
    return entries


def known_key(key: str) -> bool:
    *mods, base = key.split("+")
    if not set(mods) <= MODIFIERS or not base:
        return False
    return len(base) == 1 or base in CHARACTER_KEYS or base in {k.value for k in Keys}


def test_every_binding_id_in_the_example_exists_with_its_default_key():
    bindings = app_bindings()
    keymap = example_keymap()
    assert {"app.help", "app.jump", "catalog.filter", "app.palette"} <= keymap.keys()
    assert keymap.keys() <= bindings.keys(), sorted(keymap.keys() - bindings.keys())
    for bid, keys in normalize_keymap(keymap).items():
        assert all(known_key(k) for k in keys.split(",")), (bid, keys)
        assert keys == bindings[bid], (bid, keys, bindings[bid])


def test_the_example_theme_is_one_of_the_apps():
    config = load_config(EXAMPLE)
    assert config.theme in THEMES
    assert tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))["theme"] in THEMES


def test_known_key_knows_keys():
    assert all(known_key(k) for k in ("q", "G", "ctrl+p", "f5", "escape", "shift+tab", "slash", "question_mark"))
    assert not any(known_key(k) for k in ("cmd+p", "ctrl+", "escpae"))
