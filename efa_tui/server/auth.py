"""Bearer tokens: each belongs to one user of one organisation with one role."""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from fastapi import Request
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import select

from . import db
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

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(401, detail, type="unauthorized", headers={"WWW-Authenticate": 'Bearer realm="efa"'})


class FailedLogins:
    """Wrong tokens counted per client address and per token prefix, in a moving window.

    A client over either limit gets 429 with Retry-After for every token it presents, right
    ones included, until the window has passed: guessing tokens costs time, whatever address
    the guesses come from. Counted per server process (the limits are per process too).
    """

    PREFIX = 12  # "efa_" and 8 characters: enough to tell tokens apart, far too few to guess one

    def __init__(self, per_address: str = "20/minute", per_prefix: str = "10/minute"):
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._address = parse(per_address)
        self._prefix = parse(per_prefix)

    def _keys(self, address: str, token: str):
        return ((self._address, "address", address), (self._prefix, "prefix", token[: self.PREFIX]))

    def check(self, address: str, token: str) -> None:
        for item, kind, key in self._keys(address, token):
            if not self._limiter.test(item, kind, key):
                reset = self._limiter.get_window_stats(item, kind, key).reset_time
                wait = max(1, math.ceil(reset - time.time()))
                raise ApiProblem(429, f"too many wrong tokens from this {'address' if kind == 'address' else 'token prefix'}; "
                                 f"try again in {wait} s", type="too-many-failed-logins",
                                 headers={"Retry-After": str(wait)})

    def failed(self, address: str, token: str) -> None:
        for item, kind, key in self._keys(address, token):
            self._limiter.hit(item, kind, key)


def current_user(request: Request) -> User:
    """FastAPI dependency: the user behind the bearer token, or 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("missing bearer token (Authorization: Bearer <token>)")
    token = token.strip()
    address = request.client.host if request.client else ""
    failed_logins: FailedLogins = request.app.state.failed_logins
    failed_logins.check(address, token)
    digest = token_digest(token)
    # Looked up on every request (one indexed join): with several server processes on one
    # database, a cached user would keep an organisation's old in-house relationship or a
    # removed token alive in the processes that did not make the change.
    with db.reading(request.app.state.engine) as conn:
        row = conn.execute(
            select(
                db.users.c.id, db.users.c.name, db.users.c.email, db.users.c.role, db.users.c.demo,
                db.organizations.c.id.label("org_id"), db.organizations.c.name.label("org_name"),
                db.organizations.c.kind, db.organizations.c.inhouse_operator_id,
            )
            .join(db.organizations, db.organizations.c.id == db.users.c.organization_id)
            .where(db.users.c.token_sha256 == digest)
        ).first()
    if row is None:
        failed_logins.failed(address, token)
        raise _unauthorized("unknown token")
    user = User(row.id, row.name, row.email, row.role, row.org_id, row.org_name, row.kind,
                row.inhouse_operator_id, bool(row.demo))
    if user.demo and not request.app.state.settings.allow_demo_tokens:
        # Demo tokens are public knowledge: only an embedded server on loopback accepts them.
        raise _unauthorized("demo tokens are accepted only by a server listening on loopback")
    return user


def require_role(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise ApiProblem(403, f"this needs the role {' or '.join(roles)}; you are {user.role}", type="forbidden-role")
