"""The reference marketplace as an ASGI app: ``create_app(settings)``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from fastapi.responses import Response
from sqlalchemy import text

from .. import __version__
from . import db, idempotency, problems
from .auth import FailedLogins
from .hardening import RequestGuard
from .http import PageCache
from .routes import billing_runs, invoices, offerings, orders, organizations, usage

log = logging.getLogger("efa_tui.server")
API_PREFIX = "/api/v1"
MAX_BODY = 1024 * 1024  # 1 MiB: far more than any form, far less than a memory problem


@dataclass
class Settings:
    database_url: str
    allow_demo_tokens: bool = False  # only for a server on loopback: demo tokens are public
    max_body: int = MAX_BODY
    body_timeout: float = 30.0  # a whole request body; a stalled client is answered 408
    chunk_timeout: float = 10.0  # between two pieces of a body
    # Wrong tokens allowed per client address and per token prefix (limits' notation).
    failed_logins_per_address: str = "20/minute"
    failed_logins_per_prefix: str = "10/minute"


def create_app(settings: Settings) -> FastAPI:
    engine = db.make_engine(settings.database_url)
    db.create_schema(engine)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async def purge_hourly() -> None:
            while True:
                try:
                    await asyncio.to_thread(idempotency.purge, engine)
                except Exception:  # noqa: BLE001 - housekeeping must not stop the server
                    log.exception("purging idempotency keys failed")
                await asyncio.sleep(3600)

        task = asyncio.create_task(purge_hourly())
        try:
            yield
        finally:
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
    app.state.user_cache = {}
    app.state.failed_logins = FailedLogins(settings.failed_logins_per_address, settings.failed_logins_per_prefix)
    app.state.page_cache = PageCache()
    problems.install(app)

    def healthz() -> Response:
        with db.reading(engine) as conn:
            conn.execute(text("SELECT 1"))
        return Response(json.dumps({"status": "ok", "version": __version__}), media_type="application/json")

    app.add_api_route(f"{API_PREFIX}/healthz", healthz, methods=["GET"], tags=["health"], summary="Liveness and database check")
    app.add_api_route("/healthz", healthz, methods=["GET"], include_in_schema=False)
    app.add_api_route("/openapi.json", lambda: app.openapi(), methods=["GET"], include_in_schema=False)
    for module in (organizations, offerings, orders, usage, billing_runs, invoices):
        app.include_router(module.router, prefix=API_PREFIX)
    app.add_middleware(RequestGuard, limit=settings.max_body, body_timeout=settings.body_timeout,
                       chunk_timeout=settings.chunk_timeout)
    return app
