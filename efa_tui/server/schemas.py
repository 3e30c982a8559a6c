"""The server's answers as the OpenAPI document describes them: one pydantic model per record.

These models document; they do not serialise. The routes build their JSON themselves (the
``serialize`` functions beside them, cached catalog pages, ETags over the exact bytes, answers
replayed by ``idempotency``) and return a ``Response``, which FastAPI hands out unchanged even when
the route names a ``response_model`` — so every answer stays byte for byte what it was and costs
nothing more, while the document names its schema. ``tests/test_schemathesis.py`` checks the real
answers against these schemas (``response_schema_conformance``) as every role; every model forbids
fields it does not name, so a field added to an answer without adding it here fails that test.

The client reads these answers with its own, tolerant models (``api/models.py``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from ..domain.administration import ACCREDITATION_STATES, TOKEN_SCOPES
from ..domain.orders import Action, OrderState
from ..domain.pricing import DistributionKey
from .auth import ROLES

if TYPE_CHECKING:
    Role = str
    Scope = str
    AccreditationState = str
else:  # the document names the values the domain defines
    Role = Literal[ROLES]
    Scope = Literal[TOKEN_SCOPES]
    AccreditationState = Literal[ACCREDITATION_STATES]

# Money on the wire: a decimal string with exactly two decimals ("1234.50"), never a JSON number.
Money = Annotated[str, Field(pattern=r"^-?[0-9]+\.[0-9]{2}$", examples=["1234.50"])]
# A quantity or price as stated on an invoice line: a plain decimal string ("12", "0.125").
DecimalText = Annotated[str, Field(pattern=r"^-?[0-9]+(\.[0-9]+)?$", examples=["12", "0.125"])]
# What an answer may leave out (the first page of a delta sync alone says how many follow).
OptionalCount = Annotated[int | None, WithJsonSchema({"type": "integer", "minimum": 0})]
OptionalTrue = Annotated[bool | None, WithJsonSchema({"type": "boolean", "const": True})]


class Wire(BaseModel):
    """An answer's shape: every field named, no other field."""

    model_config = ConfigDict(extra="forbid")


class Ref(Wire):
    """Another record named by id and name (a provider, a customer, an issuer)."""

    id: int
    name: str


class Page(Wire):
    """One page of a list; pass ``next_cursor`` back as ``cursor`` for the next (null: the last)."""

    next_cursor: str | None


class DeltaPage(Page):
    """A page of a list that can be synced by delta: a delta sync's answer says where to go on from."""

    sync_position: OptionalCount = Field(default=None, description="on a delta sync: the change-log position to ask from next time")
    resync: OptionalTrue = Field(default=None, description="on a delta sync: the position asked for could not be continued "
                                 "(purged or of another database): sync afresh")


# --- health ------------------------------------------------------------------------------------------


class Health(Wire):
    status: Literal["ok"]
    version: str


class Readiness(Wire):
    status: Literal["ready"]
    version: str
    schema_: str = Field(alias="schema", description="the database's schema revision")


# --- organisations, /me, users, tokens, audit --------------------------------------------------------


class Address(Wire):
    street: str
    postcode: str
    city: str
    country: str


class AccreditationStatus(Wire):
    """An organisation's standing at the marketplace, with who changed it, when and why."""

    state: AccreditationState
    at: datetime | None
    by: str | None
    reason: str | None


class Organization(Wire):
    id: int
    key: str
    # One word for older clients, derived from ``roles``: operator, else customer when it orders, else provider.
    kind: Literal["operator", "provider", "customer"]
    roles: list[Literal["operator", "customer", "provider"]]  # its roles in the marketplace, a set
    user_roles: list[Literal["operator", "support", "customer", "provider"]]  # what its users may be
    name: str
    short_name: str
    address: Address
    bundesland: str | None
    email: str
    phone: str
    contact_name: str
    vat_id: str | None
    iban: str | None
    bic: str | None
    ags: str | None
    population: int | None
    leitweg_ids: list[str]  # each checked (MOD 97-10); the first is the default for orders and bills
    leitweg_id: str | None  # the first of ``leitweg_ids``, for older clients
    customer_type: str | None
    inhouse_operator_id: int | None
    inhouse: bool
    inhouse_basis: str | None
    population_date: date | None
    accreditation: AccreditationStatus
    version: int
    updated_at: datetime


class OrganizationPage(DeltaPage):
    items: list[Organization]


class TokenInUse(Wire):
    """The token the request was made with."""

    id: int | None
    scope: Scope


