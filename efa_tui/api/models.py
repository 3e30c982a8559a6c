"""Typed views of the API's JSON (the server's routes are the spec).

Tolerant by design: unknown fields are ignored and almost every field has a default, so that a
newer server never crashes an older client; ``tests/test_api_client.py`` checks that these
models and the demo server's answers agree field for field, so drift is caught there instead.
Money arrives as strings with two decimals and becomes ``Decimal``; never float.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from ..domain.administration import user_roles as _user_roles


def _none_to_empty(value: Any) -> Any:
    return "" if value is None else value


# Free text: the server may send null for an empty field; the client always sees a str.
Text = Annotated[str, BeforeValidator(_none_to_empty)]


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=False, populate_by_name=True, defer_build=True)

    # The ETag of the response this model came from (item GETs and writes), for If-Match.
    _etag: str | None = PrivateAttr(default=None)

    @property
    def etag(self) -> str | None:
        return self._etag


class Ref(ApiModel):
    """Another record named by id, e.g. the provider of an offering."""

    id: int
    name: Text = ""


class OfferingRef(ApiModel):
    id: int
    title: Text = ""


class Fees(ApiModel):
    """Fees (Entgelte) of an offering, or the agreed fees of an order (no unit_label there)."""

    annual_fee: Decimal | None = None
    one_time_fee: Decimal | None = None
    distribution_key: Text = "fixed"
    unit_price: Decimal | None = None
    unit_label: str | None = None
    vat_rate: Decimal | None = None


class Contact(ApiModel):
    name: Text = ""
    email: Text = ""
    phone: Text = ""


class Offering(ApiModel):
    """A catalog entry. A tombstone (delta sync: deleted, or gone from your view) carries only
    id, status, updated_at and ``tombstone=True``."""

    id: int
    title: Text = ""
    summary: Text = ""
    description: Text = ""
    category: Text = ""
    leika_key: Text = ""
    ozg_id: Text = ""
    bundeslaender: list[str] = Field(default_factory=list)  # empty: nationwide
    maturity: int | None = None
    provider: Ref | None = None
    fees: Fees | None = None
    contract_terms: Text = ""
    minimum_term_months: int | None = None
    notice_period_months: int | None = None
    contact: Contact | None = None
    keywords: list[str] = Field(default_factory=list)
    status: Text = ""
    version: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    published_at: datetime | None = None
    tombstone: bool = False


class Address(ApiModel):
    street: Text = ""
    postcode: Text = ""
    city: Text = ""
    country: Text = ""


class Accreditation(ApiModel):
    """An organisation's standing at the marketplace: applied, accredited or suspended, by whom, when, why."""

    state: str = "accredited"
    at: datetime | None = None
    by: Text | None = None
    reason: Text | None = None


class Organization(ApiModel):
    id: int
    key: Text = ""
    kind: Text = ""  # operator, provider, customer: one word for older clients; the set is ``roles``
    roles: list[str] = Field(default_factory=list)  # operator, or customer and/or provider
    user_roles: list[str] = Field(default_factory=list)  # what its users may be
    name: Text = ""
    short_name: Text = ""
    address: Address = Field(default_factory=Address)
    bundesland: str | None = None
    email: Text = ""
    phone: Text = ""
    contact_name: Text = ""
    vat_id: str | None = None
    iban: str | None = None
    bic: str | None = None
    ags: str | None = None
    population: int | None = None
    leitweg_ids: list[Text] = Field(default_factory=list)  # the first is the default
    leitweg_id: str | None = None
    customer_type: str | None = None
    inhouse_operator_id: int | None = None
    inhouse: bool = False
    inhouse_basis: Text | None = None  # what the in-house relationship rests on
    population_date: date | None = None  # the reference date of ``population``
    accreditation: Accreditation = Field(default_factory=lambda: Accreditation())
    version: int = 0
    updated_at: datetime | None = None

    @model_validator(mode="after")
    def _older_copy(self) -> Organization:
        # A copy from an older server (or an older cache) has one role and one Leitweg-ID.
        if not self.roles and self.kind:
            self.roles = [self.kind]
        if not self.user_roles:
            self.user_roles = list(_user_roles(self.roles))
        if not self.leitweg_ids and self.leitweg_id:
            self.leitweg_ids = [self.leitweg_id]
        return self


class User(ApiModel):
    """A user of an organisation, as the administration lists and edits it."""

    id: int
    organization_id: int | None = None
    name: Text = ""
    email: Text = ""
    role: Text = ""  # the roles its organisation's kind can give
    admin: bool = False
    disabled: bool = False
    demo: bool = False
    created_at: datetime | None = None
    version: int = 0


