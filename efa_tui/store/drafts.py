"""Drafts of half-filled forms, saved on every change so that nothing typed is ever lost.

A draft belongs to the identity that typed it (``owner``, see ``store/identity.py``): another
identity never sees it, not even one that signs in with the same profile."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from .local import LocalDB


class Drafts:
    def __init__(self, db: LocalDB, owner: str = ""):
        self.db = db
        self.owner = owner

    def switch(self, owner: str) -> None:
        self.owner = owner

    def adopt(self, previous: str) -> int:
        """Drafts typed under ``previous`` (a credential before /me answered) are the owner's; one
        the owner already has under the same key stays (the other is kept where it was)."""
        if previous == self.owner:
            return 0
        return self.db.write(
            "UPDATE OR IGNORE drafts SET owner = ?, key = ? || substr(key, ?) WHERE owner = ?",
            (self.owner, f"{self.owner}:", len(previous) + 2, previous)).rowcount

    def save(self, key: str, data: dict[str, Any]) -> None:
        self.db.write(
            "INSERT INTO drafts(key, owner, data, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            (self._key(key), self.owner, json.dumps(data, ensure_ascii=False, default=str), _now()),
        )

    def load(self, key: str) -> dict[str, Any] | None:
        rows = self.db.read("SELECT data FROM drafts WHERE key = ? AND owner = ?", (self._key(key), self.owner))
        return json.loads(rows[0]["data"]) if rows else None

    def delete(self, key: str) -> None:
        self.db.write("DELETE FROM drafts WHERE key = ? AND owner = ?", (self._key(key), self.owner))

    def keys(self) -> list[str]:
        prefix = f"{self.owner}:"
        return [r["key"][len(prefix):] for r in self.db.read(
            "SELECT key FROM drafts WHERE owner = ? ORDER BY updated_at DESC", (self.owner,))]

    def _key(self, key: str) -> str:
        return f"{self.owner}:{key}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
