"""Start the reference marketplace: database URL, demo seed, loopback rule, uvicorn."""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path

import platformdirs


from . import changes as change_log
from . import db, migrations
from .app import Settings, create_app
from .demo import seed
from .hardening import http_protocol

log = logging.getLogger("efa_tui.server")
APP_NAME = "efa-tui"


def default_database_url() -> str:
    path = Path(platformdirs.user_data_dir(APP_NAME)) / "marketplace.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def prepare(database_url: str | None, *, demo: bool, demo_offerings: int = 0, host: str = "127.0.0.1"):
    """The ASGI app for these options, with the database created and seeded as asked."""
    url = database_url or default_database_url()
    app = create_app(Settings(database_url=url, allow_demo_tokens=demo and is_loopback(host)), migrate=False)
    engine = app.state.engine
    # Several processes may start at once on one database: one migrates and seeds, the others
    # wait for it and then find the work done.
    with migrations.startup_lock(engine):
        before, after = migrations.upgrade(engine)
        if before != after:
            log.info("database %s upgraded: %s -> %s", db.safe_url(url), before or "empty", after)
        if demo and not seed.is_seeded(engine):
            log.info("seeding the demo marketplace into %s", db.safe_url(url))
            seed.seed(engine)
        if demo_offerings:
            added = seed.add_generated_offerings(engine, demo_offerings)
            if added:
                log.info("added %d generated offerings", added)
    if demo and not is_loopback(host):
        log.warning("demo data served on %s: demo tokens are refused off loopback", host)
    return app


def serve(host: str, port: int, database_url: str | None, *, demo: bool, demo_offerings: int = 0,
          log_level: str = "info") -> None:
    import uvicorn

    app = prepare(database_url, demo=demo, demo_offerings=demo_offerings, host=host)
    print(f"efa-tui marketplace on http://{host}:{port}/api/v1 (OpenAPI: /api/v1/openapi.json)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False, http=http_protocol())


def create_token(database_url: str | None, org_key: str, role: str, name: str, email: str) -> str:
    """A new bearer token for a user of an organisation (the database keeps only its hash)."""
    import secrets

    from sqlalchemy import select

    from .auth import ROLES, token_digest

    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    engine = db.make_engine(database_url or default_database_url())
    db.create_schema(engine)
    token = "efa_" + secrets.token_urlsafe(32)
    try:
        with db.writing(engine) as conn:
            org_id = conn.execute(select(db.organizations.c.id).where(db.organizations.c.key == org_key)).scalar()
            if org_id is None:
                raise ValueError(f"no organisation with key {org_key!r}")
            user_id = conn.execute(db.users.insert().values(organization_id=org_id, role=role, name=name, email=email,
                                                            token_sha256=token_digest(token), demo=False)).inserted_primary_key[0]
            change_log.record(conn, "user", user_id, "created")
    finally:
        engine.dispose()
    return token
