"""Schema migrations (Alembic) on the database the server tests run on (tests/databases.py):
the head of the migrations is exactly ``server/db.py``; a demo database made by the release
before migrations (commit fc165c5) is upgraded in place with nothing lost; two processes
starting on one empty database migrate it once; ``efa-tui db upgrade`` / ``db current``."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import databases
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import column, func, inspect, select, table, text
from support import auth, free_port, start_server, stop_server

from efa_tui.domain.collation import search_fold
from efa_tui.server import db, migrations
from efa_tui.server.app import Settings, create_app


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "index" and name in db.POSTGRES_ONLY_INDEXES)


ROOT = Path(__file__).resolve().parent.parent
# Columns of the old release that a revision moved to another table (checked where they went),
# or recomputed (checked against the rule that computes them now).
MOVED = {("users", "token_sha256"), ("offerings", "search_text"), ("organizations", "leitweg_id")}
OLD_RELEASE = "fc165c5"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "efa_tui.cli", *args], capture_output=True, text=True, timeout=300)


def test_head_of_the_migrations_is_the_metadata_in_db_py(tmp_path):
    """A change to db.py without a revision fails here: write one with `efa-tui db revision -m …`."""
    url = databases.new_empty(tmp_path)
    engine = db.make_engine(url)
    try:
        assert migrations.upgrade(engine) == (None, migrations.head())
        with engine.connect() as conn:
            opts = {"compare_type": True, "include_object": include_object}
            diff = compare_metadata(MigrationContext.configure(conn, opts=opts), db.metadata)
        assert diff == [], "server/db.py differs from the migrations' head; add a revision:\n" + "\n".join(map(str, diff))
    finally:
        engine.dispose()
        databases.drop(url)


def _old_release(tmp_path: Path) -> Path:
    """The efa_tui package as of the release before migrations, from git."""
    out = tmp_path / "old-release"
    out.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", OLD_RELEASE, "efa_tui"], capture_output=True)
    if archive.returncode != 0:
        pytest.fail(f"needs the git history of the checkout (commit {OLD_RELEASE}): {archive.stderr.decode()}")
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive.stdout, check=True)
    return out


def _contents(engine, columns: dict[str, list[str]] | None = None) -> tuple[dict[str, list[dict]], dict[str, list[str]]]:
    """Every row of every table (only the given columns of each), in key order."""
    result: dict[str, list[dict]] = {}
    seen: dict[str, list[str]] = {}
    with engine.connect() as conn:
        names = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
        for name in sorted(names):
            # Plain names, not db.py's tables: the old release had columns db.py no longer has.
            seen[name] = (columns or {}).get(name) or [c["name"] for c in inspect(conn).get_columns(name)]
            keys = inspect(conn).get_pk_constraint(name)["constrained_columns"]
            query = select(*(column(c) for c in seen[name])).select_from(table(name)).order_by(*map(column, keys))
            result[name] = [dict(r._mapping) for r in conn.execute(query)]
    return result, seen


def test_a_demo_database_of_the_old_release_is_upgraded_in_place(tmp_path):
    url = databases.new_empty(tmp_path, "oldrelease")
    try:
        old = _old_release(tmp_path)
        made = subprocess.run(
            [sys.executable, "-c", "import sys; from efa_tui.server.serve import prepare; "
             "import efa_tui.server.db as d; assert not hasattr(d, 'safe_url'), d.__file__; "
             "prepare(sys.argv[1], demo=True).state.engine.dispose()", url],
            cwd=old, env={"PYTHONPATH": str(old), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=300,
        )
        assert made.returncode == 0, made.stderr
        engine = db.make_engine(url)
        assert migrations.current(engine) is None  # made by create_all: no alembic_version
        before, old_columns = _contents(engine)
        assert len(before["offerings"]) >= 80 and len(before["invoices"]) > 0
        engine.dispose()

        # The server upgrades it at start; then every old row is there, unchanged — except the
        # columns a revision moved elsewhere, which are found where they went.
        app = create_app(Settings(database_url=url, allow_demo_tokens=True))
        with TestClient(app, base_url="http://127.0.0.1/api/v1") as c:
            assert migrations.current(app.state.engine) == migrations.head()
            kept = {name: [col for col in cols if (name, col) not in MOVED] for name, cols in old_columns.items()}
            after, _ = _contents(app.state.engine, kept)
            assert before.keys() <= after.keys()
            for name, rows in before.items():
                assert after[name] == [{k: v for k, v in r.items() if (name, k) not in MOVED} for r in rows], name
            # 0002: each user's one token became a write token of its own that still works.
            tokens = {(t["user_id"], t["token_sha256"]) for t in after["api_tokens"]}
            assert tokens == {(u["id"], u["token_sha256"]) for u in before["users"]}
            # 0007: the search text is folded (ä = ae, ß = ss) as the server folds a query.
            texts = {r["id"]: r["search_text"] for r in _contents(app.state.engine, {"offerings": ["id", "search_text"]})[0]["offerings"]}
            assert texts == {r["id"]: search_fold(r["search_text"]) for r in before["offerings"]}
            assert any("ue" in t and "ü" not in t for t in texts.values())
            # 0010: each organisation's one role is a set of one, its one Leitweg-ID a list of one.
            assert {(r["organization_id"], r["role"]) for r in after["organization_roles"]} == {
                (o["id"], o["kind"]) for o in before["organizations"]}
            assert {(r["organization_id"], r["position"], r["leitweg_id"]) for r in after["organization_leitweg_ids"]} == {
                (o["id"], 0, o["leitweg_id"]) for o in before["organizations"] if o["leitweg_id"]}
            assert c.get("/me", headers=auth("customer")).json()["organization"]["key"] == "muenchen"
            # …and it serves them: every published offering the old release had, by its id.
            page = c.get("/offerings", params={"limit": 1000, "status": "published"}, headers=auth("customer")).json()
            assert {i["id"] for i in page["items"]} == {
                r["id"] for r in before["offerings"] if r["status"] == "published" and not r["deleted"]}
            assert c.get("/invoices", headers=auth("operator")).status_code == 200
        app.state.engine.dispose()
    finally:
        databases.drop(url)


def test_0007_folds_the_search_text_and_its_downgrade_unfolds_it(db_url):
    """Existing rows get the folded search text (the demo database is at head; down to 0006 gives
    the plain lower-cased text back, up again folds it), and the search over HTTP finds them."""
    from alembic import command

    engine = db.make_engine(db_url)

    def texts() -> dict[int, tuple[str, str]]:
        with engine.connect() as conn:
            return {r.id: (r.title, r.search_text) for r in conn.execute(
                select(db.offerings.c.id, db.offerings.c.title, db.offerings.c.search_text))}

    try:
        with engine.begin() as conn:
            command.downgrade(migrations.config(conn), "0006")
        old = texts()
        oid, (title, text) = next((i, v) for i, v in old.items() if "ü" in v[0].lower())
        assert title.lower() in text and search_fold(title) not in text
        assert migrations.upgrade(engine) == ("0006", migrations.head())
        new = texts()
        assert search_fold(title) in new[oid][1] and "ü" not in new[oid][1]
        assert new == {i: (t, search_fold(v)) for i, (t, v) in old.items()}
    finally:
        engine.dispose()
    app = create_app(Settings(database_url=db_url, allow_demo_tokens=True))
    with TestClient(app, base_url="http://127.0.0.1/api/v1") as c:
        found = c.get("/offerings", params={"q": search_fold(title)}, headers=auth("support")).json()["items"]
        assert oid in {i["id"] for i in found}
    app.state.engine.dispose()


def test_0010_makes_one_role_a_set_and_one_leitweg_id_a_list_and_its_downgrade_takes_them_back(tmp_path):
    """An organisation table of 0009 with a customer, a provider, an operator, an empty and a
    missing Leitweg-ID: upgraded in place, served over HTTP as sets and lists; down again, the
    columns come back as they were."""
    from alembic import command

    url = databases.new_empty(tmp_path, "m0010")
    engine = db.make_engine(url)
    orgs = table("organizations", column("id"), column("key"), column("kind"), column("name"), column("short_name"),
                 column("leitweg_id"), column("updated_at"), column("street"), column("postcode"), column("city"),
                 column("country"), column("email"), column("phone"), column("contact_name"), column("version"),
                 column("accreditation"))
    rows = [(1, "op", "operator", None), (2, "stadt", "customer", "04011000-1234512345-06"),
            (3, "dienstleister", "provider", None), (4, "leer", "customer", "")]
    try:
        with engine.begin() as conn:
            command.upgrade(migrations.config(conn), "0009")
            conn.execute(orgs.insert(), [
                {"id": i, "key": k, "kind": kind, "name": k, "short_name": k, "leitweg_id": lw, "updated_at": db.utcnow(),
                 "street": "", "postcode": "", "city": "", "country": "DE", "email": "", "phone": "", "contact_name": "",
                 "version": 1, "accreditation": "accredited"} for i, k, kind, lw in rows])
        assert migrations.upgrade(engine) == ("0009", migrations.head())
        with engine.connect() as conn:
            assert sorted(conn.execute(select(db.organization_roles.c.organization_id, db.organization_roles.c.role))) == [
                (1, "operator"), (2, "customer"), (3, "provider"), (4, "customer")]
            assert list(conn.execute(select(db.organization_leitweg_ids))) == [(2, 0, "04011000-1234512345-06")]
            assert "leitweg_id" not in {c["name"] for c in inspect(conn).get_columns("organizations")}
        with engine.begin() as conn:
            command.downgrade(migrations.config(conn), "0009")
        with engine.connect() as conn:
            back = conn.execute(text("SELECT id, kind, leitweg_id FROM organizations ORDER BY id")).all()
            assert back == [(1, "operator", None), (2, "customer", "04011000-1234512345-06"), (3, "provider", None),
                            (4, "customer", None)]
            assert "organization_roles" not in inspect(conn).get_table_names()
        assert migrations.upgrade(engine) == ("0009", migrations.head())
    finally:
        engine.dispose()
        databases.drop(url)


def test_two_servers_starting_together_on_an_empty_database_migrate_it_once(tmp_path):
    url = databases.new_empty(tmp_path, "twostart")
    procs: list = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            procs.append(start_server(url, wait=300))  # one of them seeds the demo data meanwhile
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=start) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        engine = db.make_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [migrations.head()]
            # Seeded once, too: one set of demo organisations.
            assert conn.execute(select(func.count()).select_from(db.organizations).where(db.organizations.c.key == "muenchen")).scalar() == 1
        engine.dispose()
    finally:
        for proc, _base in procs:
            stop_server(proc)
        databases.drop(url)


def test_db_upgrade_and_current_on_the_command_line(tmp_path):
    url = databases.new_empty(tmp_path, "cli")
    try:
        first = cli("db", "current", "--database", url)
        assert first.returncode == 0 and "current: -" in first.stdout and "empty or older" in first.stdout
        up = cli("db", "upgrade", "--database", url)
        assert up.returncode == 0, up.stderr
        assert f"empty -> {migrations.head()}" in up.stdout
        again = cli("db", "upgrade", "--database", url)
        assert again.returncode == 0 and "nothing to do" in again.stdout
        now = cli("db", "current", "--database", url)
        assert f"current: {migrations.head()}" in now.stdout and "(up to date)" in now.stdout
    finally:
        databases.drop(url)


def test_db_upgrade_reports_an_unreachable_database_without_a_traceback():
    port = free_port()
    out = cli("db", "current", "--database", f"postgresql+psycopg://nobody:secret@127.0.0.1:{port}/x")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "secret" not in out.stderr and "127.0.0.1" in out.stderr