class Token(ApiModel):
    """A token as lists show it: never its secret (the one-time answer of an issue holds that)."""

    id: int
    user_id: int | None = None
    name: Text = ""
    scope: str = "write"
    prefix: Text = ""
    created_at: datetime | None = None
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class AuditActor(ApiModel):
    id: int | None = None
    name: Text = ""
    organization_id: int | None = None


class AuditTarget(ApiModel):
    kind: Text = ""  # organization, user, token
    id: int | None = None


class AuditEntry(ApiModel):
    """One administrative change: who, when, what; the record before and after stay free-form JSON."""

    id: int
    at: datetime | None = None
    actor: AuditActor = Field(default_factory=AuditActor)
    action: Text = ""
    target: AuditTarget = Field(default_factory=AuditTarget)
    organization_id: int | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class TokenInfo(ApiModel):
    """The token a request was made with: its id and scope (read or write)."""

    id: int | None = None
    scope: str = "write"


class Me(ApiModel):
    id: int
    name: Text = ""
    email: Text = ""
    role: Text = ""  # customer, provider, support, operator
    admin: bool = False  # manages its organisation's users
    token: TokenInfo = Field(default_factory=TokenInfo)
    organization: Organization
    can_order: bool = False
    can_order_reason: str | None = None  # why not, when can_order is false
    can_order_reason_de: str | None = None


class Order(ApiModel):
    id: int
    offering: OfferingRef | None = None
    customer: Ref | None = None
    provider: Ref | None = None
    state: Text = ""
    message: Text = ""
    desired_start: date | None = None
    contact_name: Text = ""
    leitweg_id: Text = ""
    cost_centre: Text = ""
    target_group_size: int | None = None
    fees: Fees | None = None  # from the proposal on
    terms: str | None = None
    minimum_term_months: int | None = None  # the term rules the contract dates follow
    notice_period_months: int | None = None
    start_date: date | None = None
    end_date: date | None = None
    ordered_at: datetime | None = None
    ordered_by: str | None = None
    allowed_actions: list[str] = Field(default_factory=list)  # for the user who asked
    version: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Actor(ApiModel):
    name: Text = ""
    role: Text = ""
    organization: str | None = None  # the organisation's name


class OrderEvent(ApiModel):
    id: int
    action: Text = ""
    from_state: str | None = None
    to_state: Text = ""
    actor: Actor = Field(default_factory=Actor)
    note: Text = ""
    data: dict[str, Any] | None = None
    at: datetime | None = None


class Dispute(ApiModel):
    by: Text = ""
    at: datetime | None = None
    reason: Text = ""


class BilledUnits(ApiModel):
    """A line as the XRechnung states it: quantity (unit code) × price per base quantity,
    e.g. 5 MON × 4800.00 per 12 MON for five months of an annual fee."""

    quantity: Decimal = Decimal(0)
    unit_code: Text = ""
    price: Decimal = Decimal(0)
    base_quantity: Decimal = Decimal(1)


class InvoiceLine(ApiModel):
    id: int
    position: int = 0
    order_id: int | None = None
    offering_id: int | None = None
    kind: Text = ""  # annual, one_time, per_inhabitant, per_case, target_group, ...
    name: Text = ""
    description: Text = ""
    quantity: Decimal = Decimal(0)
    unit_price: Decimal | None = None
    months: int | None = None
    net: Decimal = Decimal(0)
    vat_rate: Decimal = Decimal(0)
    vat: Decimal = Decimal(0)
    gross: Decimal = Decimal(0)
    period_start: date | None = None
    period_end: date | None = None
    billed: BilledUnits | None = None
    dispute: Dispute | None = None


class Payment(ApiModel):
    means: Text = ""
    iban: str | None = None
    bic: str | None = None
    account_name: Text = ""


class Review(ApiModel):
    """The customer's invoice check: sachlich richtig (factual) and rechnerisch richtig (arithmetic)."""

    factual_ok_by: str | None = None
    factual_ok_at: datetime | None = None
    arithmetic_ok_by: str | None = None
    arithmetic_ok_at: datetime | None = None


class PaymentRecord(ApiModel):
    """A payment booked by the operator, as the bank statement shows it."""

    id: int
    value_date: date | None = None
    amount: Decimal = Decimal(0)
    bank_reference: Text = ""
    recorded_by: Text = ""
    recorded_at: datetime | None = None


class ReviewEvent(ApiModel):
    """One step of the invoice check: a sign-off, its withdrawal, a dispute, its resolution."""

    action: Text = ""
    line_ids: list[int] = Field(default_factory=list)
    reason: Text = ""
    by: Text = ""
    role: Text = ""
    at: datetime | None = None