class Me(Wire):
    """The user behind the token, its organisation, and whether it may order (and why not)."""

    id: int
    name: str
    email: str
    role: Role
    admin: bool
    token: TokenInUse
    organization: Organization
    can_order: bool
    can_order_reason: str | None
    can_order_reason_de: str | None


class User(Wire):
    id: int
    organization_id: int
    name: str
    email: str
    role: Role
    admin: bool
    disabled: bool
    demo: bool
    created_at: datetime | None
    version: int


class UserPage(Page):
    items: list[User]


class Token(Wire):
    """A token as lists show it: never its secret."""

    id: int
    user_id: int
    name: str
    scope: Scope
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenPage(Page):
    items: list[Token]


class NewToken(Token):
    """A token just issued, with its secret once; a replay of the request (Idempotency-Key)
    answers null here: the secret is not stored."""

    token: str | None


class AuditActor(Wire):
    id: int | None
    name: str
    organization_id: int | None


class AuditTarget(Wire):
    kind: Literal["organization", "user", "token"]
    id: int


class AuditEntry(Wire):
    """One administrative change: who, when, what, the record before and after."""

    id: int
    at: datetime
    actor: AuditActor
    action: str
    target: AuditTarget
    organization_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(Page):
    items: list[AuditEntry]


# --- offerings ---------------------------------------------------------------------------------------


class OfferingRef(Wire):
    id: int
    title: str


class OfferingFees(Wire):
    annual_fee: Money
    one_time_fee: Money
    distribution_key: DistributionKey
    unit_price: Money | None
    unit_label: str | None
    vat_rate: Money


class Contact(Wire):
    name: str
    email: str
    phone: str


class Offering(Wire):
    id: int
    title: str
    summary: str
    description: str
    category: str
    leika_key: str
    ozg_id: str
    bundeslaender: list[str] = Field(description="two-letter codes; empty: nationwide")
    maturity: int
    provider: Ref
    fees: OfferingFees
    contract_terms: str
    minimum_term_months: int
    notice_period_months: int
    contact: Contact
    keywords: list[str]
    status: Literal["draft", "published", "retired"]
    version: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None


class OfferingTombstone(Wire):
    """In a delta sync: an offering deleted, or gone from the caller's view."""

    id: int
    tombstone: Literal[True]
    status: Literal["deleted", "draft", "published", "retired"]
    updated_at: datetime


class OfferingPage(DeltaPage):
    items: list[Offering | OfferingTombstone]
    total: OptionalCount = Field(default=None, description="on the first page of a delta sync only: how many records follow")


# --- orders ------------------------------------------------------------------------------------------


class OrderFees(Wire):
    """The fees proposed, frozen by the binding order."""

    annual_fee: Money
    one_time_fee: Money
    distribution_key: DistributionKey
    unit_price: Money | None
    vat_rate: Money


class Order(Wire):
    id: int
    offering: OfferingRef
    customer: Ref
    provider: Ref
    state: OrderState
    message: str
    desired_start: date | None
    contact_name: str
    leitweg_id: str
    cost_centre: str
    target_group_size: int | None
    fees: OrderFees | None = Field(description="from the proposal on")
    terms: str
    minimum_term_months: int
    notice_period_months: int
    start_date: date | None
    end_date: date | None
    ordered_at: datetime | None
    ordered_by: str | None
    allowed_actions: list[Action] = Field(description="what the caller may do next")
    version: int
    created_at: datetime
    updated_at: datetime


class OrderPage(DeltaPage):
    items: list[Order]


class OrderActor(Wire):
    name: str
    role: str
    organization: str | None


class OrderEvent(Wire):
    """One step of an order's audit trail."""

    id: int
    action: Literal["create"] | Action
    from_state: OrderState | None
    to_state: OrderState
    actor: OrderActor
    note: str
    data: dict[str, Any] | None
    at: datetime


class OrderEventPage(Page):
    items: list[OrderEvent]


# --- usage -------------------------------------------------------------------------------------------


class UsageReport(Wire):
    id: int
    order_id: int
    year: int
    month: int
    cases: int
    reported_at: datetime
    updated_at: datetime


class UsageReplacement(UsageReport):
    """A figure replaced: the report, and the figure it replaced."""

    replaced_cases: int


class UsagePage(Page):
    items: list[UsageReport]


# --- invoices and credit notes -----------------------------------------------------------------------


class PaymentDetails(Wire):
    """How to pay: a credit note asks no payment (no IBAN)."""

    means: Literal["SEPA credit transfer", "settlement"]
    iban: str | None
    bic: str | None
    account_name: str


