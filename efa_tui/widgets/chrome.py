"""The frame around every area: a header (profile, organisation, role), an offline banner and a
status line (live/online/offline, data age, sync progress, outbox counts, news waiting)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import HorizontalGroup, Vertical
from textual.geometry import Size
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey

from .. import formatting, i18n
from ..org_names import fit_name
from ..services import Status
from ..text import clean


class AppHeader(Static):
    DEFAULT_CSS = """
    AppHeader { dock: top; height: 1; background: $primary; color: $text; padding: 0 1; }
    """

    _parts: tuple[str, str, str, str] = ("", "", "", "")

    def show(self, profile: str, organization: str, role: str, area: str) -> None:
        self._parts = (clean(profile), clean(organization), i18n.t("role." + role) if role else "", area)
        self.refresh(layout=False)  # one line, full width: new text never moves anything

    def render(self) -> Text:
        """Title, area, organisation, role, profile on one line: a long organisation name is
        written short ("AKDB", org_names) and then cut if need be, so that the role and the profile stay in view;
        on a very narrow terminal the profile goes first, then the role."""
        profile, organization, role, area = self._parts
        width = self.content_size.width or self.size.width or 80
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(i18n.t("app.title"), style="bold")
        head.append(f" · {area}")
        tails = [[(f" · {role}", ""), (f" · {profile}", "dim")], [(f" · {role}", "")], []]
        for tail in tails:
            tail = [(s, style) for s, style in tail if s.strip(" ·")]
            room = width - head.cell_len - sum(len(s) for s, _ in tail) - 2
            if not organization or room >= min(len(organization), 12):
                break
        text = head.copy()
        if organization:
            shown = fit_name(organization, room)  # "AKDB", "LH München" before a cut
            shown = shown if len(shown) <= room else shown[: max(room - 1, 1)].rstrip() + "…"
            text.append(f"  {shown}")
        for s, style in tail:
            text.append(s, style=style)
        return text


class OfflineBanner(Static):
    DEFAULT_CSS = """
    OfflineBanner { dock: top; height: auto; background: $warning; color: $text; padding: 0 1; display: none; }
    OfflineBanner.-shown { display: block; }
    """

    _text: object = None

    def update(self, content="", *, layout: bool = True) -> None:
        # The same text again (offline, every failed retry tells the status anew) is no update:
        # shown, each one was a layout of the whole screen in the middle of typing a filter.
        if content == self._text:
            return
        self._text = content
        # Hidden, it takes no room, so new text needs no layout of the screen (the status
        # changes several times while the app starts); showing it is a layout of its own.
        super().update(content, layout=layout and self.has_class("-shown"))


class BottomBar(Vertical):
    """Status line above the key hints, docked together so neither hides the other."""

    DEFAULT_CSS = """
    BottomBar { dock: bottom; height: auto; }
    BottomBar Footer { dock: none; }
    """


# Textual's own bindings that reach the footer, by action: their English descriptions in ours.
TEXTUAL_KEYS = {
    "dismiss": "builtin.dismiss_menu", "show_overlay": "builtin.show_menu", "command_palette": "key.palette",
    "cursor_down": "builtin.cursor_down",
    "cursor_down(True)": "builtin.cursor_down_select",
    "cursor_up": "builtin.cursor_up",
    "cursor_up(True)": "builtin.cursor_up_select",
    "cursor_left(True)": "builtin.cursor_left_select",
    "cursor_right(True)": "builtin.cursor_right_select",
    "cursor_left_word(True)": "builtin.cursor_left_word_select",
    "cursor_right_word(True)": "builtin.cursor_right_word_select",
    "cursor_word_left": "builtin.cursor_word_left",
    "cursor_word_right": "builtin.cursor_word_right",
    "cursor_word_left(True)": "builtin.cursor_word_left_select",
    "cursor_word_right(True)": "builtin.cursor_word_right_select",
    "cursor_line_end": "builtin.cursor_line_end",
    "cursor_line_end(True)": "builtin.cursor_line_end_select",
    "cursor_line_start": "builtin.cursor_line_start",
    "cursor_line_start(True)": "builtin.cursor_line_start_select",
    "home(True)": "builtin.home_select",
    "end(True)": "builtin.end_select",
    "cursor_page_down": "builtin.cursor_page_down",
    "cursor_page_up": "builtin.cursor_page_up",
    "delete_line": "builtin.delete_line",
    "delete_to_end_of_line_or_delete_line": "builtin.delete_to_end_of_line_or_delete_line",
    "delete_to_start_of_line": "builtin.delete_to_start_of_line",
    "delete_word_left": "builtin.delete_word_left",
    "delete_word_right": "builtin.delete_word_right",
    "first": "builtin.first",
    "last": "builtin.last",
    "next_button": "builtin.next_button",
    "previous_button": "builtin.previous_button",
    "next_tab": "builtin.next_tab",
    "previous_tab": "builtin.previous_tab",
    "press": "builtin.press",
    "redo": "builtin.redo",
    "undo": "builtin.undo",
    "scroll_bottom": "builtin.scroll_bottom",
    "scroll_top": "builtin.scroll_top",
    "select": "builtin.select",
    "select_cursor": "builtin.select_cursor",
    "select_line": "builtin.select_line",
    "toggle_button": "builtin.toggle_button",
    "toggle_switch": "builtin.toggle_switch",
}
HELP_ACTION = "help"  # the app's `?`: every key of the screen


class KeyFooter(Footer):
    """The footer: the keys of the screen, and at its right end, always in view however many keys
    there are, ``? Hilfe`` (every key, in the help) and the command palette. Textual's own keys
    (a menu's escape) are shown in the user's language."""

    DEFAULT_CSS = """
    KeyFooter > .footer-right { dock: right; width: auto; height: 1; border-left: vkey $foreground 20%; }
    KeyFooter > .footer-right FooterKey { margin-left: 1; }
    KeyFooter.-covered > * { visibility: hidden; }
    """

    def __init__(self) -> None:
        super().__init__(compact=True)
        self._recompose_due = False
        self._scheduled_on: Screen | None = None  # the screen on top when the recompose was scheduled
        self._composed: tuple | None = None  # what the keys shown were made from (_keys_now)

    def bindings_changed(self, screen: Screen) -> None:
        """Once per frame however often the bindings changed in it: a start sends the signal
        six times (focus, the screen, its keys, the chrome), and each recompose mounted the
        keys anew on the way to the first rows."""
        self._bindings_ready = True
        if not screen.app.app_focus or not (self.is_attached and screen is self.screen):
            return
        # Textual runs an after-refresh callback on the screen on top then; a form closed at once
        # (a step queued offline) took it along, the flag stayed set and the footer kept
        # "c Stornieren" for good (walk, tmux 80x24). A recompose whose screen is gone is due again.
        if self._recompose_due and self._scheduled_on is not None and self._scheduled_on.is_attached:
            return
        self._recompose_due = True
        self._scheduled_on = self.app.screen
        self.call_after_refresh(self._recompose_once)

    async def _recompose_once(self) -> None:
        self._recompose_due = False
        # Many changes of the bindings leave the keys as they were (the start signals six, the
        # first rows' focus one more): the same keys mounted anew cost 10–15 ms, on the way to
        # the first rows and between two keystrokes.
        if not self.is_attached or self._pruning:
            return  # gone meanwhile (Textual's recompose does nothing then either)
        if self._composed is not None and self._keys_now() == self._composed:
            return
        await self.recompose()

    def _keys_now(self) -> tuple | None:
        """All that the keys shown are made from: the screen's active bindings (each key as it is
        displayed, its text, enabled or not) and the language; None before the bindings are ready."""
        if not self._bindings_ready:
            return None
        app = self.app
        return (i18n.current_language(), self.show_command_palette,
                tuple((key, b.key, app.get_key_display(b), b.description, b.action, b.show, b.group, enabled, tooltip)
                      for key, (_, b, enabled, tooltip) in self.screen.active_bindings.items()))

    def compose(self) -> ComposeResult:
        self._composed = self._keys_now()
        right: list[FooterKey] = []
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                if widget.action in TEXTUAL_KEYS:
                    widget.description = i18n.t(TEXTUAL_KEYS[widget.action])
                if widget.action == HELP_ACTION or widget.has_class("-command-palette"):
                    widget.remove_class("-command-palette")
                    right.append(widget)
                    continue
            yield widget
        if right:
            # A class, not an id: two recomposes in one burst (bindings and language changing at
            # once) mount before the first one's children are gone — an id clashed and crashed the app.
            with HorizontalGroup(classes="footer-right"):
                yield from sorted(right, key=lambda key: key.action != HELP_ACTION)
        self.call_after_refresh(self._fit_keys)

    # Whole keys or none: at 80 columns the keys run under the right-hand group, and the last one
    # showed half a word ("r Aktualisie"). The keys that do not fit whole are hidden (every key
    # is in the help behind `? Hilfe`); a wider terminal shows them again.

    def on_resize(self) -> None:
        for key in self._left_keys():
            key.display = True
        self.call_after_refresh(self._fit_keys)

    def _left_keys(self) -> list[Widget]:
        return [child for child in self.children if not child.has_class("footer-right")]

    def _fit_keys(self) -> None:
        if not self.size.width:
            return
        # Widths from the keys' own text, not from the last layout: a footer recomposed under a
        # dialog is not laid out until the dialog closes, and its keys would all count as fitting.
        right = sum(1 + sum(_key_width(k) for k in group.query(FooterKey)) for group in self.query_children(".footer-right"))
        room = self.size.width - right
        used = 0
        cut = False
        for key in self._left_keys():
            used += _key_width(key) if isinstance(key, FooterKey) else key.outer_size.width
            cut = cut or used > room  # once one key does not fit, none after it shows (no gaps)
            if key.display == cut:
                key.display = not cut


def _key_width(key: Widget) -> int:
    return key.get_content_width(Size(0, 0), Size(0, 0)) + key.styles.margin.width


def trouble_text(status: Status) -> str:
    """What the last failed request met, short: "keine Verbindung", "Serverfehler 502" …"""
    key = f"status.trouble.{status.trouble}"
    return i18n.t(key if key in i18n.MESSAGES else "status.trouble.network", status=status.trouble_status or "?")


def banner_text(status: Status, server: str) -> str:
    """The offline banner: since when the data are (a first start has none: then whom it asked)."""
    as_of = status.as_of.get("offerings")
    if as_of is None:
        key = "banner.no_data_disturbed" if status.disturbed else "banner.no_data"
        return i18n.t(key, server=clean(server), trouble=trouble_text(status))
    when = formatting.moment(as_of)
    if status.disturbed:
        return i18n.t("banner.disturbed", trouble=trouble_text(status), time=when)
    return i18n.t("banner.offline", time=when)


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    def show(self, status: Status, progress: tuple[int, int | None] | None = None, connecting: bool = False,
             setting_up: bool = False) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        if setting_up:  # the first start creates the demo marketplace: seconds, and it says so
            text.append("● " + i18n.t("banner.setting_up"), style="bold")
        elif connecting:
            text.append("● " + i18n.t("banner.connecting"), style="bold")
        elif status.online and status.closed:
            # The server ended the stream for good: say why rather than go quiet.
            text.append("● " + i18n.t("status.closed", reason=i18n.t(f"status.closed.{status.closed}")), style="bold red")
        elif status.online and status.mode == "live":
            text.append("● " + i18n.t("status.live"), style="bold green")
        elif status.online:
            text.append("● " + i18n.t("status.online"), style="bold green")
        else:  # what failed, from the last request: no answer, or an answer that is a failure
            text.append("● " + i18n.t("status.disturbed" if status.disturbed else "status.offline"), style="bold red")
            if status.trouble:
                text.append(": " + trouble_text(status), style="red")
        as_of = status.as_of.get("offerings")
        # Live, the data is as of now; while the demo is set up, "no data yet" goes without saying
        # (and would be cut at 80 columns).
        if not (status.online and status.mode == "live") and not setting_up:
            text.append("  " + (i18n.t("status.as_of", time=formatting.clock(as_of)) if as_of else i18n.t("status.never")))
        if status.news:
            text.append("  " + i18n.t("status.news", n=status.news), style="bold yellow")
        if progress is not None:
            done, total = progress
            label = (i18n.t("status.syncing", done=formatting.number(done), total=formatting.number(total))
                     if total else i18n.t("status.syncing_open", done=formatting.number(done)))
            text.append(f"  {label} ", style="bold")
            if total:
                filled = min(10, round(10 * done / total))
                text.append("█" * filled + "░" * (10 - filled), style="bold")
        if status.pending:
            text.append("  " + i18n.t("status.pending", n=status.pending), style="yellow")
        if status.failed:
            text.append("  " + i18n.t("status.failed", n=status.failed), style="bold red")
        self.update(text, layout=False)  # one line, full width: new text never moves anything
