"""The base of every screen of the app: `AppScreen` (full screens) and `AppModal` (dialogs over one).

What every screen shares lives here once, instead of a line in each screen's ``__init__`` and
``on_mount`` and ``hasattr`` probes in the app:

* its key bindings shown in the user's language (``localize_bindings``, again on a language switch);
* the chrome — header, offline banner, status line — mounted when the screen is (``CHROME``);
* who is signed in: ``me`` (``/me`` as the app last knows it) and ``role``;
* whether it owns the keyboard (``OWNS_KEYBOARD``: forms and dialogs): then the app's single-key
  navigation (area digits, ``:``, ``o``) is off and ``q`` asks before quitting (app.py);
* what the app tells every screen — the data changed (by kind, with ids), the identity changed,
  the language changed: one method each, below, that a screen overrides. The data and the
  identity come as the app's Textual signals (``data_changed``, ``identity_changed``), to which
  every screen subscribes when it is mounted (and is unsubscribed when it goes); a screen names
  the kinds it shows in ``DATA_KINDS`` and reloads only when one of them changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import events
from textual.screen import ModalScreen, Screen, ScreenResultType
from textual.widget import Widget
from textual.widgets import Input

from ..api.models import Me
from ..services import DataChanged
from .localize import localize_bindings

if TYPE_CHECKING:
    from ..app import EfaApp


class _AppScreenBase:
    """The shared part of `AppScreen` and `AppModal` (Textual wants the screen class itself last)."""

    CHROME: ClassVar[bool] = True  # header, offline banner and status line (dialogs: none)
    OWNS_KEYBOARD: ClassVar[bool] = False  # a form or dialog: no area keys, and `q` asks first
    # The kinds of data this screen shows ("orders", "invoices", "offerings", "organizations",
    # "outbox"): a change of one of them (a sync, a write's answer, the outbox) reloads it.
    DATA_KINDS: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        localize_bindings(self)  # type: ignore[arg-type]
        self.keyboard_ready = not self.OWNS_KEYBOARD  # the app holds the keys typed until then

    # `_on_mount`, not `on_mount`: Textual calls both, so screens keep their own `on_mount`
    # (which runs first: Textual walks the class's MRO from the subclass).
    def _on_mount(self, event: events.Mount) -> None:
        if self.CHROME:
            self.show_chrome()
        for name, callback in (("data_changed", self.data_changed), ("identity_changed", self.identity_changed)):
            signal = getattr(self.app, name, None)  # type: ignore[attr-defined]
            if signal is not None:  # a bare App (widget tests) has none
                signal.subscribe(self, callback)

    def show_chrome(self) -> None:
        """Mount the chrome (once) and show in it who is signed in and the status now."""
        mount_chrome = getattr(self.app, "mount_chrome", None)  # type: ignore[attr-defined]
        if mount_chrome is not None and self.is_attached:  # type: ignore[attr-defined]  # a bare App (widget tests) has none
            mount_chrome(self)

    @property
    def efa(self) -> EfaApp:
        """The app, typed as ours (``open_order``, ``open_invoice``, ``session`` …)."""
        return cast("EfaApp", self.app)  # type: ignore[attr-defined]
    # --- the keyboard ------------------------------------------------------------------------------
    # A screen that owns the keyboard takes every key typed from the moment it is pushed: Textual
    # focuses a widget only once the screen is mounted (and Widget.focus() is deferred), so keys
    # typed right after `b` or `p` would reach the app's bindings (`q` quit, digits switched
    # areas). The app holds them until the screen has its focus (`keyboard_ready`), then replays
    # them. A screen whose action opens a form after reading something in a thread calls
    # `keys_to_next_screen()` first, so that the keys typed meanwhile wait too.

    def keys_to_next_screen(self) -> None:
        hold = getattr(self.app, "hold_keys", None)  # type: ignore[attr-defined]
        if hold is not None:
            hold()

    def first_focus(self) -> Widget | None:
        """What has the focus when the screen opens, if Textual's AUTO_FOCUS found nothing."""
        return None

    def _on_screen_suspend(self) -> None:
        # Covered by a dialog, this screen's keys do not work, yet its footer stayed in view below
        # it ("b Interesse bekunden ⏎ Vorhandene öffnen" under the open-order question, walk T5):
        # the footer shows none of them until the screen is on top again.
        self._cover_footer(True)

    def _cover_footer(self, covered: bool) -> None:
        from ..widgets.chrome import KeyFooter

        for footer in self.query(KeyFooter):  # type: ignore[attr-defined]
            footer.set_class(covered, "-covered")

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        self._cover_footer(False)
        if getattr(self, "_relabel_on_resume", False):
            self._relabel_on_resume = False
            self.call_later(self._relabel_if_shown)  # type: ignore[attr-defined]
        if not self.keyboard_ready:
            # After Textual's own auto focus (the same event, handled after this one).
            self.call_after_refresh(self.opened)  # type: ignore[attr-defined]
        elif getattr(self.app, "_holding", False):  # type: ignore[attr-defined]
            # The screen the held keys waited for (a detail opened by Enter) is here and usable
            # at once: they go on to it, after its focus is set.
            self.call_after_refresh(self.app.release_keys)  # type: ignore[attr-defined]

    def opened(self) -> None:
        """The screen is shown and focused: it takes the keys typed so far. A screen that fills
        itself in first (a form restoring its draft) calls `take_keyboard` itself once done."""
        self.take_keyboard()

    def take_keyboard(self) -> None:
        if self.keyboard_ready:
            return
        if self.focused is None and (first := self.first_focus()) is not None:  # type: ignore[attr-defined]
            self.set_focus(first)  # type: ignore[attr-defined]
        self.keyboard_ready = True
        release = getattr(self.app, "release_keys", None)  # type: ignore[attr-defined]
        if release is not None:
            release()

    # --- who is signed in ---------------------------------------------------------------------

    @property
    def me(self) -> Me | None:
        """``/me`` as the app last knows it (user, role, organisation, can_order); None before."""
        me = getattr(self.app, "me", None)  # type: ignore[attr-defined]
        return me if isinstance(me, Me) else None

    @property
    def role(self) -> str:
        """customer, provider, support, operator — or "" before ``/me`` has answered."""
        return self.me.role if self.me else ""

    # --- what the app tells every screen ------------------------------------------------------
    # The one place for the app's signals to the screens (data changed by kind, identity changed,
    # language changed): a screen overrides the method of the news it cares about.

    def data_changed(self, change: DataChanged) -> None:
        """Data changed (the ``data_changed`` signal): reload when it is of a kind shown here."""
        if change.kind in self.DATA_KINDS:
            self.data_synced()

    def data_synced(self) -> None:
        """New data of one of ``DATA_KINDS`` is in the cache: reload what is shown."""

    def identity_changed(self, me: Me) -> None:
        """``/me`` answered (the ``identity_changed`` signal): who is signed in, role, organisation."""

    async def relabel(self) -> None:
        """The language changed: rebuild what shows translated text (bindings are done already).

        By default a full screen is composed again and filled as when it was mounted (its
        ``on_mount``: the load of its data, its focus) — a screen pushed over another (a detail, the
        outbox) is redrawn as well as the area below it. A screen with state of its own that a
        recompose would lose overrides this (the lists keep filter and cursor, forms their input).
        A dialog is composed again too (its texts are message ids, or functions that write them:
        confirm.py), so that nothing open stays in the language it was opened in."""
        # Not at the top: the catalog's first rows need no TextArea (widgets/text_box.py).
        from textual.widgets import TextArea

        # What was typed into a field (a path, a note) stays: put back by the field's id.
        typed = {w.id: w.value for w in self.query(Input) if w.id}  # type: ignore[attr-defined]
        written = {w.id: w.text for w in self.query(TextArea) if w.id}  # type: ignore[attr-defined]
        await self.recompose()  # type: ignore[attr-defined]
        on_mount = getattr(self, "on_mount", None)
        if on_mount is not None:
            on_mount()
        for widget in self.query(Input):  # type: ignore[attr-defined]
            if widget.id in typed:
                widget.value = typed[widget.id]
        for area in self.query(TextArea):  # type: ignore[attr-defined]
            if area.id in written:
                area.text = written[area.id]

    async def language_changed(self) -> None:
        """Called by the app on every screen of every area after a language switch."""
        localize_bindings(self)  # type: ignore[arg-type]
        app = self.app  # type: ignore[attr-defined]
        if self is not app.screen and self in app.screen_stack:
            # Under a dialog, and drawn through it: a recompose now would have the compositor paint
            # widgets it is removing (a form's TextArea crashed). Redrawn when it is on top again.
            # Its header and status line, drawn through the dialog, say it in the new language now
            # (its key hints when it is on top again).
            self._relabel_on_resume = True
            if self.CHROME:
                self.show_chrome()
            return
        await self._relabel_now()

    async def _relabel_if_shown(self) -> None:
        if self is self.app.screen:  # type: ignore[attr-defined]
            await self._relabel_now()
        else:  # still covered (or gone): when it is on top again
            self._relabel_on_resume = self in self.app.screen_stack  # type: ignore[attr-defined]

    async def _relabel_now(self) -> None:
        if not self.is_attached or getattr(self, "_closing", False):  # type: ignore[attr-defined]
            return  # dismissed meanwhile (a form left from the question over it)
        focused = self.focused  # type: ignore[attr-defined]
        focused_id = focused.id if focused is not None else None
        await self.relabel()
        # A screen rebuilt by recompose() lost its chrome and its focus: both come back, so that a
        # key pressed on return goes where it went before (not into a filter box).
        if self.CHROME:
            self.show_chrome()
        self.refocus(focused_id)

    def refocus(self, widget_id: str | None) -> None:
        if self.focused is not None:  # type: ignore[attr-defined]
            return
        again = self.query(f"#{widget_id}") if widget_id else None  # type: ignore[attr-defined]
        if again:
            again.first().focus()
            return
        from ..widgets.virtual_table import VirtualTable

        if tables := self.query(VirtualTable):  # type: ignore[attr-defined]
            tables.first().focus()


