"""XRechnung 3.0 (EN 16931 CII): build an invoice document and validate one.

Used by the server (build) and the client (validate); no Textual, no HTTP.
"""

from .model import InvoiceDocument, InvoiceLineItem, Party  # noqa: F401
