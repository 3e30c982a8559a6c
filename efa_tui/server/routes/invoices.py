"""/invoices: Jahresrechnungen with lines, the customer's check, payment, credit notes, XRechnung."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import false, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from ...domain.invoicing import invoice_totals, line_vat
from ...xrechnung.build import build_xrechnung
from .. import billing, db, idempotency
from ..auth import User, current_user, require_role
from ..http import etag_of, iso, json_response, money
from ..problems import ApiProblem
from .common import Cursor, Id, Limit, UpdatedSince, keyset, like_terms, naive_utc, page, parse_sort

router = APIRouter(prefix="/invoices", tags=["invoices"])
inv = db.invoices
ln = db.invoice_lines
cust = aliased(db.organizations)
issuer = aliased(db.organizations)
IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _select():
    return (
        select(inv, cust.c.name.label("customer_name"), issuer.c.name.label("issuer_name"),
               issuer.c.iban, issuer.c.bic)
        .join(cust, cust.c.id == inv.c.customer_id)
        .join(issuer, issuer.c.id == inv.c.issuer_id)
    )


def visible(user: User):
    """Customers see their own invoices; support and operator all; providers none."""
    if user.is_staff:
        return inv.c.id.is_not(None)
    if user.role == "customer":
        return inv.c.customer_id == user.organization_id
    return false()


def overdue(row, today: date) -> bool:
    return row.kind == "invoice" and row.status == "issued" and row.due_date < today


def serialize(row, lines: list | None = None, *, today: date, refs: dict[int, str] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": row.id,
        "number": row.number,
        "kind": row.kind,
        "customer": {"id": row.customer_id, "name": row.customer_name},
        "issuer": {"id": row.issuer_id, "name": row.issuer_name},
        "year": row.year,
        "period_start": iso(row.period_start),
        "period_end": iso(row.period_end),
        "issue_date": iso(row.issue_date),
        "due_date": iso(row.due_date),
        "status": row.status,
        "overdue": overdue(row, today),
        "net": money(row.net),
        "vat": money(row.vat),
        "gross": money(row.gross),
        "currency": "EUR",
        "leitweg_id": row.leitweg_id,
        # A credit note asks no payment of the customer (domain.invoicing.credit_note_settlement): no IBAN.
        "payment": {"means": "SEPA credit transfer", "iban": row.iban, "bic": row.bic, "account_name": row.issuer_name}
        if row.kind != "credit_note" else {"means": "settlement", "iban": None, "bic": None, "account_name": row.issuer_name},
        "cancels_invoice": (refs or {}).get(row.cancels_invoice_id) if row.cancels_invoice_id else None,
        "paid_at": iso(row.paid_at),
        "cancelled_at": iso(row.cancelled_at),
        "review": {
            "factual_ok_by": row.factual_ok_by, "factual_ok_at": iso(row.factual_ok_at),
            "arithmetic_ok_by": row.arithmetic_ok_by, "arithmetic_ok_at": iso(row.arithmetic_ok_at),
        },
        "version": row.version,
        "updated_at": iso(row.updated_at),
    }
    if lines is not None:
        doc["vat_breakdown"] = [
            {"rate": money(g.rate), "basis": money(g.basis), "tax": money(g.tax)}
            for g in invoice_totals((Decimal(x.net), Decimal(x.vat_rate)) for x in lines).groups
        ]
        doc["lines"] = [_line(x) for x in lines]
        doc["disputed_lines"] = sum(1 for x in lines if x.disputed_at)
    return doc


def _line(x) -> dict[str, Any]:
    net = Decimal(x.net)
    vat = line_vat(net, Decimal(x.vat_rate))
    return {
        "id": x.id, "position": x.position, "order_id": x.order_id, "offering_id": x.offering_id,
        "kind": x.kind, "name": x.name, "description": x.description,
        "quantity": f"{Decimal(x.quantity).normalize():f}", "unit_price": money(x.unit_price), "months": x.months,
        "net": money(net), "vat_rate": money(x.vat_rate), "vat": money(vat), "gross": money(net + vat),
        "period_start": iso(x.period_start), "period_end": iso(x.period_end),
        "billed": billing.billed_json(x),
        "dispute": None if not x.disputed_at else {"by": x.disputed_by, "at": iso(x.disputed_at), "reason": x.dispute_reason},
    }


def load(conn: Connection, user: User, invoice_id: int):
    row = conn.execute(_select().where(inv.c.id == invoice_id, visible(user))).first()
    if row is None:
        raise ApiProblem(404, f"no invoice {invoice_id}", type="not-found")
    return row


def _lines(conn: Connection, invoice_id: int) -> list:
    return conn.execute(select(ln).where(ln.c.invoice_id == invoice_id).order_by(ln.c.position)).all()


def _refs(conn: Connection, row) -> dict[int, str]:
    if not row.cancels_invoice_id:
        return {}
    number = conn.execute(select(inv.c.number).where(inv.c.id == row.cancels_invoice_id)).scalar_one()
    return {row.cancels_invoice_id: number}


def _item(conn: Connection, user: User, invoice_id: int, request: Request | None = None, status: int = 200) -> Response:
    row = load(conn, user, invoice_id)
    today = db.utcnow().date()
    body = serialize(row, _lines(conn, row.id), today=today, refs=_refs(conn, row))
    return json_response(request, body, status=status)


SORTS = {"id": inv.c.id, "updated_at": inv.c.updated_at, "gross": inv.c.gross}


@router.get("", summary="List invoices visible to you")
def list_invoices(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    status: Annotated[Literal["issued", "paid", "cancelled"] | None, Query()] = None,
    kind: Annotated[Literal["invoice", "credit_note"] | None, Query()] = None,
    customer_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    number: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str | None, Query(max_length=200, description="number or customer name")] = None,
    updated_since: UpdatedSince = None,
    sort: Annotated[str, Query(max_length=20)] = "-id",
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Response:
    since = naive_utc(updated_since)
    query = _select().where(visible(user))
    if since is not None:
        name, col, desc = "updated_at", inv.c.updated_at, False
        query = query.where(inv.c.updated_at >= since)
    else:
        name, col, desc = parse_sort(sort, SORTS)
    if year:
        query = query.where(inv.c.year == year)
    if status:
        query = query.where(inv.c.status == status)
    if kind:
        query = query.where(inv.c.kind == kind)
    if customer_id:
        query = query.where(inv.c.customer_id == customer_id)
    if number:
        query = query.where(inv.c.number == number)
    for term in like_terms(q or ""):
        query = query.where(or_(inv.c.number.like(term, escape="\\"), func.lower(cust.c.name).like(term, escape="\\")))
    query = keyset(query, name, col, inv.c.id, desc, cursor).limit(limit + 1)
    with db.reading(request.app.state.engine) as conn:
        rows = conn.execute(query).all()
        rows, next_cursor = page(rows, limit, name)
        # Credit notes name the invoice they cancel in lists too (one query for the page).
        cancelled_ids = {r.cancels_invoice_id for r in rows if r.cancels_invoice_id}
        refs = dict(conn.execute(select(inv.c.id, inv.c.number).where(inv.c.id.in_(cancelled_ids))).all()) if cancelled_ids else {}
        # How many lines the customer disputed, so that a list can show "beanstandet" without the lines.
        ids = [r.id for r in rows]
        disputed = dict(conn.execute(select(ln.c.invoice_id, func.count()).where(ln.c.invoice_id.in_(ids), ln.c.disputed_at.is_not(None))
                                     .group_by(ln.c.invoice_id)).all()) if ids else {}
    today = db.utcnow().date()
    items = [{**serialize(r, today=today, refs=refs), "disputed_lines": disputed.get(r.id, 0)} for r in rows]
    return json_response(request, {"items": items, "next_cursor": next_cursor})


@router.get("/{invoice_id}", summary="One invoice with its lines")
def get_invoice(request: Request, invoice_id: IdPath, user: Annotated[User, Depends(current_user)]) -> Response:
    with db.reading(request.app.state.engine) as conn:
        return _item(conn, user, invoice_id, request)


# The XRechnung content (invoice or credit note) is built by the billing module.
document = billing.document


@router.get("/{invoice_id}/xrechnung", summary="The invoice as XRechnung 3.0 (CII XML)",
            response_class=Response, responses={200: {"content": {"application/xml": {}}}})
def get_xrechnung(request: Request, invoice_id: IdPath, user: Annotated[User, Depends(current_user)]) -> Response:
    with db.reading(request.app.state.engine) as conn:
        row = load(conn, user, invoice_id)
        xml = build_xrechnung(document(conn, row.id))
    tag = etag_of(xml)
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers={"ETag": tag})
    return Response(xml, media_type="application/xml", headers={
        "ETag": tag, "Content-Disposition": f'attachment; filename="XRechnung-{row.number}.xml"'})


class ReviewIn(BaseModel):
    """The customer's invoice check: sachlich richtig, rechnerisch richtig, or a disputed line."""

    action: Literal["factual_ok", "arithmetic_ok", "dispute"]
    line_ids: Annotated[list[Id], Field(max_length=500)] = []
    reason: Annotated[str, Field(max_length=2000)] = ""

    @model_validator(mode="after")
    def _dispute_needs_reason(self) -> ReviewIn:
        if self.action == "dispute" and (not self.line_ids or not self.reason.strip()):
            raise ValueError("a dispute names line_ids and gives a reason")
        return self


