"""The wire: an async httpx client of the marketplace API, typed models of its JSON, and its
errors (problem+json as exceptions). Headless: never imports Textual."""

from .client import ApiClient, ApiResponse
from .errors import (
    ApiError, BadRequest, Conflict, FieldError, Forbidden, NotFound, PreconditionFailed, PreconditionRequired,
    RateLimited, ServerError, Unauthorized, Unreachable, ValidationFailed, is_retryable_status,
)
from .models import (
    BillingRun, Contact, Fees, Invoice, InvoiceLine, Me, Offering, Order, OrderEvent, Organization, Page, Ref,
    UsageReport,
)

__all__ = [
    "ApiClient", "ApiError", "ApiResponse", "BadRequest", "BillingRun", "Conflict", "Contact", "Fees", "FieldError",
    "Forbidden", "Invoice", "InvoiceLine", "Me", "NotFound", "Offering", "Order", "OrderEvent", "Organization", "Page",
    "PreconditionFailed", "PreconditionRequired", "RateLimited", "Ref", "ServerError", "Unauthorized", "Unreachable",
    "UsageReport", "ValidationFailed", "is_retryable_status",
]
