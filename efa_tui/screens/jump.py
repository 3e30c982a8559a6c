"""``:`` jump: type a command with completion (``:orders``, ``:order 123``, ``:invoice 2026-000042``)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Input

from .. import areas, i18n
from ..widgets.detail_text import DetailText
from ..widgets.text_fields import TextField
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
    JumpScreen > Vertical { width: 80%; max-width: 90; height: auto; margin-top: 3; background: $surface;
                            border: round $accent; }
    JumpScreen Input, JumpScreen Input:focus { border: none; height: 1; padding: 0 1; }
    JumpScreen #jump-examples { padding: 0 1; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield TextField(placeholder=i18n.t("jump.prompt"), suggester=SuggestFromList(COMMANDS, case_sensitive=False),
                        id="jump")
            # The commands, wrapped under the box (a placeholder is cut at the box's width).
            yield DetailText(Text(i18n.t("jump.examples")), id="jump-examples")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Only while on top: a second enter that reaches the box as it closes (seen over a slow
        # terminal) would otherwise pop the screen below it, or fail ("Can't pop screen").
        if self.is_active:
            self.dismiss(event.value)
