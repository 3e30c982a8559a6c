"""The terminal app: wires the areas (catalog, orders, invoices, support), the chrome (header,
offline banner, status line), help, jump, the command palette, themes, language and keymap."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Iterable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.color import Color
from textual.command import CommandPalette
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.signal import Signal
from textual.theme import Theme
from textual.timer import Timer
from textual.widgets import Input

from . import THEMES, areas, formatting, i18n
from .api.errors import ApiError, Unreachable
from .api.models import Invoice, Me, Order, as_invoice, as_me, as_order
from .commands import JumpProvider, Palette
from .screens import keys
from .screens.base import AppModal, AppScreen
from .screens.catalog import CatalogScreen
from .screens.confirm import Choice, ConfirmScreen
from .screens.help import HelpScreen, binding_rows
from .screens.jump import JumpScreen, parse_jump
from .screens.localize import localize_bindings
from .services import DataChanged, Status
from .services.connection import Batch, Live, News
from .session import Session
from .text import clean
from .widgets.chrome import AppHeader, BottomBar, KeyFooter, OfflineBanner, StatusLine, banner_text
from .widgets.key_order import KeyHandled, KeyOrder

log = logging.getLogger("efa_tui")
RETRY_PENDING_S = 30.0


def normalize_keymap(keymap: dict[str, str]) -> dict[str, str]:
    """Config keys as Textual names them (screens/keys.py): ";" → semicolon, "F3" → f3, "Esc" → escape."""
    return keys.normalize_keymap(keymap).keys


def with_visible_borders(theme: Theme) -> Theme:
    """The theme with unfocused borders one can see: Textual draws them in the surface colour
    darkened by 2.5 % (dark and light themes) or in black (ansi-dark, on a black terminal) —
    an input without the focus then has no visible edge. Grey in 16 colours, else the
    foreground at 35 % over the background."""
    if theme.ansi:
        blurred = "ansi_bright_black"
    else:
        background = Color.parse(theme.background or ("#121212" if theme.dark else "#efefef"))
        blurred = background.blend(Color.parse(theme.foreground or ("#e0e0e0" if theme.dark else "#1f1f1f")), 0.35).hex
    return replace(theme, variables={**theme.variables, "border-blurred": blurred})


_frozen = False


def _freeze_startup_objects() -> None:
    """Move what start-up created (modules, widgets, CSS, httpx and the models: ~100,000
    objects) out of the garbage collector's view. Otherwise every full collection scans them
    all, a 50–90 ms pause that lands in the middle of typing a filter. Once per process: each
    freeze keeps the frozen cycles for good, so a second app in the same process (tests)
    does not freeze again."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


class LiveBatch(Message):
    """The live client synced a burst of events (posted from its worker)."""

    def __init__(self, batch: Batch):
        super().__init__()
        self.batch = batch


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the live client stopped", exc_info=task.exception())


def news_text(news: News) -> str:
    """One announcement, in the user's language (server text cleaned)."""
    record = news.record or {}
    if news.record_kind == "invoices":
        amount = formatting.money(record["gross"]) if record.get("gross") else "–"
        return i18n.t("news.invoice", number=clean(str(record.get("number") or news.record_id)), amount=amount)
    title = clean(str((record.get("offering") or {}).get("title") or ""))
    side = "customer" if news.kind in ("interest", "order") else "provider"
    who = clean(str((record.get(side) or {}).get("name") or ""))
    return i18n.t("news." + news.kind, id=news.record_id, title=title, who=who)


LF_ENTER = "ctrl+j"
NEVER_HELD = frozenset({"ctrl+c", "ctrl+q"})  # quitting is never made to wait for a screen
PARKED_S = 1.0  # keys typed before a question wait this long after its answer for the form it opens


