"""Bearer tokens: each belongs to one user of one organisation with one role."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from fastapi import Request
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


def current_user(request: Request) -> User:
    """FastAPI dependency: the user behind the bearer token, or 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("missing bearer token (Authorization: Bearer <token>)")
    digest = token_digest(token.strip())
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
