"""Administration: an organisation's users and their tokens, accreditation, the audit log.

The operator manages every organisation; an organisation's admin its own users and their tokens;
support reads. A record the caller may not see answers 404, as everywhere.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt
from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from ...domain.administration import (
    ACCREDITATION_STATES,
    MAX_TOKEN_DAYS,
    TOKEN_SCOPES,
    USER_EMAIL_PATTERN,
    accreditation_step,
    may_manage_users,
    may_read_users,
    role_for_roles,
)
from .. import changes, db, idempotency, schemas, wording
from ..administration import audit, create_user, issue_token, serialize_audit, serialize_token, serialize_user
from ..auth import ROLES, User, current_user, require_role
from ..http import check_if_match, json_response, representation_etag
from ..problems import ApiProblem, refuse_nulls
from . import organizations as orgs
from .common import Cursor, Limit, keyset, page

router = APIRouter(tags=["administration"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Me = Annotated[User, Depends(current_user)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserCreate(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: Annotated[str, Field(min_length=3, max_length=200, pattern=USER_EMAIL_PATTERN)]
    role: Literal[ROLES]  # type: ignore[valid-type]
    admin: StrictBool = False


class UserChange(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    email: Annotated[str, Field(min_length=3, max_length=200, pattern=USER_EMAIL_PATTERN)] | None = None
    role: Literal[ROLES] | None = None  # type: ignore[valid-type]
    admin: StrictBool | None = None
    disabled: StrictBool | None = None


class TokenCreate(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    expires_in_days: Annotated[StrictInt, Field(ge=1, le=MAX_TOKEN_DAYS)] = 90
    scope: Literal[TOKEN_SCOPES] = "write"  # type: ignore[valid-type]


class Accreditation(Strict):
    state: Literal[ACCREDITATION_STATES]  # type: ignore[valid-type]
    reason: Annotated[str, Field(min_length=1, max_length=500)]


_KINDS_DE = {"user": "Benutzer", "organisation": "Organisation", "token": "Token"}


def _not_found(kind: str, ident: int) -> ApiProblem:
    return ApiProblem(404, f"no {kind} {ident}", type="not-found",
                      detail_de=f"{_KINDS_DE.get(kind, kind)} {ident} nicht gefunden")


def _user_row(conn: Connection, user_id: int):
    row = conn.execute(select(db.users).where(db.users.c.id == user_id)).first()
    if row is None:
        raise _not_found("user", user_id)
    return row


def _readable_user(conn: Connection, me: User, user_id: int):
    row = _user_row(conn, user_id)
    if not (row.id == me.id or may_read_users(me.role, me.admin, me.organization_id, row.organization_id)):
        raise _not_found("user", user_id)
    return row


def _managed_user(conn: Connection, me: User, user_id: int):
    row = _readable_user(conn, me, user_id)
    if not may_manage_users(me.role, me.admin, me.organization_id, row.organization_id):
        raise ApiProblem(403, "only the operator or this organisation's admin manages its users", type="forbidden-role",
                         detail_de="Die Benutzer einer Organisation verwalten nur der Betreiber und der Admin dieser "
                                   "Organisation")
    return row


def _check_role(conn: Connection, org_id: int, role: str) -> None:
    refusal = role_for_roles(orgs.roles_of(conn, org_id), role)
    if refusal:
        raise ApiProblem(422, refusal.en, type="validation", detail_de=wording.sentence(refusal.de),
                         errors=[{"field": "role", "message": refusal.en, "message_de": refusal.de, "code": refusal.code}])


@router.get("/organizations/{org_id}/users", response_model=schemas.UserPage, summary="An organisation's users (operator, support, its admin)")
def list_users(request: Request, org_id: Id, me: Me, limit: Limit = 100, cursor: Cursor = None) -> Response:
    with db.reading(request.app.state.engine) as conn:
        orgs.load(conn, org_id)
        if not may_read_users(me.role, me.admin, me.organization_id, org_id):
            raise _not_found("organisation", org_id)
        query = select(db.users).where(db.users.c.organization_id == org_id)
        rows = conn.execute(keyset(query, "id", db.users.c.id, db.users.c.id, False, cursor).limit(limit + 1)).all()
    rows, next_cursor = page(rows, limit, "id")
    return json_response(request, {"items": [serialize_user(r) for r in rows], "next_cursor": next_cursor})


@router.post("/organizations/{org_id}/users", response_model=schemas.User, status_code=201, summary="Add a user (operator, the organisation's admin)")
def add_user(request: Request, org_id: Id, body: UserCreate, me: Me) -> Response:
    def work(conn: Connection) -> Response:
        orgs.load(conn, org_id)
        if not may_read_users(me.role, me.admin, me.organization_id, org_id):
            raise _not_found("organisation", org_id)
        if not may_manage_users(me.role, me.admin, me.organization_id, org_id):
            raise ApiProblem(403, "only the operator or this organisation's admin adds its users", type="forbidden-role",
                             detail_de="Benutzer einer Organisation legen nur der Betreiber und der Admin dieser "
                                       "Organisation an")
        _check_role(conn, org_id, body.role)
        row = create_user(conn, me, org_id, name=body.name, email=body.email, role=body.role, admin=body.admin)
        return json_response(None, serialize_user(row), status=201, headers={"Location": f"/api/v1/users/{row.id}"})

    return idempotency.run(request, me, body.model_dump(mode="json"), work)


@router.get("/users/{user_id}", response_model=schemas.User, summary="One user")
def get_user(request: Request, user_id: Id, me: Me) -> Response:
    with db.reading(request.app.state.engine) as conn:
        row = _readable_user(conn, me, user_id)
    return json_response(request, serialize_user(row))


@router.patch("/users/{user_id}", response_model=schemas.User, summary="Change a user: name, e-mail, role, admin, disabled (needs If-Match)")
def patch_user(request: Request, user_id: Id, body: UserChange, me: Me) -> Response:
    changes = body.model_dump(exclude_unset=True)
    refuse_nulls(changes, ("name", "email", "role", "admin", "disabled"))
    with db.writing(request.app.state.engine) as conn:
        row = _managed_user(conn, me, user_id)
        before = serialize_user(row)
        check_if_match(request, representation_etag(before))
        if "role" in changes:
            _check_role(conn, row.organization_id, changes["role"])
        if row.id == me.id and (changes.get("disabled") or changes.get("admin") is False or
                                changes.get("role", me.role) != me.role):
            raise ApiProblem(409, "you cannot disable yourself or take away your own role or admin right",
                             type="self-lockout",
                             detail_de="Sie können sich nicht selbst sperren und sich Ihre Rolle oder Ihr Admin-Recht "
                                       "nicht selbst nehmen")
        done = conn.execute(update(db.users).where(db.users.c.id == row.id, db.users.c.version == row.version)
                            .values(**changes, version=row.version + 1)).rowcount
        if not done:
            raise ApiProblem(412, "someone else changed this user meanwhile; reload it", type="stale-etag",
                             detail_de="Jemand anderes hat diesen Benutzer inzwischen geändert; laden Sie ihn neu")
        row = _user_row(conn, user_id)
        audit(conn, me, "user.changed", "user", row.id, row.organization_id, before, serialize_user(row))
    return json_response(None, serialize_user(row))


@router.get("/users/{user_id}/tokens", response_model=schemas.TokenPage,
            summary="A user's tokens: name, scope, created, expires, last used — no secret")
def list_tokens(request: Request, user_id: Id, me: Me) -> Response:
    with db.reading(request.app.state.engine) as conn:
        _readable_user(conn, me, user_id)
        rows = conn.execute(select(db.api_tokens).where(db.api_tokens.c.user_id == user_id)
                            .order_by(db.api_tokens.c.id)).all()
    return json_response(request, {"items": [serialize_token(r) for r in rows], "next_cursor": None})


@router.post("/users/{user_id}/tokens", response_model=schemas.NewToken, status_code=201,
             summary="Issue a token; the answer carries its secret (token) once, never again")
def create_token(request: Request, user_id: Id, body: TokenCreate, me: Me) -> Response:
    def work(conn: Connection) -> Response:
        row = _readable_user(conn, me, user_id)
        if row.id != me.id and not may_manage_users(me.role, me.admin, me.organization_id, row.organization_id):
            raise ApiProblem(403, "only the user, its organisation's admin or the operator issues its tokens",
                             type="forbidden-role",
                             detail_de="Token eines Benutzers stellen nur er selbst, der Admin seiner Organisation "
                                       "und der Betreiber aus")
        if row.disabled:
            raise ApiProblem(409, "this user is disabled; enable it first", type="user-disabled",
                             detail_de="Dieser Benutzer ist gesperrt; heben Sie die Sperre zuerst auf")
        token_row, secret = issue_token(conn, me, row, name=body.name, scope=body.scope,
                                        expires_in_days=body.expires_in_days)
        return json_response(None, {**serialize_token(token_row), "token": secret}, status=201,
                             headers={"Location": f"/api/v1/users/{user_id}/tokens"})

    # The secret is shown once: a replay of the same request answers the token's record with
    # ``"token": null`` — the secret is never stored, not even for replays.
    return idempotency.run(request, me, body.model_dump(mode="json"), work, stored=_without_secret)


def _without_secret(resp: Response) -> Response:
    doc = json.loads(bytes(resp.body))
    doc["token"] = None
    return json_response(None, doc, status=resp.status_code, headers={"Location": resp.headers.get("location", "")})


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token at once")
def revoke_token(request: Request, token_id: Id, me: Me) -> Response:
    with db.writing(request.app.state.engine) as conn:
        token = conn.execute(select(db.api_tokens).where(db.api_tokens.c.id == token_id)).first()
        if token is None:
            raise _not_found("token", token_id)
        owner = _readable_user(conn, me, token.user_id)
        if owner.id != me.id and not may_manage_users(me.role, me.admin, me.organization_id, owner.organization_id):
            raise ApiProblem(403, "only the user, its organisation's admin or the operator revokes its tokens",
                             type="forbidden-role",
                             detail_de="Token eines Benutzers widerrufen nur er selbst, der Admin seiner Organisation "
                                       "und der Betreiber")
        if token.revoked_at is None:
            conn.execute(update(db.api_tokens).where(db.api_tokens.c.id == token_id).values(revoked_at=db.utcnow()))
            after = conn.execute(select(db.api_tokens).where(db.api_tokens.c.id == token_id)).one()
            audit(conn, me, "token.revoked", "token", token_id, owner.organization_id, serialize_token(token),
                  serialize_token(after))
    return Response(status_code=204)


@router.post("/organizations/{org_id}/accreditation", response_model=schemas.Organization, summary="Accredit or suspend an organisation (operator)")
def set_accreditation(request: Request, org_id: Id, body: Accreditation, me: Me) -> Response:
    require_role(me, "operator")
    with db.writing(request.app.state.engine) as conn:
        row = orgs.load(conn, org_id)
        before = orgs.serialize(conn, row)
        refusal = accreditation_step(row.accreditation, body.state, row.kind)
        if refusal:
            raise ApiProblem(409, refusal.en, type=refusal.code, detail_de=wording.sentence(refusal.de))
        conn.execute(update(db.organizations).where(db.organizations.c.id == org_id).values(
            accreditation=body.state, accreditation_at=db.utcnow(), accreditation_by=me.name,
            accreditation_reason=body.reason, version=row.version + 1, updated_at=db.utcnow()))
        doc = orgs.serialize(conn, orgs.load(conn, org_id))
        audit(conn, me, "organization.accreditation", "organization", org_id, org_id, before, doc)
        changes.record(conn, "organization", org_id, "accreditation")
    return json_response(None, doc)


@router.get("/audit", response_model=schemas.AuditPage, summary="The audit log of administrative changes (operator, support)")
def list_audit(
    request: Request, me: Me,
    organization_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    target_kind: Annotated[Literal["organization", "user", "token"] | None, Query()] = None,
    target_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Limit = 100, cursor: Cursor = None,
) -> Response:
    require_role(me, "operator", "support")
    t = db.audit_log
    query = select(t)
    if organization_id is not None:
        query = query.where(t.c.organization_id == organization_id)
    if target_kind is not None:
        query = query.where(t.c.target_kind == target_kind)
    if target_id is not None:
        query = query.where(t.c.target_id == target_id)
    with db.reading(request.app.state.engine) as conn:
        rows = conn.execute(keyset(query, "id", t.c.id, t.c.id, True, cursor).limit(limit + 1)).all()
    rows, next_cursor = page(rows, limit, "id")
    return json_response(request, {"items": [serialize_audit(r) for r in rows], "next_cursor": next_cursor})
