"""The server's event stream (``GET /events``, Server-Sent Events) on the wire, with httpx-sse.

``stream_events`` yields the events of one connection: ``ready`` (caught up; its id is where to
resume), ``change`` (one change the user may see), ``resync`` (the id asked for is too old:
sync afresh) and, last, ``closed`` (the token no longer lets the user in; data ``{"reason"}``).
It ends with ``Unreachable`` when the connection breaks or stays silent longer than
``read_timeout`` (the server sends a keep-alive comment every ``keepalive`` seconds, so silence
means a dead server or a dead network), with ``StreamUnavailable`` when the answer is no event
stream (a proxy in the way), and with ``ApiError`` for a refusal.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx_sse import SSEError, aconnect_sse

from .errors import ApiError, Unreachable, answer_error

PATH = "events"


class StreamUnavailable(Exception):
    """The server (or something between) answered, but not with an event stream."""


@dataclass(frozen=True)
class StreamEvent:
    name: str  # ready | change | resync | closed
    id: int | None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))

    @property
    def action(self) -> str:
        return str(self.data.get("action", ""))


def _parse(event: str, event_id: str | None, data: str) -> StreamEvent | None:
    try:
        number = int(event_id) if event_id else None
        payload = json.loads(data) if data else {}
    except ValueError:
        return None  # not ours: skip it rather than end the stream
    if not isinstance(payload, dict):
        return None
    return StreamEvent(event or "message", number, payload)


async def stream_events(http: httpx.AsyncClient, last_id: int | None, *, keepalive: float = 3.0,
                        read_timeout: float = 7.0, connect_timeout: float = 3.0) -> AsyncIterator[StreamEvent]:
    """The events of one connection to the stream, resuming after ``last_id``."""
    headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
    if last_id is not None:
        headers["Last-Event-ID"] = str(last_id)
    timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
    try:
        async with aconnect_sse(http, "GET", PATH, params={"keepalive": keepalive}, headers=headers,
                                timeout=timeout) as source:
            response = source.response
            if response.status_code >= 400:
                await response.aread()
                # A refusal of the API, its failure (5xx), or some other web server's page.
                raise answer_error(response) or ApiError.from_response(response)
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                raise StreamUnavailable(response.headers.get("content-type", "no content type"))
            async for sse in source.aiter_sse():
                event = _parse(sse.event, sse.id, sse.data)
                if event is not None:
                    yield event
    except httpx.TransportError as exc:
        raise Unreachable.from_transport(exc) from exc
    except SSEError as exc:
        raise StreamUnavailable(str(exc)) from exc
    raise Unreachable("the event stream ended")
