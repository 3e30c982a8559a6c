"""/invoices: Jahresrechnungen with lines, the customer's check, payment, credit notes, XRechnung."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import false, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from ...domain.invoicing import invoice_totals, line_vat, why_not_cancellable
from ...domain.money import money_str
from ...xrechnung.build import build_xrechnung
from ...xrechnung.model import InvoiceDocument
from .. import billing, db, idempotency, schemas, wording
from .. import changes as change_log
from ..auth import User, current_user, require_role
from ..http import etag_of, iso, json_response, money
from ..problems import ApiProblem
from .common import Cursor, Id, Limit, Money, SyncPosition, UpdatedSince, keyset, like_terms, naive_utc, page, parse_sort, sync_select

router = APIRouter(prefix="/invoices", tags=["invoices"])
inv = db.invoices
ln = db.invoice_lines
pay_t = db.invoice_payments
rev = db.invoice_review_events
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


ZERO = Decimal("0.00")


def amounts(conn: Connection, ids: list[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """Invoice id → (paid, credited): the payments recorded and the gross of its partial credit
    notes (a full cancellation makes the invoice "cancelled" instead)."""
    if not ids:
        return {}
    paid = dict(conn.execute(select(pay_t.c.invoice_id, func.sum(pay_t.c.amount)).where(pay_t.c.invoice_id.in_(ids))
                             .group_by(pay_t.c.invoice_id)).all())
    credited = dict(conn.execute(select(inv.c.cancels_invoice_id, func.sum(inv.c.gross)).where(
        inv.c.cancels_invoice_id.in_(ids), inv.c.kind == "credit_note", inv.c.billing_key.like("credit:%:part:%"))
        .group_by(inv.c.cancels_invoice_id)).all())
    return {i: (Decimal(paid.get(i) or 0), Decimal(credited.get(i) or 0)) for i in ids}


def open_amount(row, paid: Decimal, credited: Decimal) -> Decimal:
    """What the customer still owes on an invoice (0 once paid or cancelled, and for credit notes)."""
    if row.kind != "invoice" or row.status != "issued":
        return ZERO
    return max(Decimal(row.gross) - paid - credited, ZERO)


def overdue(row, today: date, open_: Decimal | None = None) -> bool:
    """Past its due date with something still open."""
    return row.kind == "invoice" and row.status == "issued" and row.due_date < today and (open_ is None or open_ > 0)


def serialize(row, lines: list | None = None, *, today: date, refs: dict[int, str] | None = None,
              money_state: tuple[Decimal, Decimal] = (ZERO, ZERO)) -> dict[str, Any]:
    paid, credited = money_state
    open_ = open_amount(row, paid, credited)
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
        "overdue": overdue(row, today, open_),
        # Payments and partial credit notes: what was paid, credited, and is still open.
        "paid_amount": money(paid),
        "credited_amount": money(credited),
        "open_amount": money(open_),
        "partially_paid": row.kind == "invoice" and row.status == "issued" and paid > 0,
        # A credit note for a part (a disputed line or amount) or for the whole invoice (cancellation).
        "credit_scope": ("partial" if ":part:" in (row.billing_key or "") else "full") if row.kind == "credit_note" else None,
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
        raise ApiProblem(404, f"no invoice {invoice_id}", type="not-found", detail_de=f"Rechnung {invoice_id} nicht gefunden")
    return row


def _lines(conn: Connection, invoice_id: int) -> list[Any]:
    return list(conn.execute(select(ln).where(ln.c.invoice_id == invoice_id).order_by(ln.c.position)).all())


def _refs(conn: Connection, row) -> dict[int, str]:
    if not row.cancels_invoice_id:
        return {}
    number = conn.execute(select(inv.c.number).where(inv.c.id == row.cancels_invoice_id)).scalar_one()
    return {row.cancels_invoice_id: number}


def _payments(conn: Connection, invoice_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(select(pay_t).where(pay_t.c.invoice_id == invoice_id).order_by(pay_t.c.value_date, pay_t.c.id)).all()
    return [{"id": p.id, "value_date": iso(p.value_date), "amount": money(p.amount), "bank_reference": p.bank_reference,
             "recorded_by": p.recorded_by, "recorded_at": iso(p.recorded_at)} for p in rows]


def _history(conn: Connection, invoice_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(select(rev).where(rev.c.invoice_id == invoice_id).order_by(rev.c.id)).all()
    return [{"action": r.action, "line_ids": r.line_ids or [], "reason": r.reason, "by": r.actor_name, "role": r.actor_role,
             "at": iso(r.at)} for r in rows]


def _credit_notes(conn: Connection, invoice_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(select(inv.c.id, inv.c.number, inv.c.gross, inv.c.billing_key, inv.c.issue_date)
                        .where(inv.c.cancels_invoice_id == invoice_id).order_by(inv.c.id)).all()
    return [{"id": r.id, "number": r.number, "gross": money(r.gross), "issue_date": iso(r.issue_date),
             "scope": "partial" if ":part:" in r.billing_key else "full"} for r in rows]


def _item(conn: Connection, user: User, invoice_id: int, request: Request | None = None, status: int = 200) -> Response:
    row = load(conn, user, invoice_id)
    today = db.utcnow().date()
    body = serialize(row, _lines(conn, row.id), today=today, refs=_refs(conn, row),
                     money_state=amounts(conn, [row.id])[row.id])
    body["payments"] = _payments(conn, row.id)
    body["review_history"] = _history(conn, row.id)
    body["credit_notes"] = _credit_notes(conn, row.id)
    return json_response(request, body, status=status)


SORTS = {"id": inv.c.id, "updated_at": inv.c.updated_at, "gross": inv.c.gross}


@router.get("", response_model=schemas.InvoicePage, summary="List invoices visible to you")
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
    sync_position: SyncPosition = None,
    sort: Annotated[str, Query(max_length=20)] = "-id",
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Response:
    since = naive_utc(updated_since)
    query = _select().where(visible(user))
    if sync_position is not None:
        name, col, desc = "id", inv.c.id, False
    elif since is not None:
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
    with db.reading(request.app.state.engine) as conn:
        sync: dict = {}
        if sync_position is not None or since is not None:
            query, sync = sync_select(conn, query, kind="invoice", id_col=inv.c.id, user=user, sync_position=sync_position)
        rows = conn.execute(keyset(query, name, col, inv.c.id, desc, cursor).limit(limit + 1)).all()
        rows, next_cursor = page(rows, limit, name)
        # Credit notes name the invoice they cancel in lists too (one query for the page).
        cancelled_ids = {r.cancels_invoice_id for r in rows if r.cancels_invoice_id}
        refs = dict(conn.execute(select(inv.c.id, inv.c.number).where(inv.c.id.in_(cancelled_ids))).all()) if cancelled_ids else {}
        # How many lines the customer disputed, so that a list can show "beanstandet" without the lines.
        ids = [r.id for r in rows]
        disputed: dict[int, int] = dict(conn.execute(select(ln.c.invoice_id, func.count())
                                                     .where(ln.c.invoice_id.in_(ids), ln.c.disputed_at.is_not(None))
                                                     .group_by(ln.c.invoice_id)).all()) if ids else {}
        money_states = amounts(conn, ids)
    today = db.utcnow().date()
    items = [{**serialize(r, today=today, refs=refs, money_state=money_states[r.id]), "disputed_lines": disputed.get(r.id, 0)}
             for r in rows]
    return json_response(request, {"items": items, "next_cursor": next_cursor, **sync})


@router.get("/{invoice_id}", response_model=schemas.Invoice, summary="One invoice with its lines")
def get_invoice(request: Request, invoice_id: IdPath, user: Annotated[User, Depends(current_user)]) -> Response:
    with db.reading(request.app.state.engine) as conn:
        return _item(conn, user, invoice_id, request)


def document(conn: Connection, invoice_id: int) -> InvoiceDocument:
    """The XRechnung content (invoice or credit note), built by the billing module; a partial
    credit note says so in its note (it credits a part, it does not cancel the invoice)."""
    doc = billing.document(conn, invoice_id)
    if doc.type_code == "381":
        key = conn.execute(select(inv.c.billing_key).where(inv.c.id == invoice_id)).scalar_one()
        if ":part:" in key:
            doc = dataclasses.replace(doc, note=f"Teilgutschrift zur Rechnung {doc.preceding_invoice}")
    return doc


@router.get("/{invoice_id}/xrechnung", summary="The invoice as XRechnung 3.0 (CII XML)",
            response_class=Response, responses={200: schemas.XML})
def get_xrechnung(request: Request, invoice_id: IdPath, user: Annotated[User, Depends(current_user)]) -> Response:
    with db.reading(request.app.state.engine) as conn:
        row = load(conn, user, invoice_id)
        xml = build_xrechnung(document(conn, row.id))
    tag = etag_of(xml)
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers={"ETag": tag})
    return Response(xml, media_type="application/xml", headers={
        "ETag": tag, "Content-Disposition": f'attachment; filename="XRechnung-{row.number}.xml"'})


REVIEW_ACTIONS = ("factual_ok", "arithmetic_ok", "withdraw_factual", "withdraw_arithmetic", "dispute", "resolve")

class ReviewIn(BaseModel):
    """The customer's invoice check: the two attestations (and their withdrawal before payment),
    a disputed line, and the end of a dispute."""

    action: Literal["factual_ok", "arithmetic_ok", "withdraw_factual", "withdraw_arithmetic", "dispute", "resolve"]
    line_ids: Annotated[list[Id], Field(max_length=500)] = []
    reason: Annotated[str, Field(max_length=2000)] = ""
    # A sign-off: the attestation as the user read and confirmed it (kept in the history).
    statement: Annotated[str, Field(max_length=4000)] = ""

    @model_validator(mode="after")
    def _dispute_needs_reason(self) -> ReviewIn:
        if self.action == "dispute" and (not self.line_ids or not self.reason.strip()):
            raise wording.Refused("a dispute names line_ids and gives a reason",
                                  "eine Beanstandung nennt die Positionen (line_ids) und eine Begründung (reason)")
        if self.action == "resolve" and not self.line_ids:
            raise wording.Refused("resolve names the disputed line_ids it ends",
                                  "resolve nennt die beanstandeten Positionen (line_ids), deren Beanstandung endet")
        return self


def _record(conn: Connection, user: User, invoice_id: int, action: str, at: datetime, *, line_ids: list[int] | None = None,
            reason: str = "") -> None:
    conn.execute(rev.insert().values(invoice_id=invoice_id, action=action, line_ids=sorted(line_ids or []), reason=reason,
                                     actor_id=user.id, actor_name=user.name, actor_role=user.role, at=at))


def _signoff_problem(row, lines: list, paid: Decimal, action: str) -> ApiProblem | None:
    """Why this review step may not be taken now (None: it may). The rules of the attestations:
    "sachlich richtig" needs every dispute resolved (and a disputed line cannot be disputed while
    it stands); a sign-off can be withdrawn until a payment is recorded."""
    disputed = [x for x in lines if x.disputed_at]
    if action == "factual_ok":
        if row.factual_ok_at:
            return ApiProblem(409, f"sachlich richtig was already confirmed by {row.factual_ok_by}", type="already-confirmed",
                              detail_de=f"„sachlich richtig“ wurde bereits von {row.factual_ok_by} bestätigt")
        if disputed:
            positions = ", ".join(str(x.position) for x in disputed)
            which_de = f"Position {positions} ist" if len(disputed) == 1 else f"Positionen {positions} sind"
            return ApiProblem(409, f"line(s) {positions} are disputed; 'sachlich richtig' can be confirmed only when the dispute "
                              "is resolved (resolve it, or the operator issues a credit note for it)", type="disputed-lines",
                              detail_de=f"{which_de} beanstandet; „sachlich richtig“ kann erst bestätigt werden, wenn die "
                                        "Beanstandung erledigt ist (heben Sie sie auf, oder der Betreiber stellt dafür "
                                        "eine Gutschrift aus)",
                              disputed_lines=[x.id for x in disputed])
    elif action == "arithmetic_ok":
        if row.arithmetic_ok_at:
            return ApiProblem(409, f"rechnerisch richtig was already confirmed by {row.arithmetic_ok_by}", type="already-confirmed",
                              detail_de=f"„rechnerisch richtig“ wurde bereits von {row.arithmetic_ok_by} bestätigt")
    elif action in ("withdraw_factual", "withdraw_arithmetic"):
        which = "factual" if action == "withdraw_factual" else "arithmetic"
        if not getattr(row, f"{which}_ok_at"):
            return ApiProblem(409, f"there is no '{_LABEL[which]}' sign-off to withdraw", type="not-confirmed",
                              detail_de=f"„{_LABEL[which]}“ ist nicht bestätigt; es gibt nichts zurückzunehmen")
        if row.status == "paid" or paid > 0:
            return ApiProblem(409, f"a payment is recorded for invoice {row.number}; its sign-offs can no longer be withdrawn",
                              type="paid",
                              detail_de=f"Für Rechnung {row.number} ist eine Zahlung gebucht; ihre Bestätigungen können "
                                        "nicht mehr zurückgenommen werden")
    elif action == "dispute":
        if row.factual_ok_at:
            return ApiProblem(409, f"'sachlich richtig' is confirmed (by {row.factual_ok_by}); withdraw it before disputing a line",
                              type="confirmed",
                              detail_de=f"„sachlich richtig“ ist bestätigt (von {row.factual_ok_by}); nehmen Sie die "
                                        "Bestätigung zurück, bevor Sie eine Position beanstanden")
    return None


_LABEL = {"factual": "sachlich richtig", "arithmetic": "rechnerisch richtig"}
_NOT_A_LINE_DE = "keine Position dieser Rechnung"


def _line_ids_de(ids: list[int], verb: str, verb_plural: str) -> str:
    """The subject and verb of a German sentence about lines named by their ids."""
    if len(ids) == 1:
        return f"Die Position mit der ID {ids[0]} {verb}"
    return f"Die Positionen mit den IDs {', '.join(str(i) for i in ids)} {verb_plural}"


@router.post("/{invoice_id}/review", response_model=schemas.Invoice, summary="Record the invoice check (customer)",
             responses={409: {"description": "the step is not possible now (disputed-lines, confirmed, paid, …)"}})
def review(request: Request, invoice_id: IdPath, body: ReviewIn, user: Annotated[User, Depends(current_user)]) -> Response:
    require_role(user, "customer")

    def work(conn: Connection) -> Response:
        row = load(conn, user, invoice_id)
        if row.status == "cancelled":
            raise ApiProblem(409, "this invoice was cancelled; there is nothing left to check", type="invalid-state",
                             detail_de="Diese Rechnung wurde storniert; es gibt nichts mehr zu prüfen")
        if row.kind != "invoice":
            raise ApiProblem(409, "a credit note is not checked like an invoice", type="invalid-state",
                             detail_de="Eine Gutschrift wird nicht wie eine Rechnung geprüft")
        now = db.utcnow()
        lines = _lines(conn, row.id)
        paid, _ = amounts(conn, [row.id])[row.id]
        problem = _signoff_problem(row, lines, paid, body.action)
        if problem is not None:
            raise problem
        values: dict[str, Any] = {}
        reason = body.reason.strip()
        if body.action in ("dispute", "resolve"):
            by_id = {x.id: x for x in lines}
            unknown = sorted(set(body.line_ids) - set(by_id))
            if unknown:
                raise ApiProblem(422, f"lines {unknown} are not on invoice {row.number}", type="validation",
                                 detail_de=f"{_line_ids_de(unknown, 'gehört', 'gehören')} nicht zur Rechnung {row.number}",
                                 errors=[{"field": "line_ids", "message": "not a line of this invoice",
                                          "message_de": _NOT_A_LINE_DE, "code": "not_found"}])
            if body.action == "dispute":
                conn.execute(update(ln).where(ln.c.id.in_(body.line_ids)).values(
                    disputed_by=user.name, disputed_at=now, dispute_reason=reason))
            else:
                undisputed = sorted(i for i in body.line_ids if not by_id[i].disputed_at)
                if undisputed:
                    raise ApiProblem(409, f"lines {undisputed} are not disputed", type="not-disputed",
                                     detail_de=f"{_line_ids_de(undisputed, 'ist', 'sind')} nicht beanstandet")
                conn.execute(update(ln).where(ln.c.id.in_(body.line_ids)).values(disputed_by=None, disputed_at=None, dispute_reason=None))
        elif body.action == "factual_ok":
            values = {"factual_ok_by": user.name, "factual_ok_at": now}
        elif body.action == "arithmetic_ok":
            values = {"arithmetic_ok_by": user.name, "arithmetic_ok_at": now}
        elif body.action == "withdraw_factual":
            values = {"factual_ok_by": None, "factual_ok_at": None}
        else:
            values = {"arithmetic_ok_by": None, "arithmetic_ok_at": None}
        if body.action in ("factual_ok", "arithmetic_ok") and body.statement.strip():
            reason = body.statement.strip()
        _record(conn, user, row.id, body.action, now, line_ids=body.line_ids, reason=reason)
        conn.execute(update(inv).where(inv.c.id == row.id).values(version=row.version + 1, updated_at=now, **values))
        change_log.record(conn, "invoice", row.id, "reviewed")
        return _item(conn, user, row.id)

    return idempotency.run(request, user, body.model_dump(mode="json"), work)


# --- payments (operator) -----------------------------------------------------------------------------

BankReference = Annotated[str, Field(min_length=1, max_length=140, examples=["SEPA E2E 2026-000042 LH München"])]


class PaymentIn(BaseModel):
    """A payment as the bank statement shows it: value date, amount, the bank's reference."""

    value_date: date
    amount: Annotated[Money, Field(gt=0)]
    bank_reference: BankReference


