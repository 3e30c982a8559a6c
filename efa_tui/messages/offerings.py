"""Messages of the offerings screens: id → (Deutsch, English)."""

MESSAGES: dict[str, tuple[str, str]] = {
}
