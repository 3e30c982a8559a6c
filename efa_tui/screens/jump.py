"""``:`` jump: type a command with completion (``:orders``, ``:order 123``, ``:invoice 2026-000042``)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.suggester import SuggestFromList
from textual.widgets import Input

from .. import areas, i18n
from .base import AppModal

COMMANDS = [*areas.verbs(), "order ", "invoice ", "offering ", "outbox", "help", "quit"]


def parse_jump(text: str) -> tuple[str, str]:
    """``"order 123"`` → ("order", "123"); a leading ``:`` is optional."""
    text = text.strip().lstrip(":").strip()
    verb, _, rest = text.partition(" ")
    return verb.lower(), rest.strip()


class JumpScreen(AppModal[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "key.back", id="jump.cancel")]
    DEFAULT_CSS = """
    JumpScreen { align: center top; }
    JumpScreen Input { width: 80%; max-width: 90; margin-top: 3; border: round $accent; }
    """

    def compose(self) -> ComposeResult:
        yield Input(placeholder=i18n.t("jump.prompt"), suggester=SuggestFromList(COMMANDS, case_sensitive=False), id="jump")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Only while on top: a second enter that reaches the box as it closes (seen over a slow
        # terminal) would otherwise pop the screen below it, or fail ("Can't pop screen").
        if self.is_active:
            self.dismiss(event.value)
