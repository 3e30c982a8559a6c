"""Everything one running client needs, wired from the configuration: the embedded server (when
no server is configured), the API client, the cache, the outbox and drafts, the backend.

Headless (no Textual): the app receives a Session and its screens talk only to
``session.services`` (one door per area), through workers.

Local state belongs to one identity (server and user, as ``/me`` answers; see
``store/identity.py``). A session opens the cache of the identity its credential answered as
last time, or, for a credential never seen, an empty cache in memory: nothing of anybody is shown
until ``/me`` has said who this is. ``identify`` asks ``/me`` and moves cache, outbox and drafts
to that identity; the outbox sends nothing before.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Config, Profile
from .files import demo_database_path, free_port, private_dir, user_dir
from .secrets import get_token
from .services import Services
from .store.backend import Backend
from .store.cache import Cache
from .store.drafts import Drafts
from .store.identity import PROVISIONAL, Identities, Identity, cache_file, drop_legacy_caches, fingerprint, server_key
from .store.local import LocalDB
from .store.outbox import Outbox

if TYPE_CHECKING:  # an annotation only: wiring a session needs no API models (nor pydantic)
    from .api.models import Me

log = logging.getLogger("efa_tui")


@dataclass
class EmbeddedServer:
    """The reference marketplace as a child process on 127.0.0.1 (demo data on first run)."""

    database_url: str | None = None
    demo_offerings: int = 0
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    # No database yet: this start creates and seeds the demo marketplace (seconds, not a blink),
    # and the status line says so instead of "connecting".
    first_run: bool = False
    stopped: bool = False  # stopped on purpose (efa-tui closing): not "died"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def start(self) -> None:
        args = [sys.executable, "-m", "efa_tui.cli", "serve", "--demo", "--host", "127.0.0.1", "--port", str(self.port),
                "--log-level", "warning"]
        if self.database_url:
            args += ["--database", self.database_url]
        self.first_run = self.database_url is None and not demo_database_path().exists()
        if self.demo_offerings:
            args += ["--demo-offerings", str(self.demo_offerings)]
        log_path = user_dir("log") / "embedded-server.log"
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

    @property
    def died(self) -> bool:
        """It was started and its process has ended (killed, or crashed): nothing will answer."""
        return self.process is not None and not self.stopped and self.process.poll() is not None

    def stop(self) -> None:
        self.stopped = True
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
        self._watchers: list = []

    @property
    def base_url(self) -> str:
        """The API's address (without creating the client: the offline banner names it)."""
        return self._args[0]

    def watch(self, listener) -> None:
        """``ApiClient.watch``, without creating the client now (the client made later gets it)."""
        self._watchers.append(listener)
        if self._client is not None:
            self._client.watch(listener)

    def get(self):
        with self._lock:
            if self._client is None:
                from .api.client import ApiClient

                self._client = ApiClient(*self._args, **self._options)
                for listener in self._watchers:
                    self._client.watch(listener)
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

    identities: Identities | None = None
    server_key: str = ""
    credential: str = ""  # fingerprint of (server, token)
    identity: Identity | None = None  # as /me confirmed it in this session; None before
    cache_identity: str | None = None  # whose cache is open (None: the empty one in memory)
    cache_dir: Path | None = None  # None: a cache file chosen by the caller (tests, benchmarks)
    on_identity: list = field(default_factory=list)  # called with the Identity when the rows were replaced
    _becoming: threading.Lock = field(default_factory=threading.Lock, repr=False)  # one identify at a time

    @property
    def confirmed(self) -> bool:
        return self.identity is not None

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
        key = server_key(profile.server_url, embedded_database=server.database_url if server else None)
        credential = fingerprint(key, token)
        local = LocalDB(local_path)
        identities = Identities(local)
        known = identities.for_credential(credential)
        # Whose the writes are until /me answers: the identity this credential was last time,
        # or the credential itself (adopted by the identity /me names).
        owner = known.key if known else PROVISIONAL + credential
        cache_dir = None
        if cache_path is not None:
            cache = Cache(cache_path)
        else:
            cache_dir = private_dir(user_dir("cache"))
            drop_legacy_caches(cache_dir)  # one file per profile: it may hold another identity's rows
            cache = Cache(cache_file(cache_dir, known.key) if known else ":memory:")
        outbox = Outbox(local, owner, may_send=False)
        drafts = Drafts(local, owner)
        backend = Backend(api, cache, outbox)
        session = cls(profile, config, api, cache, local, outbox, drafts, backend, server, identities=identities,
                      server_key=key, credential=credential, cache_identity=known.key if known else None,
                      cache_dir=cache_dir)
        backend.identify = session.identify
        return session

    async def identify(self) -> tuple[Me, bool]:
        """Ask ``/me`` who this is and make the local state that identity's. Returns the answer
        and whether the rows on screen were replaced (another identity than the cache's).
        Raises what the API raises (Unreachable, ApiError)."""
        me = await self.api.me()
        answer = me.model_dump(mode="json")
        identity = Identity(self.server_key, me.id, answer)
        replaced = await asyncio.to_thread(self._become, identity)
        if replaced:
            for listener in list(self.on_identity):
                listener(identity)
        return me, replaced

    def _become(self, identity: Identity) -> bool:
        """Cache, outbox and drafts of ``identity`` from now on (in a thread: SQLite and files)."""
        with self._becoming:  # the start-up and a flush may both ask /me
            return self._become_now(identity)

    def _become_now(self, identity: Identity) -> bool:
        assert self.identities is not None
        self.identities.remember(identity, self.credential)
        replaced = False
        if self.cache_dir is None:
            # A file chosen by the caller: it is this identity's, or emptied for it.
            owner = self.cache.get_state("identity")
            if owner is not None and owner != identity.key:
                path = self.cache.path
                self.cache.switch(":memory:")
                if path is not None:
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{path}{suffix}").unlink(missing_ok=True)
                    self.cache.switch(path)
                replaced = True
        elif self.cache_identity != identity.key:
            self.cache.switch(cache_file(self.cache_dir, identity.key))
            replaced = True
        self.cache_identity = identity.key
        self.cache.set_state("identity", identity.key)
        self.cache.set_state("me", identity.me)
        previous = self.outbox.owner
        self.outbox.switch(identity.key, may_send=True)
        self.drafts.switch(identity.key)
        for owner in {previous, PROVISIONAL + self.credential}:
            if owner.startswith(PROVISIONAL):
                self.outbox.adopt(owner)
                self.drafts.adopt(owner)
        self.identity = identity
        return replaced

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
