"""/offerings: the catalog. Providers manage their own; everyone browses the published ones."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationInfo, field_validator
from sqlalchemy import and_, false, func, or_, select, true, update
from sqlalchemy.engine import Connection

from ...domain.catalog import BUNDESLAENDER, THEMENFELDER
from ...domain.collation import search_fold, sort_key
from ...domain.pricing import DistributionKey
from .. import changes as change_log
from .. import db, idempotency, schemas, wording
from ..auth import User, current_user, require_role
from ..http import PageCache, check_if_match, dumps, iso, json_response, money, representation_etag
from ..problems import ApiProblem, refuse_nulls
from .common import Cursor, Limit, Money, SyncPosition, UpdatedSince, VatRate, keyset, like_terms, naive_utc, page, parse_sort, sync_select

router = APIRouter(prefix="/offerings", tags=["offerings"])
o = db.offerings
p = db.organizations
IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]

Themenfeld = Literal[THEMENFELDER]  # type: ignore[valid-type]
if TYPE_CHECKING:
    Land = str
else:  # the OpenAPI document and the validation name the 16 Länder
    Land = Literal[tuple(BUNDESLAENDER)]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]


class OfferingFields(BaseModel):
    """Every field of an offering; PATCH sends any subset."""

    title: Text200 | None = None
    summary: Annotated[str, Field(max_length=500)] | None = None
    description: Annotated[str, Field(max_length=20_000)] | None = None
    category: Themenfeld | None = None
    leika_key: Annotated[str, Field(max_length=20)] | None = None
    ozg_id: Annotated[str, Field(max_length=20)] | None = None
    bundeslaender: Annotated[list[Land], Field(max_length=16)] | None = None
    maturity: Annotated[int, Field(ge=0, le=4)] | None = None
    annual_fee: Money | None = None
    one_time_fee: Money | None = None
    distribution_key: DistributionKey | None = None
    unit_price: Money | None = None
    unit_label: Annotated[str, Field(max_length=100)] | None = None
    vat_rate: VatRate | None = None
    contract_terms: Annotated[str, Field(max_length=5000)] | None = None
    minimum_term_months: Annotated[int, Field(ge=0, le=120)] | None = None
    notice_period_months: Annotated[int, Field(ge=0, le=24)] | None = None
    contact_name: Annotated[str, Field(max_length=200)] | None = None
    contact_email: Annotated[str, Field(max_length=200)] | None = None
    contact_phone: Annotated[str, Field(max_length=50)] | None = None
    keywords: Annotated[list[Annotated[str, Field(max_length=50)]], Field(max_length=20)] | None = None

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise wording.Refused("must not be blank", "darf nicht leer sein")
        return v.strip() if v else v


class OfferingCreate(OfferingFields):
    title: Text200
    category: Themenfeld
    annual_fee: Money
    one_time_fee: Money = Decimal("0.00")
    distribution_key: DistributionKey = DistributionKey.FIXED
    vat_rate: VatRate = Decimal("19.00")
    # Validated also when absent, so that a per-case offering without a price is refused.
    unit_price: Money | None = Field(default=None, validate_default=True)

    @field_validator("unit_price")
    @classmethod
    def _unit_price_fits_key(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        # Reported at unit_price (not at the body), so a form can point at the field.
        check_unit_price(info.data.get("distribution_key"), value)
        return value


def check_unit_price(key: DistributionKey | str | None, unit_price: Decimal | None) -> None:
    if key is None:
        return
    if DistributionKey(key) is DistributionKey.FIXED:
        if unit_price not in (None, Decimal(0)):
            raise wording.Refused("unit_price belongs to a distribution key other than fixed",
                                 "Beim Verteilschlüssel „fest“ gibt es keinen Preis je Einheit")
    elif unit_price is None:
        raise wording.Refused(f"distribution key {DistributionKey(key).value} needs a unit_price",
                             f"Der Verteilschlüssel „{wording.word(wording.DISTRIBUTION_KEYS, DistributionKey(key).value)}“ "
                             "braucht einen Preis je Einheit")


def search_text(values: dict[str, Any], provider_name: str) -> str:
    parts = [values.get("title"), values.get("summary"), provider_name, values.get("category"),
             values.get("leika_key"), values.get("ozg_id"), " ".join(values.get("keywords") or [])]
    return search_fold(" ".join(str(x) for x in parts if x))  # the query is folded alike (offerings_list)


def serialize(row) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "summary": row.summary,
        "description": row.description,
        "category": row.category,
        "leika_key": row.leika_key,
        "ozg_id": row.ozg_id,
        "bundeslaender": list(row.bundeslaender or []),
        "maturity": row.maturity,
        "provider": {"id": row.provider_id, "name": row.provider_name},
        "fees": {
            "annual_fee": money(row.annual_fee),
            "one_time_fee": money(row.one_time_fee),
            "distribution_key": row.distribution_key,
            "unit_price": money(row.unit_price),
            "unit_label": row.unit_label,
            "vat_rate": money(row.vat_rate),
        },
        "contract_terms": row.contract_terms,
        "minimum_term_months": row.minimum_term_months,
        "notice_period_months": row.notice_period_months,
        "contact": {"name": row.contact_name, "email": row.contact_email, "phone": row.contact_phone},
        "keywords": list(row.keywords or []),
        "status": row.status,
        "version": row.version,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "published_at": iso(row.published_at),
    }


def tombstone(row) -> dict[str, Any]:
    return {"id": row.id, "tombstone": True, "status": "deleted" if row.deleted else row.status,
            "updated_at": iso(row.updated_at)}


def _base_select():
    return select(o, p.c.name.label("provider_name")).join(p, p.c.id == o.c.provider_id)


def visible(user: User):
    """Who sees which offering: published for all; drafts only for their provider and staff."""
    if user.is_staff:
        return o.c.deleted == false()
    own = o.c.provider_id == user.organization_id if user.role == "provider" else false()
    return and_(o.c.deleted == false(), or_(o.c.status.in_(("published", "retired")), own))


def ever_seen(user: User):
    """What a user may have seen at some time (and so must hear about when it goes): anything
    once published, and a provider's own drafts; staff saw everything."""
    if user.is_staff:
        return true()
    own = o.c.provider_id == user.organization_id if user.role == "provider" else false()
    return or_(o.c.published_at.is_not(None), own)


