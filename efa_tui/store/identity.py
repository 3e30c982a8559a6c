"""Whose local state this is: an identity is a server and a user on it, as ``/me`` answers.

Cache, sync points, outbox items and drafts belong to one identity. Before ``/me`` has answered
the client knows only its credential (server and token); ``credentials`` in the local state
remember which identity a credential answered as last time, so a restart with the same token
shows that identity's cache at once, and a new token shows nothing until ``/me`` has said who it
is. Each identity has its own cache file, named by a hash of its key (no server URL in a file
name).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .local import LocalDB

log = logging.getLogger("efa_tui.store")

PROVISIONAL = "credential:"  # owner of writes made before /me answered (adopted when it does)


def server_key(server_url: str | None, *, embedded_database: str | None = None) -> str:
    """What names a server across runs: its URL, or for the embedded demo its database (the
    embedded server gets a new port every run, its data stays)."""
    if server_url:
        return server_url.rstrip("/")
    return f"embedded:{embedded_database or 'default'}"


def fingerprint(server: str, token: str) -> str:
    """A credential, hashed: which identity a token answered as is remembered without the token."""
    return hashlib.sha256(f"{server}\0{token}".encode()).hexdigest()


@dataclass(frozen=True)
class Identity:
    server: str
    user_id: int
    me: dict[str, Any]  # the last /me answer: name, role, organisation

    @property
    def key(self) -> str:
        return f"{self.server}#{self.user_id}"

    def label(self) -> str:
        """Who, for people: "Stadt Jena (customer)" — the organisation and role, else the user."""
        org = (self.me.get("organization") or {}).get("name") or self.me.get("name") or f"#{self.user_id}"
        role = self.me.get("role")
        return f"{org} ({role})" if role else str(org)


def cache_file(cache_dir: Path, key: str) -> Path:
    return cache_dir / "identities" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.sqlite3"


def drop_legacy_caches(cache_dir: Path) -> list[Path]:
    """Remove the caches of before identities (one file per profile, beside ``identities/``): they
    may hold another identity's rows. A cache is a copy; the next sync loads everything again."""
    gone: list[Path] = []
    try:
        names = [p for p in cache_dir.iterdir() if p.is_file() and ".sqlite3" in p.name]
    except OSError:
        return gone
    for path in names:
        try:
            path.unlink()
            gone.append(path)
        except OSError as exc:
            log.warning("cannot remove the old cache %s: %s", path, exc)
    if gone:
        log.info("removed %d cache files of the single-profile layout", len(gone))
    return gone


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Identities:
    """The identities known to this machine's local state, and which credential answered as whom."""

    def __init__(self, db: LocalDB):
        self.db = db

    def for_credential(self, credential: str) -> Identity | None:
        rows = self.db.read("SELECT i.server, i.user_id, i.me FROM credentials c JOIN identities i ON i.key = c.identity "
                            "WHERE c.fingerprint = ?", (credential,))
        return self._identity(rows[0]) if rows else None

    def get(self, key: str) -> Identity | None:
        rows = self.db.read("SELECT server, user_id, me FROM identities WHERE key = ?", (key,))
        return self._identity(rows[0]) if rows else None

    def remember(self, identity: Identity, credential: str) -> None:
        now = _now()
        with self.db.lock:
            self.db.write("INSERT INTO identities (key, server, user_id, me, last_used) VALUES (?, ?, ?, ?, ?) "
                          "ON CONFLICT (key) DO UPDATE SET me = excluded.me, last_used = excluded.last_used",
                          (identity.key, identity.server, identity.user_id, json.dumps(identity.me, default=str), now))
            self.db.write("INSERT INTO credentials (fingerprint, identity, seen_at) VALUES (?, ?, ?) "
                          "ON CONFLICT (fingerprint) DO UPDATE SET identity = excluded.identity, seen_at = excluded.seen_at",
                          (credential, identity.key, now))

    @staticmethod
    def _identity(row) -> Identity:
        try:
            me = json.loads(row["me"])
        except ValueError:
            me = {}
        return Identity(row["server"], int(row["user_id"]), me if isinstance(me, dict) else {})


def owner_label(owner: str, identities: Identities) -> str:
    """Whose an outbox item or draft is, for the outbox screen."""
    identity = identities.get(owner)
    if identity is not None:
        return identity.label()
    return ""


__all__ = ["Identity", "Identities", "PROVISIONAL", "cache_file", "drop_legacy_caches", "fingerprint", "owner_label",
           "server_key"]
