"""The headless layers (domain, api, store, server, config) never import Textual (as Harlequin checks): the server and the domain
must run on a machine without a terminal UI."""

import subprocess
import sys

import pytest

HEADLESS = ["efa_tui.domain.pricing", "efa_tui.domain.orders", "efa_tui.domain.leitweg", "efa_tui.domain.invoicing",
            "efa_tui.server.app", "efa_tui.server.serve", "efa_tui.server.demo.seed", "efa_tui.xrechnung.build",
            "efa_tui.xrechnung.validate", "efa_tui.cli", "efa_tui.config", "efa_tui.secrets", "efa_tui.api.client",
            "efa_tui.api.models", "efa_tui.store.cache", "efa_tui.store.sync", "efa_tui.store.outbox",
            "efa_tui.store.backend", "efa_tui.store.drafts", "efa_tui.store.usage_import", "efa_tui.store.record_search",
            "efa_tui.store.invoice_list", "efa_tui.store.order_list", "efa_tui.store.identity", "efa_tui.session", "efa_tui.domain.offering_rules",
            "efa_tui.domain.invoice_check", "efa_tui.formatting", "efa_tui.offering_text", "efa_tui.invoice_cli", "efa_tui.services", "efa_tui.api.routes",
            "efa_tui.org_names", "efa_tui.order_words"]


@pytest.mark.parametrize("module", HEADLESS)
def test_no_textual_below_screens(module):
    code = f"import sys, {module}; bad = [m for m in sys.modules if m == 'textual' or m.startswith('textual.')]; print(bad); sys.exit(1 if bad else 0)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"{module} pulls in Textual: {result.stdout}{result.stderr}"


def test_domain_does_no_io():
    """domain/ is pure: no HTTP, no database, no files."""
    code = ("import sys, efa_tui.domain.pricing, efa_tui.domain.orders, efa_tui.domain.leitweg, efa_tui.domain.invoicing, "
            "efa_tui.domain.money, efa_tui.domain.catalog, efa_tui.domain.offering_rules, efa_tui.domain.invoice_check; "
            "bad = [m for m in ('sqlalchemy', 'httpx', 'fastapi', 'sqlite3') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_domain_knows_no_ui_language():
    """domain/ reads and checks data the same in any UI language: no message catalog, no Babel."""
    code = ("import sys, efa_tui.domain.pricing, efa_tui.domain.orders, efa_tui.domain.leitweg, efa_tui.domain.invoicing, "
            "efa_tui.domain.money, efa_tui.domain.catalog, efa_tui.domain.offering_rules, efa_tui.domain.invoice_check; "
            "bad = [m for m in ('efa_tui.i18n', 'efa_tui.formatting', 'babel') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# --- one door per area: the screens talk to efa_tui.services only --------------------------------

FRONT = ["efa_tui/screens", "efa_tui/widgets", "efa_tui/commands.py"]
# What a screen must not reach: the wire client, and the local stores behind the services.
FORBIDDEN_IMPORTS = ("efa_tui.api.client", "efa_tui.store.cache", "efa_tui.store.outbox", "efa_tui.store.drafts",
                     "efa_tui.store.backend", "efa_tui.store.local", "efa_tui.store.sync", "efa_tui.session")
FORBIDDEN_ATTRIBUTES = ("api", "cache", "outbox", "drafts", "backend", "local")


def _front_modules():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1]
    for entry in FRONT:
        path = root / entry
        yield from (sorted(path.rglob("*.py")) if path.is_dir() else [path])


def _imports(tree, module: str) -> list[str]:
    import ast

    package = module.rsplit(".", 1)[0]
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            names += [base] + [f"{base}.{a.name}" for a in node.names]
    return names


def test_screens_use_the_services_only():
    """No screen imports the API client, the cache, the outbox, the drafts or the backend, and none
    reaches them through the session (``session.api``, ``session.cache`` …): ``session.services``
    is the one door."""
    import ast

    bad = []
    for path in _front_modules():
        rel = path.as_posix().split("efa_tui/", 1)[1]
        module = "efa_tui." + rel.removesuffix(".py").replace("/", ".")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bad += [f"{rel}: imports {name}" for name in _imports(tree, module)
                if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IMPORTS)]
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES
                    and isinstance(node.value, ast.Attribute) and node.value.attr == "session"):
                bad.append(f"{rel}:{node.lineno}: session.{node.attr}")
    assert not bad, "screens reach past the services:\n" + "\n".join(bad)


def test_every_api_path_lives_in_api_routes():
    """The URL of every endpoint is written only in efa_tui/api/ (routes.py): no screen, service
    or store module spells a path such as "/orders"."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[1] / "efa_tui"
    path = re.compile(r"""(?<!["'])["']/(?:me|organizations|offerings|orders|invoices|usage|billing|events|audit|users|tokens)(?=["'/?{])""")
    bad = []
    for file in sorted(root.rglob("*.py")):
        rel = file.relative_to(root).as_posix()
        if rel.startswith(("api/", "server/")):
            continue
        for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if path.search(code.replace('f"', '"')):
                bad.append(f"{rel}:{n}: {line.strip()}")
    assert not bad, "API paths outside efa_tui/api:\n" + "\n".join(bad)


def test_the_app_wiring_uses_the_services_too():
    """app.py (the wiring) goes through ``session.services`` as the screens do: it imports no
    store module and no API client, and reaches no api, cache, outbox, drafts, backend or local
    store — not through the session, not kept on itself (``self.backend``)."""
    import ast
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[1] / "efa_tui" / "app.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [f"app.py: imports {name}" for name in _imports(tree, "efa_tui.app")
           if name.startswith(("efa_tui.store", "efa_tui.api.client"))]
    bad += [f"app.py:{node.lineno}: .{node.attr}" for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES]
    assert not bad, "the app reaches past the services:\n" + "\n".join(bad)


def test_the_app_starts_without_the_http_client():
    """The first paint comes from the cache: importing the app loads neither the HTTP client nor
    httpx (``session.LazyApi`` imports them on the first request). The outbox once took a
    constant from ``api.client`` and so pulled httpx, stamina and the client into every start."""
    code = ("import sys, efa_tui.app; bad = [m for m in ('httpx', 'stamina', 'efa_tui.api.client') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
