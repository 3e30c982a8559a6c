"""/billing/runs: the operator bills a calendar year; support may watch."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.engine import Connection

from .. import billing, db, idempotency
from ..auth import User, current_user, require_role
from ..http import iso, json_response, money
from ..problems import ApiProblem
from .common import Cursor, Limit, keyset, page

router = APIRouter(prefix="/billing/runs", tags=["billing"])
r = db.billing_runs


class RunIn(BaseModel):
    year: Annotated[int, Field(ge=2000, le=2100)]


def serialize(row) -> dict[str, Any]:
    return {
        "id": row.id, "year": row.year, "status": row.status, "started_at": iso(row.started_at),
        "finished_at": iso(row.finished_at), "contracts_total": row.contracts_total,
        "contracts_billed": row.contracts_billed, "invoices_created": row.invoices_created,
        "net_total": money(row.net_total), "gross_total": money(row.gross_total), "skipped": row.skipped or [],
    }


def _load(conn: Connection, run_id: int):
    row = conn.execute(select(r).where(r.c.id == run_id)).first()
    if row is None:
        raise ApiProblem(404, f"no billing run {run_id}", type="not-found")
    return row


@router.post("", status_code=201, summary="Run billing for a year (operator); answers when done")
def start(request: Request, body: RunIn, user: Annotated[User, Depends(current_user)]) -> Response:
    require_role(user, "operator")
    engine = request.app.state.engine

    def work(_conn: Any) -> Response:  # no connection: the run has its own transactions
        # The run writes customer by customer in its own transactions (progress is visible to
        # GET /billing/runs/{id} meanwhile) and skips customers already billed, so a repeat is safe.
        run_id = billing.start_run(engine, body.year, user.id)
        billing.run_billing(engine, run_id, body.year)
        with db.reading(engine) as read:
            row = _load(read, run_id)
        return json_response(None, serialize(row), status=201, headers={"Location": f"/api/v1/billing/runs/{run_id}"})

    return idempotency.run(request, user, body.model_dump(), work, own_transactions=True)


@router.get("", summary="Billing runs (operator, support)")
def list_runs(request: Request, user: Annotated[User, Depends(current_user)], limit: Limit = 100, cursor: Cursor = None) -> Response:
    require_role(user, "operator", "support")
    with db.reading(request.app.state.engine) as conn:
        rows = conn.execute(keyset(select(r), "id", r.c.id, r.c.id, True, cursor).limit(limit + 1)).all()
    rows, next_cursor = page(rows, limit, "id")
    return json_response(request, {"items": [serialize(x) for x in rows], "next_cursor": next_cursor})


@router.get("/{run_id}", summary="One billing run with its progress")
def get_run(request: Request, run_id: Annotated[int, Path(ge=1, le=2**31 - 1)], user: Annotated[User, Depends(current_user)]) -> Response:
    require_role(user, "operator", "support")
    with db.reading(request.app.state.engine) as conn:
        return json_response(request, serialize(_load(conn, run_id)))