class AppScreen(_AppScreenBase, Screen[ScreenResultType]):
    """A full screen of the app (an area, a detail, a form)."""

    PLACE: ClassVar[str] = ""
    """What this screen is within its area (a message id), shown in the header after the area's
    name: "Meine Angebote › Nutzung". An area key brings back the screen its area was left on,
    and a sub-screen under the area's bare name read as the area's own list: typed keys then ran
    its commands (walk F4)."""

    back_to: str | None = None
    """The area this screen was opened from when opening it switched areas (an interest sent from
    the catalog opens its order in "Bestellungen"): `escape` goes back there, to the offering the
    user came from, not to the orders list (walk T6). Set by the app as it opens the screen."""

    @property
    def record_key(self) -> tuple[str, int] | None:
        """The record this screen shows in full (a detail), e.g. ("order", 75): opening it again
        while it is on top shows it, instead of a second copy under which the first waits."""
        return None

    def action_back(self) -> None:
        came_from = self.back_to
        self.app.pop_screen()
        if came_from is not None:
            self.app.switch_mode(came_from)


class AppModal(_AppScreenBase, ModalScreen[ScreenResultType]):
    """A dialog over a screen: no chrome of its own, and it owns the keyboard."""

    CHROME = False
    OWNS_KEYBOARD = True
