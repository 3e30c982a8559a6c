"""What the services answer: a read with its age, and the one outcome of a write.

A read (``Read``) carries the data, how old it is (ISO time, UTC: the moment the server answered,
or for what the cache answers the sync point of its kind, None when never synced) and whether it
came from the local cache because the server was away.

A write ends in exactly one of four ways (``Outcome``), made from the outbox item as the first
attempt left it:

* ``Done`` — the server accepted it; ``record`` is its answer (the record's new state);
* ``Queued`` — stored in the outbox, not yet accepted (offline, or the server busy): it is sent
  exactly once when the server is back;
* ``Refused`` — the server said no (422 with field errors, 403, 404 …); ``problem`` is its
  problem document, ``field_errors`` the per-field messages;
* ``Conflict`` — 412: someone changed the record first; ``current`` is its current version and
  ``etag`` that version's ETag, fetched by ``Writes.submit`` right after the refusal (None when the
  server could not say: ``current_error`` tells why).

``item_id`` names the outbox item behind the outcome (discard a refusal, load the conflict).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from ..store.outbox import CONFLICT, DONE, PENDING, OutboxItem

T = TypeVar("T")


@dataclass(frozen=True)
class Read(Generic[T]):
    """Data from a service with its age; ``offline``: the cache answered, the server did not."""

    value: T
    as_of: str | None = None
    offline: bool = False


def now() -> str:
    """The age of what the server has just answered (the sync points' format)."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    message_de: str | None = None


@dataclass(frozen=True)
class Done:
    item_id: int
    record: Any  # the server's answer (a record as JSON), or None for an empty answer
    etag: str | None = None  # the answer's ETag: the version ``record`` is (If-Match for the next step)


@dataclass(frozen=True)
class Queued:
    item_id: int


@dataclass(frozen=True)
class Refused:
    item_id: int
    problem: dict[str, Any] = field(default_factory=dict)
    detail: str = ""  # the problem's detail or title, or the transport error: never empty when known

    @property
    def field_errors(self) -> tuple[FieldError, ...]:
        return tuple(FieldError(str(e.get("field") or ""), str(e.get("message") or ""), e.get("message_de"))
                     for e in self.problem.get("errors") or [])


@dataclass(frozen=True)
class Conflict:
    item_id: int
    problem: dict[str, Any] = field(default_factory=dict)
    current: Any = None  # the record as the server holds it now (JSON), None when it could not be read
    etag: str | None = None  # the ETag of ``current``: a new attempt on top of it sends this
    current_error: str = ""  # why ``current`` is None (the server away, or it refused the read)


Outcome = Done | Queued | Refused | Conflict


def outcome_of(item: OutboxItem) -> Outcome:
    """The outcome an outbox item stands for after an attempt."""
    if item.state == DONE:
        return Done(item.id, item.response, item.etag)
    if item.state == PENDING:
        return Queued(item.id)
    problem = dict(item.problem or {})
    if item.state == CONFLICT:
        return Conflict(item.id, problem)
    detail = str(problem.get("detail") or problem.get("title") or item.last_error or "")
    return Refused(item.id, problem, detail)