@router.post("/{invoice_id}/review", summary="Record the invoice check (customer)")
def review(request: Request, invoice_id: IdPath, body: ReviewIn, user: Annotated[User, Depends(current_user)]) -> Response:
    require_role(user, "customer")

    def work(conn: Connection) -> Response:
        row = load(conn, user, invoice_id)
        if row.status == "cancelled":
            raise ApiProblem(409, "this invoice was cancelled; there is nothing left to check", type="invalid-state")
        now = db.utcnow()
        if body.action == "dispute":
            ids = {x.id for x in _lines(conn, row.id)}
            unknown = sorted(set(body.line_ids) - ids)
            if unknown:
                raise ApiProblem(422, f"lines {unknown} are not on invoice {row.number}", type="validation",
                                 errors=[{"field": "line_ids", "message": "not a line of this invoice", "code": "not_found"}])
            conn.execute(update(ln).where(ln.c.id.in_(body.line_ids)).values(
                disputed_by=user.name, disputed_at=now, dispute_reason=body.reason.strip()))
            values: dict[str, Any] = {}
        elif body.action == "factual_ok":
            values = {"factual_ok_by": user.name, "factual_ok_at": now}
        else:
            values = {"arithmetic_ok_by": user.name, "arithmetic_ok_at": now}
        conn.execute(update(inv).where(inv.c.id == row.id).values(version=row.version + 1, updated_at=now, **values))
        return _item(conn, user, row.id)

    return idempotency.run(request, user, body.model_dump(mode="json"), work)


