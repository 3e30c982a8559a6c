"""The wire: an async httpx client of the marketplace API, typed models of its JSON, and its
errors (problem+json as exceptions). Headless: never imports Textual."""

# Names are loaded on first use (PEP 562): importing ``efa_tui.api.errors`` stays cheap, and
# the app paints its first screen before httpx and the pydantic models are loaded.
_MODULES = {
    "ApiClient": "client", "ApiResponse": "client",
    "BilledUnits": "models", "BillingRun": "models", "Contact": "models", "Fees": "models", "Invoice": "models", "InvoiceLine": "models",
    "Me": "models", "Offering": "models", "Order": "models", "OrderEvent": "models", "Organization": "models",
    "Page": "models", "Ref": "models", "UsageReport": "models",
}


def __getattr__(name: str) -> object:
    import importlib

    if name in _MODULES:
        return getattr(importlib.import_module(f".{_MODULES[name]}", __name__), name)
    # Not ``from . import errors``: that asks this very function for "errors" while a submodule
    # (``from . import routes``) is being imported, and recurses.
    errors = importlib.import_module(".errors", __name__)
    try:
        return getattr(errors, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


__all__ = [
    "ApiClient", "ApiError", "ApiResponse", "BadRequest", "BilledUnits", "BillingRun", "Conflict", "Contact", "Fees", "FieldError",
    "Forbidden", "Invoice", "InvoiceLine", "Me", "NotFound", "Offering", "Order", "OrderEvent", "Organization", "Page",
    "PreconditionFailed", "PreconditionRequired", "RateLimited", "Ref", "ServerError", "Unauthorized", "Unreachable",
    "UsageReport", "ValidationFailed", "is_retryable_status",
]