class PayIn(BaseModel):
    """The whole open amount at once (the shortcut of /pay)."""

    value_date: date | None = None
    bank_reference: Annotated[str, Field(max_length=140)] = ""


_PAYMENT_FIELDS_DE = {"value_date": "Das Wertstellungsdatum", "amount": "Der Betrag"}


def _kind_de(row) -> str:
    return wording.word(wording.INVOICE_KINDS, row.kind)


def _status_de(row) -> str:
    return wording.word(wording.INVOICE_STATES, row.status)


def _record_payment(conn: Connection, user: User, row, value_date: date, amount: Decimal | None, reference: str) -> None:
    if row.kind != "invoice" or row.status != "issued":
        raise ApiProblem(409, f"a {row.kind} in state {row.status} takes no payment", type="invalid-state",
                         detail_de=f"Auf eine {_kind_de(row)} im Status „{_status_de(row)}“ wird keine Zahlung gebucht")
    now = db.utcnow()
    paid, credited = amounts(conn, [row.id])[row.id]
    open_ = open_amount(row, paid, credited)
    amount = open_ if amount is None else amount
    errors = []
    if value_date > now.date():
        errors.append({"field": "value_date", "message": f"lies in the future (today is {now.date().isoformat()})", "code": "future",
                       "message_de": f"liegt in der Zukunft (heute ist der {wording.day(now.date())})"})
    elif value_date < row.issue_date:
        errors.append({"field": "value_date", "message": f"lies before the invoice was issued ({row.issue_date.isoformat()})",
                       "code": "too_early",
                       "message_de": f"liegt vor dem Rechnungsdatum ({wording.day(row.issue_date)})"})
    if amount > open_:
        errors.append({"field": "amount", "message": f"exceeds the open amount of {money(open_)} EUR", "code": "too_much",
                       "message_de": f"übersteigt den offenen Betrag von {wording.euro(open_)}",
                       "open_amount": money_str(open_)})
    if errors:
        raise ApiProblem(422, "; ".join(f"{e['field']} {e['message']}" for e in errors), type="validation", errors=errors,
                         detail_de="; ".join(f"{_PAYMENT_FIELDS_DE[e['field']]} {e['message_de']}" for e in errors),
                         open_amount=money(open_))
    conn.execute(pay_t.insert().values(invoice_id=row.id, value_date=value_date, amount=amount, bank_reference=reference.strip(),
                                       recorded_by=user.name, recorded_by_id=user.id, recorded_at=now))
    values: dict[str, Any] = {}
    if amount == open_:  # paid in full: the invoice is settled on the value date of the last payment
        values = {"status": "paid", "paid_at": datetime.combine(value_date, time())}
    conn.execute(update(inv).where(inv.c.id == row.id).values(version=row.version + 1, updated_at=now, **values))


