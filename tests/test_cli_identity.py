"""`efa-tui --as IDENTITY`: the embedded demo marketplace answers as that demo user; `--as` with a
remote server is refused with a clear message (exit 2) instead of sending demo tokens away."""

from __future__ import annotations

import pytest

from efa_tui import DEMO_IDENTITIES
from efa_tui.cli import build_parser, chosen_profile, main
from efa_tui.session import EmbeddedServer, Session

EXPECTED = {  # identity → (role, organisation) as the demo data has them
    "customer": ("customer", "Landeshauptstadt München"),
    "customer-nohouse": ("customer", "Stadt Jena"),
    "provider": ("provider", "AKDB"),
    "support": ("support", None),
}


@pytest.fixture
def private_dirs(tmp_path, monkeypatch):
    """No config file of the machine's user: config, data and cache dirs in tmp."""
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    monkeypatch.delenv("EFA_TUI_TOKEN", raising=False)
    return tmp_path


@pytest.mark.parametrize("identity", sorted(EXPECTED))
async def test_as_picks_the_demo_identity(identity, private_dirs, db_url):
    config, profile = chosen_profile(build_parser().parse_args(["--as", identity]))
    assert profile.is_embedded and profile.demo_identity == identity
    session = Session.open(config, profile, server=EmbeddedServer(database_url=db_url),
                           cache_path=private_dirs / "cache.sqlite3", local_path=private_dirs / "local.sqlite3")
    try:
        assert await session.server.wait_ready(60)
        me = await session.api.me()
        role, organisation = EXPECTED[identity]
        assert me.role == role
        if organisation:
            assert organisation in me.organization.name
    finally:
        await session.aclose()


def test_every_demo_identity_is_offered():
    parser = build_parser()
    for identity in DEMO_IDENTITIES:
        assert parser.parse_args(["--as", identity]).identity == identity
    with pytest.raises(SystemExit):
        parser.parse_args(["--as", "admin"])


def test_as_with_a_remote_server_is_refused(private_dirs, capsys):
    assert main(["--server", "https://marketplace.example.org/api/v1", "--as", "provider"]) == 2
    assert "--as" in capsys.readouterr().err


async def _status_lines_while_starting(config, profile, private_dirs) -> list[str]:
    """What the status line says from the first frame until the embedded server answered."""
    from app_support import screen_text

    from efa_tui.app import EfaApp

    session = Session.open(config, profile, cache_path=private_dirs / "cache.sqlite3",
                           local_path=private_dirs / "local.sqlite3")
    app = EfaApp(session, language="de", theme="textual-dark")
    seen: list[str] = []
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(600):
                await pilot.pause(0.1)
                status = next((line for line in screen_text(app).splitlines() if "●" in line), "")
                seen.append(status)
                if "live" in status or "online" in status:
                    break
    finally:
        await session.aclose()
    return seen


async def test_the_first_start_says_it_sets_up_the_demo_marketplace(private_dirs):
    """The first start seeds the demo database for seconds: the status line says so, not just
    "connecting"; the next start (the database is there) only connects."""
    config, profile = chosen_profile(build_parser().parse_args(["--as", "customer"]))
    first = await _status_lines_while_starting(config, profile, private_dirs)
    assert any("Erster Start: richte den Demo-Marktplatz ein" in line for line in first), first
    # Said in full at 80 columns: nothing cut behind it (the data's age waits for the data).
    assert all(line.strip().endswith("(einige Sekunden) …") for line in first if "Erster Start" in line), first
    assert "live" in first[-1] or "online" in first[-1]
    again = await _status_lines_while_starting(config, profile, private_dirs)
    assert not any("Erster Start" in line for line in again), again


async def test_a_dead_embedded_server_is_started_again(private_dirs, db_url):
    """The demo marketplace's process killed (helper walk): the banner promised the changes would
    be sent once it was reachable, and it never was again until efa-tui was restarted. Now the
    app starts it again on the same database and port, says so, and is online again."""
    import time

    from app_support import settle

    from efa_tui.app import EfaApp

    config, profile = chosen_profile(build_parser().parse_args(["--as", "customer"]))
    server = EmbeddedServer(database_url=db_url)
    session = Session.open(config, profile, server=server, cache_path=private_dirs / "cache.sqlite3",
                           local_path=private_dirs / "local.sqlite3")
    app = EfaApp(session, language="de", theme="textual-dark")
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            deadline = time.monotonic() + 90
            while not app.connection.status.online:
                assert time.monotonic() < deadline, "never online"
                await pilot.pause(0.2)
            first = server.process
            assert first is not None
            first.kill()
            first.wait(10)
            await pilot.press("r")  # a request that fails: offline, the server is seen dead
            while server.process is first or not app.connection.status.online:
                assert time.monotonic() < deadline + 90, "not started again"
                await pilot.pause(0.2)
                if server.process is first:
                    await pilot.press("r")
            await settle(pilot)
            assert server.process.poll() is None
    finally:
        await session.aclose()
