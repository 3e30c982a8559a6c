"""What every answer and every request body goes through, whatever the route: security headers,
a bounded body (size and time), and problem+json also for what uvicorn refuses before the app.

A hostile or broken client must cost the server a bounded amount of memory and time and get the
same kind of answer as any other error: RFC 9457 problem details, never a plain-text page.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from .problems import PROBLEM_JSON, ApiProblem

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# The docs page runs Swagger UI from our own static files; its start-up script is inline.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_PATH_PARTS = ("/docs", "/static-offline-docs/")


def security_headers(path: str, authenticated: bool) -> list[tuple[bytes, bytes]]:
    """Headers on every answer. Authenticated data is never stored by a shared cache or the
    browser (``no-store``); the ETag still lets the client's own cache revalidate."""
    docs = any(part in path for part in DOCS_PATH_PARTS)
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"content-security-policy", (DOCS_CSP if docs else API_CSP).encode()),
    ]
    if authenticated:
        headers.append((b"cache-control", b"no-store"))
    return headers


def _problem_bytes(problem: ApiProblem) -> bytes:
    return json.dumps(problem.body(), ensure_ascii=False).encode()


class RequestGuard:
    """ASGI middleware: reads a request body up to ``limit`` bytes, each chunk within
    ``chunk_timeout`` seconds and the whole within ``body_timeout`` (a client that stalls
    mid-body is answered 408 and its connection closed), then replays it to the app; adds the
    security headers to every answer."""

    def __init__(self, app: Callable[..., Awaitable[None]], limit: int, body_timeout: float = 30.0,
                 chunk_timeout: float = 10.0):
        self.app = app
        self.limit = limit
        self.body_timeout = body_timeout
        self.chunk_timeout = chunk_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        extra = security_headers(scope.get("path", ""), b"authorization" in headers)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                  *(h for h in extra if h[0] not in present)]}
            await send(message)

        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            # uvicorn refuses a malformed length itself (see ProblemHttpToolsProtocol); a length
            # over the limit is refused before a byte of the body is read.
            await self._refuse(send_with_headers, self._too_large())
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE") and length in (None, b"0"):
            await self.app(scope, receive, send_with_headers)
            return
        try:
            body = await self._read(receive)
        except TimeoutError:
            await self._refuse(send_with_headers, ApiProblem(
                408, "the request body did not arrive in time; send it again", type="body-timeout",
                detail_de="Der Inhalt der Anfrage kam nicht rechtzeitig an; senden Sie sie noch einmal",
                headers={"Connection": "close"}))
            return
        except _TooLarge:
            await self._refuse(send_with_headers, self._too_large())
            return
        if body is None:
            return  # the client went away
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send_with_headers)

    async def _read(self, receive: Receive) -> bytes | None:
        # One deadline for the whole body, checked between chunks, each chunk waited for at most
        # until it: an outer wait_for around this loop loses its cancellation in Python 3.11 when
        # a chunk arrives in the same turn (the inner wait_for returns the chunk instead), and a
        # client trickling a byte at a time was then held for ever (CI, test_hardening).
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout
        chunks: list[bytes] = []
        seen = 0
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError
            message = await asyncio.wait_for(receive(), min(self.chunk_timeout, left))
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self) -> ApiProblem:
        return ApiProblem(413, f"request body larger than {self.limit} bytes", type="too-large",
                          detail_de=f"Der Inhalt der Anfrage ist größer als {self.limit:,} Bytes".replace(",", "."))

    @staticmethod
    async def _refuse(send: Send, problem: ApiProblem) -> None:
        body = _problem_bytes(problem)
        headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
                   *((k.lower().encode(), v.encode()) for k, v in problem.headers.items())]
        await send({"type": "http.response.start", "status": problem.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def _bad_request_bytes(msg: str, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    body = _problem_bytes(ApiProblem(400, f"malformed HTTP request: {msg}", type="malformed-request",
                                           detail_de=f"Fehlerhafte HTTP-Anfrage: {msg}"))
    head = [b"HTTP/1.1 400 Bad Request\r\n"]
    for name, value in default_headers:
        head += [name, b": ", value, b"\r\n"]
    for name, value in security_headers("", False):
        head += [name, b": ", value, b"\r\n"]
    head += [b"content-type: ", PROBLEM_JSON.encode(), b"\r\n",
             b"content-length: ", str(len(body)).encode(), b"\r\n", b"connection: close\r\n", b"\r\n"]
    return b"".join(head) + body


class ProblemH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering a request it cannot parse (a malformed Content-Length,
    a broken request line) with problem+json instead of plain text."""

    def send_400_response(self, msg: str) -> None:
        self.transport.write(_bad_request_bytes(msg, self.server_state.default_headers))
        self.transport.close()


def http_protocol() -> type:
    """The protocol class for uvicorn's ``http=`` option: httptools when installed (uvicorn's
    own preference), else h11 — either answering unparsable requests with problem+json."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return ProblemH11Protocol

    class ProblemHttpToolsProtocol(HttpToolsProtocol):
        def send_400_response(self, msg: str) -> None:
            self.transport.write(_bad_request_bytes(msg, self.server_state.default_headers))
            self.transport.close()

    return ProblemHttpToolsProtocol
