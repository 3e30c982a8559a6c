"""Build the terminal app against a real reference server for Pilot and snapshot tests."""

from __future__ import annotations

import asyncio
import html
import re
from pathlib import Path

from efa_tui import formatting
from efa_tui.api.client import ApiClient
from efa_tui.app import EfaApp
from efa_tui.config import Config, LiveSettings, Profile, _named
from efa_tui.session import Session
from efa_tui.store.cache import Cache
from efa_tui.store.sync import sync_all


def make_session(base_url: str, tmp: Path, *, identity: str = "customer", keymap: dict | None = None,
                 presync: bool = True, live: bool = True, timeout_s: float = 10.0) -> Session:
    """``live``: follow the event stream; ``timeout_s``: the client's request timeout."""
    profile = _named(Profile(server_url=base_url, token_source="demo", demo_identity=identity, timeout_s=timeout_s),
                     "test")
    config = Config(keymap=keymap or {}, live=LiveSettings(enabled=live))
    cache_path = tmp / f"cache-{identity}.sqlite3"
    if presync:
        async def fill() -> None:
            async with ApiClient(base_url, f"demo-{identity}") as api:
                cache = Cache(cache_path)
                await sync_all(api, cache)
                cache.set_state("me", (await api.me()).model_dump(mode="json"))
                cache.close()

        asyncio.run(fill()) if not _in_loop() else None
    return Session.open(config, profile, cache_path=cache_path, local_path=tmp / "local.sqlite3")


def _in_loop() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False


def make_app(base_url: str, tmp: Path, *, start_network: bool = True, **kwargs) -> EfaApp:
    language = kwargs.pop("language", "de")
    theme = kwargs.pop("theme", "textual-dark")
    session = make_session(base_url, tmp, **kwargs)
    app = EfaApp(session, language=language, theme=theme, start_network=start_network)
    # For the tests' own checks (the app itself reaches them only through session.services).
    app.cache, app.backend = session.cache, session.backend  # type: ignore[attr-defined]
    return app


def table_of(app):
    """The virtual table (catalog, orders, invoices) of the screen on top."""
    from efa_tui.widgets.virtual_table import VirtualTable

    return app.screen.query_one(VirtualTable)


def screen_text(app) -> str:
    """What the terminal shows, as plain text (from the SVG screenshot Textual renders)."""
    svg = app.export_screenshot()
    return html.unescape("".join(re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S))).replace("\xa0", " ")


async def settle(pilot, rounds: int = 3) -> None:
    """Let the app finish what a key started: workers done, their messages handled, repainted."""
    from textual.worker import WorkerCancelled

    for _ in range(rounds):
        await pilot.pause()
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            pass  # an exclusive worker replaced by a newer one (a list loaded twice): that one is waited for next
    await pilot.pause()


# --- snapshots (pytest-textual-snapshot) ------------------------------------------------------------

SIZES = [(80, 24), (120, 40)]


def fix_clock(monkeypatch, today=None) -> None:
    """Times in a picture do not move with the clock: the status line's sync time, the timeline's
    moments and, given ``today``, the screens' today (cost previews, due dates)."""
    monkeypatch.setattr(formatting, "clock", lambda value: "10:42")
    monkeypatch.setattr(formatting, "moment", lambda value: "27.11.2026, 10:42")
    if today is not None:
        monkeypatch.setattr(formatting, "today", lambda: today)


async def quiet(pilot, rounds: int = 3) -> None:
    """Wait until the app is quiet: rows painted from the cache (the network side is off in
    snapshots, so nothing races the picture), every worker done, the key hints drawn."""
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.1)


def snapshot(snap_compare, server: str, tmp_path: Path, size, *keys: str, identity: str = "customer",
             rounds: int = 3, key_by_key: bool = False, steady_cursor: bool = False, theme: str = "textual-dark") -> bool:
    """The app from its cache, after pressing ``keys``, compared with the stored snapshot.
    ``key_by_key``: quiet after every key (a screen loads, a form checks as typed);
    ``steady_cursor``: an input's cursor does not blink (on or off by the clock)."""
    from textual.widgets import Input

    async def run_before(pilot):
        await quiet(pilot, rounds)
        for group in ([(key,) for key in keys] if key_by_key else [keys] if keys else []):
            await pilot.press(*group)
            await quiet(pilot, rounds)
        if steady_cursor:
            for box in pilot.app.screen.query(Input):
                box.cursor_blink = False
            await pilot.pause()

    app = make_app(server, tmp_path, identity=identity, start_network=False, theme=theme)
    return snap_compare(app, terminal_size=size, run_before=run_before)
