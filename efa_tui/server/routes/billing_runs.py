"""/billing/runs: the operator bills a calendar year — first a preview, then a confirmed run.

``{"year": Y, "dry_run": true}`` answers what a run would create (invoices, totals net/gross,
customers skipped with the reason) and writes nothing. A real run carries
``"confirm_gross_total"``, the preview's gross total: the run plans again under the year's lock
and is refused with 409 (and the new figures) when they changed meanwhile, so nobody bills
figures they have not seen. Years after the current one are refused: nothing of them has been
delivered yet.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.engine import Connection

from .. import billing, db, idempotency, schemas, wording
from ..auth import User, current_user, require_role
from ..http import iso, json_response, money
from ..problems import ApiProblem
from .common import Cursor, Limit, Money, keyset, page

router = APIRouter(prefix="/billing/runs", tags=["billing"])
r = db.billing_runs
users = db.users


class RunIn(BaseModel):
    year: Annotated[int, Field(ge=2000, le=2100, strict=True)]
    dry_run: Annotated[bool, Field(strict=True)] = False
    confirm_gross_total: Money | None = None  # the gross total of the preview the operator confirms


def serialize(row) -> dict[str, Any]:
    return {
        "id": row.id, "year": row.year, "status": row.status, "started_at": iso(row.started_at),
        "started_by": {"id": row.started_by, "name": row.started_by_name} if row.started_by else None,
        "finished_at": iso(row.finished_at), "contracts_total": row.contracts_total,
        "contracts_billed": row.contracts_billed, "invoices_created": row.invoices_created,
        "net_total": money(row.net_total), "gross_total": money(row.gross_total), "skipped": row.skipped or [],
    }


def _select():
    return select(r, users.c.name.label("started_by_name")).outerjoin(users, users.c.id == r.c.started_by)


def _load(conn: Connection, run_id: int):
    row = conn.execute(_select().where(r.c.id == run_id)).first()
    if row is None:
        raise ApiProblem(404, f"no billing run {run_id}", type="not-found",
                         detail_de=f"Abrechnungslauf {run_id} nicht gefunden")
    return row


def _refuse_future(year: int, today_year: int) -> None:
    if year > today_year:
        reason = (f"{year} has not begun: a Jahresrechnung bills services delivered, so years after "
                  f"{today_year} cannot be billed yet")
        reason_de = (f"{year} hat noch nicht begonnen: eine Jahresrechnung rechnet erbrachte Leistungen ab, Jahre nach "
                     f"{today_year} können daher noch nicht abgerechnet werden")
        raise ApiProblem(422, reason, type="validation", detail_de=reason_de,
                         errors=[{"field": "year", "message": reason, "message_de": reason_de, "code": "future_year"}])


@router.post("", response_model=schemas.BillingRun, status_code=201, summary="Preview (dry_run) or run billing for a year (operator)",
             responses={200: {"description": "the preview of a dry run", "model": schemas.BillingPreview}, 201: {"description": "the run, done"},
                        409: {"description": "the figures changed since the preview"},
                        422: {"description": "a future year, or confirm_gross_total missing"}})
def start(request: Request, body: RunIn, user: Annotated[User, Depends(current_user)]) -> Response:
    require_role(user, "operator")
    engine = request.app.state.engine
    settings = request.app.state.settings
    today = db.utcnow().date()
    _refuse_future(body.year, today.year)
    if body.dry_run:
        with db.reading(engine) as conn:
            return json_response(None, billing.preview(billing.plan(conn, body.year)), status=200)
    if body.confirm_gross_total is None:
        raise ApiProblem(422, "a billing run needs confirm_gross_total: the gross total of its preview (dry_run)",
                         type="validation",
                         detail_de="Ein Abrechnungslauf braucht den bestätigten Bruttobetrag seiner Vorschau "
                                   "(des Probelaufs)",
                         errors=[{"field": "confirm_gross_total", "code": "missing",
                                  "message": "the gross total of the preview you confirm",
                                  "message_de": "der Bruttobetrag der Vorschau, die Sie bestätigen"}])
    confirmed = Decimal(body.confirm_gross_total)

    def work(conn: Connection) -> Response:
        try:
            run_id = billing.execute(conn, body.year, user.id, today=today, payment_days=settings.payment_term_days,
                                     confirm_gross_total=confirmed)
        except billing.FiguresChanged as changed:
            current = billing.preview(changed.current)
            raise ApiProblem(
                409, f"the figures changed since the preview: the run would now bill {current['gross_total']} gross, "
                     f"not the confirmed {confirmed:.2f}; nothing was billed — check the new preview",
                type="billing-figures-changed", preview=current,
                detail_de=f"Die Zahlen haben sich seit der Vorschau geändert: der Lauf würde jetzt "
                          f"{wording.euro(current['gross_total'])} brutto abrechnen, nicht die bestätigten "
                          f"{wording.euro(confirmed)}; es wurde nichts abgerechnet – prüfen Sie die neue Vorschau") from None
        row = _load(conn, run_id)
        return json_response(None, serialize(row), status=201, headers={"Location": f"/api/v1/billing/runs/{run_id}"})

    return idempotency.run(request, user, body.model_dump(mode="json"), work)


@router.get("", response_model=schemas.BillingRunPage, summary="Billing runs, newest first (operator, support)")
def list_runs(request: Request, user: Annotated[User, Depends(current_user)], limit: Limit = 100, cursor: Cursor = None) -> Response:
    require_role(user, "operator", "support")
    with db.reading(request.app.state.engine) as conn:
        rows = conn.execute(keyset(_select(), "id", r.c.id, r.c.id, True, cursor).limit(limit + 1)).all()
    rows, next_cursor = page(rows, limit, "id")
    return json_response(request, {"items": [serialize(x) for x in rows], "next_cursor": next_cursor})


@router.get("/{run_id}", response_model=schemas.BillingRun, summary="One billing run")
def get_run(request: Request, run_id: Annotated[int, Path(ge=1, le=2**31 - 1)], user: Annotated[User, Depends(current_user)]) -> Response:
    require_role(user, "operator", "support")
    with db.reading(request.app.state.engine) as conn:
        return json_response(request, serialize(_load(conn, run_id)))