class CreditNoteRef(ApiModel):
    id: int
    number: Text = ""
    gross: Decimal = Decimal(0)
    issue_date: date | None = None
    scope: Text = ""  # partial | full


class VatGroup(ApiModel):
    rate: Decimal
    basis: Decimal
    tax: Decimal


class Invoice(ApiModel):
    """An annual invoice or a credit note. Lists leave out ``lines`` and ``vat_breakdown``
    (None); one invoice fetched by id has both."""

    id: int
    number: Text = ""
    kind: Text = "invoice"  # invoice, credit_note
    customer: Ref | None = None
    issuer: Ref | None = None
    year: int | None = None
    period_start: date | None = None
    period_end: date | None = None
    issue_date: date | None = None
    due_date: date | None = None
    status: Text = ""  # issued, paid, cancelled
    overdue: bool = False
    net: Decimal = Decimal(0)
    vat: Decimal = Decimal(0)
    gross: Decimal = Decimal(0)
    currency: Text = "EUR"
    leitweg_id: Text = ""
    payment: Payment | None = None
    cancels_invoice: str | None = None  # number of the invoice a credit note cancels
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    review: Review = Field(default_factory=Review)
    disputed_lines: int = 0  # lines the customer disputes (lists show "beanstandet" without the lines)
    paid_amount: Decimal = Decimal(0)
    credited_amount: Decimal = Decimal(0)  # by partial credit notes
    open_amount: Decimal = Decimal(0)
    partially_paid: bool = False
    credit_scope: str | None = None  # a credit note's: partial | full
    payments: list[PaymentRecord] | None = None
    review_history: list[ReviewEvent] | None = None
    credit_notes: list[CreditNoteRef] | None = None
    version: int = 0
    updated_at: datetime | None = None
    vat_breakdown: list[VatGroup] | None = None
    lines: list[InvoiceLine] | None = None


class UsageReport(ApiModel):
    id: int
    order_id: int
    year: int
    month: int
    cases: int
    reported_at: datetime | None = None
    updated_at: datetime | None = None


class BillingRun(ApiModel):
    id: int
    year: int
    status: Text = ""
    started_at: datetime | None = None
    started_by: Ref | None = None  # who ran it
    finished_at: datetime | None = None
    contracts_total: int | None = None
    contracts_billed: int | None = None
    invoices_created: int | None = None
    net_total: Decimal | None = None
    gross_total: Decimal | None = None
    skipped: list[dict[str, Any]] = Field(default_factory=list)  # {customer_id, customer_name, reason, detail, vat_category}


R = TypeVar("R", bound=ApiModel)


def record_as(model: type[R], record: Any) -> R | None:
    """``model`` from JSON (the cache's, a write's answer, a draft's copy) — or the record itself when
    it is one already; None when it is not a record (no integer id)."""
    if isinstance(record, model):
        return record
    if isinstance(record, dict) and isinstance(record.get("id"), int):
        return model.model_validate(record)
    return None


def as_order(record: Any) -> Order | None:
    return record_as(Order, record)


def as_me(record: Any) -> Me | None:
    """Who is signed in, from ``/me``'s JSON (the cache's copy, the identity's); None also for a
    stored copy that is no ``/me`` answer (an old cache must not stop the start)."""
    try:
        return record_as(Me, record)
    except ValidationError:
        return None


def as_offering(record: Any) -> Offering | None:
    return record_as(Offering, record)


def as_organization(record: Any) -> Organization | None:
    return record_as(Organization, record)


def as_invoice(record: Any) -> Invoice | None:
    return record_as(Invoice, record)


T = TypeVar("T")


class Page(ApiModel, Generic[T]):
    """One page of a list. ``total`` comes only on the first page of a delta sync of offerings."""

    items: list[T]
    next_cursor: str | None = None
    total: int | None = None
    sync_position: int | None = None  # a delta sync's change-log position to ask from next time
    resync: bool | None = None  # the position asked for could not be continued: start over


__all__ = [
    "Actor", "Address", "ApiModel", "AuditActor", "AuditEntry", "AuditTarget", "BilledUnits", "BillingRun", "Contact", "Dispute",
    "Fees", "Invoice", "InvoiceLine", "Me",
    "Offering", "OfferingRef", "Order", "OrderEvent", "Organization", "Page", "Payment", "Ref", "Review", "Token",
    "UsageReport", "User", "VatGroup", "as_invoice", "as_me", "as_offering", "as_order", "as_organization", "record_as",
]