class Review(Wire):
    """The customer's invoice check: sachlich richtig (factual) and rechnerisch richtig (arithmetic)."""

    factual_ok_by: str | None
    factual_ok_at: datetime | None
    arithmetic_ok_by: str | None
    arithmetic_ok_at: datetime | None


class InvoiceSummary(Wire):
    """An invoice or credit note as lists show it (no lines)."""

    id: int
    number: str
    kind: Literal["invoice", "credit_note"]
    customer: Ref
    issuer: Ref
    year: int
    period_start: date
    period_end: date
    issue_date: date
    due_date: date
    status: Literal["issued", "paid", "cancelled"]
    overdue: bool
    paid_amount: Money
    credited_amount: Money = Field(description="by partial credit notes")
    open_amount: Money
    partially_paid: bool
    credit_scope: Literal["partial", "full"] | None = Field(description="a credit note's")
    net: Money
    vat: Money
    gross: Money
    currency: Literal["EUR"]
    leitweg_id: str
    payment: PaymentDetails
    cancels_invoice: str | None = Field(description="the number of the invoice a credit note credits")
    paid_at: datetime | None
    cancelled_at: datetime | None
    review: Review
    version: int
    updated_at: datetime
    disputed_lines: int = Field(description="how many lines the customer disputes")


class VatGroup(Wire):
    rate: Money
    basis: Money
    tax: Money


class BilledUnits(Wire):
    """A line as the XRechnung states it: quantity (unit code) × price per base quantity."""

    quantity: DecimalText
    unit_code: str
    price: DecimalText
    base_quantity: DecimalText


class Dispute(Wire):
    by: str | None
    at: datetime
    reason: str | None


class InvoiceLine(Wire):
    id: int
    position: int
    order_id: int | None
    offering_id: int | None
    kind: str
    name: str
    description: str
    quantity: DecimalText
    unit_price: Money
    months: int
    net: Money
    vat_rate: Money
    vat: Money
    gross: Money
    period_start: date | None
    period_end: date | None
    billed: BilledUnits
    dispute: Dispute | None


class PaymentRecord(Wire):
    """A payment booked by the operator, as the bank statement shows it."""

    id: int
    value_date: date
    amount: Money
    bank_reference: str
    recorded_by: str
    recorded_at: datetime


class ReviewEvent(Wire):
    """One step of the invoice check: a sign-off, its withdrawal, a dispute, its end, a credit note."""

    action: str
    line_ids: list[int]
    reason: str
    by: str
    role: str
    at: datetime


class CreditNoteRef(Wire):
    id: int
    number: str
    gross: Money
    issue_date: date
    scope: Literal["partial", "full"]


class Invoice(InvoiceSummary):
    """One invoice or credit note with its lines, VAT breakdown, payments, check history and the
    credit notes issued on it."""

    vat_breakdown: list[VatGroup]
    lines: list[InvoiceLine]
    payments: list[PaymentRecord]
    review_history: list[ReviewEvent]
    credit_notes: list[CreditNoteRef]


class InvoicePage(DeltaPage):
    items: list[InvoiceSummary]


# --- billing runs ------------------------------------------------------------------------------------


class Skipped(Wire):
    """A customer a billing run leaves out, and why."""

    customer_id: int
    customer_name: str
    reason: str = Field(examples=["no_operator", "nothing_to_bill", "already_billed"])
    detail: str
    vat_category: str | None


class StartedBy(Wire):
    id: int
    name: str | None


class BillingRun(Wire):
    id: int
    year: int
    status: Literal["running", "done", "failed"]
    started_at: datetime
    started_by: StartedBy | None
    finished_at: datetime | None
    contracts_total: int
    contracts_billed: int
    invoices_created: int
    net_total: Money
    gross_total: Money
    skipped: list[Skipped]


class BillingRunPage(Page):
    items: list[BillingRun]


class PlannedInvoice(Wire):
    customer: Ref
    vat_category: str
    lines: int
    net: Money
    gross: Money


class BillingPreview(Wire):
    """What a run would create now (a dry run writes nothing)."""

    year: int
    dry_run: Literal[True]
    contracts_total: int
    invoices_to_create: int
    net_total: Money
    vat_total: Money
    gross_total: Money
    invoices: list[PlannedInvoice]
    skipped: list[Skipped]


# The XRechnung: documented as what it is (the event stream documents itself in routes/events.py).
XML = {"content": {"application/xml": {"schema": {"type": "string", "description": "XRechnung 3.0, UN/CEFACT CII"}}}}
