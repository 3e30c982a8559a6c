"""/orders: interest → proposal → binding order → contract, with an audit trail of every step."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import false, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from ...domain.administration import order_refusal
from ...domain.collation import search_fold
from ...domain.leitweg import check_leitweg_id
from ...domain.orders import (
    BACKDATE_MONTHS,
    REASON_OWED,
    TRANSITIONS,
    Action,
    DateWindow,
    OrderState,
    TransitionError,
    activation_window,
    allowed_actions,
    minimum_term_end,
    month_end,
    next_state,
    termination_date,
    termination_window,
)
from ...domain.pricing import DistributionKey
from .. import changes as change_log
from .. import db, idempotency, schemas, wording
from ..auth import User, current_user, require_role
from ..http import check_if_match, iso, json_response, money, representation_etag
from ..problems import ApiProblem
from .common import Cursor, Id, Limit, Money, SyncPosition, UpdatedSince, VatRate, keyset, like_terms, naive_utc, page, parse_sort, sync_select

router = APIRouter(prefix="/orders", tags=["orders"])
t = db.orders
ev = db.order_events
off = db.offerings
cust = aliased(db.organizations)
prov = aliased(db.organizations)
IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


class OrderCreate(BaseModel):
    """An expression of interest (Interessenbekundung)."""

    offering_id: Id
    message: Annotated[str, Field(max_length=5000)] = ""
    desired_start: date | None = None
    contact_name: Annotated[str, Field(max_length=200)] = ""
    leitweg_id: Annotated[str, Field(max_length=46)] | None = None  # default: the organisation's
    cost_centre: Annotated[str, Field(max_length=50)] = ""
    target_group_size: Annotated[int, Field(ge=0, le=100_000_000)] | None = None


class FeesIn(BaseModel):
    """The agreed fees (Abstimmungsergebnis); missing parts default to the offering's."""

    annual_fee: Money | None = None
    one_time_fee: Money | None = None
    distribution_key: DistributionKey | None = None
    unit_price: Money | None = None
    vat_rate: VatRate | None = None
    terms: Annotated[str, Field(max_length=5000)] | None = None


class TransitionIn(BaseModel):
    action: Action
    note: Annotated[str, Field(max_length=5000, description="the reason; required with reject and cancel")] = ""
    fees: FeesIn | None = None
    start_date: date | None = None  # activate: when the contract starts (default: desired start or today)
    end_date: date | None = None  # terminate: default by the notice period of the terms

    @model_validator(mode="after")
    def _fees_only_with_propose(self) -> TransitionIn:
        if self.fees is not None and self.action is not Action.PROPOSE:
            raise wording.Refused("fees belong to the action propose",
                                  "Entgelte (fees) gehören zum Schritt „Entgelte vorschlagen“ (propose)")
        return self


def _select():
    return (
        select(t, off.c.title.label("offering_title"), off.c.minimum_term_months, off.c.notice_period_months,
               cust.c.name.label("customer_name"), prov.c.name.label("provider_name"))
        .join(off, off.c.id == t.c.offering_id)
        .join(cust, cust.c.id == t.c.customer_id)
        .join(prov, prov.c.id == t.c.provider_id)
    )


def visible(user: User):
    if user.is_staff:
        return t.c.id.is_not(None)
    if user.role == "customer":
        return t.c.customer_id == user.organization_id
    if user.role == "provider":
        return t.c.provider_id == user.organization_id
    return false()


