"""The outbox: every write the user submits, stored with its Idempotency-Key before it is sent.

Sent exactly once across retries, restarts and ``kill -9``: an item stays ``pending`` until the
server's answer is recorded, and a resend carries the same key, so the server replays its first
answer instead of acting twice. Refusals the user must look at are kept, never dropped:

* ``needs_attention`` — a 4xx the user can fix (422 with field errors, 403, 404 …), with the
  server's problem document; fixed with ``retry(body=…)`` (a new key: the request changed) or
  dropped with ``discard``;
* ``conflict`` — 412: someone else changed the record; the UI shows both versions.

408, 409 (still running), 425, 429, 5xx and unreachable servers leave the item pending.

Every item belongs to the identity that made it (``owner``, see ``store/identity.py``). An outbox
lists and sends only its owner's items, and sends nothing until ``/me`` has confirmed that the
token it sends with is that owner's (``may_send``); another identity's items wait for it.
Items from before owners existed (``legacy:<profile>``) are kept and shown, and sent only when
the user sends one again by hand (``retry``: then it becomes the current identity's).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ..api.errors import RETRYABLE_CONFLICTS, ApiError, Unreachable
from .local import LEGACY, LocalDB

log = logging.getLogger("efa_tui.store")

PENDING = "pending"
DONE = "done"
NEEDS_ATTENTION = "needs_attention"
CONFLICT = "conflict"
DISCARDED = "discarded"
TRANSIENT_STATUSES = frozenset({408, 409, 425, 429})


def transient(exc: ApiError) -> bool:
    """Will the same request go through later? A 409 only when the server says so (its first
    request with this key still running): any other 409 is a refusal — a wrong state, a
    self-lockout, a key taken — that no retry changes, and waiting for ever in the outbox hid it."""
    if exc.status == 409:
        return exc.type in RETRYABLE_CONFLICTS
    return exc.status in TRANSIENT_STATUSES or exc.status >= 500


@dataclass(frozen=True)
class OutboxItem:
    id: int
    created_at: str
    kind: str  # e.g. "order.create", "order.transition", "offering.patch", "invoice.review"
    label: str  # what the user did, in their words, for the status line and the list
    method: str
    path: str
    body: Any
    idempotency_key: str
    if_match: str | None
    related: str | None  # e.g. "order:42": lets a screen show pending writes on that record
    state: str
    attempts: int
    last_error: str | None
    problem: dict | None
    response: Any
    owner: str = ""  # the identity that made it (see store/identity.py)
    # The ETag of the server's answer, as the attempt that got it saw it (kept in memory only: the
    # one who submitted shows that version and may send If-Match with it, without a read).
    etag: str | None = None

    @classmethod
    def from_row(cls, row) -> OutboxItem:
        return cls(
            id=row["id"], created_at=row["created_at"], kind=row["kind"], label=row["label"], method=row["method"],
            path=row["path"], body=_loads(row["body"]), idempotency_key=row["idempotency_key"], if_match=row["if_match"],
            related=row["related"], state=row["state"], attempts=row["attempts"], last_error=row["last_error"],
            problem=_loads(row["problem"]), response=_loads(row["response"]), owner=row["owner"],
        )


@dataclass
class FlushResult:
    sent: int = 0
    attention: int = 0
    conflicts: int = 0
    remaining: int = 0
    unreachable: bool = False


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Outbox:
    """The writes of one identity (``owner``). ``may_send``: its token is confirmed to be that
    identity's (the session sets it once ``/me`` has answered)."""

    def __init__(self, db: LocalDB, owner: str = "", *, may_send: bool = True):
        self.db = db
        self.owner = owner
        self.may_send = may_send
        self._flushing = asyncio.Lock()

    def switch(self, owner: str, *, may_send: bool) -> None:
        """Another identity from now on (its items, its token)."""
        self.owner = owner
        self.may_send = may_send

    def adopt(self, previous: str) -> int:
        """Items written under ``previous`` (a credential before /me answered) are the owner's."""
        if previous == self.owner:
            return 0
        return self.db.write("UPDATE outbox SET owner = ? WHERE owner = ?", (self.owner, previous)).rowcount

    # --- recording ------------------------------------------------------------------------

    def enqueue(self, kind: str, method: str, path: str, body: Any = None, *, if_match: str | None = None,
                label: str = "", related: str | None = None) -> OutboxItem:
        """Store a write durably (fsync'd) with a fresh Idempotency-Key; send it with flush()."""
        now, key = _now(), str(uuid.uuid4())
        stored = _dumps(body)
        cur = self.db.write(
            "INSERT INTO outbox(created_at, updated_at, owner, kind, label, method, path, body, idempotency_key, "
            "if_match, related, state) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (now, now, self.owner, kind, label, method.upper(), path, stored, key, if_match, related, PENDING),
        )
        assert cur.lastrowid is not None  # an INSERT always has one
        # The item as stored (the body as it reads back from JSON), without reading it back.
        return OutboxItem(id=cur.lastrowid, created_at=now, kind=kind, label=label, method=method.upper(), path=path,
                          body=_loads(stored), idempotency_key=key, if_match=if_match, related=related, state=PENDING,
                          attempts=0, last_error=None, problem=None, response=None, owner=self.owner)

    def get(self, item_id: int) -> OutboxItem:
        rows = self.db.read("SELECT * FROM outbox WHERE id = ?", (item_id,))
        if not rows:
            raise KeyError(item_id)
        return OutboxItem.from_row(rows[0])

    def items(self, *states: str, related: str | None = None) -> list[OutboxItem]:
        sql = "SELECT * FROM outbox WHERE owner = ?"
        params: list[Any] = [self.owner]
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            params += states
        if related is not None:
            sql += " AND related = ?"
            params.append(related)
        return [OutboxItem.from_row(r) for r in self.db.read(sql + " ORDER BY id", tuple(params))]

    def pending(self) -> list[OutboxItem]:
        return self.items(PENDING)

    def others(self, *states: str) -> list[OutboxItem]:
        """Items of other identities (and from before identities) that wait: not this owner's to send."""
        states = states or (PENDING, NEEDS_ATTENTION, CONFLICT)
        return [OutboxItem.from_row(r) for r in self.db.read(
            f"SELECT * FROM outbox WHERE owner != ? AND state IN ({','.join('?' * len(states))}) ORDER BY id",
            (self.owner, *states))]

    def counts(self) -> dict[str, int]:
        rows = self.db.read("SELECT state, count(*) AS n FROM outbox WHERE owner = ? GROUP BY state", (self.owner,))
        return {r["state"]: r["n"] for r in rows}

    def mine(self, item: OutboxItem) -> bool:
        return item.owner == self.owner

    # --- the user's decisions on refused items ------------------------------------------------

    def retry(self, item_id: int, *, body: Any = ..., if_match: str | None = ...) -> OutboxItem:  # type: ignore[assignment]
        """Send a refused item again. A changed body or If-Match is a new request: new key.
        An item from before identities becomes the current owner's (the user decided to send it
        as who they are now); another identity's item cannot be sent from here (ValueError)."""
        item = self.get(item_id)
        if item.owner != self.owner:
            if not item.owner.startswith(LEGACY):
                raise ValueError(f"outbox item {item_id} belongs to another identity")
            self.db.write("UPDATE outbox SET owner = ? WHERE id = ?", (self.owner, item_id))
        new_body = item.body if body is ... else body
        new_match = item.if_match if if_match is ... else if_match
        changed = new_body != item.body or new_match != item.if_match
        self.db.write(
            "UPDATE outbox SET state = ?, body = ?, if_match = ?, idempotency_key = ?, problem = NULL, updated_at = ? "
            "WHERE id = ?",
            (PENDING, _dumps(new_body), new_match, str(uuid.uuid4()) if changed else item.idempotency_key, _now(), item_id),
        )
        return self.get(item_id)

    def discard(self, item_id: int) -> None:
        """The user gave up on a refused item; it is kept (as discarded) for the record."""
        self.db.write("UPDATE outbox SET state = ?, updated_at = ? WHERE id = ? AND state != ? AND (owner = ? OR owner LIKE ?)",
                      (DISCARDED, _now(), item_id, DONE, self.owner, LEGACY + "%"))

    # --- sending ------------------------------------------------------------------------------

    async def flush(self, api, *, on_item: Callable[[OutboxItem], Any] | None = None) -> FlushResult:
        """Send pending items in order. Stops at the first unreachable or transient failure,
        so that writes arrive in the order the user made them."""
        result = FlushResult()
        if not self.may_send:  # whose token this is, /me has not said yet: nothing leaves
            result.remaining = len(await asyncio.to_thread(self.pending))
            return result
        async with self._flushing:
            for item in await asyncio.to_thread(self.pending):
                if item.owner != self.owner or not self.may_send:  # the identity changed meanwhile
                    break
                outcome, sent = await self._send(api, item)
                if on_item is not None:  # the item as the attempt left it (what was stored): not read back
                    answer = on_item(sent)
                    if inspect.isawaitable(answer):
                        await answer
                if outcome == DONE:
                    result.sent += 1
                elif outcome == NEEDS_ATTENTION:
                    result.attention += 1
                elif outcome == CONFLICT:
                    result.conflicts += 1
                else:
                    result.unreachable = outcome == "unreachable"
                    break
            result.remaining = len(await asyncio.to_thread(self.pending))
        return result

    async def _send(self, api, item: OutboxItem) -> tuple[str, OutboxItem]:
        """One attempt; the outcome ("done", "needs_attention", "conflict", "unreachable",
        "transient") and the item as this attempt stored it."""
        await asyncio.to_thread(self._record, item.id, "UPDATE outbox SET attempts = attempts + 1, updated_at = ? WHERE id = ?",
                                (_now(), item.id))
        item = replace(item, attempts=item.attempts + 1)
        try:
            resp = await api.request(item.method, item.path, json=item.body, idempotency_key=item.idempotency_key,
                                     if_match=item.if_match, retry=True)
        except Unreachable as exc:
            error = f"unreachable: {exc}"
            await asyncio.to_thread(self._record, item.id, "UPDATE outbox SET last_error = ?, updated_at = ? WHERE id = ?",
                                    (error, _now(), item.id))
            return "unreachable", replace(item, last_error=error)
        except ApiError as exc:
            if exc.status == 412:
                state = CONFLICT
            elif transient(exc):
                await asyncio.to_thread(self._record, item.id, "UPDATE outbox SET last_error = ?, updated_at = ? WHERE id = ?",
                                        (str(exc), _now(), item.id))
                return "transient", replace(item, last_error=str(exc))
            else:
                state = NEEDS_ATTENTION
            problem = _dumps(exc.body or {"status": exc.status, "detail": str(exc)})
            await asyncio.to_thread(
                self._record, item.id, "UPDATE outbox SET state = ?, problem = ?, last_error = ?, updated_at = ? WHERE id = ?",
                (state, problem, str(exc), _now(), item.id))
            log.info("outbox item %s (%s) refused: %s", item.id, item.kind, exc)
            return state, replace(item, state=state, problem=_loads(problem), last_error=str(exc))
        response = _dumps(resp.data if not isinstance(resp.data, bytes) else None)
        await asyncio.to_thread(
            self._record, item.id, "UPDATE outbox SET state = ?, response = ?, last_error = NULL, updated_at = ? WHERE id = ?",
            (DONE, response, _now(), item.id))
        return DONE, replace(item, state=DONE, response=_loads(response), last_error=None, etag=resp.etag)

    def _record(self, _item_id: int, sql: str, params: tuple) -> None:
        self.db.write(sql, params)
