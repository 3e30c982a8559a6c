"""`efa-tui login` / `logout` as a new user meets them: the operator registers a municipality,
adds its first user and hands over a token (over HTTP, against a real server process); the user
logs in with it, the profile works for the next command, and logout forgets it."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
from support import auth


def _cli(tmp: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "EFA_TUI_CONFIG_DIR": str(tmp / "config"), "XDG_CACHE_HOME": str(tmp / "cache"),
           "XDG_DATA_HOME": str(tmp / "data"), "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    env.pop("EFA_TUI_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "efa_tui.cli", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=180)


def _new_user_token(base: str) -> str:
    org = httpx.post(f"{base}/organizations", headers=auth("operator"), json={
        "key": "kleinstadt", "kind": "customer", "name": "Gemeinde Kleinstadt", "leitweg_id": "992-90009-96"}).json()
    httpx.post(f"{base}/organizations/{org['id']}/accreditation", headers=auth("operator"),
               json={"state": "accredited", "reason": "geprüft"}).raise_for_status()
    user = httpx.post(f"{base}/organizations/{org['id']}/users", headers=auth("operator"),
                      json={"name": "Karl Klein", "email": "karl@kleinstadt.example", "role": "customer", "admin": True}).json()
    made = httpx.post(f"{base}/users/{user['id']}/tokens", headers=auth("operator"),
                      json={"name": "Laptop", "expires_in_days": 30})
    assert made.status_code == 201, made.text
    return made.json()["token"]


def test_a_new_user_logs_in_with_the_token_it_was_handed(live_server: str, tmp_path: Path) -> None:
    token = _new_user_token(live_server)
    server = live_server.removesuffix("/api/v1")  # as a person types it: without the API path

    done = _cli(tmp_path, "login", "--server", server, "--profile", "kleinstadt", stdin=token + "\n")
    assert done.returncode == 0, done.stderr
    assert "Karl Klein" in done.stdout and "Gemeinde Kleinstadt" in done.stdout
    assert "(Kunde, Gemeinde Kleinstadt)" in done.stdout  # the role in the user's words, not the API's "customer"
    assert token not in done.stdout + done.stderr
    config = tomllib.loads((tmp_path / "config" / "config.toml").read_text())
    assert config["default_profile"] == "kleinstadt"
    assert config["profiles"]["kleinstadt"]["server_url"] == live_server
    assert token not in (tmp_path / "config" / "config.toml").read_text()
    stored = list((tmp_path / "config").rglob("kleinstadt*"))
    assert stored and all(p.stat().st_mode & 0o077 == 0 for p in stored if p.is_file())

    # The next command uses the profile and its stored token.
    export = _cli(tmp_path, "invoice", "export", "--format", "json")
    assert export.returncode == 0, export.stderr

    out = _cli(tmp_path, "logout")
    assert out.returncode == 0 and "kleinstadt" in out.stdout
    after = _cli(tmp_path, "invoice", "export", "--format", "json")
    assert after.returncode != 0 and "token" in after.stderr.lower()


def test_a_wrong_token_is_refused_and_nothing_is_stored(live_server: str, tmp_path: Path) -> None:
    refused = _cli(tmp_path, "login", "--server", live_server, "--profile", "x", stdin="efa_not-a-real-token\n")
    assert refused.returncode == 1 and "unknown token" in refused.stderr
    assert not (tmp_path / "config" / "config.toml").exists()
    english = _cli(tmp_path, "--lang", "en", "login", "--server", live_server, stdin="\n")
    assert english.returncode == 2 and "no token given" in english.stderr


def test_login_to_a_server_that_is_not_there(tmp_path: Path) -> None:
    from efa_tui.files import free_port

    gone = _cli(tmp_path, "login", "--server", f"http://127.0.0.1:{free_port()}", stdin="efa_x\n")
    assert gone.returncode == 2 and "nicht erreichbar" in gone.stderr