def serialize(row, user: User) -> dict[str, Any]:
    fees = None
    if row.annual_fee is not None:
        fees = {
            "annual_fee": money(row.annual_fee), "one_time_fee": money(row.one_time_fee),
            "distribution_key": row.distribution_key, "unit_price": money(row.unit_price),
            "vat_rate": money(row.vat_rate),
        }
    return {
        "id": row.id,
        "offering": {"id": row.offering_id, "title": row.offering_title},
        "customer": {"id": row.customer_id, "name": row.customer_name},
        "provider": {"id": row.provider_id, "name": row.provider_name},
        "state": row.state,
        "message": row.message,
        "desired_start": iso(row.desired_start),
        "contact_name": row.contact_name,
        "leitweg_id": row.leitweg_id,
        "cost_centre": row.cost_centre,
        "target_group_size": row.target_group_size,
        "fees": fees,
        "terms": row.terms,
        # The offering's term rules the contract dates are checked by (domain/orders.py).
        "minimum_term_months": row.minimum_term_months,
        "notice_period_months": row.notice_period_months,
        "start_date": iso(row.start_date),
        "end_date": iso(row.end_date),
        "ordered_at": iso(row.ordered_at),
        "ordered_by": row.ordered_by,
        "allowed_actions": [a.value for a in allowed_actions(row.state, user.role)],
        "version": row.version,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def load(conn: Connection, user: User, order_id: int):
    row = conn.execute(_select().where(t.c.id == order_id, visible(user))).first()
    if row is None:
        raise ApiProblem(404, f"no order {order_id}", type="not-found", detail_de=f"Bestellung {order_id} nicht gefunden")
    return row


def _event(conn: Connection, user: User, order_id: int, action: str, source: str | None, target: str,
           note: str = "", data: dict | None = None, at: datetime | None = None) -> None:
    conn.execute(ev.insert().values(
        order_id=order_id, action=action, from_state=source, to_state=target, actor_id=user.id,
        actor_name=user.name, actor_role=user.role, actor_organization_id=user.organization_id,
        note=note, data=data, at=at or db.utcnow(),
    ))


_DATE_FIELDS_DE = {"start_date": "Vertragsbeginn", "end_date": "Vertragsende"}


def _activation_reason_de(ordered_on: date | None, window: DateWindow) -> str:
    """``activation_window``'s reason in German (the rule that set its earliest date)."""
    if ordered_on is not None and window.earliest == ordered_on:
        return f"ein Vertrag kann nicht vor seiner verbindlichen Bestellung vom {wording.day(ordered_on)} beginnen"
    return f"ein Vertrag kann nicht mehr als {BACKDATE_MONTHS} Monate rückwirkend beginnen"


def _termination_reason_de(start: date | None, today: date, *, minimum_term_months: int, notice_months: int) -> str:
    """``termination_window``'s reason in German: the same rules in the same order."""
    by_notice = termination_date(today, max(notice_months, 0))
    earliest = by_notice
    reason = (f"bei einer Kündigung heute mit einer Frist von {wording.months(notice_months)} endet der Vertrag "
              f"frühestens am {wording.day(by_notice)}")
    if start is not None:
        term_end = month_end(minimum_term_end(start, minimum_term_months))
        if term_end > earliest:
            earliest = term_end
            reason = f"die Mindestlaufzeit von {wording.months(minimum_term_months)} läuft bis zum {wording.day(term_end)}"
        if start > earliest:
            reason = f"ein Vertrag kann nicht vor seinem Beginn ({wording.day(start)}) enden"
    return reason


def _check_date(field: str, day: date, window: DateWindow, reason_de: str) -> None:
    """422 naming the earliest (or latest) allowed date, so that a client can propose it
    (``reason_de``: the window's reason in German)."""
    what = _DATE_FIELDS_DE.get(field, field)
    if day < window.earliest:
        detail = f"{field} {day.isoformat()} is too early: {window.reason}; the earliest allowed date is {window.earliest.isoformat()}"
        detail_de = (f"Ein {what} am {wording.day(day)} ist zu früh: {reason_de}; frühestens möglich ist der "
                     f"{wording.day(window.earliest)}")
        code = "too_early"
    elif day > window.latest:
        detail = f"{field} {day.isoformat()} lies too far ahead; the latest allowed date is {window.latest.isoformat()}"
        detail_de = (f"Ein {what} am {wording.day(day)} liegt zu weit in der Zukunft; spätestens möglich ist der "
                     f"{wording.day(window.latest)}")
        code = "too_late"
    else:
        return
    raise ApiProblem(422, detail, type="validation", detail_de=detail_de,
                     earliest_date=window.earliest.isoformat(), latest_date=window.latest.isoformat(),
                     errors=[{"field": field, "message": detail, "message_de": detail_de, "code": code,
                              "earliest": window.earliest.isoformat(), "latest": window.latest.isoformat()}])


def _transition_de(exc: TransitionError, state: str, action: str, role: str) -> str:
    """Why ``next_state`` refused, in German (its reason is English only)."""
    try:
        step = TRANSITIONS[Action(action)]
    except ValueError:
        return f"Unbekannter Schritt „{action}“"
    label = wording.word(wording.ACTIONS, step.action.value)
    if exc.forbidden:
        return f"Mit der Rolle „{wording.role(role)}“ ist der Schritt „{label}“ nicht erlaubt"
    sources = wording.joined((f"„{wording.word(wording.ORDER_STATES, s.value)}“" for s in sorted(step.sources)), "oder")
    return (f"Der Schritt „{label}“ ist bei einer Bestellung im Status „{wording.word(wording.ORDER_STATES, state)}“ "
            f"nicht möglich (nur im Status {sources})")


def _require_inhouse(user: User) -> None:
    refusal = order_refusal(user.role, user.inhouse_operator_id is not None, user.accreditation)
    if refusal is None:
        return
    if refusal.code == "not-accredited":
        raise ApiProblem(403, f"{user.organization_name}: {refusal.en}; it may browse but not order until the "
                         "operator accredits it", type="not-accredited",
                         detail_de=f"{user.organization_name}: {refusal.de}; sie kann Angebote ansehen, aber erst "
                                   "bestellen, wenn der Betreiber sie akkreditiert hat")
    raise ApiProblem(
        403,
        f"{user.organization_name} has no in-house relationship (Inhouse-Beziehung) with an operator of the "
        "marketplace and may browse but not order; the marketplace's operator can set one up",
        type="not-inhouse",
        detail_de=f"{user.organization_name} hat keine Inhouse-Beziehung zu einem Betreiber des Marktplatzes und kann "
                  "Angebote ansehen, aber nicht bestellen; der Betreiber des Marktplatzes kann sie einrichten",
    )


def create(conn: Connection, user: User, body: OrderCreate) -> int:
    """An interest of the user's organisation in an offering (also used by the demo seed)."""
    require_role(user, "customer")
    _require_inhouse(user)
    offering = conn.execute(select(off).where(off.c.id == body.offering_id, off.c.deleted == false())).first()
    if offering is None or offering.status != "published":
        raise ApiProblem(422, f"offering {body.offering_id} is not published", type="validation",
                         detail_de=f"Angebot {body.offering_id} ist nicht veröffentlicht",
                         errors=[{"field": "offering_id", "message": "no published offering with this id",
                                  "message_de": "kein veröffentlichtes Angebot mit dieser ID", "code": "not_found"}])
    if offering.provider_id == user.organization_id:
        # An organisation with both roles (a Land that publishes and orders) cannot order from itself:
        # an order is a contract between two organisations, billed by the operator.
        raise ApiProblem(422, "an organisation cannot order its own offering", type="validation",
                         detail_de="Eine Organisation kann ihr eigenes Angebot nicht bestellen",
                         errors=[{"field": "offering_id", "message": "this is your organisation's own offering",
                                  "message_de": "das ist ein Angebot der eigenen Organisation", "code": "own_offering"}])
    # The order carries its own BT-10; without one, the organisation's first (its default).
    lw = db.organization_leitweg_ids
    default = conn.execute(select(lw.c.leitweg_id).where(lw.c.organization_id == user.organization_id)
                           .order_by(lw.c.position).limit(1)).scalar()
    leitweg = (body.leitweg_id or default or "").strip()
    check = check_leitweg_id(leitweg)
    if not check.ok:
        raise ApiProblem(422, f"Leitweg-ID: {check.reason_en}", type="validation", detail_de=f"Leitweg-ID: {check.reason}",
                         errors=[{"field": "leitweg_id", "message": check.reason_en, "message_de": check.reason, "code": "leitweg_id"}])
    now = db.utcnow()
    order_id = db.new_id(conn.execute(t.insert().values(
        offering_id=offering.id, customer_id=user.organization_id, provider_id=offering.provider_id,
        state=OrderState.INTEREST.value, message=body.message, desired_start=body.desired_start,
        contact_name=body.contact_name or user.name, leitweg_id=leitweg, cost_centre=body.cost_centre,
        target_group_size=body.target_group_size, created_by=user.id, created_at=now, updated_at=now,
    )))
    _event(conn, user, order_id, "create", None, OrderState.INTEREST.value, body.message)
    return order_id


def transition(conn: Connection, user: User, order_id: int, body: TransitionIn, today: date | None = None,
               now: datetime | None = None) -> None:
    """Move an order along the state machine; every step is an event of the audit trail.

    ``now`` is the moment of the step (the demo seed replays a history; the API uses the clock):
    the binding order's ``ordered_at`` is exactly the time of its event."""
    row = load(conn, user, order_id)
    try:
        target = next_state(row.state, body.action, user.role)
    except TransitionError as exc:
        raise ApiProblem(403 if exc.forbidden else 409, exc.reason,
                         type="forbidden-transition" if exc.forbidden else "invalid-transition",
                         detail_de=_transition_de(exc, row.state, body.action, user.role),
                         state=row.state, allowed_actions=[a.value for a in allowed_actions(row.state, user.role)]) from None
    now = now or db.utcnow()
    today = today or now.date()
    values: dict[str, Any] = {}
    data: dict[str, Any] | None = None
    action = body.action
    if action is Action.PROPOSE:
        offering = conn.execute(select(off).where(off.c.id == row.offering_id)).one()
        given = body.fees or FeesIn()
        fees = {
            "annual_fee": given.annual_fee if given.annual_fee is not None else offering.annual_fee,
            "one_time_fee": given.one_time_fee if given.one_time_fee is not None else offering.one_time_fee,
            "distribution_key": (given.distribution_key or DistributionKey(offering.distribution_key)).value,
            "unit_price": given.unit_price if given.unit_price is not None else offering.unit_price,
            "vat_rate": given.vat_rate if given.vat_rate is not None else offering.vat_rate,
        }
        if fees["distribution_key"] == "fixed":
            fees["unit_price"] = None
        elif fees["unit_price"] is None:
            raise ApiProblem(422, "this distribution key needs a unit price", type="validation",
                             detail_de="Dieser Verteilschlüssel braucht einen Preis je Einheit",
                             errors=[{"field": "fees.unit_price", "message": "required for this distribution key",
                                      "message_de": "für diesen Verteilschlüssel erforderlich", "code": "missing"}])
        values.update(fees, terms=given.terms if given.terms is not None else offering.contract_terms)
        data = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in fees.items()}
    elif action is Action.ORDER:
        _require_inhouse(user)
        # The binding order freezes what was agreed: the fees stay on the order from here on.
        values.update(ordered_at=now, ordered_by=user.name)
        data = {"annual_fee": money(row.annual_fee), "one_time_fee": money(row.one_time_fee),
                "distribution_key": row.distribution_key, "unit_price": money(row.unit_price),
                "vat_rate": money(row.vat_rate), "terms": row.terms}
    elif action is Action.ACTIVATE:
        ordered_on = row.ordered_at.date() if row.ordered_at else None
        window = activation_window(ordered_on, today)
        start = body.start_date or (row.desired_start if row.desired_start and window.contains(row.desired_start) else max(today, window.earliest))
        _check_date("start_date", start, window, _activation_reason_de(ordered_on, window))
        values["start_date"] = start
        data = {"start_date": start.isoformat()}
    elif action is Action.TERMINATE:
        window = termination_window(row.start_date, today, minimum_term_months=row.minimum_term_months,
                                    notice_months=row.notice_period_months)
        end = body.end_date or window.earliest
        _check_date("end_date", end, window, _termination_reason_de(
            row.start_date, today, minimum_term_months=row.minimum_term_months, notice_months=row.notice_period_months))
        values["end_date"] = end
        data = {"end_date": end.isoformat()}
    if action in REASON_OWED and not body.note.strip():
        word, wort = ("rejection", "Ablehnung") if action is Action.REJECT else ("cancellation", "Stornierung")
        raise ApiProblem(422, f"a {word} needs a reason in note", type="validation",
                         detail_de=f"Eine {wort} braucht eine Begründung (note)",
                         errors=[{"field": "note", "message": f"give the reason for the {word}",
                                  "message_de": f"Bitte die Begründung der {wort} angeben.", "code": "missing"}])
    done = conn.execute(
        update(t).where(t.c.id == row.id, t.c.version == row.version).values(
            state=target.value, version=row.version + 1, updated_at=now, **values)
    ).rowcount
    if not done:
        raise ApiProblem(409, "the order changed meanwhile; reload it", type="conflict",
                         detail_de="Die Bestellung wurde inzwischen geändert; laden Sie sie neu")
    _event(conn, user, row.id, action.value, row.state, target.value, body.note, data, at=now)


