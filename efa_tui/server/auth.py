"""Bearer tokens: each belongs to one user of one organisation with one role."""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request
from limits import parse
from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from ..domain.administration import scope_allows
from . import db, wording
from .problems import ApiProblem

ROLES = ("customer", "provider", "support", "operator")
STAFF = frozenset({"support", "operator"})  # see every organisation's records


@dataclass(frozen=True)
class User:
    id: int
    name: str
    email: str
    role: str
    organization_id: int
    organization_name: str
    organization_kind: str
    inhouse_operator_id: int | None
    demo: bool
    admin: bool = False  # manages its organisation's users
    accreditation: str = "accredited"  # of its organisation
    token_id: int | None = None
    token_scope: str = "write"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


def new_token() -> str:
    """A new secret: "efa_" and 43 characters of randomness (256 bits)."""
    return "efa_" + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


LAST_USED_GRANULARITY_S = 60  # "last used" to the minute: not a write on every request


def _unauthorized(detail: str, detail_de: str, type: str = "unauthorized") -> ApiProblem:
    return ApiProblem(401, detail, type=type, detail_de=detail_de, headers={"WWW-Authenticate": 'Bearer realm="efa"'})


def _touch(engine, token_id: int, now) -> None:
    """Record when a token was last used; a busy database may skip it, never the request."""
    try:
        with db.writing(engine) as conn:
            conn.execute(update(db.api_tokens).where(db.api_tokens.c.id == token_id).values(last_used_at=now))
    except OperationalError:
        pass


class FailedLogins:
    """Wrong tokens counted per client address and per token prefix, in a moving window.

    A client over either limit gets 429 with Retry-After for every token it presents, right
    ones included, until the window has passed: guessing tokens costs time, whatever address
    the guesses come from. The failures are rows in the database (``auth_failures``), so the
    limits hold for all server processes on it together, not for each alone; the limits are
    written in the notation of the ``limits`` library ("20/minute").
    """

    PREFIX = 12  # "efa_" and 8 characters: enough to tell tokens apart, far too few to guess one

    def __init__(self, engine, per_address: str = "20/minute", per_prefix: str = "10/minute"):
        self._engine = engine
        self._limits = {"address": parse(per_address), "prefix": parse(per_prefix)}

    def _keys(self, address: str, token: str) -> dict[str, str]:
        # The prefix is the client's text: stored as a digest (fixed length, no NUL, nothing to read).
        prefix = hashlib.sha256(token[: self.PREFIX].encode("utf-8", "replace")).hexdigest()[:40]
        return {"address": "address:" + address[:54], "prefix": "prefix:" + prefix}

    def columns(self, address: str, token: str) -> list:
        """Per limit, the oldest failure of the newest ``amount`` in its window (NULL: under the
        limit), as scalar subqueries: the token lookup reads them in its own round trip."""
        now = db.utcnow()
        t = db.auth_failures
        cols = []
        for kind, key in self._keys(address, token).items():
            limit = self._limits[kind]
            window = timedelta(seconds=limit.get_expiry())
            cols.append(select(t.c.at).where(t.c.key == key, t.c.at > now - window).order_by(t.c.at.desc())
                        .offset(limit.amount - 1).limit(1).scalar_subquery().label(f"failures_{kind}"))
        return cols

    def refuse_if_over(self, row) -> None:
        """429 when ``row`` (with the ``columns``) shows the address or the prefix over its limit."""
        now = db.utcnow()
        for kind, limit in self._limits.items():
            oldest = getattr(row, f"failures_{kind}")
            if oldest is not None:
                # Free again when the oldest of the newest ``amount`` failures leaves the window.
                wait = max(1, math.ceil((oldest + timedelta(seconds=limit.get_expiry()) - now).total_seconds()))
                source_de = "dieser Adresse" if kind == "address" else "diesem Token-Anfang"
                raise ApiProblem(429, f"too many wrong tokens from this {'address' if kind == 'address' else 'token prefix'}; "
                                 f"try again in {wait} s", type="too-many-failed-logins",
                                 detail_de=f"Zu viele falsche Token von {source_de}; versuchen Sie es in {wait} s "
                                           "noch einmal",
                                 headers={"Retry-After": str(wait)})

    def check(self, conn: Connection, address: str, token: str) -> None:
        """429 when the address or the prefix had too many failures in its window (a read)."""
        self.refuse_if_over(conn.execute(select(*self.columns(address, token))).one())

    def failed(self, address: str, token: str) -> None:
        """Count one failure for the address and the prefix; what left every window goes."""
        now = db.utcnow()
        longest = max(limit.get_expiry() for limit in self._limits.values())
        t = db.auth_failures
        with db.writing(self._engine) as conn:
            conn.execute(t.insert(), [{"key": key, "at": now} for key in self._keys(address, token).values()])
            conn.execute(t.delete().where(t.c.at < now - timedelta(seconds=longest)))


