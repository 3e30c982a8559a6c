"""/events: Server-Sent Events of every change the caller may see, resumable by Last-Event-ID.

Events (the SSE ``event`` field):
- ``ready``: the stream is open and caught up; its id is where a client resumes from.
- ``change``: one logged change, data ``{"id", "kind", "action", "record_id", "version", "at"}``.
- ``resync``: the id asked for is older than the retention (or unknown here): the client syncs
  afresh and continues from this event's id.
- ``closed``: the stream's token no longer lets its user in — revoked, expired or the user
  disabled (data ``{"reason"}``, the 401's type) — and the server ends the stream. It notices at
  once when the change log tells of the user (a revoke or disable in any process, within its poll
  interval), at the expiry itself, and in any case within ``events_recheck`` seconds.
A comment (``: ping``) every ``keepalive`` seconds keeps proxies and the client's liveness check
content while nothing happens.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from .. import changes, db
from ..auth import User, current_user, token_state
from ..problems import ApiProblem

router = APIRouter(tags=["events"])
KEEPALIVE_SECONDS = 15.0
RECHECK_SECONDS = 30.0  # the longest an open stream outlives its token's revocation, whatever else happens


def _event(name: str, event_id: int, data: dict) -> ServerSentEvent:
    return ServerSentEvent(data=json.dumps(data, separators=(",", ":")), event=name, id=str(event_id))


def _start(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not value.isdigit() or len(value) > 18:
        raise ApiProblem(400, "Last-Event-ID must be the id of an event of this stream", type="invalid-event-id",
                         detail_de="Last-Event-ID muss die ID eines Ereignisses dieses Streams sein")
    return int(value)


@router.get(
    "/events",
    summary="Server-Sent Events of every change you may see (resume with Last-Event-ID)",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {
        "type": "string", "description": "Server-Sent Events: ready, change, resync, closed"}}},
        "description": "an endless event stream (until its token no longer lets its user in: closed)"}},
)
async def events(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    last_event_id: Annotated[str | None, Header(max_length=40)] = None,
    keepalive: Annotated[float | None, Query(ge=0.2, le=300, description="seconds between keep-alive comments (default 15)")] = None,
) -> EventSourceResponse:
    start = _start(last_event_id)
    hub: changes.Hub = request.app.state.hub
    engine = request.app.state.engine
    interval = keepalive or request.app.state.settings.events_keepalive
    recheck = request.app.state.settings.events_recheck

    async def stream() -> AsyncIterator[ServerSentEvent]:
        # Subscribe first, then read the log: what commits meanwhile comes through the queue and
        # what the log already had is skipped there by its id — no gap, no duplicate.
        listener = hub.subscribe(user)
        try:
            last = start
            if last is not None:
                stale, newest = await asyncio.to_thread(changes.needs_resync, engine, last)
                if stale:
                    yield _event("resync", newest, {"id": newest, "reason": "older than the retention or unknown"})
                    last = newest
            if last is None:
                last = (await asyncio.to_thread(changes.bounds, engine))[1]
            else:
                newest = (await asyncio.to_thread(changes.bounds, engine))[1]
                async for change in _backlog(engine, user, last):
                    yield _event("change", change.id, change.payload())
                    last = change.id
                last = max(last, newest)  # what the caller may not see it need not ask for again
            yield _event("ready", last, {"id": last})
            refused, expires = await asyncio.to_thread(token_state, engine, user.token_id)
            while refused is None:
                if listener.lagging:
                    # Too far behind for the queue: read the rest from the log, then live again.
                    listener.lagging = False
                    while not listener.queue.empty():
                        listener.queue.get_nowait()
                    async for change in _backlog(engine, user, last):
                        yield _event("change", change.id, change.payload())
                        last = change.id
                    refused, expires = await asyncio.to_thread(token_state, engine, user.token_id)
                    continue
                wait = recheck
                if expires is not None:
                    wait = min(wait, max(0.0, (expires - db.utcnow()).total_seconds()) + 0.01)
                try:
                    change = await asyncio.wait_for(listener.queue.get(), wait)
                except TimeoutError:
                    refused, expires = await asyncio.to_thread(token_state, engine, user.token_id)
                    continue
                if change.id > last:
                    yield _event("change", change.id, change.payload())
                    last = change.id
                if change.kind == "user" and change.record_id == user.id:
                    # The user's rights or tokens changed: is this stream's token still good?
                    refused, expires = await asyncio.to_thread(token_state, engine, user.token_id)
            yield _event("closed", last, {"reason": refused})
        finally:
            hub.unsubscribe(listener)

    return EventSourceResponse(stream(), ping=interval, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _backlog(engine, user: User, last: int) -> AsyncIterator[changes.Change]:
    while True:
        rows = await asyncio.to_thread(changes.after, engine, last, user=user)
        for row in rows:
            yield row
            last = row.id
        if len(rows) < 1000:
            return