def listed(user: User):
    """What a plain list shows (retired ones only by explicit status filter or to their provider)."""
    if user.is_staff:
        return o.c.deleted == false()
    own = o.c.provider_id == user.organization_id if user.role == "provider" else false()
    return and_(o.c.deleted == false(), or_(o.c.status == "published", own))


def load(conn: Connection, user: User, offering_id: int):
    row = conn.execute(_base_select().where(o.c.id == offering_id, visible(user))).first()
    if row is None:
        raise ApiProblem(404, f"no offering {offering_id}", type="not-found",
                         detail_de=f"Angebot {offering_id} nicht gefunden")
    return row


def load_own(conn: Connection, user: User, offering_id: int):
    require_role(user, "provider")
    row = load(conn, user, offering_id)
    if row.provider_id != user.organization_id:
        # Not yours: the same answer as for an id that does not exist.
        raise ApiProblem(404, f"no offering {offering_id}", type="not-found",
                         detail_de=f"Angebot {offering_id} nicht gefunden")
    return row


# Titles in German order by their stored key (domain.collation), the same on every database.
SORTS = {"id": o.c.id, "title": o.c.title_sort, "annual_fee": o.c.annual_fee, "updated_at": o.c.updated_at}


@router.get("", response_model=schemas.OfferingPage, summary="List offerings (catalog)")
def list_offerings(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    q: Annotated[str | None, Query(max_length=200, description="full text: every word must occur")] = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    provider: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="provider organisation id")] = None,
    bundesland: Annotated[str | None, Query(max_length=2, description="two-letter code; nationwide offerings match every Land")] = None,
    status: Annotated[Literal["draft", "published", "retired"] | None, Query()] = None,
    distribution_key: Annotated[DistributionKey | None, Query()] = None,
    updated_since: UpdatedSince = None,
    sync_position: SyncPosition = None,
    sort: Annotated[str, Query(max_length=20)] = "id",
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Response:
    with db.reading(request.app.state.engine) as conn:
        # Everyone of a kind sees the same catalog, so a page once serialized serves them all
        # until any offering (or provider) changes: every committed change moves the newest
        # change-log id of its kind, also one that took its timestamp before another process's
        # write but committed after it (max(updated_at) alone would not move then). Scalar
        # subqueries: SQLite answers a lone max() from an index, but scans for two in one SELECT.
        version = tuple(conn.execute(select(*change_log.newest_of("offering", "organization"),
                                            select(func.max(o.c.updated_at)).scalar_subquery(),
                                            select(func.max(o.c.id)).scalar_subquery())).one())
        scope = "staff" if user.is_staff else (f"provider:{user.organization_id}" if user.role == "provider" else "customer")
        key = (scope, version, str(request.query_params))
        cache: PageCache = request.app.state.page_cache
        body = cache.get(key)
        if body is None:
            body = dumps(_catalog_page(conn, user, q, category, provider, bundesland, status, distribution_key,
                                       updated_since, sync_position, sort, limit, cursor))
            cache.put(key, body)
    return json_response(request, None, body=body)


