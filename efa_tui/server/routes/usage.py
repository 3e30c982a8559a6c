"""/usage: providers report cases per contract and month for per-case offerings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection

from ...domain.orders import usage_months
from .. import changes as change_log
from .. import db, idempotency, schemas, wording
from ..auth import User, current_user, require_role
from ..http import iso, json_response
from ..problems import ApiProblem
from . import orders as order_routes
from .common import Cursor, Id, Limit, keyset, page

router = APIRouter(prefix="/usage", tags=["usage"])
u = db.usage_reports
o = db.orders


class UsageIn(BaseModel):
    order_id: Id
    year: Annotated[int, Field(ge=2000, le=2100)]
    month: Annotated[int, Field(ge=1, le=12)]
    cases: Annotated[int, Field(ge=0, le=100_000_000)]
    # Replacing a figure already reported: the figure the reporter saw and means to replace.
    # Without it (or with another one) an existing figure is never overwritten (409).
    replaces: Annotated[int, Field(ge=0, le=100_000_000)] | None = None


def serialize(row) -> dict[str, Any]:
    return {"id": row.id, "order_id": row.order_id, "year": row.year, "month": row.month, "cases": row.cases,
            "reported_at": iso(row.reported_at), "updated_at": iso(row.updated_at)}


def _month_text(period: tuple[int, int]) -> str:
    return f"{period[0]:04d}-{period[1]:02d}"


def report(conn: Connection, user: User, body: UsageIn) -> tuple[int, int | None]:
    """Store (or correct) the cases of one contract and month (also used by the demo seed):
    the report's id and the figure it replaced (None: a new one)."""
    order = order_routes.load(conn, user, body.order_id)
    if order.distribution_key != "per_case":
        raise ApiProblem(422, "usage is reported only for contracts billed per case", type="validation",
                         detail_de="Fallzahlen werden nur für Verträge gemeldet, die je Fall abgerechnet werden",
                         errors=[{"field": "order_id", "message": "contract is not billed per case",
                                  "message_de": "der Vertrag wird nicht je Fall abgerechnet", "code": "distribution_key"}])
    if order.state not in ("active", "terminated"):
        raise ApiProblem(409, f"usage needs a running contract; this order is {order.state}", type="invalid-state",
                         detail_de="Fallzahlen brauchen einen laufenden Vertrag; diese Bestellung hat den Status "
                                   f"„{wording.word(wording.ORDER_STATES, order.state)}“")
    now = db.utcnow()
    months = usage_months(order.start_date, order.end_date, now.date())
    period = (body.year, body.month)
    if months is None or not months[0] <= period <= months[1]:
        allowed = f"{_month_text(months[0])} to {_month_text(months[1])}" if months else "none yet"
        detail = (f"{_month_text(period)} lies outside the contract's term: usage is reported only for months the contract "
                  f"runs in, up to the current month ({allowed})")
        allowed_de = (f"{wording.month(months[0])} bis {wording.month(months[1])}" if months else "noch keiner")
        detail_de = (f"{wording.month(period)} liegt außerhalb der Vertragslaufzeit: Fallzahlen werden nur für Monate "
                     f"gemeldet, in denen der Vertrag läuft, bis zum laufenden Monat ({allowed_de})")
        raise ApiProblem(422, detail, type="validation", detail_de=detail_de,
                         first_month=_month_text(months[0]) if months else None, last_month=_month_text(months[1]) if months else None,
                         errors=[{"field": "month", "message": detail, "message_de": detail_de, "code": "outside_term"}])
    where = and_(u.c.order_id == body.order_id, u.c.year == body.year, u.c.month == body.month)
    existing = conn.execute(select(u.c.id, u.c.cases).where(where)).first()
    if existing:
        if existing.cases == body.cases:
            return existing.id, existing.cases  # the same figure again: nothing to replace
        if body.replaces != existing.cases:
            detail = (f"{existing.cases} cases are already reported for order {body.order_id} in {_month_text(period)}; "
                      f"to replace them, send replaces: {existing.cases}")
            detail_de = (f"Für Bestellung {body.order_id} sind für {wording.month(period)} schon {existing.cases} "
                         f"{'Fall' if existing.cases == 1 else 'Fälle'} gemeldet; eine neue Zahl ersetzt sie erst, "
                         f"wenn Sie das Ersetzen bestätigen")
            raise ApiProblem(409, detail, type="usage-exists", current_cases=existing.cases, detail_de=detail_de)
        conn.execute(update(u).where(u.c.id == existing.id).values(cases=body.cases, reported_by=user.id, updated_at=now))
        return existing.id, existing.cases
    values = body.model_dump(exclude={"replaces"})
    return db.new_id(conn.execute(u.insert().values(**values, reported_by=user.id, reported_at=now, updated_at=now))), None


@router.post("", response_model=schemas.UsageReport, status_code=201, summary="Report cases of a per-case contract for a month (provider)",
             responses={200: {"description": "an existing figure replaced (replaces named it)", "model": schemas.UsageReplacement},
                        409: {"description": "a figure exists and replaces does not name it (usage-exists)"}})
def post_usage(request: Request, body: UsageIn, user: Annotated[User, Depends(current_user)]) -> Response:
    require_role(user, "provider")

    def work(conn: Connection) -> Response:
        report_id, replaced = report(conn, user, body)
        row = conn.execute(select(u).where(u.c.id == report_id)).one()
        change_log.record(conn, "usage", row.id, "reported")
        if replaced is None:
            return json_response(None, serialize(row), status=201)
        return json_response(None, {**serialize(row), "replaced_cases": replaced}, status=200)

    return idempotency.run(request, user, body.model_dump(), work)


@router.get("", response_model=schemas.UsagePage, summary="Usage reports visible to you")
def list_usage(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    order_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Response:
    query = select(u).join(o, o.c.id == u.c.order_id).where(order_routes.visible(user))
    if order_id:
        query = query.where(u.c.order_id == order_id)
    if year:
        query = query.where(u.c.year == year)
    with db.reading(request.app.state.engine) as conn:
        rows = conn.execute(keyset(query, "id", u.c.id, u.c.id, False, cursor).limit(limit + 1)).all()
    rows, next_cursor = page(rows, limit, "id")
    return json_response(request, {"items": [serialize(x) for x in rows], "next_cursor": next_cursor})
