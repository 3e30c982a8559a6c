"""The server against hostile or broken clients, over real sockets: security headers on every
answer, a docs page that loads nothing from elsewhere, problem+json for requests uvicorn cannot
parse, a stalled body closed in bounded time, failed authentication rate-limited."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from support import auth, start_server, stop_server

from efa_tui.files import free_port
from efa_tui.server.app import Settings, create_app
from efa_tui.server.hardening import RequestGuard, http_protocol


@pytest.fixture
def guarded(db_url: str) -> Iterator[str]:
    """The real app under real uvicorn (our protocol class) in a thread, with short body timeouts."""
    app = create_app(Settings(database_url=db_url, allow_demo_tokens=True, body_timeout=2.0, chunk_timeout=1.0))
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", http=http_protocol(),
                            lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(10)


def _raw(base: str, request: bytes, *, wait: float = 5.0) -> tuple[float, bytes]:
    host, port = base.removeprefix("http://").split(":")
    start = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=wait) as s:
        s.sendall(request)
        data = b""
        try:
            while chunk := s.recv(65536):
                data += chunk
        except TimeoutError:
            pass
    return time.monotonic() - start, data


def _status_and_body(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def test_every_answer_carries_the_security_headers(guarded: str) -> None:
    for path, headers in (("/api/v1/offerings?limit=1", auth("customer")), ("/api/v1/me", {}),
                          ("/api/v1/nowhere", auth("customer")), ("/healthz", {})):
        r = httpx.get(base_url := guarded + path, headers=headers)
        assert r.headers["x-content-type-options"] == "nosniff", base_url
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    data = httpx.get(guarded + "/api/v1/orders", headers=auth("customer"))
    assert data.status_code == 200 and data.headers["cache-control"] == "no-store"


def test_the_docs_page_loads_nothing_from_a_third_party(guarded: str) -> None:
    page = httpx.get(guarded + "/api/v1/docs")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)""", page.text)
    assert urls and all(not u.startswith(("http:", "https:", "//")) for u in urls), urls
    assert "'self'" in page.headers["content-security-policy"]
    for url in urls:
        if url.endswith((".js", ".css")):
            assert httpx.get(guarded + url).status_code == 200, url


@pytest.mark.parametrize("length", ["1x", "-1", "5, 6", "+2"])
def test_a_malformed_content_length_gets_problem_json(guarded: str, length: str) -> None:
    _, raw = _raw(guarded, (
        "POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer demo-customer\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n{{}}").encode())
    status, headers, body = _status_and_body(raw)
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == 400


def test_a_stalled_body_is_answered_408_and_closed(guarded: str) -> None:
    # Announces 100 bytes, sends 10, then nothing: the server must not wait for ever.
    elapsed, raw = _raw(guarded, (
        b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer demo-customer\r\n"
        b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"offering'), wait=20)
    status, headers, body = _status_and_body(raw)
    assert status == 408 and headers["content-type"] == "application/problem+json"
    assert json.loads(body)["type"] == "/problems/body-timeout"
    assert elapsed < 15  # the server closed it (the socket's own limit is 20 s)


def test_a_trickling_body_is_cut_by_the_whole_body_deadline(guarded: str) -> None:
    """One byte every 0.5 s: each piece in time, the whole never. The server answers 408 and
    closes; the client sees the answer or, when the close reset its buffer first, the close —
    either way within the deadline (body_timeout 2 s here), never a connection held open."""
    host, port = guarded.removeprefix("http://").split(":")
    answer, closed = b"", False
    start = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=20) as s:
        s.sendall(b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer demo-customer\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
        while time.monotonic() - start < 15 and not answer and not closed:
            try:
                s.sendall(b" ")
                s.settimeout(0.5)
                chunk = s.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                closed = True
                break
            answer, closed = answer + chunk, not chunk
    elapsed = time.monotonic() - start
    assert answer.startswith(b"HTTP/1.1 408") or (closed and not answer), answer[:200]
    assert elapsed < 15


def test_wrong_tokens_are_rate_limited_per_address(client) -> None:
    statuses = [client.get("/me", headers=auth(f"efa_wrong{i:04d}")).status_code for i in range(80)]
    assert statuses[0] == 401
    assert 429 in statuses
    first = statuses.index(429)
    assert all(s == 429 for s in statuses[first:])
    limited = client.get("/me", headers=auth("efa_wrong9999"))
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["content-type"] == "application/problem+json"
    # Requests without a token are not guesses: they still get the plain 401.
    assert client.get("/me").status_code == 401


def test_wrong_tokens_are_rate_limited_per_token_prefix(db_url: str) -> None:
    # Guesses at one token from many addresses: the shared prefix is limited too.
    from fastapi.testclient import TestClient

    app = create_app(Settings(database_url=db_url, allow_demo_tokens=True))
    statuses = []
    for i in range(40):
        with TestClient(app, base_url="http://127.0.0.1/api/v1", client=(f"10.0.{i // 250}.{i % 250}", 5000)) as c:
            statuses.append(c.get("/me", headers=auth(f"efa_samepref_guess{i}")).status_code)
    assert statuses[0] == 401 and statuses[-1] == 429


def test_the_limit_on_wrong_tokens_holds_across_server_processes(db_url: str) -> None:
    """Two server processes on one database: the guesses are counted together, not per process
    (counted per process, 30 guesses alternating between two processes were never limited)."""
    first, base_a = start_server(db_url)
    try:
        second, base_b = start_server(db_url)
        try:
            statuses = [httpx.get(f"{(base_a, base_b)[i % 2]}/me", headers=auth(f"efa_{i:02d}guess")).status_code
                        for i in range(30)]
            assert statuses == [401] * 20 + [429] * 10  # 20/minute per address, both processes together
            for base in (base_a, base_b):
                limited = httpx.get(f"{base}/me", headers=auth("customer"))  # the right token too
                assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        finally:
            stop_server(second)
    finally:
        stop_server(first)


def test_a_body_arriving_at_every_turn_is_still_cut_by_the_deadline() -> None:
    """A chunk ready at every turn of the event loop: the deadline must still end the read. With
    a wait_for around the reading loop it did not (Python 3.11 hands the inner wait_for's chunk
    back instead of the cancellation), and CI once held a trickling client for 15 s."""
    async def the_app(scope, receive, send) -> None:
        raise AssertionError("a body past its deadline reached the app")

    async def run() -> tuple[float, list]:
        guard = RequestGuard(the_app, limit=10**9, body_timeout=0.2, chunk_timeout=1.0)
        start, sent = time.monotonic(), []

        async def receive() -> dict:
            await asyncio.sleep(0)
            if time.monotonic() - start > 3:  # the guard never cut it: end the test
                return {"type": "http.disconnect"}
            return {"type": "http.request", "body": b" ", "more_body": True}

        async def send(message) -> None:
            sent.append(message)

        await guard({"type": "http", "method": "POST", "path": "/api/v1/orders",
                     "headers": [(b"content-length", b"999999")]}, receive, send)
        return time.monotonic() - start, sent

    elapsed, sent = asyncio.run(run())
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [408]
    assert elapsed < 3
