"""`--server` takes the address as a user types it: `http://host:8080` finds the API at
`/api/v1`; where no marketplace API answers, the start says so and what it tried; a server that
cannot be reached at all is no error (the app starts offline on its cache)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from efa_tui.api.discovery import find_api
from efa_tui.files import free_port


class _NotAMarketplace(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the stdlib's name
        body = b"<html>It works!</html>" if self.path == "/" else b"not here"
        self.send_response(200 if self.path == "/" else 404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def web_server():
    """Some other web server (no marketplace behind it)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _NotAMarketplace)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_the_address_as_typed_finds_the_api(live_server):
    root = live_server.removesuffix("/api/v1")
    for typed in (root, root + "/"):
        found = asyncio.run(find_api(typed))
        assert found.api == live_server, found
    assert asyncio.run(find_api(live_server)).api == live_server  # as it is, nothing asked
    assert asyncio.run(find_api(live_server + "/")).api == live_server


def test_no_marketplace_there_says_what_was_tried(web_server):
    found = asyncio.run(find_api(web_server))
    assert found.api is None and found.reached
    assert found.tried == [(f"{web_server}/api/v1/healthz", "404 Not Found"), (f"{web_server}/healthz", "404 Not Found")]


def test_nothing_to_reach_is_no_error():
    url = f"http://127.0.0.1:{free_port()}"
    found = asyncio.run(find_api(url, timeout=2))
    assert found.api is None and not found.reached
    assert found.guess == url + "/api/v1"  # offline: the API where it would be


def test_the_start_says_it_and_exits(web_server, tmp_path):
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "EFA_TOKEN": "x"}
    for lang, said in (("de", "Unter"), ("en", "No marketplace API answers at")):
        out = subprocess.run([sys.executable, "-m", "efa_tui.cli", "--server", web_server, "--lang", lang],
                             capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
        assert out.returncode == 2, out.stdout + out.stderr
        assert said in out.stderr and f"{web_server}/api/v1/healthz: 404" in out.stderr and "Traceback" not in out.stderr
