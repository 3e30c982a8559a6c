"""What the app loads before its first rows are painted: the cache's rows need neither the HTTP
client nor pydantic for the config (bench/README.md, 06.12.2026: each was tens of ms of a start
of about 0.45 s). Measured in a fresh process, at the catalog's first rows."""

import json
import subprocess
import sys

import pytest

CODE = r"""
import asyncio, json, sys
from pathlib import Path

from efa_tui import startup
from efa_tui.store.cache import Cache

folder = Path(sys.argv[1])
cache = Cache(folder / "cache.sqlite3")
cache.upsert_offerings({"id": n, "title": f"Bauantrag {n}", "provider": {"id": 1, "name": "AKDB"}, "status": "published",
                        "fees": {"annual_fee": "1200.00"}, "version": 1, "updated_at": "2026-01-01T00:00:00Z"}
                       for n in range(1, 51))
cache.close()
seen = {}
shown = startup.rows_shown


def rows_shown():
    seen.setdefault("modules", sorted(sys.modules))
    shown()


startup.rows_shown = rows_shown
from efa_tui.app import EfaApp
from efa_tui.config import Config, Profile, _named
from efa_tui.session import Session

profile = _named(Profile(server_url="http://127.0.0.1:9/api/v1", token_source="demo"), "test")
session = Session.open(Config(), profile, cache_path=folder / "cache.sqlite3", local_path=folder / "local.sqlite3")
app = EfaApp(session, language="de", theme="textual-dark", start_network=False)


async def main():
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(200):
            await pilot.pause(0.02)
            if seen:
                break
    await session.aclose()


asyncio.run(main())
print(json.dumps(seen.get("modules")))
"""


@pytest.fixture(scope="module")
def loaded_at_first_rows(tmp_path_factory) -> set[str]:
    folder = tmp_path_factory.mktemp("start")
    result = subprocess.run([sys.executable, "-c", CODE, str(folder)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    modules = json.loads(result.stdout.strip().splitlines()[-1])
    assert modules is not None, "no first rows"
    return set(modules)


def test_the_config_comes_without_pydantic_and_toml(loaded_at_first_rows):
    """No config file here: nothing reads or writes TOML, and the config's checks are its own
    (pydantic's plugin lookup reads every installed package's metadata)."""
    assert not {"tomllib", "tomli_w", "pydantic.plugin._loader", "importlib.metadata"} & loaded_at_first_rows


def test_the_first_rows_come_without_the_http_client(loaded_at_first_rows):
    """The offline banner asks for the server's address at the first status; api/administration.py
    imported api.client for an annotation, and httpx, anyio, stamina … came back (since 2ad5aa6)."""
    assert not {"httpx", "httpcore", "anyio", "stamina", "efa_tui.api.client"} & loaded_at_first_rows