def _catalog_page(conn: Connection, user: User, q, category, provider, bundesland, status, distribution_key,
                  updated_since, sync_position, sort, limit, cursor) -> dict[str, Any]:
    since = naive_utc(updated_since)
    sync: dict[str, Any] = {}
    if sync_position is not None:
        # Delta sync from a change-log position: the records changed after it, by id.
        name, col, desc = "id", o.c.id, False
        query, sync = sync_select(conn, _base_select().where(ever_seen(user)), kind="offering", id_col=o.c.id,
                                  user=user, sync_position=sync_position)
    elif since is not None:
        # Delta sync: everything changed since, in change order, gone ones as tombstones.
        name, col, desc = "updated_at", o.c.updated_at, False
        query, sync = sync_select(conn, _base_select().where(ever_seen(user), o.c.updated_at >= since),
                                  kind="offering", id_col=o.c.id, user=user, sync_position=None)
    else:
        name, col, desc = parse_sort(sort, SORTS)
        query = _base_select().where(listed(user) if status is None else visible(user))
    if status is not None:
        query = query.where(o.c.status == status)
    if category:
        query = query.where(o.c.category == category)
    if provider:
        query = query.where(o.c.provider_id == provider)
    if distribution_key:
        query = query.where(o.c.distribution_key == distribution_key.value)
    if bundesland:
        # JSON arrays are stored as text on both backends; match the quoted code.
        code = bundesland.upper()
        query = query.where(or_(o.c.bundeslaender.cast(db.Text) == "[]", o.c.bundeslaender.cast(db.Text).like(f'%"{code}"%')))
    for term in like_terms(q or "", search_fold):
        query = query.where(o.c.search_text.like(term, escape="\\"))
    total = None
    if (since is not None or sync_position is not None) and cursor is None:
        # The first page of a delta sync says how many records follow, for a progress bar.
        total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    query = keyset(query, name, col, o.c.id, desc, cursor).limit(limit + 1)
    rows = conn.execute(query).all()
    rows, next_cursor = page(rows, limit, name, column=col.key)
    vis_ok = _visible_predicate(user)
    body: dict[str, Any] = {"items": [serialize(r) if vis_ok(r) else tombstone(r) for r in rows], "next_cursor": next_cursor}
    if total is not None:
        body["total"] = total
    return {**body, **sync}


def _visible_predicate(user: User):
    def ok(row) -> bool:
        if row.deleted:
            return False
        if user.is_staff or (user.role == "provider" and row.provider_id == user.organization_id):
            return True
        return row.status == "published"
    return ok