@router.post("/{invoice_id}/payments", response_model=schemas.Invoice, status_code=201, summary="Record a payment, in full or in part (operator)")
def post_payment(request: Request, invoice_id: IdPath, body: PaymentIn, user: Annotated[User, Depends(current_user)]) -> Response:
    require_role(user, "operator")

    def work(conn: Connection) -> Response:
        row = load(conn, user, invoice_id)
        _record_payment(conn, user, row, body.value_date, body.amount, body.bank_reference)
        change_log.record(conn, "invoice", row.id, "paid")  # partly or in full: the customer hears of it
        return _item(conn, user, row.id, status=201)

    return idempotency.run(request, user, body.model_dump(mode="json"), work)


@router.post("/{invoice_id}/pay", response_model=schemas.Invoice, summary="Mark an invoice paid: the whole open amount (operator)")
def pay(request: Request, invoice_id: IdPath, user: Annotated[User, Depends(current_user)], body: PayIn | None = None) -> Response:
    require_role(user, "operator")
    body = body or PayIn()

    def work(conn: Connection) -> Response:
        row = load(conn, user, invoice_id)
        if row.status == "paid":
            return _item(conn, user, row.id)
        _record_payment(conn, user, row, body.value_date or db.utcnow().date(), None, body.bank_reference)
        change_log.record(conn, "invoice", row.id, "paid")
        return _item(conn, user, row.id)

    return idempotency.run(request, user, {"pay": invoice_id, **body.model_dump(mode="json")}, work)


