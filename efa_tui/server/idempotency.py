"""Idempotency-Key on creating and transition POSTs.

Same key and same request → the stored response, replayed. Same key, other request → 422.
Same key while the first is still running → it waits for the first and gets its answer, or 409
(a billing run, which commits in steps). The key, the business write and the stored response
commit in one transaction, so a reply lost after the commit is replayed, never redone, and a
write costs one transaction, not two (a claim committed on its own was a second commit per order).
A record left "running" (a billing run's, by a crashed process) is taken over after LEASE.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from . import db
from .auth import User
from .problems import ApiProblem

LEASE = timedelta(seconds=60)
KEEP = timedelta(days=8)  # at least 7 days, as the API promises
MAX_KEY = 200

# A unit of work: runs inside the write transaction, returns the response to send (and store).
Work = Callable[[Connection], Response]


def fingerprint(request: Request, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.url.path}\n{canonical}".encode()).hexdigest()


def _replay(row) -> Response:
    headers = dict(row.response_headers or {})
    headers["Idempotent-Replayed"] = "true"
    return Response(row.response_body, status_code=row.status_code, headers=headers)


def _stored_headers(resp: Response) -> dict[str, str]:
    keep = ("content-type", "etag", "location")
    return {k: v for k, v in resp.headers.items() if k.lower() in keep}


def run(request: Request, user: User, body: Any, work: Work, *, own_transactions: bool = False,
        stored: Callable[[Response], Response] | None = None) -> Response:
    """Run ``work`` at most once per Idempotency-Key of this user.

    ``own_transactions``: work that commits in steps of its own (a billing run) gets no
    connection and its answer is stored afterwards; it must be safe to repeat by itself.
    ``stored``: what of a successful answer is kept for replays (a new token's secret is not).
    """
    engine = request.app.state.engine
    key = request.headers.get("idempotency-key")
    if key is None:
        if own_transactions:
            return work(None)  # type: ignore[arg-type]
        with db.writing(engine) as conn:
            return work(conn)
    key = key.strip()
    if not key or len(key) > MAX_KEY:
        raise ApiProblem(400, f"Idempotency-Key must be 1–{MAX_KEY} characters", type="invalid-idempotency-key",
                         detail_de=f"Der Idempotency-Key muss 1 bis {MAX_KEY} Zeichen lang sein")
    digest = fingerprint(request, body)
    t = db.idempotency_keys
    who = and_(t.c.user_id == user.id, t.c.key == key)

    if not own_transactions:
        return _in_one_transaction(engine, who, user, key, digest, work, stored)

    try:
        with db.writing(engine) as conn:
            replay = _claim(conn, who, user, key, digest)
    except IntegrityError:
        # Another server process inserted the same key between our read and our insert (on
        # PostgreSQL the unique index makes us wait for its commit): its record decides.
        replay = _answer_of(engine, who, digest)
    if replay is not None:
        return replay

    try:
        resp = work(None)  # type: ignore[arg-type]
        with db.writing(engine) as conn:
            _finish(conn, who, resp)
        return resp
    except ApiProblem as problem:
        # A refusal is an answer too: store it so that a retry sees the same one.
        resp = problem.response()
        if problem.status in (409, 429) or problem.status >= 500:
            _forget(engine, who)
        else:
            with db.writing(engine) as conn:
                _finish(conn, who, resp)
        return resp
    except BaseException:
        _forget(engine, who)
        raise


def _in_one_transaction(engine, who, user: User, key: str, digest: str, work: Work,
                        stored: Callable[[Response], Response] | None) -> Response:
    """Claim, work and stored answer in one write transaction. A second request with the key
    meanwhile waits on the key's unique index (PostgreSQL) or the write lock (SQLite) until this
    one commits, then replays its answer."""
    try:
        with db.writing(engine) as conn:
            replay = _claim(conn, who, user, key, digest)
            if replay is not None:
                return replay
            resp = work(conn)
            _finish(conn, who, stored(resp) if stored else resp)
        return resp
    except ApiProblem as problem:
        if problem.type in _CLAIM_REFUSALS:
            raise  # the key's own answer (422 reused, 409 running): nothing to store
        resp = problem.response()
        if problem.status in (409, 429) or problem.status >= 500:
            return resp  # the rollback forgot the key: a retry runs afresh
        # A refusal is an answer too: store it so that a retry sees the same one.
        try:
            with db.writing(engine) as conn:
                replay = _claim(conn, who, user, key, digest)
                if replay is not None:
                    return replay
                _finish(conn, who, resp)
        except IntegrityError:
            return _answer_of(engine, who, digest) or resp
        return resp
    except IntegrityError:
        # The same key committed by another process while we ran (we waited on its unique
        # index), or a concurrent change of the business rows: the key's record tells which.
        replay = _answer_of(engine, who, digest)
        if replay is not None:
            return replay
        raise ApiProblem(409, "a concurrent change got there first; retry", type="conflict",
                         detail_de="Eine gleichzeitige Änderung war schneller; versuchen Sie es noch einmal",
                         headers={"Retry-After": "1"}) from None


_CLAIM_REFUSALS = frozenset({"idempotency-key-reused", "idempotency-in-progress"})


def _answer_of(engine, who, digest: str) -> Response | None:
    """The answer for a key another request holds (replay, 422, 409), None if there is none."""
    t = db.idempotency_keys
    with db.reading(engine) as conn:
        row = conn.execute(select(t).where(who)).first()
    if row is None:
        return None
    if row.request_hash != digest:
        return _reused().response()
    if row.state == "done":
        return _replay(row)
    return _running().response()


def _reused() -> ApiProblem:
    return ApiProblem(422, "this Idempotency-Key was already used for a different request; use a new key",
                      type="idempotency-key-reused",
                      detail_de="Dieser Idempotency-Key wurde schon für eine andere Anfrage verwendet; "
                                "verwenden Sie einen neuen Schlüssel")


def _running() -> ApiProblem:
    return ApiProblem(409, "a request with this Idempotency-Key is still running; retry shortly",
                      type="idempotency-in-progress", headers={"Retry-After": "1"},
                      detail_de="Eine Anfrage mit diesem Idempotency-Key läuft noch; versuchen Sie es gleich noch einmal")


def _claim(conn: Connection, who, user: User, key: str, digest: str) -> Response | None:
    """Take the key for this request in ``conn``'s transaction (None: go ahead), or the answer
    for a key already taken: the stored response, 422 for another request, 409 while the first
    one runs."""
    t = db.idempotency_keys
    row = conn.execute(select(t).where(who)).first()
    now = db.utcnow()
    if row is None:
        conn.execute(insert(t).values(user_id=user.id, key=key, request_hash=digest, state="running", created_at=now))
        return None
    if row.request_hash != digest:
        raise _reused()
    if row.state == "done":
        return _replay(row)
    if now - row.created_at >= LEASE:
        # Abandoned by a crashed worker: take it over — one taker only, by compare-and-set.
        taken = conn.execute(update(t).where(who, t.c.state == "running", t.c.created_at == row.created_at)
                             .values(created_at=now)).rowcount
        if taken:
            return None
    raise _running()


def _finish(conn: Connection, who, resp: Response) -> None:
    conn.execute(
        update(db.idempotency_keys).where(who).values(
            state="done", status_code=resp.status_code, response_body=bytes(resp.body),
            response_headers=_stored_headers(resp),
        )
    )


def _forget(engine, who) -> None:
    with db.writing(engine) as conn:
        conn.execute(delete(db.idempotency_keys).where(who))


def purge(engine) -> int:
    """Drop keys older than KEEP; called at start-up and hourly."""
    with db.writing(engine) as conn:
        return conn.execute(delete(db.idempotency_keys).where(db.idempotency_keys.c.created_at < db.utcnow() - KEEP)).rowcount
