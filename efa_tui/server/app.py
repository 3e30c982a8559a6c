"""The reference marketplace as an ASGI app: ``create_app(settings)``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qsl

from fastapi import FastAPI
from fastapi.responses import Response
from fastapi_offline import FastAPIOffline
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from . import changes, db, idempotency, openapi, problems, schemas
from .auth import FailedLogins
from .hardening import RequestGuard
from .http import PageCache
from .problems import ApiProblem
from .routes import administration, billing_runs, events, invoices, offerings, orders, organizations, usage

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
    events_recheck: float = events.RECHECK_SECONDS  # an open stream checks its token at least this often
    pool_size: int = db.POOL_SIZE
    max_overflow: int = db.MAX_OVERFLOW
    payment_term_days: int = 30  # due date = issue date + this (BT-9); `serve --payment-term-days`
    body_timeout: float = 30.0  # a whole request body; a stalled client is answered 408
    chunk_timeout: float = 10.0  # between two pieces of a body
    # Wrong tokens allowed per client address and per token prefix (limits' notation).
    failed_logins_per_address: str = "20/minute"
    failed_logins_per_prefix: str = "10/minute"


_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")  # \u0000 not itself escaped (\\u0000 is text)


class RefuseNul:
    """Refuse a NUL character in the query or the body with 422, the same on every database
    (PostgreSQL cannot store one in text, SQLite would): before any route runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                return await self._refuse(send, name.replace("\x00", "") or "query")
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if b"\x00" in body or _JSON_NUL.search(body):
            return await self._refuse(send, "body")
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, field: str) -> None:
        problem = ApiProblem(422, "text must not contain the NUL character (U+0000)", type="validation",
                             detail_de="Ein Text darf das NUL-Zeichen (U+0000) nicht enthalten",
                             errors=[{"field": field, "message": "contains U+0000",
                                      "message_de": "enthält das NUL-Zeichen (U+0000)", "code": "nul_character"}])
        body = json.dumps(problem.body()).encode()
        await send({"type": "http.response.start", "status": 422,
                    "headers": [(b"content-type", problems.PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings, *, migrate: bool = True) -> FastAPI:
    """The app on ``settings.database_url``; ``migrate``: upgrade the schema first (serve.prepare
    does it itself, under its start-up lock)."""
    engine = db.make_engine(settings.database_url, pool_size=settings.pool_size, max_overflow=settings.max_overflow)
    if migrate:
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

    # Swagger UI from the package's own files: the docs page loads nothing from a CDN.
    app = FastAPIOffline(
        title="EfA-Marktplatz reference API",
        version=__version__,
        description="Reference marketplace of efa-tui: offerings, orders, usage, billing and XRechnung invoices.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        static_url=f"{API_PREFIX}/static-offline-docs",
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.failed_logins = FailedLogins(engine, settings.failed_logins_per_address, settings.failed_logins_per_prefix)
    # Every process follows the change log for its event streams (server/changes.py).
    app.state.hub = changes.Hub(engine, interval=settings.events_poll)
    app.state.page_cache = PageCache()
    problems.install(app)
    openapi.install(app)

    def healthz() -> Response:
        with db.reading(engine) as conn:
            conn.execute(text("SELECT 1"))
        return Response(json.dumps({"status": "ok", "version": __version__}), media_type="application/json")

    def readyz() -> Response:
        # Ready for traffic: the database answers and has the schema this code expects (a
        # process of a newer release waits here until the migration has run).
        from . import migrations

        try:
            current, head = migrations.current(engine), migrations.head()
        except Exception:  # noqa: BLE001 - any database failure means: not ready
            log.warning("readiness check: database unreachable", exc_info=True)
            return problems.problem_response({"type": "/problems/not-ready", "title": "Service Unavailable", "status": 503,
                                              "detail": "the database does not answer",
                                              "detail_de": "Die Datenbank antwortet nicht"}, {"Retry-After": "5"})
        if current != head:
            return problems.problem_response({"type": "/problems/not-ready", "title": "Service Unavailable", "status": 503,
                                              "detail": f"database schema at {current}, this server needs {head}",
                                              "detail_de": f"Die Datenbank hat den Schemastand {current}, dieser Server "
                                                           f"braucht {head}"},
                                             {"Retry-After": "5"})
        return Response(json.dumps({"status": "ready", "version": __version__, "schema": current}), media_type="application/json")

    app.add_api_route(f"{API_PREFIX}/healthz", healthz, methods=["GET"], tags=["health"], summary="Liveness and database check",
                      response_model=schemas.Health)
    app.add_api_route("/healthz", healthz, methods=["GET"], include_in_schema=False)
    app.add_api_route(f"{API_PREFIX}/readyz", readyz, methods=["GET"], tags=["health"], response_model=schemas.Readiness,
                      summary="Readiness: database reachable and its schema at this release's revision")
    app.add_api_route("/readyz", readyz, methods=["GET"], include_in_schema=False)
    app.add_api_route("/openapi.json", lambda: app.openapi(), methods=["GET"], include_in_schema=False)
    for module in (organizations, administration, offerings, orders, usage, billing_runs, invoices, events):
        app.include_router(module.router, prefix=API_PREFIX)
    app.add_middleware(RefuseNul)
    # Outermost: bounds in size and time what RefuseNul and the routes read.
    app.add_middleware(RequestGuard, limit=settings.max_body, body_timeout=settings.body_timeout,
                       chunk_timeout=settings.chunk_timeout)
    return app