@router.get("/{offering_id}", response_model=schemas.Offering, summary="One offering")
def get_offering(request: Request, offering_id: IdPath, user: Annotated[User, Depends(current_user)]) -> Response:
    with db.reading(request.app.state.engine) as conn:
        row = load(conn, user, offering_id)
    return json_response(request, serialize(row))


def _item_response(conn: Connection, user: User, offering_id: int, status: int = 200) -> Response:
    row = load(conn, user, offering_id)
    headers = {"Location": f"/api/v1/offerings/{row.id}"} if status == 201 else None
    return json_response(None, serialize(row), status=status, headers=headers)


def create(conn: Connection, user: User, body: OfferingCreate, *, status: str = "draft") -> int:
    """Insert an offering of the user's provider organisation (also used by the demo seed)."""
    values = body.model_dump()
    values["bundeslaender"] = list(values.get("bundeslaender") or [])
    values["keywords"] = list(values.get("keywords") or [])
    values["distribution_key"] = DistributionKey(values["distribution_key"]).value
    provider_name = conn.execute(select(p.c.name).where(p.c.id == user.organization_id)).scalar_one()
    now = db.utcnow()
    values = {k: (v if v is not None else _DEFAULTS.get(k)) for k, v in values.items()}
    return db.new_id(conn.execute(
        o.insert().values(
            **values, provider_id=user.organization_id, status=status, search_text=search_text(values, provider_name),
            created_at=now, updated_at=now, published_at=now if status == "published" else None,
        )
    ))


_DEFAULTS: dict[str, Any] = {
    "summary": "", "description": "", "leika_key": "", "ozg_id": "", "maturity": 0, "contract_terms": "",
    "minimum_term_months": 12, "notice_period_months": 3, "contact_name": "", "contact_email": "", "contact_phone": "",
}


@router.post("", response_model=schemas.Offering, status_code=201, summary="Create a draft offering (provider)")
def create_offering(request: Request, body: OfferingCreate, user: Annotated[User, Depends(current_user)]) -> Response:
    require_role(user, "provider")

    def work(conn: Connection) -> Response:
        offering_id = create(conn, user, body)
        change_log.record(conn, "offering", offering_id, "created")
        return _item_response(conn, user, offering_id, status=201)

    return idempotency.run(request, user, body.model_dump(mode="json"), work)


@router.patch("/{offering_id}", response_model=schemas.Offering, summary="Edit an offering (provider; needs If-Match)")
def patch_offering(
    request: Request, offering_id: IdPath, body: OfferingFields, user: Annotated[User, Depends(current_user)]
) -> Response:
    changes = body.model_dump(exclude_unset=True)
    refuse_nulls(changes, ("title", "category", "annual_fee", "one_time_fee", "distribution_key", "vat_rate", "bundeslaender", "keywords"))

    def work(conn: Connection) -> Response:
        return _patch(conn, request, user, offering_id, changes)

    # An Idempotency-Key on a PATCH lets a client retry after a lost reply and get the first
    # answer back, instead of a 412 caused by its own change.
    return idempotency.run(request, user, {"changes": body.model_dump(mode="json", exclude_unset=True),
                                           "if_match": request.headers.get("if-match")}, work)


