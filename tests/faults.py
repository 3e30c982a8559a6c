"""A misbehaving network between client and server, for fault-injection tests.

A TCP proxy on 127.0.0.1 that understands just enough HTTP/1.1 to act per request (one request
per connection; it asks the server to close after answering). For each request a ``plan``
function picks what happens:

* ``"pass"``   — forward and answer;
* ``"drop"``   — forward, let the server commit, then close the client's connection without a
                 reply (the classic lost response);
* ``"503"``    — answer 503 with ``Retry-After`` without forwarding;
* ``"reset"``  — close the connection at once without forwarding;
* ``"hang"``   — read the request and never answer (a server that hangs; closed with the proxy);
* ``"500"``    — answer 500 with a problem document without forwarding (the server failing);
* ``"502html"`` — answer 502 with an HTML page, as a reverse proxy does when nothing is behind it.

``refuse()`` closes the listening socket (connections are refused) until ``accept()``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable


class FaultProxy:
    def __init__(self, upstream_host: str, upstream_port: int, plan: Callable[[int, bytes], str] | None = None,
                 retry_after: int = 1):
        self.upstream = (upstream_host, upstream_port)
        self.plan = plan or (lambda n, head: "pass")
        self.retry_after = retry_after
        self.count = 0
        self.actions: list[str] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._closing = asyncio.Event()
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.accept()

    # --- control (from the test's thread) -----------------------------------------------------

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def accept(self) -> None:
        self._call(self._listen())

    def refuse(self) -> None:
        self._call(self._close_listener())

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._closing.set)
        self.refuse()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    # --- inside the proxy's loop ------------------------------------------------------------------

    async def _listen(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close_listener(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await reader.readexactly(length) if length else b""
            self.count += 1
            action = self.plan(self.count, head)
            self.actions.append(action)
            if action == "reset":
                return
            if action == "hang":
                await self._closing.wait()
                return
            if action in ANSWERS:
                writer.write(ANSWERS[action])
                await writer.drain()
                return
            if action == "503":
                msg = (f"HTTP/1.1 503 Service Unavailable\r\nRetry-After: {self.retry_after}\r\n"
                       "Content-Type: application/problem+json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
                writer.write(msg.encode())
                await writer.drain()
                return
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            up_writer.write(_close_after(head) + body)
            await up_writer.drain()
            response = await up_reader.read()  # until the server closes: the whole answer
            up_writer.close()
            if action == "drop":
                return  # the server has done the work; the client never hears of it
            writer.write(response)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def _answer(status: str, content_type: str, body: bytes) -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode() + body


ANSWERS = {
    "500": _answer("500 Internal Server Error", "application/problem+json",
                   b'{"type":"about:blank","title":"Internal Server Error","status":500}'),
    "502html": _answer("502 Bad Gateway", "text/html", b"<html><body><h1>502 Bad Gateway</h1>nginx</body></html>"),
}


def _close_after(head: bytes) -> bytes:
    lines = [ln for ln in head.split(b"\r\n") if ln and not ln.lower().startswith(b"connection:")]
    return b"\r\n".join(lines) + b"\r\nConnection: close\r\n\r\n"
