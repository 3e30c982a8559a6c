"""Drafts of half-filled forms, saved on every change so that nothing typed is ever lost."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from .local import LocalDB


class Drafts:
    def __init__(self, db: LocalDB, profile: str = ""):
        self.db = db
        self.profile = profile

    def save(self, key: str, data: dict[str, Any]) -> None:
        self.db.write(
            "INSERT INTO drafts(key, profile, data, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            (self._key(key), self.profile, json.dumps(data, ensure_ascii=False, default=str), _now()),
        )

    def load(self, key: str) -> dict[str, Any] | None:
        rows = self.db.read("SELECT data FROM drafts WHERE key = ?", (self._key(key),))
        return json.loads(rows[0]["data"]) if rows else None

    def delete(self, key: str) -> None:
        self.db.write("DELETE FROM drafts WHERE key = ?", (self._key(key),))

    def keys(self) -> list[str]:
        prefix = f"{self.profile}:"
        return [r["key"][len(prefix):] for r in self.db.read(
            "SELECT key FROM drafts WHERE profile = ? ORDER BY updated_at DESC", (self.profile,))]

    def _key(self, key: str) -> str:
        # Drafts of one profile (server) never show up under another.
        return f"{self.profile}:{key}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
