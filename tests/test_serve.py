"""Starting the server: the loopback rule for demo tokens, real tokens, the CLI, a real socket."""

from __future__ import annotations

import subprocess
import sys

import httpx
from fastapi.testclient import TestClient

from efa_tui.server.serve import is_loopback, prepare


def test_demo_tokens_only_on_loopback(db_url):
    for host, expected in (("127.0.0.1", 200), ("0.0.0.0", 401), ("192.0.2.10", 401)):
        app = prepare(db_url, demo=True, host=host)
        with TestClient(app, base_url="http://testserver/api/v1") as c:
            resp = c.get("/me", headers={"Authorization": "Bearer demo-customer"})
        assert resp.status_code == expected, host
        if expected == 401:
            assert "loopback" in resp.json()["detail"]
    assert is_loopback("::1") and is_loopback("localhost") and not is_loopback("example.org")


def test_issued_token_works_and_unknown_one_does_not(db_url):
    out = subprocess.run([sys.executable, "-m", "efa_tui.cli", "token", "--database", db_url, "--org", "koeln",
                          "--role", "customer", "--name", "Jana Becker"], capture_output=True, text=True, check=True)
    token = out.stdout.strip()
    assert token.startswith("efa_") and len(token) > 30
    # A real token works also off loopback, where demo tokens are refused.
    app = prepare(db_url, demo=False, host="0.0.0.0")
    with TestClient(app, base_url="http://testserver/api/v1") as c:
        me = c.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["organization"]["key"] == "koeln"
        assert c.get("/me", headers={"Authorization": "Bearer efa_nope"}).status_code == 401
    bad = subprocess.run([sys.executable, "-m", "efa_tui.cli", "token", "--database", db_url, "--org", "nirgendwo",
                          "--role", "customer", "--name", "x"], capture_output=True, text=True)
    assert bad.returncode == 2 and "nirgendwo" in bad.stderr


def test_bauantrag_over_a_real_socket(live_server):
    """The issue's definition of done, as a newcomer would try it with curl."""
    resp = httpx.get(f"{live_server}/offerings", params={"q": "bauantrag"}, headers={"Authorization": "Bearer demo-customer"})
    assert resp.status_code == 200
    titles = [i["title"] for i in resp.json()["items"]]
    assert len(titles) >= 3
    assert any("Bauantrag" in t for t in titles)
    assert httpx.get(f"{live_server}/openapi.json").json()["info"]["title"]
