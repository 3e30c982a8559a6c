"""The status line never says "online" while requests fail: it follows the last contact with the
server (every request's attempt, the event stream), not a probe's old answer. Each way a request
fails is made real here — the server process killed, a server that hangs, an address where some
other web server answers, a proxy's 502 page, the server answering 500 while its health check is
fine — and the status line is read right after the request that met it (waits have a generous
upper bound; nothing is timed)."""

from __future__ import annotations

import functools
import shutil
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from app_support import make_app, settle
from faults import FaultProxy
from support import start_server, stop_server

from efa_tui import i18n
from efa_tui.screens.order_detail import OrderScreen
from efa_tui.widgets.chrome import OfflineBanner, StatusLine

SIZE = (100, 30)
BOUND_S = 60  # the most any wait below may take; conditions end it, not the clock


def contacted(app) -> bool:
    return app.connection.status.contacted


def status_line(app) -> str:
    return str(app.screen.query_one(StatusLine).render())


async def until(pilot, condition, what: str) -> None:
    deadline = time.monotonic() + BOUND_S
    while not condition():
        assert time.monotonic() < deadline, f"not within {BOUND_S} s: {what} (status line: {status_line(pilot.app)!r})"
        await pilot.pause(0.1)


def never_online_while_failing(app) -> list[str]:
    """Every status the line was given after the first contact, as the line would say it."""
    seen: list[str] = []
    app.connection.subscribe(lambda s: seen.append("online" if s.online else f"offline:{s.trouble}") if s.contacted else None)
    return seen


async def open_first_order(pilot) -> None:
    await pilot.press("2")
    await settle(pilot)
    await pilot.press("enter")  # the order's detail asks the server for its newest version and timeline
    await settle(pilot)
    assert isinstance(pilot.app.screen, OrderScreen)


async def test_a_killed_server_says_offline_after_the_next_request(demo_template, tmp_path):
    """Without the event stream to notice it (polling, or live off), the next request that fails
    turns the status line offline — with what failed — and the next one that succeeds back."""
    path = tmp_path / "m.sqlite3"
    shutil.copy(demo_template, path)
    proc, base = start_server(f"sqlite:///{path}")
    port = int(base.split(":")[2].split("/")[0])
    app = make_app(base, tmp_path, live=False)
    app.backend.probe_min = app.backend.probe_max = 3600  # only requests change the status here
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: contacted(app), "a first contact")
            await settle(pilot)
            assert "● online" in status_line(app)
            proc.kill()
            proc.wait(10)
            await open_first_order(pilot)  # its read failed (connection refused); the cache answered
            line = status_line(app)
            assert "● offline: keine Verbindung" in line and "online" not in line.replace("offline", "")
            assert app.screen.query_one(OfflineBanner).has_class("-shown")
            proc, _ = start_server(f"sqlite:///{path}", port=port)
            await pilot.press("escape", "r")  # a request that succeeds: online again at once
            await settle(pilot)
            await until(pilot, lambda: "● online" in status_line(app), "online after a request succeeded")
    finally:
        stop_server(proc)
        await app.session.aclose()


