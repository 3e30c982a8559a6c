"""The reference marketplace as an ASGI app: ``create_app(settings)``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.responses import Response
from sqlalchemy import text

from .. import __version__
from . import changes, db, idempotency, problems
from .http import PageCache
from .problems import ApiProblem
from .routes import billing_runs, events, invoices, offerings, orders, organizations, usage

log = logging.getLogger("efa_tui.server")
API_PREFIX = "/api/v1"
MAX_BODY = 1024 * 1024  # 1 MiB: far more than any form, far less than a memory problem


@dataclass
class Settings:
    database_url: str
    allow_demo_tokens: bool = False  # only for a server on loopback: demo tokens are public
    max_body: int = MAX_BODY
    events_keepalive: float = events.KEEPALIVE_SECONDS  # seconds between keep-alive comments
    events_poll: float = changes.POLL_SECONDS  # how often this process reads the change log


class BodyLimit:
    """Refuse request bodies over the limit with 413, also when no Content-Length is sent."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            # The server enforces the declared length, so checking the header suffices.
            if not length.isdigit() or int(length) > self.limit:
                return await self._refuse(send)
            return await self.app(scope, receive, send)
        # A chunked body: read it up to the limit before the app sees it, then replay it.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                return await self._refuse(send)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send):
        body = json.dumps(ApiProblem(413, f"request body larger than {self.limit} bytes", type="too-large").body()).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", problems.PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings) -> FastAPI:
    engine = db.make_engine(settings.database_url)
    db.create_schema(engine)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async def purge_hourly() -> None:
            while True:
                for purge in (idempotency.purge, changes.purge):
                    try:
                        await asyncio.to_thread(purge, engine)
                    except Exception:  # noqa: BLE001 - housekeeping must not stop the server
                        log.exception("purging old records failed (%s)", purge.__module__)
                await asyncio.sleep(3600)

        tasks = [asyncio.create_task(purge_hourly()), asyncio.create_task(app.state.hub.run())]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            engine.dispose()

    app = FastAPI(
        title="EfA-Marktplatz reference API",
        version=__version__,
        description="Reference marketplace of efa-tui: offerings, orders, usage, billing and XRechnung invoices.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.user_cache = {}
    # Every process follows the change log: event streams, and cached users forgotten when an
    # organisation or a user changed in any process.
    app.state.hub = changes.Hub(engine, interval=settings.events_poll, on_auth_change=app.state.user_cache.clear)
    app.state.page_cache = PageCache()
    problems.install(app)

    def healthz() -> Response:
        with db.reading(engine) as conn:
            conn.execute(text("SELECT 1"))
        return Response(json.dumps({"status": "ok", "version": __version__}), media_type="application/json")

    app.add_api_route(f"{API_PREFIX}/healthz", healthz, methods=["GET"], tags=["health"], summary="Liveness and database check")
    app.add_api_route("/healthz", healthz, methods=["GET"], include_in_schema=False)
    app.add_api_route("/openapi.json", lambda: app.openapi(), methods=["GET"], include_in_schema=False)
    for module in (organizations, offerings, orders, usage, billing_runs, invoices, events):
        app.include_router(module.router, prefix=API_PREFIX)
    app.add_middleware(BodyLimit, limit=settings.max_body)
    return app
