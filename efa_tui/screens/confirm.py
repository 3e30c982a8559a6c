"""A question with a few answers, each on its own key and button: quit with unsent writes, leave
a form with changes. The safe answer (go on as before) is focused and is escape."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from .. import i18n
from .base import AppModal


@dataclass(frozen=True)
class Choice:
    value: str  # what the dialog answers
    key: str  # the key that picks it (Textual's name: "q", "escape" …), or the message id of a translated one
    label: str  # message id
    primary: bool = False

    @property
    def key_now(self) -> str:
        """The key in the language now ("v" verwerfen, "d" discard)."""
        return i18n.t(self.key) if self.key in i18n.MESSAGES else self.key


# A text of the dialog: written in the language now, again after a language switch.
Said = str | Callable[[], str]


def _said(text: Said) -> str:
    return text() if callable(text) else text


def rebind(screen: AppModal, old_key: str, key: str, action: str, description: str) -> str:
    """Bind ``action`` to ``key`` (a key in the language now: j/y) instead of ``old_key``, hidden
    from the footer (the dialog's buttons name their keys); the key bound, for the next switch."""
    if old_key:
        screen._bindings.key_to_bindings.pop(old_key, None)
    screen._bindings.bind(key, action, description, show=False)
    return key


class ConfirmScreen(AppModal[str]):
    """Answers the value of the choice picked; escape answers the last choice (the safe one)."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 76; max-width: 100%; height: auto; padding: 1 2;
                               border: thick $warning; background: $surface; }
    ConfirmScreen #confirm-question { text-style: bold; }
    ConfirmScreen #confirm-detail { margin-top: 1; }
    ConfirmScreen #confirm-buttons { height: auto; margin-top: 1; }
    ConfirmScreen #confirm-buttons Button { margin-right: 2; }
    """

    def __init__(self, question: Said, choices: list[Choice], detail: Said = "", **kwargs):
        """``question``, ``detail``: the text, or a function that writes it in the language now —
        then a language switch while the dialog is open shows it in the new language."""
        super().__init__(**kwargs)
        self.question, self.choices, self.detail = question, choices, detail
        self._choice_keys: list[str] = []
        self._bind_choices()

    def _bind_choices(self) -> None:
        for key in self._choice_keys:
            self._bindings.key_to_bindings.pop(key, None)
        self._choice_keys = [rebind(self, "", c.key_now, f"choose('{c.value}')", i18n.t(c.label)) for c in self.choices]
        if "escape" not in self._choice_keys:
            safe = self.choices[-1]
            self._choice_keys.append(rebind(self, "", "escape", f"choose('{safe.value}')", i18n.t(safe.label)))

    async def relabel(self) -> None:
        self._bind_choices()  # translated keys and labels anew
        await super().relabel()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(_said(self.question)), id="confirm-question")
            if detail := _said(self.detail):
                yield Static(Text(detail), id="confirm-detail")
            with Horizontal(id="confirm-buttons"):
                for choice in self.choices:
                    yield Button(f"{i18n.t(choice.label)} ({_key_label(choice.key_now)})", id=f"choice-{choice.value}",
                                 variant="primary" if choice.primary else "default")

    def on_mount(self) -> None:
        self.query_one(f"#choice-{self.choices[-1].value}", Button).focus()

    def opened(self) -> None:
        """Keys typed before the question was on screen did not see it: they are not its answer
        (`b Hallo` typed at once, and the `o` of Hallo opened the earlier order, the `w` of "wir"
        went on to a withdrawal). They wait for what the answer opens (app.park_keys)."""
        park = getattr(self.app, "park_keys", None)
        if park is not None:
            park()
        self.take_keyboard()

    def action_choose(self, value: str) -> None:
        unpark = getattr(self.app, "unpark_keys", None)
        if unpark is not None:
            unpark()  # for the form the answer opens, if it opens one
        self.dismiss(value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_choose((event.button.id or "").removeprefix("choice-"))



def _key_label(key: str) -> str:
    return {"escape": "esc"}.get(key, key)
