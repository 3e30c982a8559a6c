"""/me and /organizations: who you are, and the directory the operator manages."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StrictInt
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from ...domain.administration import ORGANIZATION_TYPES, Refusal, ags_refusal, order_refusal, type_for_kind
from ...domain.catalog import BUNDESLAENDER
from ...domain.leitweg import check_leitweg_id
from .. import changes as change_log
from .. import db, idempotency, schemas
from ..administration import audit
from ..auth import User, current_user, require_role
from ..http import check_if_match, iso, json_response, representation_etag
from ..problems import ApiProblem
from .common import Cursor, Id, Limit, SyncPosition, UpdatedSince, keyset, like_terms, naive_utc, page, sync_select

router = APIRouter(tags=["organizations"])
t = db.organizations
if TYPE_CHECKING:
    Land = str
    OrganizationType = str
else:  # the OpenAPI document and the validation name the 16 Länder and the five kinds of body
    Land = Literal[tuple(BUNDESLAENDER)]
    OrganizationType = Literal[ORGANIZATION_TYPES]


def serialize(row) -> dict[str, Any]:
    return {
        "id": row.id, "key": row.key, "kind": row.kind, "name": row.name, "short_name": row.short_name,
        "address": {"street": row.street, "postcode": row.postcode, "city": row.city, "country": row.country},
        "bundesland": row.bundesland, "email": row.email, "phone": row.phone, "contact_name": row.contact_name,
        "vat_id": row.vat_id, "iban": row.iban, "bic": row.bic, "ags": row.ags, "population": row.population,
        "leitweg_id": row.leitweg_id, "customer_type": row.customer_type,
        "inhouse_operator_id": row.inhouse_operator_id, "inhouse": row.inhouse_operator_id is not None,
        "inhouse_basis": row.inhouse_basis, "population_date": iso(row.population_date),
        "accreditation": {"state": row.accreditation, "at": iso(row.accreditation_at),
                          "by": row.accreditation_by, "reason": row.accreditation_reason},
        "version": row.version, "updated_at": iso(row.updated_at),
    }


def load(conn: Connection, org_id: int):
    row = conn.execute(select(t).where(t.c.id == org_id)).first()
    if row is None:
        raise ApiProblem(404, f"no organisation {org_id}", type="not-found")
    return row


@router.get("/me", response_model=schemas.Me, summary="The user behind the token, its role and organisation")
def me(request: Request, user: Annotated[User, Depends(current_user)]) -> Response:
    with db.reading(request.app.state.engine) as conn:
        org = load(conn, user.organization_id)
    refusal = order_refusal(user.role, org.inhouse_operator_id is not None, org.accreditation)
    return json_response(request, {
        "id": user.id, "name": user.name, "email": user.email, "role": user.role, "admin": user.admin,
        "token": {"id": user.token_id, "scope": user.token_scope},
        "organization": serialize(org), "can_order": refusal is None,
        "can_order_reason": refusal.en if refusal else None,
        "can_order_reason_de": refusal.de if refusal else None,
    })


@router.get("/organizations", response_model=schemas.OrganizationPage, summary="The directory of organisations")
def list_organizations(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    kind: Annotated[Literal["operator", "provider", "customer"] | None, Query()] = None,
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
        query = query.where(t.c.kind == kind)
    for term in like_terms(q or ""):
        query = query.where(func.lower(t.c.name).like(term, escape="\\"))
    with db.reading(request.app.state.engine) as conn:
        sync: dict = {}
        if sync_position is not None or since is not None:
            query, sync = sync_select(conn, query, kind="organization", id_col=t.c.id, user=user, sync_position=sync_position)
        rows = conn.execute(keyset(query, name, col, t.c.id, False, cursor).limit(limit + 1)).all()
    rows, next_cursor = page(rows, limit, name)
    return json_response(request, {"items": [serialize(r) for r in rows], "next_cursor": next_cursor, **sync})


@router.get("/organizations/{org_id}", response_model=schemas.Organization, summary="One organisation")
def get_organization(request: Request, org_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
                     user: Annotated[User, Depends(current_user)]) -> Response:
    with db.reading(request.app.state.engine) as conn:
        row = load(conn, org_id)
    return json_response(request, serialize(row))


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
    leitweg_id: Annotated[str, Field(max_length=46)] | None = None
    inhouse_operator_id: Id | None = None
    inhouse_basis: Annotated[str, Field(max_length=500)] | None = None
    population_date: date | None = None
    ags: Annotated[str, Field(pattern=r"^\d{2,12}$")] | None = None  # AGS or ARS (domain: ags_refusal)
    customer_type: OrganizationType | None = None  # its Art: Kommune, Kreis, Land, IT-Dienstleister, Betreiber


class OrganizationCreate(OrganizationFields):
    key: Annotated[str, Field(min_length=2, max_length=64, pattern=r"^[a-z0-9-]+$")]
    kind: Literal["provider", "customer"]
    name: Annotated[str, Field(min_length=1, max_length=200)]


def _field_problem(field: str, refusal: Refusal) -> ApiProblem:
    return ApiProblem(422, refusal.en, type="validation",
                      errors=[{"field": field, "message": refusal.en, "message_de": refusal.de, "code": refusal.code}])


def _validate(conn: Connection, values: dict[str, Any], kind: str) -> None:
    if values.get("ags") and (refusal := ags_refusal(values["ags"])):
        raise _field_problem("ags", refusal)
    if values.get("customer_type") and (refusal := type_for_kind(kind, values["customer_type"])):
        raise _field_problem("customer_type", refusal)
    lw = values.get("leitweg_id")
    if lw:
        check = check_leitweg_id(lw)
        if not check.ok:
            raise ApiProblem(422, f"Leitweg-ID: {check.reason_en}", type="validation",
                             errors=[{"field": "leitweg_id", "message": check.reason_en, "message_de": check.reason, "code": "leitweg_id"}])
    op = values.get("inhouse_operator_id")
    if op is not None:
        op_kind = conn.execute(select(t.c.kind).where(t.c.id == op)).scalar()
        if op_kind != "operator":
            raise ApiProblem(422, "inhouse_operator_id must name an operator", type="validation",
                             errors=[{"field": "inhouse_operator_id", "message": "not an operator", "code": "reference"}])


@router.post("/organizations", response_model=schemas.Organization, status_code=201, summary="Register an organisation (operator)")
def create_organization(request: Request, body: OrganizationCreate, user: Annotated[User, Depends(current_user)]) -> Response:
    require_role(user, "operator")

    def work(conn: Connection) -> Response:
        values = {k: v for k, v in body.model_dump().items() if v is not None}
        _validate(conn, values, body.kind)
        if conn.execute(select(t.c.id).where(t.c.key == body.key)).first():
            raise ApiProblem(409, f"an organisation with key {body.key!r} exists", type="conflict")
        values.setdefault("short_name", body.name[:100])
        # A new organisation has applied; the operator accredits it (POST …/accreditation).
        new_id = db.new_id(conn.execute(t.insert().values(**values, updated_at=db.utcnow(), accreditation="applied",
                                                accreditation_at=db.utcnow(), accreditation_by=user.name,
                                                accreditation_reason="registriert")))
        change_log.record(conn, "organization", new_id, "created")
        row = load(conn, new_id)
        audit(conn, user, "organization.created", "organization", new_id, new_id, None, serialize(row))
        return json_response(None, serialize(row), status=201,
                             headers={"Location": f"/api/v1/organizations/{row.id}"})

    return idempotency.run(request, user, body.model_dump(mode="json"), work)


@router.patch("/organizations/{org_id}", response_model=schemas.Organization, summary="Edit an organisation (operator; needs If-Match)")
def patch_organization(request: Request, org_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: OrganizationFields,
                       user: Annotated[User, Depends(current_user)]) -> Response:
    require_role(user, "operator")
    changes = body.model_dump(exclude_unset=True)
    for key in ("name", "short_name"):
        if key in changes and changes[key] is None:
            raise ApiProblem(422, f"{key} cannot be null", type="validation",
                             errors=[{"field": key, "message": "must not be null", "code": "missing"}])
    for key in ("street", "postcode", "city", "email", "phone", "contact_name"):
        if key in changes and changes[key] is None:
            changes[key] = ""  # null clears a text field
    with db.writing(request.app.state.engine) as conn:
        row = load(conn, org_id)
        check_if_match(request, representation_etag(serialize(row)))
        _validate(conn, changes, row.kind)
        # Compare-and-set on the version: a writer in another process between our read and this
        # update makes it match no row, and the stale If-Match is refused.
        done = conn.execute(update(t).where(t.c.id == row.id, t.c.version == row.version)
                            .values(**changes, version=row.version + 1, updated_at=db.utcnow())).rowcount
        if not done:
            raise ApiProblem(412, "someone else changed this organisation meanwhile; reload it", type="stale-etag")
        change_log.record(conn, "organization", row.id, "changed")
        before = serialize(row)
        row = load(conn, org_id)
        audit(conn, user, "organization.changed", "organization", org_id, org_id, before, serialize(row))
    return json_response(None, serialize(row))
