"""An event stream lasts only as long as its token lets its user in: revoked, expired or the user
disabled, the server ends the stream (a last ``closed`` event says why) — over a real stream of a
real server process, the revoke or disable made through another process on the same database."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
import pytest
from httpx_sse import aconnect_sse
from sqlalchemy import update
from support import auth, start_server, stop_server

from efa_tui.server import db

WAIT = 30  # seconds a test waits for what should come at once (a limit, not a measure)


@pytest.fixture
def two_servers(db_url: str):
    first, base_a = start_server(db_url)
    try:
        second, base_b = start_server(db_url)
        try:
            yield base_a, base_b
        finally:
            stop_server(second)
    finally:
        stop_server(first)


def new_user_with_token(base: str) -> tuple[dict, dict]:
    with httpx.Client(base_url=base, timeout=WAIT, headers=auth("operator")) as http:
        org = http.get("/me", headers=auth("customer")).json()["organization"]["id"]
        user = http.post(f"/organizations/{org}/users", json={"name": "Kai Stream", "email": "kai@muenchen.example",
                                                               "role": "customer"})
        assert user.status_code == 201, user.text
        token = http.post(f"/users/{user.json()['id']}/tokens", json={"name": "Terminal", "expires_in_days": 30})
        assert token.status_code == 201, token.text
    return user.json(), token.json()


async def stream_until_closed(base: str, secret: str, act) -> list[tuple[str, str]]:
    """Follow the stream; once it is ready, ``act()`` (in a thread); the events until the server
    ends the stream."""
    events: list[tuple[str, str]] = []

    async def follow() -> None:
        async with httpx.AsyncClient(base_url=base + "/", timeout=WAIT) as http, \
                aconnect_sse(http, "GET", "events", params={"keepalive": 1},
                             headers={"Authorization": f"Bearer {secret}"}) as source:
            async for event in source.aiter_sse():
                events.append((event.event, event.data))
                if event.event == "ready":
                    await asyncio.to_thread(act)

    await asyncio.wait_for(follow(), WAIT)  # the old server kept it open: a timeout here
    return events


async def test_a_stream_closes_when_its_token_is_revoked(two_servers) -> None:
    base_a, base_b = two_servers
    _, token = new_user_with_token(base_a)

    def revoke() -> None:
        assert httpx.delete(f"{base_b}/tokens/{token['id']}", headers=auth("operator")).status_code == 204

    events = await stream_until_closed(base_a, token["token"], revoke)
    assert events[0][0] == "ready" and events[-1] == ("closed", json.dumps({"reason": "token-revoked"}, separators=(",", ":")))
    again = httpx.get(f"{base_a}/events", headers={"Authorization": f"Bearer {token['token']}"})
    assert again.status_code == 401  # and a new one is not let in


async def test_a_stream_closes_when_its_user_is_disabled(two_servers) -> None:
    base_a, base_b = two_servers
    user, token = new_user_with_token(base_a)

    def disable() -> None:
        etag = httpx.get(f"{base_b}/users/{user['id']}", headers=auth("operator")).headers["etag"]
        r = httpx.patch(f"{base_b}/users/{user['id']}", json={"disabled": True},
                        headers=auth("operator", **{"If-Match": etag}))
        assert r.status_code == 200, r.text

    events = await stream_until_closed(base_a, token["token"], disable)
    assert events[-1][0] == "closed" and json.loads(events[-1][1]) == {"reason": "user-disabled"}


async def test_a_stream_closes_when_its_token_expires(db_url: str) -> None:
    proc, base = start_server(db_url)
    try:
        _, token = new_user_with_token(base)
        engine = db.make_engine(db_url)
        try:
            with engine.begin() as conn:  # expires in a moment (tokens are issued for whole days)
                conn.execute(update(db.api_tokens).where(db.api_tokens.c.id == token["id"])
                             .values(expires_at=db.utcnow() + timedelta(seconds=3)))
        finally:
            engine.dispose()
        events = await stream_until_closed(base, token["token"], lambda: None)
        assert events[-1][0] == "closed" and json.loads(events[-1][1]) == {"reason": "token-expired"}
    finally:
        stop_server(proc)
