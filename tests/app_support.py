"""Build the terminal app against a real reference server for Pilot and snapshot tests."""

from __future__ import annotations

import asyncio
from pathlib import Path

from efa_tui.api.client import ApiClient
from efa_tui.app import EfaApp
from efa_tui.config import Config, Profile, _named
from efa_tui.session import Session
from efa_tui.store.cache import Cache
from efa_tui.store.sync import sync_all


def make_session(base_url: str, tmp: Path, *, identity: str = "customer", keymap: dict | None = None,
                 presync: bool = True) -> Session:
    profile = _named(Profile(server_url=base_url, token_source="demo", demo_identity=identity), "test")
    config = Config(keymap=keymap or {})
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
    session = make_session(base_url, tmp, **kwargs)
    return EfaApp(session, language=language, theme="textual-dark", start_network=start_network)
