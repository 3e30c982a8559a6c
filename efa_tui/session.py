"""Everything one running client needs, wired from the configuration: the embedded server (when
no server is configured), the API client, the cache, the outbox and drafts, the backend.

Headless (no Textual): the app receives a Session and its screens talk only to
``session.services`` (one door per area), through workers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import threading
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from .config import Config, Profile
from .files import free_port
from .secrets import get_token
from .services import Services
from .store.backend import Backend
from .store.cache import Cache
from .store.drafts import Drafts
from .store.local import LocalDB
from .store.outbox import Outbox

log = logging.getLogger("efa_tui")


@dataclass
class EmbeddedServer:
    """The reference marketplace as a child process on 127.0.0.1 (demo data on first run)."""

    database_url: str | None = None
    demo_offerings: int = 0
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def start(self) -> None:
        args = [sys.executable, "-m", "efa_tui.cli", "serve", "--demo", "--host", "127.0.0.1", "--port", str(self.port),
                "--log-level", "warning"]
        if self.database_url:
            args += ["--database", self.database_url]
        if self.demo_offerings:
            args += ["--demo-offerings", str(self.demo_offerings)]
        log_path = Path(platformdirs.user_log_dir("efa-tui")) / "embedded-server.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1"})

    async def wait_ready(self, timeout: float = 120) -> bool:
        """Poll /healthz without blocking the event loop; False if the server died or timed out."""
        import httpx

        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=1) as http:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    return False
                try:
                    if (await http.get(f"{self.base_url}/healthz")).status_code == 200:
                        return True
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()


class LazyApi:
    """The API client, created on first use: importing httpx and the models costs about 0.3 s,
    which the first paint of the cached catalog should not wait for."""

    def __init__(self, base_url: str, token: str, **options):
        self._args = (base_url, token)
        self._options = options
        self._client = None
        self._lock = threading.Lock()

    def get(self):
        with self._lock:
            if self._client is None:
                from .api.client import ApiClient

                self._client = ApiClient(*self._args, **self._options)
            return self._client

    def __getattr__(self, name: str):
        return getattr(self.get(), name)


@dataclass
class Session:
    profile: Profile
    config: Config
    api: LazyApi
    cache: Cache
    local: LocalDB
    outbox: Outbox
    drafts: Drafts
    backend: Backend
    server: EmbeddedServer | None = None
    _services: Any = None

    @property
    def services(self) -> Services:
        """The one door per area that the screens use (``efa_tui.services``)."""
        if self._services is None:
            self._services = Services(self.api, self.cache, self.outbox, self.drafts, self.backend)
        return self._services

    @classmethod
    def open(cls, config: Config, profile: Profile, *, server: EmbeddedServer | None = None,
             cache_path: Path | None = None, local_path: Path | None = None) -> Session:
        """Wire the parts; nothing here waits on the network."""
        if profile.is_embedded:
            server = server or EmbeddedServer()
            if server.process is None:
                server.start()
            base_url = server.base_url
        else:
            base_url = profile.server_url or ""
        token = get_token(profile.name, profile) or ""
        verify: bool | str = str(profile.ca_bundle_path) if profile.ca_bundle_path else True
        api = LazyApi(base_url, token, timeout=profile.timeout_s, verify=verify)
        cache_dir = Path(platformdirs.user_cache_dir("efa-tui"))
        # One cache per profile: two servers' records must never mix.
        cache = Cache(cache_path or cache_dir / f"{profile.name}.sqlite3")
        local = LocalDB(local_path)
        outbox = Outbox(local, profile=profile.name)
        drafts = Drafts(local, profile=profile.name)
        return cls(profile, config, api, cache, local, outbox, drafts, Backend(api, cache, outbox), server)

    async def close_network(self) -> None:
        """Stop the offline probe and close the HTTP connections — in the event loop that opened
        them (the app calls this as it shuts down; a later use opens a new client)."""
        await self.backend.aclose()
        client, self.api._client = self.api._client, None
        if client is not None:
            await client.aclose()

    async def aclose(self) -> None:
        await self.close_network()
        self.cache.close()
        if self.server is not None:
            self.server.stop()
