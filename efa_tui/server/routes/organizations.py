"""/me and /organizations: who you are, and the directory the operator manages."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StrictInt
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from ...domain.administration import (
    MEMBER_ROLES,
    ORGANIZATION_TYPES,
    Refusal,
    ags_refusal,
    inhouse_refusal,
    kind_of,
    order_refusal,
    ordered_roles,
    roles_refusal,
    type_for_kind,
    user_roles,
)
from ...domain.catalog import BUNDESLAENDER
from ...domain.leitweg import MAX_LEITWEG_IDS, check_leitweg_ids
from .. import changes as change_log
from .. import db, idempotency, schemas, wording
from ..administration import audit
from ..auth import User, current_user, require_role
from ..http import check_if_match, iso, json_response, representation_etag
from ..problems import ApiProblem, refuse_nulls
from .common import Cursor, Id, Limit, SyncPosition, UpdatedSince, keyset, like_terms, naive_utc, page, sync_select

router = APIRouter(tags=["organizations"])
t = db.organizations
r_t, lw_t = db.organization_roles, db.organization_leitweg_ids
if TYPE_CHECKING:
    Land = str
    OrganizationType = str
    MemberRole = str
else:  # the OpenAPI document and the validation name the 16 Länder and the five kinds of body
    Land = Literal[tuple(BUNDESLAENDER)]
    OrganizationType = Literal[ORGANIZATION_TYPES]
    MemberRole = Literal[MEMBER_ROLES]


def _parts(conn: Connection, ids: list[int]) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """The roles and the Leitweg-IDs of the organisations ``ids``: two queries for a whole page."""
    roles: dict[int, list[str]] = {i: [] for i in ids}
    leitweg: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for org_id, role in conn.execute(select(r_t.c.organization_id, r_t.c.role).where(r_t.c.organization_id.in_(ids))):
            roles[org_id].append(role)
        for org_id, value in conn.execute(select(lw_t.c.organization_id, lw_t.c.leitweg_id)
                                          .where(lw_t.c.organization_id.in_(ids)).order_by(lw_t.c.organization_id, lw_t.c.position)):
            leitweg[org_id].append(value)
    return roles, leitweg


def serialize(conn: Connection, row) -> dict[str, Any]:
    return serialize_many(conn, [row])[0]


def serialize_many(conn: Connection, rows) -> list[dict[str, Any]]:
    roles, leitweg = _parts(conn, [r.id for r in rows])
    return [_serialize(r, roles[r.id], leitweg[r.id]) for r in rows]


def roles_of(conn: Connection, org_id: int) -> tuple[str, ...]:
    return ordered_roles(conn.execute(select(r_t.c.role).where(r_t.c.organization_id == org_id)).scalars())


def _serialize(row, roles: list[str], leitweg_ids: list[str]) -> dict[str, Any]:
    return {
        "id": row.id, "key": row.key, "kind": row.kind, "name": row.name, "short_name": row.short_name,
        "address": {"street": row.street, "postcode": row.postcode, "city": row.city, "country": row.country},
        "bundesland": row.bundesland, "email": row.email, "phone": row.phone, "contact_name": row.contact_name,
        "vat_id": row.vat_id, "iban": row.iban, "bic": row.bic, "ags": row.ags, "population": row.population,
        "roles": list(ordered_roles(roles)), "user_roles": list(user_roles(roles)),
        # The first Leitweg-ID is the default for orders and bills; ``leitweg_id`` names it for
        # older clients.
        "leitweg_ids": leitweg_ids, "leitweg_id": leitweg_ids[0] if leitweg_ids else None,
        "customer_type": row.customer_type,
        "inhouse_operator_id": row.inhouse_operator_id, "inhouse": row.inhouse_operator_id is not None,
        "inhouse_basis": row.inhouse_basis, "population_date": iso(row.population_date),
        "accreditation": {"state": row.accreditation, "at": iso(row.accreditation_at),
                          "by": row.accreditation_by, "reason": row.accreditation_reason},
        "version": row.version, "updated_at": iso(row.updated_at),
    }


def load(conn: Connection, org_id: int):
    row = conn.execute(select(t).where(t.c.id == org_id)).first()
    if row is None:
        raise ApiProblem(404, f"no organisation {org_id}", type="not-found", detail_de=f"Organisation {org_id} nicht gefunden")
    return row


@router.get("/me", response_model=schemas.Me, summary="The user behind the token, its role and organisation")
def me(request: Request, user: Annotated[User, Depends(current_user)]) -> Response:
    with db.reading(request.app.state.engine) as conn:
        org = load(conn, user.organization_id)
        organization = serialize(conn, org)
    refusal = order_refusal(user.role, org.inhouse_operator_id is not None, org.accreditation)
    return json_response(request, {
        "id": user.id, "name": user.name, "email": user.email, "role": user.role, "admin": user.admin,
        "token": {"id": user.token_id, "scope": user.token_scope},
        "organization": organization, "can_order": refusal is None,
        "can_order_reason": refusal.en if refusal else None,
        "can_order_reason_de": refusal.de if refusal else None,
    })


@router.get("/organizations", response_model=schemas.OrganizationPage, summary="The directory of organisations")
def list_organizations(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    kind: Annotated[Literal["operator", "provider", "customer"] | None,
                    Query(description="organisations that have this role (one of their roles)")] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    updated_since: UpdatedSince = None,
    sync_position: SyncPosition = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Response:
    query = select(t)
    name, col = "id", t.c.id
    since = naive_utc(updated_since)
    if since is not None and sync_position is None:
        name, col = "updated_at", t.c.updated_at
        query = query.where(t.c.updated_at >= since)
    if kind:
        query = query.where(select(r_t.c.role).where(r_t.c.organization_id == t.c.id, r_t.c.role == kind).exists())
    for term in like_terms(q or ""):
        query = query.where(func.lower(t.c.name).like(term, escape="\\"))
    with db.reading(request.app.state.engine) as conn:
        sync: dict = {}
        if sync_position is not None or since is not None:
            query, sync = sync_select(conn, query, kind="organization", id_col=t.c.id, user=user, sync_position=sync_position)
        rows = conn.execute(keyset(query, name, col, t.c.id, False, cursor).limit(limit + 1)).all()
        rows, next_cursor = page(rows, limit, name)
        items = serialize_many(conn, rows)
    return json_response(request, {"items": items, "next_cursor": next_cursor, **sync})


@router.get("/organizations/{org_id}", response_model=schemas.Organization, summary="One organisation")
def get_organization(request: Request, org_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
                     user: Annotated[User, Depends(current_user)]) -> Response:
    with db.reading(request.app.state.engine) as conn:
        doc = serialize(conn, load(conn, org_id))
    return json_response(request, doc)


class OrganizationFields(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    short_name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    street: Annotated[str, Field(max_length=200)] | None = None
    postcode: Annotated[str, Field(max_length=10)] | None = None
    city: Annotated[str, Field(max_length=100)] | None = None
    bundesland: Land | None = None
    email: Annotated[str, Field(max_length=200)] | None = None
    phone: Annotated[str, Field(max_length=50)] | None = None
    contact_name: Annotated[str, Field(max_length=200)] | None = None
    population: Annotated[StrictInt, Field(ge=0, le=100_000_000)] | None = None
    # The organisation's Leitweg-IDs in order, the first the default (each checked: MOD 97-10);
    # ``leitweg_id`` is the one-item form older clients send.
    leitweg_ids: Annotated[list[Annotated[str, Field(max_length=46)]], Field(max_length=MAX_LEITWEG_IDS)] | None = None
    leitweg_id: Annotated[str, Field(max_length=46)] | None = None
    # Its roles in the marketplace (customer, provider or both); not for an operator organisation.
    roles: Annotated[list[MemberRole], Field(min_length=1, max_length=2)] | None = None
    inhouse_operator_id: Id | None = None
    inhouse_basis: Annotated[str, Field(max_length=500)] | None = None
    population_date: date | None = None
    ags: Annotated[str, Field(pattern=r"^\d{2,12}$")] | None = None  # AGS or ARS (domain: ags_refusal)
    customer_type: OrganizationType | None = None  # its Art: Kommune, Kreis, Land, IT-Dienstleister, Betreiber


class OrganizationCreate(OrganizationFields):
    key: Annotated[str, Field(min_length=2, max_length=64, pattern=r"^[a-z0-9-]+$")]
    kind: Literal["provider", "customer"] | None = None  # one role, as older clients send it; or ``roles``
    name: Annotated[str, Field(min_length=1, max_length=200)]


def _field_problem(field: str, refusal: Refusal) -> ApiProblem:
    return ApiProblem(422, refusal.en, type="validation", detail_de=wording.sentence(refusal.de),
                      errors=[{"field": field, "message": refusal.en, "message_de": refusal.de, "code": refusal.code}])


def _validate(conn: Connection, values: dict[str, Any], kind: str) -> None:
    if values.get("ags") and (refusal := ags_refusal(values["ags"])):
        raise _field_problem("ags", refusal)
    if values.get("customer_type") and (refusal := type_for_kind(kind, values["customer_type"])):
        raise _field_problem("customer_type", refusal)
    op = values.get("inhouse_operator_id")
    if op is not None:
        op_kind = conn.execute(select(t.c.kind).where(t.c.id == op)).scalar()
        if op_kind != "operator":
            raise ApiProblem(422, "inhouse_operator_id must name an operator", type="validation",
                             detail_de="Der Partner einer Inhouse-Beziehung muss der Betreiber sein",
                             errors=[{"field": "inhouse_operator_id", "message": "not an operator",
                                      "message_de": "kein Betreiber", "code": "reference"}])


def _inhouse(conn: Connection, kind: str, roles: list[str], changes: dict[str, Any]) -> None:
    """An in-house relationship set (a customer with an operator) or ended (null: its basis goes too)."""
    op = changes["inhouse_operator_id"]
    partner = conn.execute(select(t.c.kind).where(t.c.id == op)).scalar() if op is not None else None
    if (refusal := inhouse_refusal(kind, roles, partner)) is not None:
        raise _field_problem("inhouse_operator_id", refusal)
    if op is None:
        changes["inhouse_basis"] = None


def _leitweg_list(values: dict[str, Any]) -> list[str] | None:
    """The Leitweg-IDs a body sets (``leitweg_ids``, or the one ``leitweg_id`` of an older client;
    null or empty clears the list), each checked: a bad one is a 422 naming its item."""
    if "leitweg_ids" in values:
        field, items = "leitweg_ids", values.pop("leitweg_ids") or []
        if "leitweg_id" in values:
            raise ApiProblem(422, "give leitweg_ids or leitweg_id, not both", type="validation",
                             detail_de="Geben Sie die Leitweg-IDs als Liste oder eine einzelne Leitweg-ID an, nicht beides",
                             errors=[{"field": "leitweg_id", "message": "give leitweg_ids or leitweg_id, not both",
                                      "message_de": "Liste oder einzelne Leitweg-ID, nicht beides", "code": "conflict"}])
    elif "leitweg_id" in values:
        one = values.pop("leitweg_id")
        field, items = "leitweg_id", [one] if one else []
    else:
        return None
    items = [i.strip() for i in items]
    bad = check_leitweg_ids(items)
    if bad:
        errors = [{"field": field if field == "leitweg_id" else f"{field}.{index}", "message": check.reason_en,
                   "message_de": check.reason, "code": "leitweg_id"} for index, check in bad]
        raise ApiProblem(422, f"Leitweg-ID: {bad[0][1].reason_en}", type="validation", errors=errors,
                         detail_de=f"Leitweg-ID: {bad[0][1].reason}")
    return items


def _roles_from(values: dict[str, Any], kind: str | None) -> list[str] | None:
    roles = values.pop("roles", None)
    if roles is None:
        return None if kind is None else [kind]
    if (refusal := roles_refusal(roles)):
        raise _field_problem("roles", refusal)
    if kind is not None and kind not in roles:
        raise ApiProblem(422, f"kind {kind} is not one of the roles", type="validation",
                         detail_de=f"kind „{wording.role(kind)}“ ist keine der Rollen (roles)",
                         errors=[{"field": "kind", "message": "not one of the roles",
                                  "message_de": "keine der Rollen", "code": "conflict"}])
    return list(ordered_roles(roles))


def _write_parts(conn: Connection, org_id: int, roles: list[str] | None, leitweg_ids: list[str] | None) -> None:
    if roles is not None:
        conn.execute(r_t.delete().where(r_t.c.organization_id == org_id))
        conn.execute(r_t.insert(), [{"organization_id": org_id, "role": r} for r in roles])
    if leitweg_ids is not None:
        conn.execute(lw_t.delete().where(lw_t.c.organization_id == org_id))
        if leitweg_ids:
            conn.execute(lw_t.insert(), [{"organization_id": org_id, "position": i, "leitweg_id": v}
                                         for i, v in enumerate(leitweg_ids)])


def _users_in_dropped_roles(conn: Connection, org_id: int, roles: list[str]) -> None:
    """A role the organisation gives up must have no users left: they would keep acting in it."""
    u = db.users
    left = conn.execute(select(u.c.role, func.count()).where(u.c.organization_id == org_id,
                                                             u.c.role.not_in(user_roles(roles)))
                        .group_by(u.c.role)).all()
    if left:
        what = ", ".join(f"{n} × {role}" for role, n in left)
        what_de = ", ".join(f"{n} × {wording.role(role)}" for role, n in left)
        raise ApiProblem(409, f"users still have the role(s) you take away ({what}); change their role first",
                         type="role-in-use",
                         detail_de=f"Benutzer haben noch die Rolle(n), die wegfallen ({what_de}); ändern Sie erst deren Rolle")


@router.post("/organizations", response_model=schemas.Organization, status_code=201, summary="Register an organisation (operator)")
def create_organization(request: Request, body: OrganizationCreate, user: Annotated[User, Depends(current_user)]) -> Response:
    require_role(user, "operator")

    def work(conn: Connection) -> Response:
        values = {k: v for k, v in body.model_dump().items() if v is not None}
        values.pop("kind", None)
        roles = _roles_from(values, body.kind)
        if roles is None:
            raise ApiProblem(422, "an organisation needs its roles (roles, or kind)", type="validation",
                             detail_de="Eine Organisation braucht ihre Rollen (roles oder kind)",
                             errors=[{"field": "roles", "message": "missing", "message_de": "fehlt", "code": "missing"}])
        leitweg_ids = _leitweg_list(values)
        _validate(conn, values, kind_of(roles))
        if "inhouse_operator_id" in values:
            _inhouse(conn, kind_of(roles), roles, values)
        if conn.execute(select(t.c.id).where(t.c.key == body.key)).first():
            raise ApiProblem(409, f"an organisation with key {body.key!r} exists", type="conflict",
                             detail_de=f"Eine Organisation mit dem Schlüssel „{body.key}“ gibt es bereits")
        values.setdefault("short_name", body.name[:100])
        # A new organisation has applied; the operator accredits it (POST …/accreditation).
        new_id = db.new_id(conn.execute(t.insert().values(
            **values, kind=kind_of(roles), updated_at=db.utcnow(), accreditation="applied",
            accreditation_at=db.utcnow(), accreditation_by=user.name, accreditation_reason="registriert")))
        _write_parts(conn, new_id, roles, leitweg_ids)
        change_log.record(conn, "organization", new_id, "created")
        doc = serialize(conn, load(conn, new_id))
        audit(conn, user, "organization.created", "organization", new_id, new_id, None, doc)
        return json_response(None, doc, status=201,
                             headers={"Location": f"/api/v1/organizations/{new_id}"})

    return idempotency.run(request, user, body.model_dump(mode="json"), work)


@router.patch("/organizations/{org_id}", response_model=schemas.Organization, summary="Edit an organisation (operator; needs If-Match)")
def patch_organization(request: Request, org_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: OrganizationFields,
                       user: Annotated[User, Depends(current_user)]) -> Response:
    require_role(user, "operator")
    changes = body.model_dump(exclude_unset=True)
    refuse_nulls(changes, ("name", "short_name"))
    for key in ("street", "postcode", "city", "email", "phone", "contact_name"):
        if key in changes and changes[key] is None:
            changes[key] = ""  # null clears a text field
    with db.writing(request.app.state.engine) as conn:
        row = load(conn, org_id)
        before = serialize(conn, row)
        check_if_match(request, representation_etag(before))
        roles = _roles_from(changes, None)
        if roles is not None:
            if row.kind == "operator":
                raise ApiProblem(422, "an operator organisation keeps its role", type="validation",
                                 detail_de="Eine Betreiber-Organisation behält ihre Rolle",
                                 errors=[{"field": "roles", "message": "an operator organisation keeps its role",
                                          "message_de": "eine Betreiber-Organisation behält ihre Rolle", "code": "roles"}])
            _users_in_dropped_roles(conn, row.id, roles)
            changes["kind"] = kind_of(roles)
            if "customer" not in roles and row.inhouse_operator_id is not None:
                # Only a customer has one: without the role the relationship ends with it.
                changes.setdefault("inhouse_operator_id", None)
        leitweg_ids = _leitweg_list(changes)
        _validate(conn, changes, row.kind if row.kind == "operator" else "customer")
        if "inhouse_operator_id" in changes:
            _inhouse(conn, row.kind, roles or before["roles"], changes)
        # Compare-and-set on the version: a writer in another process between our read and this
        # update makes it match no row, and the stale If-Match is refused.
        done = conn.execute(update(t).where(t.c.id == row.id, t.c.version == row.version)
                            .values(**changes, version=row.version + 1, updated_at=db.utcnow())).rowcount
        if not done:
            raise ApiProblem(412, "someone else changed this organisation meanwhile; reload it", type="stale-etag",
                             detail_de="Jemand anderes hat diese Organisation inzwischen geändert; laden Sie sie neu")
        _write_parts(conn, row.id, roles, leitweg_ids)
        change_log.record(conn, "organization", row.id, "changed")
        doc = serialize(conn, load(conn, org_id))
        audit(conn, user, "organization.changed", "organization", org_id, org_id, before, doc)
    return json_response(None, doc)