def current_user(request: Request) -> User:
    """FastAPI dependency: the user behind the bearer token, or 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("missing bearer token (Authorization: Bearer <token>)",
                            "Es fehlt ein Bearer-Token (Authorization: Bearer <Token>)")
    token = token.strip()
    address = request.client.host if request.client else ""
    failed_logins: FailedLogins = request.app.state.failed_logins
    digest = token_digest(token)
    # Looked up on every request (one indexed join): with several server processes on one
    # database, a cached user would keep an organisation's old in-house relationship, a revoked
    # token or a disabled user alive in the processes that did not make the change.
    tok, u, o = db.api_tokens, db.users, db.organizations
    # The failed-login limits come with the lookup (one round trip on every request); an unknown
    # token reads them alone, so that a client over a limit gets 429 before it learns anything.
    with db.reading(request.app.state.engine) as conn:
        row = conn.execute(
            select(
                u.c.id, u.c.name, u.c.email, u.c.role, u.c.demo, u.c.admin, u.c.disabled,
                o.c.id.label("org_id"), o.c.name.label("org_name"), o.c.kind, o.c.inhouse_operator_id,
                o.c.accreditation, tok.c.id.label("token_id"), tok.c.scope, tok.c.expires_at,
                tok.c.revoked_at, tok.c.last_used_at, *failed_logins.columns(address, token),
            )
            .select_from(tok.join(u, u.c.id == tok.c.user_id).join(o, o.c.id == u.c.organization_id))
            .where(tok.c.token_sha256 == digest)
        ).first()
        if row is None:
            failed_logins.check(conn, address, token)
        else:
            failed_logins.refuse_if_over(row)
    if row is None:
        failed_logins.failed(address, token)
        raise _unauthorized("unknown token", "Unbekanntes Token")
    now = db.utcnow()
    if row.revoked_at is not None:
        raise _unauthorized("this token was revoked", "Dieses Token wurde widerrufen", type="token-revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise _unauthorized(f"this token expired on {row.expires_at:%Y-%m-%d %H:%M} UTC; ask for a new one",
                            f"Dieses Token ist am {row.expires_at:%d.%m.%Y um %H:%M} Uhr UTC abgelaufen; "
                            "lassen Sie sich ein neues ausstellen", type="token-expired")
    if row.disabled:
        raise _unauthorized("this user is disabled", "Dieser Benutzer ist gesperrt", type="user-disabled")
    user = User(row.id, row.name, row.email, row.role, row.org_id, row.org_name, row.kind,
                row.inhouse_operator_id, bool(row.demo), bool(row.admin), row.accreditation,
                row.token_id, row.scope)
    if not scope_allows(user.token_scope, request.method):
        raise ApiProblem(403, "this token may only read (scope read); writing needs a token with scope write",
                         type="token-read-only",
                         detail_de="Dieses Token darf nur lesen (Scope read); zum Schreiben braucht es ein Token "
                                   "mit Scope write")
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > LAST_USED_GRANULARITY_S:
        _touch(request.app.state.engine, row.token_id, now)
    if user.demo and not request.app.state.settings.allow_demo_tokens:
        # Demo tokens are public knowledge: only an embedded server on loopback accepts them.
        raise _unauthorized("demo tokens are accepted only by a server listening on loopback",
                            "Demo-Token nimmt nur ein Server an, der auf Loopback (127.0.0.1) lauscht")
    return user


def token_state(engine, token_id: int | None) -> tuple[str | None, datetime | None]:
    """Whether a token still lets its user in — None, or why not (``token-revoked``,
    ``token-expired``, ``user-disabled``, as the 401's type) — and when it expires: for a
    connection that outlives the request that opened it (the event stream)."""
    tok, u = db.api_tokens, db.users
    with db.reading(engine) as conn:
        row = conn.execute(select(tok.c.revoked_at, tok.c.expires_at, u.c.disabled)
                           .select_from(tok.join(u, u.c.id == tok.c.user_id)).where(tok.c.id == token_id)).first()
    if row is None or row.revoked_at is not None:
        return "token-revoked", None
    if row.expires_at is not None and row.expires_at <= db.utcnow():
        return "token-expired", row.expires_at
    if row.disabled:
        return "user-disabled", row.expires_at
    return None, row.expires_at


def require_role(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise ApiProblem(403, f"this needs the role {' or '.join(roles)}; you are {user.role}", type="forbidden-role",
                         detail_de=f"Dafür braucht es die Rolle {wording.roles_or(roles)}; Ihre Rolle ist "
                                   f"„{wording.role(user.role)}“")
