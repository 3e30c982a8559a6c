"""Users, tokens and the audit log of administrative changes — the writes behind the
administration routes and the ``efa-tui token`` bootstrap command, in one place."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from ..domain.administration import MAX_TOKEN_DAYS
from . import changes as change_log
from . import db
from .auth import User, new_token, token_digest
from .http import iso


def audit(conn: Connection, actor: User | None, action: str, target_kind: str, target_id: int,
          organization_id: int | None, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    """One line of the audit log, in the transaction of the change it records."""
    conn.execute(db.audit_log.insert().values(
        at=db.utcnow(), actor_id=actor.id if actor else None,
        actor_name=actor.name if actor else "Server-Administration (efa-tui token)",
        actor_organization_id=actor.organization_id if actor else None,
        action=action, target_kind=target_kind, target_id=target_id, organization_id=organization_id,
        before=before, after=after))
    # Permissions changed (a new user, a role, a token issued or revoked, an accreditation): the change
    # log tells the event stream and every server process; organisations log their other changes in
    # their routes. One entry per change.
    if target_kind in ("user", "token"):
        user_id = target_id if target_kind == "user" else int((after or before or {}).get("user_id") or 0)
        if user_id:
            change_log.record(conn, "user", user_id, action.replace(".", "_")[:16])
    elif action == "organization.accreditation":
        change_log.record(conn, "organization", target_id, "accreditation")


def serialize_user(row) -> dict[str, Any]:
    return {
        "id": row.id, "organization_id": row.organization_id, "name": row.name, "email": row.email,
        "role": row.role, "admin": bool(row.admin), "disabled": bool(row.disabled), "demo": bool(row.demo),
        "created_at": iso(row.created_at), "version": row.version,
    }


def serialize_token(row) -> dict[str, Any]:
    """A token as lists show it: never its secret (the server does not have it)."""
    return {
        "id": row.id, "user_id": row.user_id, "name": row.name, "scope": row.scope, "prefix": row.prefix,
        "created_at": iso(row.created_at), "expires_at": iso(row.expires_at),
        "last_used_at": iso(row.last_used_at), "revoked_at": iso(row.revoked_at),
    }


def serialize_audit(row) -> dict[str, Any]:
    return {
        "id": row.id, "at": iso(row.at), "actor": {"id": row.actor_id, "name": row.actor_name,
                                                   "organization_id": row.actor_organization_id},
        "action": row.action, "target": {"kind": row.target_kind, "id": row.target_id},
        "organization_id": row.organization_id, "before": row.before, "after": row.after,
    }


def create_user(conn: Connection, actor: User | None, organization_id: int, *, name: str, email: str,
                role: str, admin: bool) -> Any:
    new_id = db.new_id(conn.execute(db.users.insert().values(
        organization_id=organization_id, role=role, name=name, email=email, admin=admin, disabled=False,
        demo=False, created_at=db.utcnow(), version=1)))
    row = conn.execute(select(db.users).where(db.users.c.id == new_id)).one()
    audit(conn, actor, "user.created", "user", new_id, organization_id, None, serialize_user(row))
    return row


def issue_token(conn: Connection, actor: User | None, user_row: Any, *, name: str, scope: str,
                expires_in_days: int | None) -> tuple[Any, str]:
    """A new token for ``user_row``: its record and the secret, which is never stored."""
    secret = new_token()
    now = db.utcnow()
    days = MAX_TOKEN_DAYS if expires_in_days is None else expires_in_days
    token_id = db.new_id(conn.execute(db.api_tokens.insert().values(
        user_id=user_row.id, name=name, scope=scope, token_sha256=token_digest(secret), prefix=secret[:12],
        created_at=now, created_by=actor.id if actor else None,
        expires_at=now + timedelta(days=days))))
    row = conn.execute(select(db.api_tokens).where(db.api_tokens.c.id == token_id)).one()
    audit(conn, actor, "token.created", "token", token_id, user_row.organization_id, None, serialize_token(row))
    return row, secret