SORTS = {"id": t.c.id, "updated_at": t.c.updated_at, "created_at": t.c.created_at}


@router.get("", response_model=schemas.OrderPage, summary="List orders visible to you")
def list_orders(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    state: Annotated[list[OrderState] | None, Query()] = None,
    offering_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    customer_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    provider_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    q: Annotated[str | None, Query(max_length=200, description="offering title, customer, provider or message")] = None,
    updated_since: UpdatedSince = None,
    sync_position: SyncPosition = None,
    sort: Annotated[str, Query(max_length=20)] = "-id",
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Response:
    since = naive_utc(updated_since)
    query = _select().where(visible(user))
    if sync_position is not None:
        name, col, desc = "id", t.c.id, False
    elif since is not None:
        name, col, desc = "updated_at", t.c.updated_at, False
        query = query.where(t.c.updated_at >= since)
    else:
        name, col, desc = parse_sort(sort, SORTS)
    if state:
        query = query.where(t.c.state.in_([s.value for s in state]))
    if offering_id:
        query = query.where(t.c.offering_id == offering_id)
    if customer_id:
        query = query.where(t.c.customer_id == customer_id)
    if provider_id:
        query = query.where(t.c.provider_id == provider_id)
    # The offering's search text is folded (ä = ae, ß = ss), the other columns only lower-cased.
    for folded, lowered in zip(like_terms(q or "", search_fold), like_terms(q or ""), strict=True):
        query = query.where(or_(off.c.search_text.like(folded, escape="\\"),
                                *(h.like(lowered, escape="\\") for h in (func.lower(cust.c.name), func.lower(t.c.message)))))
    with db.reading(request.app.state.engine) as conn:
        sync: dict = {}
        if sync_position is not None or since is not None:
            query, sync = sync_select(conn, query, kind="order", id_col=t.c.id, user=user, sync_position=sync_position)
        rows = conn.execute(keyset(query, name, col, t.c.id, desc, cursor).limit(limit + 1)).all()
    rows, next_cursor = page(rows, limit, name)
    return json_response(request, {"items": [serialize(r, user) for r in rows], "next_cursor": next_cursor, **sync})


@router.post("", response_model=schemas.Order, status_code=201, summary="Express interest in an offering (customer)")
def create_order(request: Request, body: OrderCreate, user: Annotated[User, Depends(current_user)]) -> Response:
    require_role(user, "customer")

    def work(conn: Connection) -> Response:
        order_id = create(conn, user, body)
        row = load(conn, user, order_id)
        change_log.record(conn, "order", order_id, "create", change_log.order_scope(row))
        return json_response(None, serialize(row, user), status=201, headers={"Location": f"/api/v1/orders/{row.id}"})

    return idempotency.run(request, user, body.model_dump(mode="json"), work)


@router.get("/{order_id}", response_model=schemas.Order, summary="One order")
def get_order(request: Request, order_id: IdPath, user: Annotated[User, Depends(current_user)]) -> Response:
    with db.reading(request.app.state.engine) as conn:
        row = load(conn, user, order_id)
    return json_response(request, serialize(row, user))


@router.post("/{order_id}/transitions", response_model=schemas.Order,
             summary="Move an order: propose, order, activate, reject, withdraw, cancel, terminate")
def post_transition(
    request: Request, order_id: IdPath, body: TransitionIn, user: Annotated[User, Depends(current_user)]
) -> Response:
    if user.is_staff:
        raise ApiProblem(403, f"the role {user.role} cannot change orders", type="forbidden-role",
                         detail_de=f"Die Rolle „{wording.role(user.role)}“ kann Bestellungen nicht ändern")

    def work(conn: Connection) -> Response:
        if request.headers.get("if-match"):
            # Optional guard: accept exactly the version the user looked at (e.g. the proposal).
            # The row stays locked from this check to the step (FOR UPDATE; SQLite's write lock
            # does it there), so another process's step cannot slip in between and be overwritten.
            conn.execute(select(t.c.id).where(t.c.id == order_id).with_for_update())
            row = load(conn, user, order_id)
            check_if_match(request, representation_etag(serialize(row, user)))
        transition(conn, user, order_id, body)
        row = load(conn, user, order_id)
        change_log.record(conn, "order", order_id, body.action.value, change_log.order_scope(row))
        return json_response(None, serialize(row, user))

    return idempotency.run(request, user, body.model_dump(mode="json"), work)


@router.get("/{order_id}/events", response_model=schemas.OrderEventPage, summary="The audit trail of an order")
def order_events(request: Request, order_id: IdPath, user: Annotated[User, Depends(current_user)]) -> Response:
    with db.reading(request.app.state.engine) as conn:
        load(conn, user, order_id)
        rows = conn.execute(
            select(ev, db.organizations.c.name.label("org_name"))
            .outerjoin(db.organizations, db.organizations.c.id == ev.c.actor_organization_id)
            .where(ev.c.order_id == order_id).order_by(ev.c.id)
        ).all()
    items = [{
        "id": r.id, "action": r.action, "from_state": r.from_state, "to_state": r.to_state,
        "actor": {"name": r.actor_name, "role": r.actor_role, "organization": r.org_name},
        "note": r.note, "data": r.data, "at": iso(r.at),
    } for r in rows]
    return json_response(request, {"items": items, "next_cursor": None})