def _patch(conn: Connection, request: Request, user: User, offering_id: int, changes: dict[str, Any]) -> Response:
    row = load_own(conn, user, offering_id)
    check_if_match(request, representation_etag(serialize(row)))
    if row.status == "retired":
        raise ApiProblem(409, "a retired offering cannot be edited; publish it again first", type="invalid-state",
                         detail_de="Ein zurückgezogenes Angebot kann nicht bearbeitet werden; veröffentlichen Sie es "
                                   "zuerst wieder")
    merged = {**row._mapping, **changes}
    try:
        check_unit_price(merged["distribution_key"], merged["unit_price"])
    except ValueError as exc:
        de = exc.de if isinstance(exc, wording.Refused) else f"Preis je Einheit: {exc}"
        raise ApiProblem(422, str(exc), type="validation", detail_de=de,
                         errors=[{"field": "unit_price", "message": str(exc), "message_de": de,
                                  "code": "value_error"}]) from None
    if "distribution_key" in changes:
        changes["distribution_key"] = DistributionKey(changes["distribution_key"]).value
    changes = {k: (v if v is not None else _DEFAULTS.get(k)) for k, v in changes.items()}
    merged = {**row._mapping, **changes}
    # Compare-and-set on the version: a concurrent writer between read and write loses here.
    done = conn.execute(
        update(o).where(o.c.id == row.id, o.c.version == row.version).values(
            **changes, search_text=search_text(merged, row.provider_name), title_sort=sort_key(merged["title"]),
            version=row.version + 1, updated_at=db.utcnow(),
        )
    ).rowcount
    if not done:
        raise ApiProblem(412, "someone else changed this offering meanwhile; reload it", type="stale-etag",
                         detail_de="Jemand anderes hat dieses Angebot inzwischen geändert; laden Sie es neu")
    change_log.record(conn, "offering", row.id, "changed")
    return _item_response(conn, user, row.id)


_CHANGED_DE = "Das Angebot wurde inzwischen geändert; laden Sie es neu"


def _set_status(request: Request, user: User, offering_id: int, sources: tuple[str, ...], target: str) -> Response:
    def work(conn: Connection) -> Response:
        row = load_own(conn, user, offering_id)
        if row.status == target:
            return _item_response(conn, user, row.id)  # already there: nothing to do
        if row.status not in sources:
            raise ApiProblem(409, f"cannot go from {row.status} to {target}", type="invalid-state",
                             detail_de=f"Ein Angebot im Status „{wording.word(wording.OFFERING_STATES, row.status)}“ "
                                       f"kann nicht „{wording.word(wording.OFFERING_STATES, target)}“ werden")
        now = db.utcnow()
        values: dict[str, Any] = {"status": target, "version": row.version + 1, "updated_at": now}
        if target == "published":
            values["published_at"] = row.published_at or now
        if not conn.execute(update(o).where(o.c.id == row.id, o.c.version == row.version).values(**values)).rowcount:
            raise ApiProblem(409, "the offering changed meanwhile; reload it", type="conflict", headers={"Retry-After": "1"},
                             detail_de=_CHANGED_DE)
        change_log.record(conn, "offering", row.id, target)
        return _item_response(conn, user, row.id)

    return idempotency.run(request, user, {"status": target}, work)


@router.post("/{offering_id}/publish", response_model=schemas.Offering, summary="Publish (provider)")
def publish(request: Request, offering_id: IdPath, user: Annotated[User, Depends(current_user)]) -> Response:
    require_role(user, "provider")
    return _set_status(request, user, offering_id, ("draft", "retired"), "published")


@router.post("/{offering_id}/retire", response_model=schemas.Offering, summary="Retire (provider); running contracts stay")
def retire(request: Request, offering_id: IdPath, user: Annotated[User, Depends(current_user)]) -> Response:
    require_role(user, "provider")
    return _set_status(request, user, offering_id, ("published",), "retired")


@router.delete("/{offering_id}", status_code=204, summary="Discard a draft (provider)")
def delete_offering(request: Request, offering_id: IdPath, user: Annotated[User, Depends(current_user)]) -> Response:
    with db.writing(request.app.state.engine) as conn:
        row = load_own(conn, user, offering_id)
        if row.status != "draft":
            raise ApiProblem(409, "only a draft can be discarded; retire a published offering", type="invalid-state",
                             detail_de="Nur ein Entwurf kann verworfen werden; ein veröffentlichtes Angebot ziehen Sie "
                                       "zurück")
        if not conn.execute(update(o).where(o.c.id == row.id, o.c.version == row.version)
                            .values(deleted=True, version=row.version + 1, updated_at=db.utcnow())).rowcount:
            raise ApiProblem(409, "the offering changed meanwhile; reload it", type="conflict", headers={"Retry-After": "1"},
                             detail_de=_CHANGED_DE)
        change_log.record(conn, "offering", row.id, "deleted")
    return Response(status_code=204)
