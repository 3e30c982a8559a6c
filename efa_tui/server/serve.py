"""Start the reference marketplace: database URL, demo seed, loopback rule, uvicorn."""

from __future__ import annotations

import ipaddress
import logging

from ..files import demo_database_path
from . import db, migrations
from .app import Settings, create_app
from .demo import seed
from .hardening import http_protocol

log = logging.getLogger("efa_tui.server")


def default_database_url() -> str:
    path = demo_database_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def prepare(database_url: str | None, *, demo: bool, demo_offerings: int = 0, host: str = "127.0.0.1",
            pool_size: int = db.POOL_SIZE, max_overflow: int = db.MAX_OVERFLOW, payment_term_days: int = 30):
    """The ASGI app for these options, with the database created and seeded as asked."""
    url = database_url or default_database_url()
    app = create_app(Settings(database_url=url, allow_demo_tokens=demo and is_loopback(host),
                              pool_size=pool_size, max_overflow=max_overflow,
                              payment_term_days=payment_term_days), migrate=False)
    engine = app.state.engine
    # Several processes may start at once on one database: one migrates and seeds, the others
    # wait for it and then find the work done.
    with migrations.startup_lock(engine):
        before, after = migrations.upgrade(engine)
        if before != after:
            log.info("database %s upgraded: %s -> %s", db.safe_url(url), before or "empty", after)
        if demo and not seed.is_seeded(engine):
            log.info("seeding the demo marketplace into %s", db.safe_url(url))
            seed.seed(engine, payment_days=payment_term_days)
        if demo_offerings:
            added = seed.add_generated_offerings(engine, demo_offerings)
            if added:
                log.info("added %d generated offerings", added)
    if demo and not is_loopback(host):
        log.warning("demo data served on %s: demo tokens are refused off loopback", host)
    return app


_WORKER_ENV = "EFA_TUI_SERVE_SETTINGS"


def serve(host: str, port: int, database_url: str | None, *, demo: bool, demo_offerings: int = 0,
          log_level: str = "info", workers: int = 1, pool_size: int = db.POOL_SIZE,
          max_overflow: int = db.MAX_OVERFLOW, payment_term_days: int = 30) -> None:
    """Run the marketplace; ``workers`` > 1: that many processes on one port (uvicorn's
    supervisor), after this process migrated and seeded the database once."""
    import json
    import os

    import uvicorn

    url = database_url or default_database_url()
    app = prepare(url, demo=demo, demo_offerings=demo_offerings, host=host, pool_size=pool_size, max_overflow=max_overflow,
                  payment_term_days=payment_term_days)
    check_connection_budget(app.state.engine, workers, pool_size, max_overflow)
    print(f"efa-tui marketplace on http://{host}:{port}/api/v1 (OpenAPI: /api/v1/openapi.json)"
          + (f", {workers} worker processes" if workers > 1 else ""), flush=True)
    if workers <= 1:
        uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False, http=http_protocol())
        return
    app.state.engine.dispose()
    os.environ[_WORKER_ENV] = json.dumps({"database_url": url, "allow_demo_tokens": app.state.settings.allow_demo_tokens,
                                          "pool_size": pool_size, "max_overflow": max_overflow,
                                          "payment_term_days": payment_term_days})
    uvicorn.run("efa_tui.server.serve:worker_app", factory=True, host=host, port=port, workers=workers,
                log_level=log_level, proxy_headers=False, http=http_protocol())


def worker_app():
    """The app of one worker process of ``serve --workers N`` (the database is ready)."""
    import json
    import os

    return create_app(Settings(**json.loads(os.environ[_WORKER_ENV])), migrate=False)


def check_connection_budget(engine, workers: int, pool_size: int, max_overflow: int) -> None:
    """Warn when the processes may open more connections than PostgreSQL allows (one process
    of several machines cannot know the others: the rule is in README, this checks ours)."""
    if engine.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    with engine.connect() as conn:
        limit = int(conn.execute(text("SHOW max_connections")).scalar_one())
        reserved = int(conn.execute(text("SHOW superuser_reserved_connections")).scalar_one())
    wanted = workers * (pool_size + max_overflow)
    if wanted > limit - reserved:
        log.warning("%d processes × (pool %d + overflow %d) = %d connections, but PostgreSQL allows %d "
                    "(max_connections %d − %d reserved): lower --pool-size/--max-overflow or raise max_connections",
                    workers, pool_size, max_overflow, wanted, limit - reserved, limit, reserved)


def create_token(database_url: str | None, org_key: str, role: str, name: str, email: str,
                 *, days: int | None = None) -> str:
    """Bootstrap on the server's machine: a new admin user of an organisation with a write token
    (the database keeps only its hash; the audit log names the server administration). Further
    users and tokens are made over the API (``/organizations/{id}/users``, ``/users/{id}/tokens``)."""
    from sqlalchemy import select

    from ..domain.administration import role_for_roles
    from .administration import create_user, issue_token
    from .routes.organizations import roles_of

    engine = db.make_engine(database_url or default_database_url())
    db.create_schema(engine)
    try:
        with db.writing(engine) as conn:
            org = conn.execute(select(db.organizations).where(db.organizations.c.key == org_key)).first()
            if org is None:
                raise ValueError(f"no organisation with key {org_key!r}")
            refusal = role_for_roles(roles_of(conn, org.id), role)
            if refusal:
                raise ValueError(refusal.en)
            user = create_user(conn, None, org.id, name=name, email=email, role=role, admin=True)
            _, token = issue_token(conn, None, user, name="efa-tui token", scope="write", expires_in_days=days)
    finally:
        engine.dispose()
    return token