class EfaApp(App):
    TITLE = "efa-tui"
    DEFAULT_MODE = "catalog"
    COMMANDS = App.COMMANDS | {JumpProvider}
    BINDINGS = [
        Binding("question_mark", "help", "key.help", id="app.help"),
        Binding("colon", "jump", "key.jump", id="app.jump"),
        *(Binding(a.number, f"area('{a.key}')", f"key.{a.key}", show=False, id=f"app.{a.key}")
          for a in areas.AREAS if a.number and not a.roles),
        Binding(areas.ROLE_KEY, "role_area", "key.role_area", show=False, id="app.role_area"),
        Binding("r", "refresh", "key.refresh", id="app.refresh"),
        Binding("o", "outbox", "key.outbox", show=False, id="app.outbox"),
        Binding("w", "news", "key.news", show=False, id="app.news"),
        Binding("q", "quit", "key.quit", id="app.quit"),
        # Our own palette binding (Textual then adds none): labelled in the user's language, rebindable.
        Binding("ctrl+p", "command_palette", "key.palette", show=False, priority=True, id="app.palette"),
    ]
    CSS = """
    Screen { layers: base overlay; }
    /* NO_COLOR makes every colour a grey, and a focused field's border was one grey step from an
       unfocused one's (241 on 235 against 240 on 234): the focus is shown by shape as well. */
    Input:nocolor:focus, TextArea:nocolor:focus, Switch:nocolor:focus,
    Select:nocolor:focus > SelectCurrent { border: heavy $foreground; }
    FilterBox:nocolor:focus, Select.-textual-compact:nocolor:focus > SelectCurrent,
    Input.-textual-compact:nocolor:focus, TickBox:nocolor:focus { border: none; text-style: bold underline; }
    """

    def __init__(self, session: Session, *, language: str = "de", theme: str | None = None, wait_for_server: bool = True,
                 start_network: bool = True, config_file: Path | None = None):
        i18n.set_language(language)
        super().__init__()
        self.session = session
        self.services = session.services  # the one door, for the app as for every screen
        self.connection = self.services.connection
        self.wait_for_server = wait_for_server
        self.start_network = start_network  # False: cache only (snapshot tests: nothing races the picture)
        self.config_file = config_file  # where a language switch is kept (None: not kept, tests)
        self._progress: tuple[int, int | None] | None = None
        self._connecting = session.server is not None
        # Who used this cache last, read here — before the event loop runs, so no screen is ever
        # built without it (Jena's in-house facet once said "ja (82)" for the first reload);
        # None for a cache that no /me has answered yet. /me from the server replaces it.
        self._me: Me | None = self.connection.me()
        self.live: Live | None = None  # follows the server's event stream once the session started
        self._live_task: asyncio.Task[None] | None = None
        self._theme_name = theme or session.config.theme
        # The themes before the stylesheet is first read. Registered in on_mount they came after
        # it, and only Textual's restyling for the first mode's screen put their variables in
        # (which area_screen now spares).
        for name in THEMES:
            self.register_theme(with_visible_borders(self.available_themes[name]))
        self.theme = self._theme_name if self._theme_name in self.available_themes else "textual-dark"
        self.stylesheet.set_variables(self.get_css_variables())
        # The app starts in the catalog (DEFAULT_MODE): Textual builds no empty default screen
        # first, to be suspended for it.
        for area in areas.AREAS:
            self.add_mode(area.key, partial(self.area_screen, area.key))
        # What the screens subscribe to (screens/signals.py), instead of hooks the app calls.
        self.data_changed: Signal[DataChanged] = Signal(self, "data_changed")
        self.identity_changed: Signal[Me] = Signal(self, "identity_changed")
        self.language_changed: Signal[str] = Signal(self, "language_changed")
        self._reviving = False  # the embedded server is being started again (_revive_server)
        self._held_keys: list[events.Key] = []  # typed while a form opens (the keyboard rules below)
        self._key_order = KeyOrder(self._take_key, self.set_timer)
        self._parked_keys: list[events.Key] = []  # typed before a question appeared (park_keys)
        self._parked_timer: Timer | None = None
        self._holding = False
        self._hold_timer: Timer | None = None
        localize_bindings(self)
        keymap = keys.normalize_keymap(dict(session.config.keymap))
        self._unknown_keys = keymap.unknown  # said once the app is up; those bindings keep their default keys
        if keymap.keys:
            self.set_keymap(keymap.keys)

    # --- start ---------------------------------------------------------------------------------

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every toast of every screen comes here (Widget.notify calls the app's), always with markup
        off: messages carry server text (a refusal's detail, a title) and what users typed, so
        "[red]x[/red]" must show literally and a lone "[" must not crash the toast. ``markup`` is
        accepted only because Textual passes it."""
        kwargs = {} if timeout is None else {"timeout": timeout}
        super().notify(message, title=title, severity=severity, markup=False, **kwargs)

    def on_mount(self) -> None:
        self.connection.subscribe(self._on_status)
        self.services.changes.subscribe(self.data_changed.publish)
        self.connection.on_cache_reset(self.action_refresh)  # damage emptied the cache: sync it again
        self.session.on_identity.append(self._identity_changed)
        self.run_worker(self._announce(), group="announce")
        self.switch_mode("catalog")
        # The network side starts once the cached catalog is on screen (or after a second):
        # loading httpx and the models would otherwise compete with the first paint.
        self._session_started = False
        self.set_timer(1.0, self._start_session_once)
        # Writes left pending by a busy server (503, 429 …) are tried again now and then; an
        # unreachable server has its own probe (backend), which flushes when it answers.
        self.set_interval(RETRY_PENDING_S, self._retry_pending)
        if self._unknown_keys:
            self.notify(i18n.t("keymap.unknown", keys=", ".join(f'{bid} = "{key}"' for bid, key in self._unknown_keys.items())),
                        severity="warning", timeout=15)

    def area_screen(self, area: str) -> Screen:
        """The screen of one area, built (and its module imported) when first opened."""
        screen = areas.area(area).build(self.session)
        # Made now, it is styled by the stylesheet as it is. Textual restyles the whole app for a
        # mode's new screen otherwise, twice, every CSS source parsed anew (its count starts at
        # -1): 10–15 ms before the catalog's first rows.
        screen._css_update_count = self._css_update_count
        return screen

    @property
    def me(self) -> Me | None:
        """Who is signed in (``/me``: role, organisation), as last known; None before the first answer."""
        return self._me

    @property
    def _role(self) -> str | None:
        """The signed-in user's role (customer, provider, support, operator); None before ``/me``."""
        return self._me.role if self._me else None

    def _retry_pending(self) -> None:
        status = self.connection.status
        if self._session_started and status.online and status.pending:
            self.run_worker(self.connection.flush(), group="outbox-retry", exclusive=True)

    async def _announce(self) -> None:
        """Who you are (read at start) and how old the cached data is, at once."""
        self.mount_chrome(self.screen)
        await self.connection.announce()

    def on_virtual_table_loaded(self) -> None:
        self.call_after_refresh(self._start_session_once)

    def _start_session_once(self) -> None:
        if not self._session_started and self.start_network:
            self._session_started = True
            self.start_session()

    @work(exclusive=True, group="session")
    async def start_session(self) -> None:
        """Background: wait for the embedded server, learn who we are, sync, flush the outbox."""
        await self.connection.warm_up()  # load httpx and the models off the event loop
        _freeze_startup_objects()
        server = self.session.server
        if server is not None and self.wait_for_server:
            ready = await server.wait_ready()
            self._connecting = False
            if not ready:
                self.notify(i18n.t("error.unreachable", reason="embedded server"), severity="error")
        self._connecting = False
        try:
            # Who this is: the local state becomes that identity's (another one's rows go away).
            self._me, _ = await self.session.identify()
            self.identity_changed.publish(self._me)
        except Unreachable:
            pass  # the refresh below goes offline and probes
        except ApiError as exc:
            self.notify(i18n.problem(exc), severity="error")
        self.mount_chrome(self.screen)
        await self._refresh()
        for screen in self._area_screens():  # the first sync is over: keys typed ahead wait no longer
            if isinstance(screen, CatalogScreen):
                screen.call_after_refresh(screen.first_sync_over)
        await self.connection.flush() if self.connection.status.online else None
        self.start_live()

    def start_live(self) -> None:
        """Follow the server's event stream (store/live.py): changes are synced as they happen."""
        settings = self.session.config.live
        if not settings.enabled or self.live is not None:
            return
        self.live = self.connection.follow(role=lambda: self._role, notify=tuple(settings.notify),
                                           poll_s=settings.poll_s, on_batch=lambda batch: self.post_message(LiveBatch(batch)))
        # A task of its own (like the backend's offline probe), not a worker: it never ends, and
        # "wait until the workers are done" must still mean "until the app is quiet".
        self._live_task = asyncio.get_running_loop().create_task(self.live.run())
        self._live_task.add_done_callback(_log_failure)

    def stop_live(self) -> None:
        self.live = None
        task, self._live_task = self._live_task, None
        if task is not None:
            task.cancel()

    def on_live_batch(self, message: LiveBatch) -> None:
        """Events were synced: the screens show the new data in place, the news is announced."""
        batch = message.batch
        if batch.results and not all(r.not_modified for r in batch.results.values()):
            self.data_synced()
        if self.session.config.live.toasts:
            for news in batch.news:
                self.notify(news_text(news), title=i18n.t("key.news"))
        self._show_status(self.connection.status)

    async def _refresh(self) -> None:
        def progress(kind: str, done: int, total: int | None) -> None:
            if kind == "offerings":
                self._progress = (done, total)
                self._show_status(self.connection.status)

        try:
            # What the sync changed reaches the lists as data_changed (the backend publishes it).
            await self.connection.refresh(progress=progress)
        except ApiError as exc:
            self.notify(i18n.problem(exc), severity="error")
        finally:
            self._progress = None
        self._show_status(self.connection.status)

    def data_synced(self) -> None:
        """A sync brought changes (r, or the live event stream): every screen that shows cached
        data reads it again, in place."""
        for screen in self._area_screens():
            if isinstance(screen, CatalogScreen):
                screen.reload(keep_cursor=True)
            elif isinstance(screen, AppScreen):
                screen.data_synced()

    def _identity_changed(self, identity: Any) -> None:
        """/me named another identity than the cache on screen had: everything built on those
        rows goes, and the areas are built again on this identity's cache."""
        self._me = as_me(identity.me)
        self.run_worker(self._rebuild_areas(), group="identity", exclusive=True)
        if self.live is not None:
            # Another identity hears other events, from its own last event id, with its own news.
            self.stop_live()
            self.start_live()

    async def _rebuild_areas(self) -> None:
        if self.current_mode != "catalog":
            self.switch_mode("catalog")
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        for area in areas.AREAS:
            if area.key != "catalog":
                await self.remove_mode(area.key)
                self.add_mode(area.key, partial(self.area_screen, area.key))
        if isinstance(self.screen, CatalogScreen):
            self.screen.reload()
        self.mount_chrome(self.screen)

    def _area_screens(self) -> Iterable[Screen]:
        for stack in self._screen_stacks.values():
            yield from stack

    # --- chrome ------------------------------------------------------------------------------

    def mount_chrome(self, screen: Screen) -> None:
        """Mount the chrome on a screen (header, offline banner, status line) once, and show in it who
        is signed in and the status now; called again, it only updates what the chrome shows."""
        if not screen.is_attached:
            return  # closed meanwhile (a jump pops the detail it was asked for)
        if not screen.query(AppHeader):
            screen.mount(AppHeader(), BottomBar(StatusLine(), KeyFooter()), OfflineBanner())
            # The status line sits inside the bar, which only has it once mounted.
            screen.call_after_refresh(lambda: self._show_status(self.connection.status, screen))
        me = self._me
        org = me.organization.name if me else ""
        # The area a screen belongs to is the mode it was first shown in (a language switch
        # gives screens of other areas their chrome again).
        mode = screen.__dict__.setdefault("_efa_area", self.current_mode)
        place = i18n.t(areas.area(mode).title)
        if sub_place := getattr(screen, "PLACE", ""):
            place += f" › {i18n.t(sub_place)}"
        screen.query_one(AppHeader).show(self.session.profile.name, org, me.role if me else "", place)
        self._show_status(self.connection.status, screen)

    def _on_status(self, status: Status) -> None:
        self._show_status(status)
        server = self.session.server
        if not status.online and server is not None and server.died and not self._reviving and self.is_running:
            self._reviving = True
            self.run_worker(self._revive_server(), group="revive")

    async def _revive_server(self) -> None:
        """The embedded demo marketplace died (killed, crashed): started again on its database and
        port. Offline, the banner promised that waiting changes go out once it is reachable — with
        nothing to start it, that was never (helper walk)."""
        server = self.session.server
        try:
            if server is None:
                return
            log.warning("the embedded server has ended (exit code %s); starting it again", server.process and server.process.poll())
            self.notify(i18n.t("server.restarting"), severity="warning")
            server.start()
            if await server.wait_ready(60):
                self.action_refresh()  # online again: the sync, and the outbox sent
            else:
                self.notify(i18n.t("server.restart_failed"), severity="error", timeout=30)
        finally:
            self._reviving = False

    def _show_status(self, status: Status, screen: Screen | None = None) -> None:
        # Every screen of the current stack: one below a form shows the news when the form closes.
        for one in [screen] if screen is not None else list(self.screen_stack):
            self._show_status_on(one, status)

    def _show_status_on(self, screen: Screen, status: Status) -> None:
        for line in screen.query(StatusLine):
            server = self.session.server
            # Until the first contact has an outcome, it is not known to be online (a server that
            # hangs would otherwise show "online" until its first request timed out).
            line.show(status, self._progress, connecting=self._connecting or (self.start_network and not status.contacted),
                      setting_up=self._connecting and server is not None and server.first_run)
        for banner in screen.query(OfflineBanner):
            offline = not status.online and not self._connecting
            banner.update(Text(banner_text(status, self.services.administration.server_url())))
            banner.set_class(offline, "-shown")

    # --- actions ---------------------------------------------------------------------------------

    def action_help(self) -> None:
        below = self.screen
        self.push_screen(HelpScreen(lambda: binding_rows(below)))  # again in the new language after a switch

    def action_jump(self) -> None:
        def done(text: str | None) -> None:
            if text:
                self.run_jump(text)

        self.push_screen(JumpScreen(), done)

    def action_outbox(self) -> None:
        from .screens.outbox import OutboxScreen

        if not isinstance(self.screen, OutboxScreen):
            self.push_screen(OutboxScreen(self.session))

    def action_news(self) -> None:
        """Open the oldest thing that waits for the user (announced by the live client)."""
        news = self.live.read() if self.live is not None else None
        if news is None:
            self.notify(i18n.t("news.none"))
        else:
            self.open_news(news)
        self._show_status(self.connection.status)

    @work(exclusive=True, group="record")
    async def open_news(self, news: News) -> None:
        record = await asyncio.to_thread(self.connection.record, news.record_kind, news.record_id) or news.record
        if record is None:
            self.notify(i18n.t("news.gone", id=news.record_id), severity="warning")
        elif news.record_kind == "orders":
            self.open_order(record, come_back=True)
        else:
            self.open_invoice(record, come_back=True)

    # --- the keyboard ------------------------------------------------------------------------------
    # The rules, in one place: a text field takes the printable keys typed into it (Textual drops
    # the bindings a focused Input or TextArea consumes); a form or dialog (`OWNS_KEYBOARD`) gets
    # every key typed from the moment it opens (held until its first field has the focus), the
    # app's single keys that leave it (area digits, `:`, `o`) are off there, and `q` asks first.

    LEAVING_ACTIONS = frozenset({"area", "role_area", "jump", "outbox", "news"})

    def hold_keys(self) -> None:
        """Keys typed from now on wait for the next screen that owns the keyboard (a form whose
        data is read in a thread first); released by that screen, or after a moment if none comes."""
        self._holding = True
        if self._hold_timer is not None:
            self._hold_timer.stop()
        self._hold_timer = self.set_timer(2.0, self.release_keys)

    def release_keys(self) -> None:
        """The keys held go where they would have gone now (the new form's first field), in order."""
        self._holding = False
        if self._hold_timer is not None:
            self._hold_timer.stop()
            self._hold_timer = None
        if self._held_keys:
            self.call_later(self._replay_keys)

    def park_keys(self) -> None:
        """A question appeared (a dialog): the keys typed before it are set aside, not replayed into it."""
        self._parked_keys += self._held_keys
        self._held_keys = []

    def unpark_keys(self) -> None:
        """The question is answered: a form it opens takes the keys set aside (`claim_parked_keys`,
        when it takes the keyboard); if none comes within a moment they were meant for something
        that did not open, and are dropped — said, so that nobody wonders where the text went."""
        if self._parked_keys:
            self._parked_timer = self.set_timer(PARKED_S, self._drop_parked_keys)

    def claim_parked_keys(self) -> None:
        parked, self._parked_keys = self._parked_keys, []
        if parked:
            self._held_keys = parked + self._held_keys
        if self._parked_timer is not None:
            self._parked_timer.stop()
            self._parked_timer = None

    def _drop_parked_keys(self) -> None:
        parked, self._parked_keys = self._parked_keys, []
        self._parked_timer = None
        if any(key.is_printable for key in parked):
            self.notify(i18n.t("keys.dropped_for_question"), severity="warning")

    def _holds_keys(self) -> bool:
        screen = self.screen if self._screen_stacks.get(self.current_mode) else None
        opening = self._holding or (isinstance(screen, (AppScreen, AppModal)) and not screen.keyboard_ready)
        if not opening and self._held_keys:
            self.release_keys()  # the screen they waited for went before it was ready: they go on here
        return opening or bool(self._held_keys)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and event.key == LF_ENTER and not event.is_forwarded:
            # Enter typed before the app had the terminal (it starts in cooked mode, which turns
            # the key's CR into LF): Textual reads LF as ctrl+j, and `Enter b` typed at once lost
            # its Enter. Ctrl+J is Enter, as in a shell.
            event = events.Key("enter", "\r")
        if isinstance(event, events.Key) and not event.is_forwarded and event.key not in NEVER_HELD:
            await self._key_order.take(event)  # one at a time (widgets/key_order.py), then _take_key
            return
        await super().on_event(event)

    async def _take_key(self, event: events.Key) -> None:
        if self._holds_keys():
            self._held_keys.append(event)
            return
        target = self.focused
        await super().on_event(event)
        if target is not None and event.is_forwarded:
            self._key_order.sent(target)

    async def on_key_handled(self, message: KeyHandled) -> None:
        await self._key_order.handled(message)

    async def _on_key(self, event: events.Key) -> None:
        # A key no widget took, back at the app for its bindings. Typed ahead of a form that is
        # opening (forwarded to the screen below before the form was there): it is the form's.
        if self._holds_keys():
            self._held_keys.append(event)
            event.prevent_default()  # not App._on_key's bindings
            return
        # A letter back here while a text field has the focus was typed in the same burst as the
        # key that moved the focus there (`/` into a filter, over SSH a burst is common): Textual
        # sent it to the widget focused before, and the bindings skip it now — it would be lost.
        # A key typed into the field itself never gets here (the field takes it).
        focused = self.focused
        if isinstance(focused, Input) and event.is_printable and event.character:
            focused.insert_text_at_cursor(event.character)
            event.prevent_default()

    async def _replay_keys(self) -> None:
        keys, self._held_keys = self._held_keys, []
        for key in keys:
            await self._key_order.take(events.Key(key.key, key.character))  # afresh: not yet forwarded

    def owns_keyboard(self) -> bool:
        return bool(getattr(self.screen, "OWNS_KEYBOARD", False))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.LEAVING_ACTIONS and self.owns_keyboard():
            return False  # a form or dialog is left by escape (or sent), not by an area key
        return True

    def action_quit(self) -> None:  # type: ignore[override]  # sync on purpose: see below
        """`q`: quits at once from a list or a detail with nothing unsent; otherwise asks first —
        from a form or dialog, and whenever writes still wait in the outbox (it says how many).
        Decided at once, from the status the backend keeps (no await: keys typed after `q` must not
        open screens while the app is already closing)."""
        if isinstance(self.screen, ConfirmScreen):
            return
        pending = self.connection.status.pending
        if not pending and not self.owns_keyboard():
            self.exit()
            return
        def detail() -> str:
            return i18n.tn("quit.pending", n=pending) if pending else i18n.t("quit.form")

        def answered(choice: str | None) -> None:
            if choice == "quit":
                self.exit()

        self.push_screen(ConfirmScreen(lambda: i18n.t("quit.question"), [Choice("quit", "q", "quit.yes", primary=True),
                                                                 Choice("stay", "escape", "quit.no")], detail), answered)

    def _leave_forms(self) -> None:
        """Forms do not stay behind on an area's stack (their drafts are saved): one left for
        another area would come back later, stale, one ctrl+s from a second write. (A dialog on
        top is not popped: it is the one closing, e.g. the jump box whose answer led here.)"""
        while (len(self.screen_stack) > 1 and self.owns_keyboard()
               and not isinstance(self.screen, ModalScreen)):
            self.pop_screen()

    def action_area(self, name: str) -> None:
        self.switch_mode(name)

    def role_area(self) -> str | None:
        """Providers have "Meine Angebote", support and operator staff the "Support" area."""
        area = areas.role_area(self._role)
        return area.key if area else None

    def action_role_area(self) -> None:
        """`4`: the role's own area; a role without one (customers) is told which keys it has."""
        area = self.role_area()
        if area:
            self.switch_mode(area)
            return
        role = self._role or "customer"
        keys = ", ".join(f"{key} {i18n.t(a.title)}" for key, a in areas.number_keys(role))
        self.notify(i18n.t("jump.no_role_area", role=i18n.t("role." + role), number=areas.ROLE_KEY, keys=keys), severity="warning")

    def switch_mode(self, mode: str):  # type: ignore[override]
        if mode != self.current_mode:
            self._leave_forms()
            if isinstance(self.screen, AppScreen):
                # Left by another way, the detail's `escape` no longer knows where the user came from.
                self.screen.back_to = None
        result = super().switch_mode(mode)
        self.call_after_refresh(self.mount_chrome, self.screen)
        return result

    def action_refresh(self) -> None:
        self.run_worker(self._refresh(), exclusive=True, group="refresh")

    def run_jump(self, text: str) -> None:
        verb, rest = parse_jump(text)
        if verb in areas.BY_VERB:
            area = areas.BY_VERB[verb]
            if area.for_role(self._role):
                self.switch_mode(area.key)
            else:
                self.notify(i18n.t("jump.not_for_role", role=i18n.t("role." + (self._role or "customer"))),
                            severity="warning")
        elif verb in ("offering", "angebot"):
            self.switch_mode("catalog")
            # The catalog itself, not the detail it had open: `:offering blaue karte` showed the
            # offering opened there earlier (and `b` typed next was an interest in that one).
            while len(self.screen_stack) > 1 and not isinstance(self.screen, (CatalogScreen, ModalScreen)):
                self.pop_screen()
            self.call_after_refresh(lambda: self.screen.find_offering(rest) if isinstance(self.screen, CatalogScreen) else None)
        elif verb in ("order", "bestellung", "invoice", "rechnung") and rest:
            self.open_record(verb, rest)
        elif verb in ("outbox", "ausstehend"):
            self.action_outbox()
        elif verb in ("help", "hilfe"):
            self.action_help()
        elif verb in ("quit", "beenden"):
            self.action_quit()
        else:
            self.notify(i18n.t("jump.unknown", text=clean(text)), severity="warning")

    @work(exclusive=True, group="record")
    async def open_record(self, verb: str, rest: str) -> None:
        """`:order N` / `:invoice NUMBER`: find the record in the cache, then open its screen."""
        if verb in ("order", "bestellung"):
            number = rest.lstrip("#")
            record = await asyncio.to_thread(self.connection.record, "orders", int(number)) if number.isdigit() else None
        else:
            record = await asyncio.to_thread(self.connection.invoice_by_number, rest)
        if record is None:
            self.notify(i18n.t("jump.not_found", text=clean(f"{verb} {rest}")), severity="warning")
            return
        if verb in ("order", "bestellung"):
            self.open_order(record)
        else:
            self.open_invoice(record)

    def open_order(self, order: Order | dict[str, Any], *, etag: str | None = None, come_back: bool = False) -> None:
        """One order in full, over the current area (support staff stay in theirs); JSON (a
        write's answer, a search hit, news) becomes the typed record here. With ``etag`` the order
        is the server's answer to a write just now: shown as it is, not fetched again. With
        ``come_back`` its `escape` returns to the screen it was opened from (see _show_detail)."""
        from .screens.order_detail import OrderScreen

        record = as_order(order)
        if record is None:
            return
        self._show_detail(OrderScreen(self.session, record, etag=etag), "orders", come_back)

    def open_invoice(self, invoice: Invoice | dict[str, Any], *, come_back: bool = False) -> None:
        """One invoice in full (JSON from a search hit or news becomes the typed record here)."""
        from .screens.invoice_detail import InvoiceScreen

        record = as_invoice(invoice)
        if record is None:
            return
        self._show_detail(InvoiceScreen(self.session, record), "invoices", come_back)

    def _show_detail(self, detail: AppScreen, area: str, come_back: bool) -> None:
        """``detail`` over ``area`` (support staff stay in theirs). ``come_back``: the record was
        reached from where the user works (the order an interest just made, a news item), so when
        this switches areas, `escape` returns there; a jump (`:invoice N`) goes to the area, and
        `escape` to its list, as from any detail of it."""
        self._leave_forms()
        if self.current_mode not in (area, "support"):
            if come_back:
                detail.back_to = self.current_mode
            self.switch_mode(area)
        if isinstance(self.screen, AppScreen) and self.screen.record_key == detail.record_key:
            return  # on top already (`:order 75` from its own detail): not a second copy
        self.push_screen(detail)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        role = self._role
        for area in areas.AREAS:
            if area.for_role(role):
                verb = area.verb_in(i18n.current_language())
                yield SystemCommand(i18n.t(area.command), f":{verb}", lambda verb=verb: self.run_jump(verb))
        yield SystemCommand(i18n.t("cmd.outbox"), ":outbox", self.action_outbox)
        yield SystemCommand(i18n.t("cmd.news"), "w", self.action_news)
        yield SystemCommand(i18n.t("cmd.refresh"), "r", self.action_refresh)
        yield SystemCommand(i18n.t("cmd.language"), i18n.t("cmd.language_help"), self.action_toggle_language)
        yield SystemCommand(i18n.t("cmd.theme"), i18n.t("cmd.theme_help"), self.action_cycle_theme)
        yield SystemCommand(i18n.t("cmd.help"), "?", self.action_help)
        yield SystemCommand(i18n.t("cmd.quit"), "q", self.action_quit)

    async def action_toggle_language(self) -> None:
        i18n.set_language("en" if i18n.current_language() == "de" else "de")
        localize_bindings(self)
        for screen in list(self._area_screens()):
            if isinstance(screen, (AppScreen, AppModal)):
                await screen.language_changed()
            else:  # Textual's own (the command palette)
                localize_bindings(screen)
        self.language_changed.publish(i18n.current_language())  # for anything else that shows text
        self.refresh_bindings()
        await self._keep_language(i18n.current_language())

    async def _keep_language(self, language: str) -> None:
        self.session.config.language = language  # type: ignore[assignment]
        await self._keep_setting("language", language, "language.not_kept")

    async def _keep_setting(self, key: str, value: str, not_kept: str) -> None:
        """A choice made in the app (language, theme) goes into config.toml (the rest of the file as
        the user wrote it) and holds at the next start; a file that cannot be written costs only
        the remembering."""
        from .config import set_setting

        if self.config_file is None:
            return
        try:
            await asyncio.to_thread(set_setting, key, value, self.config_file)
        except (OSError, ValueError) as exc:  # tomllib.TOMLDecodeError is a ValueError
            self.notify(i18n.t(not_kept, path=str(self.config_file), reason=clean(str(exc))), severity="warning")

    def action_command_palette(self) -> None:
        """Textual's palette with its texts in the user's language (commands.Palette)."""
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(Palette(id="--command-palette"))

    async def action_cycle_theme(self) -> None:
        current = self.theme if self.theme in THEMES else THEMES[0]
        self.theme = THEMES[(THEMES.index(current) + 1) % len(THEMES)]
        self.session.config.theme = self.theme
        await self._keep_setting("theme", self.theme, "theme.not_kept")

    async def on_unmount(self) -> None:
        # Connections belong to this loop; closed after run() returns they would raise
        # "Event loop is closed" at the user (a traceback on quit).
        task = getattr(self, "_live_task", None)
        self.stop_live()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.session.close_network()
