"""A question with a few answers, each on its own key and button: quit with unsent writes, leave
a form with changes. The safe answer (go on as before) is focused and is escape."""

from __future__ import annotations

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
    key: str  # the key that picks it (Textual's name: "q", "escape" …)
    label: str  # message id
    primary: bool = False


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

    def __init__(self, question: str, choices: list[Choice], detail: str = "", **kwargs):
        super().__init__(**kwargs)
        self.question, self.choices, self.detail = question, choices, detail
        for choice in choices:
            self._bindings.bind(choice.key, f"choose('{choice.value}')", i18n.t(choice.label), show=False)
        if not any(c.key == "escape" for c in choices):
            self._bindings.bind("escape", f"choose('{choices[-1].value}')", i18n.t(choices[-1].label), show=False)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.question), id="confirm-question")
            if self.detail:
                yield Static(Text(self.detail), id="confirm-detail")
            with Horizontal(id="confirm-buttons"):
                for choice in self.choices:
                    yield Button(f"{i18n.t(choice.label)} ({_key_label(choice.key)})", id=f"choice-{choice.value}",
                                 variant="primary" if choice.primary else "default")

    def on_mount(self) -> None:
        self.query_one(f"#choice-{self.choices[-1].value}", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_choose((event.button.id or "").removeprefix("choice-"))

    def action_choose(self, value: str) -> None:
        self.dismiss(value)


def _key_label(key: str) -> str:
    return {"escape": "esc"}.get(key, key)