async def test_a_server_that_hangs_says_no_answer(server, tmp_path):
    up = server.split("//")[1].split("/")[0].split(":")
    plan = {"action": "pass"}
    proxy = FaultProxy(up[0], int(up[1]), lambda n, head: plan["action"])
    app = make_app(proxy.base_url, tmp_path, live=False, timeout_s=1)
    app.backend.probe_min = app.backend.probe_max = 3600
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: contacted(app), "a first contact")
            await settle(pilot)
            assert "● online" in status_line(app)
            plan["action"] = "hang"
            await pilot.press("2")
            await settle(pilot)
            await pilot.press("enter")
            # The first attempt timed out: the status says so while the client still retries.
            await until(pilot, lambda: "● offline: keine Antwort" in status_line(app), "offline: no answer")
            plan["action"] = "pass"
            await settle(pilot)
    finally:
        await app.session.aclose()
        proxy.close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def plain_web_server(tmp_path):
    """``python -m http.server``: a web server, but no marketplace behind it (404 pages)."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<html>It works!</html>")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(tmp_path / "site")))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/api/v1"
    httpd.shutdown()


async def test_where_no_marketplace_api_answers_it_never_says_online(plain_web_server, tmp_path):
    app = make_app(plain_web_server, tmp_path, presync=False)
    seen = never_online_while_failing(app)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: contacted(app), "a first contact")
            await settle(pilot)
            await until(pilot, lambda: "keine Marktplatz-API (404)" in status_line(app), "what failed")
            assert "● gestört: keine Marktplatz-API (404)" in status_line(app)
            assert "online" not in seen, seen
            assert "Gestört (keine Marktplatz-API (404))" in str(app.screen.query_one(OfflineBanner).render())
    finally:
        await app.session.aclose()


async def test_a_proxy_answering_502_pages_for_everything(server, tmp_path):
    up = server.split("//")[1].split("/")[0].split(":")
    proxy = FaultProxy(up[0], int(up[1]), lambda n, head: "502html")
    app = make_app(proxy.base_url, tmp_path, presync=False, language="en")
    seen = never_online_while_failing(app)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "● failing: server error 502" in status_line(app), "failing: 502")
            await settle(pilot)
            assert "online" not in seen, seen
    finally:
        await app.session.aclose()
        proxy.close()


async def test_5xx_answers_while_the_health_check_is_fine(server, tmp_path):
    """A server whose health check answers while its requests fail (a broken database): the probe's
    health check does not make it "online"; only a request that succeeds does."""
    up = server.split("//")[1].split("/")[0].split(":")
    plan = {"failing": False}

    def answer(n: int, head: bytes) -> str:
        return "500" if plan["failing"] and b"/healthz" not in head.split(b"\r\n", 1)[0] else "pass"

    proxy = FaultProxy(up[0], int(up[1]), answer)
    app = make_app(proxy.base_url, tmp_path, live=False)
    app.backend.probe_min, app.backend.probe_max = 0.2, 0.4
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: contacted(app), "a first contact")
            await settle(pilot)
            assert "● online" in status_line(app)
            plan["failing"] = True
            seen = never_online_while_failing(app)
            await pilot.press("r")
            await until(pilot, lambda: "● gestört: Serverfehler 500" in status_line(app), "gestört: 500")
            seen.clear()  # (the refresh's start was announced while the last request had succeeded)
            # The probe's health checks answer; the syncs after them fail: never online meanwhile.
            healthy = proxy.actions.count("pass")
            await until(pilot, lambda: proxy.actions.count("pass") >= healthy + 2, "two health checks answered")
            assert "online" not in seen, seen
            assert "● gestört: Serverfehler 500" in status_line(app)
            plan["failing"] = False
            await until(pilot, lambda: "● online" in status_line(app), "online once requests succeed")
    finally:
        await app.session.aclose()
        proxy.close()


def test_every_trouble_has_words_in_both_languages():
    from efa_tui.store.backend import Status
    from efa_tui.widgets.chrome import trouble_text

    for kind in ("refused", "timeout", "broken", "network", "scheme", "not_api", "server"):
        for lang in ("de", "en"):
            i18n.set_language(lang)
            text = trouble_text(Status(online=False, trouble=kind, trouble_status=503))
            assert text and "status.trouble" not in text and "{" not in text


async def test_editing_an_offering_offline_says_so_at_once_and_opens_nothing_later(server, tmp_path):
    """Walk F6: with the server stopped, `e` on Meine Angebote showed nothing for 11 s, and the
    form came up later over the screen the user had gone on to. Known offline, it says so at once
    and asks the server nothing."""
    from efa_tui.screens.my_offerings import MyOfferingsScreen

    up = server.split("//")[1].split("/")[0].split(":")
    plan = {"action": "pass"}
    asked: list[str] = []  # the request lines the proxy saw

    def route(n: int, head: bytes) -> str:
        asked.append(head.split(b"\r\n", 1)[0].decode("latin-1"))
        return plan["action"]

    proxy = FaultProxy(up[0], int(up[1]), route)
    app = make_app(proxy.base_url, tmp_path, identity="provider", live=False, timeout_s=1)
    app.backend.probe_min = app.backend.probe_max = 3600
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: contacted(app), "a first contact")
            await settle(pilot)
            await pilot.press("4")
            await until(pilot, lambda: isinstance(app.screen, MyOfferingsScreen) and app.screen.table.row_count > 0,
                        "Meine Angebote")
            plan["action"] = "hang"
            await pilot.press("r")
            await until(pilot, lambda: not app.connection.status.online, "offline")
            before = len(asked)
            await pilot.press("e")
            await pilot.pause(0.2)
            assert any("Offline: Zum Bearbeiten" in n.message for n in app._notifications), list(app._notifications)
            # Nothing asked of a server known to be gone (the refresh's own retries may still run).
            assert not [line for line in asked[before:] if line.startswith("GET /api/v1/offerings/")], asked[before:]
            await settle(pilot)
            assert isinstance(app.screen, MyOfferingsScreen)
            plan["action"] = "pass"
    finally:
        await app.session.aclose()
        proxy.close()


async def test_a_first_start_at_an_address_nobody_answers_says_so_not_loading(tmp_path):
    """No data yet and no server: the banner names the address and what met it, and the catalog
    does not say it is loading (it read "Offline – Daten vom –." over "der Katalog wird geladen …")."""
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}/api/v1"
    app = make_app(base, tmp_path)
    app.backend.probe_min = app.backend.probe_max = 3600
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: contacted(app), "the first attempt")
        await settle(pilot)
        banner = app.screen.query_one(OfflineBanner)
        assert banner.has_class("-shown")
        text = " ".join(str(banner.render()).split())
        assert "Daten vom –" not in text, text
        assert f"127.0.0.1:{port}" in text and "keine Verbindung" in text, text
        screen = " ".join(str(app.screen.query_one("VirtualTable").empty_text).split())
        assert "geladen …" not in screen, screen
