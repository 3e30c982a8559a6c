"""The command palette (ctrl+p): the app's commands, and the same jumps as ``:`` as you type."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, cast

from rich.align import Align
from rich.text import Text
from textual.command import CommandList, CommandPalette, Hit, Hits, Provider
from textual.widgets.option_list import Option

from . import i18n
from .screens.jump import parse_jump

if TYPE_CHECKING:
    from .app import EfaApp
from .text import clean


class JumpProvider(Provider):
    """Typing ``order 42`` or ``invoice 2026-000042`` offers that jump directly."""

    async def search(self, query: str) -> Hits:
        verb, rest = parse_jump(query)
        # What the user typed is shown back: as Text, never markup (a "[" must not break the palette).
        app = cast("EfaApp", self.app)
        if verb in ("order", "bestellung") and rest:
            yield Hit(100, Text(i18n.t("cmd.order", n=clean(rest))), partial(app.run_jump, f"order {rest}"))
        elif verb in ("invoice", "rechnung") and rest:
            yield Hit(100, Text(i18n.t("cmd.invoice", n=clean(rest))), partial(app.run_jump, f"invoice {rest}"))
        elif verb in ("offering", "angebot") and rest:
            yield Hit(100, Text(i18n.t("cmd.offering", text=clean(rest))), partial(app.run_jump, f"offering {rest}"))

    # No discover(): the areas are the app's system commands (EfaApp.get_system_commands); listed
    # here too, each one showed twice in the palette.


class Palette(CommandPalette):
    """Textual's command palette, in the user's language: its placeholder and its "No matches found"
    (both English in Textual). The app opens this one (``EfaApp.action_command_palette``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(placeholder=i18n.t("palette.placeholder"), **kwargs)

    def _start_no_matches_countdown(self, search_value: str) -> None:
        # Textual's own, with our text: after a moment without a hit, say so (not while browsing).
        self._stop_no_matches_countdown()

        def show_no_matches() -> None:
            if search_value:
                self.query_one(CommandList).add_option(
                    Option(Align.center(Text(i18n.t("palette.no_matches"), style="not bold")), disabled=True, id=self._NO_MATCHES))
                self._list_visible = True
            else:
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show_no_matches)
