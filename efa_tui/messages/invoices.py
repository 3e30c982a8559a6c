"""Messages of the invoices screens: id → (Deutsch, English)."""

MESSAGES: dict[str, tuple[str, str]] = {
}
