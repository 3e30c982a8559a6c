"""Keys as people write them in the ``[keymap]`` table → the names Textual gives the key events.

One rule, in one place: a key is spelled by its character (``";"``, ``":"``, ``"/"``, ``"ä"``,
``" "``, ``","``) or by its name (``"semicolon"``, ``"F3"``, ``"Esc"``, ``"PgDn"``, ``"Ctrl+/"``,
``"shift+ctrl+x"``), case and modifier order as you like; the result is what the terminal's key
event is called (``semicolon``, ``f3``, ``escape``, ``pagedown``, ``ctrl+slash``,
``ctrl+shift+x``), so the key bound is the key that acts, and the footer and the help show it.
A key Textual does not know is reported, and its binding keeps its default key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.keys import KEY_DISPLAY_ALIASES, Keys, _character_to_key

MODIFIERS = {"ctrl": "ctrl", "control": "ctrl", "strg": "ctrl", "ctl": "ctrl", "shift": "shift", "alt": "alt",
             "option": "alt", "meta": "meta", "super": "super", "hyper": "hyper"}
# Other spellings of the named keys (Textual's own display names among them: "esc", "pgdn", "⏎", "↑").
ALIASES = {alias: key for key, alias in KEY_DISPLAY_ALIASES.items() if alias != key} | {
    "esc": "escape", "return": "enter", "del": "delete", "ins": "insert", "bs": "backspace",
    "pgdn": "pagedown", "pgup": "pageup", "page_down": "pagedown", "page_up": "pageup", "pagedn": "pagedown",
    "page-down": "pagedown", "page-up": "pageup", "spacebar": "space", "leertaste": "space", "entf": "delete",
    "einfg": "insert", "pos1": "home", "ende": "end", "bild_ab": "pagedown", "bild_auf": "pageup",
}
# Every key name Textual gives an event: the named keys (without their modifiers) and the characters' names.
NAMED = {str(k.value).rsplit("+", 1)[-1] for k in Keys} | {f"f{n}" for n in range(1, 25)}
CHARACTER_NAMES = {_character_to_key(chr(c)) for c in range(33, 127)} | {"space", "comma"}


class UnknownKey(ValueError):
    pass


def key_name(spelled: str) -> str:
    """One key as written → Textual's name of it; UnknownKey when Textual has no such key."""
    if spelled == " ":
        return "space"
    text = spelled.strip()
    if not text:
        raise UnknownKey(spelled)
    if len(text) == 1:
        return _character_to_key(text)  # "G" stays G (shift+g), "ä" stays ä, ";" → semicolon
    *mods, base = text.split("+")
    if not base and mods and not mods[-1]:  # "ctrl++": the plus key
        mods, base = mods[:-1], "+"
    names = {MODIFIERS.get(m.strip().lower(), "?" + m) for m in mods}
    if any(n.startswith("?") for n in names) or "" in (m.strip() for m in mods):
        raise UnknownKey(spelled)
    base = base.strip()
    if len(base) == 1:
        if base.isalpha() and names == {"shift"}:
            return base.upper()  # shift+g is what a terminal calls "G"
        base = _character_to_key(base.lower())
    else:
        base = base.lower()
        base = ALIASES.get(base, base)
        if base not in NAMED and base not in CHARACTER_NAMES:
            raise UnknownKey(spelled)
    return "+".join([*sorted(names), base])


def key_list(spelled: str) -> str:
    """A binding's keys as written ("j, down", or a lone ",") → Textual's comma-separated names."""
    if spelled.strip() == ",":
        return "comma"
    parts = spelled.split(",")
    if any(not p.strip() and p != " " for p in parts):
        raise UnknownKey(spelled)
    return ",".join(dict.fromkeys(key_name(p) for p in parts))


@dataclass
class Keymap:
    keys: dict[str, str] = field(default_factory=dict)  # binding id → Textual's key names
    unknown: dict[str, str] = field(default_factory=dict)  # binding id → the key as written


def normalize_keymap(keymap: dict[str, str]) -> Keymap:
    """The config's [keymap] as Textual names the keys; what it cannot name is set aside."""
    result = Keymap()
    for bid, spelled in keymap.items():
        try:
            result.keys[bid] = key_list(spelled)
        except UnknownKey:
            result.unknown[bid] = spelled
    return result
