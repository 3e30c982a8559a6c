"""Messages of the orders screens: id → (Deutsch, English)."""

MESSAGES: dict[str, tuple[str, str]] = {
}