@router.post("/{invoice_id}/pay", summary="Mark an invoice paid (operator)")
def pay(request: Request, invoice_id: IdPath, user: Annotated[User, Depends(current_user)]) -> Response:
    require_role(user, "operator")

    def work(conn: Connection) -> Response:
        row = load(conn, user, invoice_id)
        if row.status == "paid":
            return _item(conn, user, row.id)
        if row.status != "issued" or row.kind != "invoice":
            raise ApiProblem(409, f"a {row.kind} in state {row.status} cannot be marked paid", type="invalid-state")
        now = db.utcnow()
        conn.execute(update(inv).where(inv.c.id == row.id).values(status="paid", paid_at=now, version=row.version + 1, updated_at=now))
        return _item(conn, user, row.id)

    return idempotency.run(request, user, {"pay": invoice_id}, work)


class CancelIn(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


@router.post("/{invoice_id}/cancel", status_code=201, summary="Cancel an invoice with a credit note (operator)")
def cancel(request: Request, invoice_id: IdPath, body: CancelIn, user: Annotated[User, Depends(current_user)]) -> Response:
    require_role(user, "operator")

    def work(conn: Connection) -> Response:
        row = load(conn, user, invoice_id)
        if row.kind != "invoice" or row.status != "issued":
            raise ApiProblem(409, f"only an issued invoice can be cancelled (this is {row.kind}, {row.status})", type="invalid-state")
        credit_id = billing.credit_note(conn, row, db.utcnow())
        return _item(conn, user, credit_id, status=201)

    return idempotency.run(request, user, body.model_dump(mode="json"), work)