# --- credit notes (operator) -------------------------------------------------------------------------


def _new_credit_note(conn: Connection, row, key: str, lines: list[dict[str, Any]], now: datetime) -> int:
    totals = invoice_totals((Decimal(x["net"]), Decimal(x["vat_rate"])) for x in lines)
    today = now.date()
    credit_id = db.new_id(conn.execute(inv.insert().values(
        number=billing.take_number(conn, row.year), kind="credit_note", billing_key=key, customer_id=row.customer_id, issuer_id=row.issuer_id,
        year=row.year, period_start=row.period_start, period_end=row.period_end, issue_date=today, due_date=today,
        status="issued", net=totals.net, vat=totals.vat, gross=totals.gross, leitweg_id=row.leitweg_id,
        cancels_invoice_id=row.id, created_at=now, updated_at=now,
    )))
    conn.execute(ln.insert(), [{**x, "invoice_id": credit_id} for x in lines])
    return credit_id


class CancelIn(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


@router.post("/{invoice_id}/cancel", response_model=schemas.Invoice, status_code=201, summary="Cancel an invoice with a credit note (operator)")
def cancel(request: Request, invoice_id: IdPath, body: CancelIn, user: Annotated[User, Depends(current_user)]) -> Response:
    require_role(user, "operator")

    def work(conn: Connection) -> Response:
        row = load(conn, user, invoice_id)
        paid, credited = amounts(conn, [row.id])[row.id]
        why = why_not_cancellable(row.kind, row.status, paid, credited)
        if why == "invalid-state":
            raise ApiProblem(409, f"only an issued invoice can be cancelled (this is {row.kind}, {row.status})", type="invalid-state",
                             detail_de=f"Nur eine offene Rechnung kann storniert werden (dies ist eine {_kind_de(row)} "
                                       f"im Status „{_status_de(row)}“)")
        if why == "partly-settled":
            raise ApiProblem(409, f"payments ({money(paid)} EUR) or partial credit notes ({money(credited)} EUR) are recorded for "
                             f"invoice {row.number}; credit what is still open with a partial credit note instead",
                             type="partly-settled", open_amount=money(open_amount(row, paid, credited)),
                             detail_de=f"Für Rechnung {row.number} sind Zahlungen ({wording.euro(paid)}) oder "
                                       f"Teilgutschriften ({wording.euro(credited)}) gebucht; schreiben Sie den noch offenen "
                                       "Betrag stattdessen mit einer Teilgutschrift gut")
        credit_id = billing.credit_note(conn, row, db.utcnow())
        change_log.record(conn, "invoice", row.id, "cancelled")
        change_log.record(conn, "invoice", credit_id, "issued")
        return _item(conn, user, credit_id, status=201)

    return idempotency.run(request, user, body.model_dump(mode="json"), work)


class CreditNoteIn(BaseModel):
    """A credit note for part of an invoice: one line (e.g. the disputed one) or an amount of it."""

    line_id: Id
    net: Annotated[Money, Field(gt=0)] | None = None  # default: the whole line
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


@router.post("/{invoice_id}/credit-notes", response_model=schemas.Invoice, status_code=201,
             summary="Issue a partial credit note for a line or an amount of it (operator); ends the line's dispute")
def post_credit_note(request: Request, invoice_id: IdPath, body: CreditNoteIn, user: Annotated[User, Depends(current_user)]) -> Response:
    require_role(user, "operator")

    def work(conn: Connection) -> Response:
        row = load(conn, user, invoice_id)
        if row.kind != "invoice" or row.status != "issued":
            raise ApiProblem(409, f"only an issued, unpaid invoice takes a credit note (this is {row.kind}, {row.status})",
                             type="invalid-state",
                             detail_de=f"Nur zu einer offenen, unbezahlten Rechnung kann eine Gutschrift ausgestellt werden "
                                       f"(dies ist eine {_kind_de(row)} im Status „{_status_de(row)}“)")
        line = next((x for x in _lines(conn, row.id) if x.id == body.line_id), None)
        if line is None:
            raise ApiProblem(422, f"line {body.line_id} is not on invoice {row.number}", type="validation",
                             detail_de=f"{_line_ids_de([body.line_id], 'gehört', 'gehören')} nicht zur Rechnung {row.number}",
                             errors=[{"field": "line_id", "message": "not a line of this invoice",
                                      "message_de": _NOT_A_LINE_DE, "code": "not_found"}])
        net = body.net if body.net is not None else Decimal(line.net)
        paid, credited = amounts(conn, [row.id])[row.id]
        open_ = open_amount(row, paid, credited)
        gross = net + line_vat(net, Decimal(line.vat_rate))
        problems = []
        detail_de = ""
        if net > Decimal(line.net):
            problems.append({"field": "net", "message": f"exceeds the line's net amount of {money(line.net)} EUR", "code": "too_much",
                             "message_de": f"übersteigt den Nettobetrag der Position von {wording.euro(line.net)}"})
            detail_de = f"Der Nettobetrag der Gutschrift übersteigt den Nettobetrag der Position von {wording.euro(line.net)}"
        elif gross > open_:
            problems.append({"field": "net", "message": f"{money(gross)} EUR gross exceeds the open amount of {money(open_)} EUR",
                             "code": "too_much", "open_amount": money_str(open_),
                             "message_de": f"{wording.euro(gross)} brutto übersteigen den offenen Betrag von {wording.euro(open_)}"})
            detail_de = problems[0]["message_de"]
        if problems:
            raise ApiProblem(422, problems[0]["message"], type="validation", errors=problems, open_amount=money(open_),
                             detail_de=detail_de)
        now = db.utcnow()
        n = conn.execute(select(func.count()).select_from(inv).where(inv.c.cancels_invoice_id == row.id)).scalar_one() + 1
        credit_line = {
            "position": 1, "order_id": line.order_id, "offering_id": line.offering_id, "kind": "credit",
            "name": f"Gutschrift zu Pos. {line.position}: {line.name}"[:300],
            "description": body.reason.strip(), "quantity": Decimal(1), "unit_price": net, "months": 0, "net": net,
            "vat_rate": line.vat_rate, "period_start": line.period_start, "period_end": line.period_end,
        }
        credit_id = _new_credit_note(conn, row, f"credit:{row.id}:part:{n}", [credit_line], now)
        if line.disputed_at:  # the dispute is settled by the credit note
            conn.execute(update(ln).where(ln.c.id == line.id).values(disputed_by=None, disputed_at=None, dispute_reason=None))
        _record(conn, user, row.id, "credit_note", now, line_ids=[line.id], reason=body.reason.strip())
        values: dict[str, Any] = {}
        if gross == open_ and paid > 0:  # the rest was paid: nothing is open any more
            values = {"status": "paid", "paid_at": now}
        conn.execute(update(inv).where(inv.c.id == row.id).values(version=row.version + 1, updated_at=now, **values))
        change_log.record(conn, "invoice", row.id, "credited")
        change_log.record(conn, "invoice", credit_id, "issued")
        return _item(conn, user, credit_id, status=201)

    return idempotency.run(request, user, body.model_dump(mode="json"), work)
