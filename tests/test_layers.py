"""The headless layers (domain, api, store, server, config) never import Textual (as Harlequin checks): the server and the domain
must run on a machine without a terminal UI."""

import subprocess
import sys

import pytest

HEADLESS = ["efa_tui.domain.pricing", "efa_tui.domain.orders", "efa_tui.domain.leitweg", "efa_tui.domain.invoicing",
            "efa_tui.server.app", "efa_tui.server.serve", "efa_tui.server.demo.seed", "efa_tui.xrechnung.build",
            "efa_tui.xrechnung.validate", "efa_tui.cli", "efa_tui.config", "efa_tui.secrets", "efa_tui.api.client",
            "efa_tui.api.models", "efa_tui.store.cache", "efa_tui.store.sync", "efa_tui.store.outbox",
            "efa_tui.store.backend", "efa_tui.store.drafts"]


@pytest.mark.parametrize("module", HEADLESS)
def test_no_textual_below_screens(module):
    code = f"import sys, {module}; bad = [m for m in sys.modules if m == 'textual' or m.startswith('textual.')]; print(bad); sys.exit(1 if bad else 0)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"{module} pulls in Textual: {result.stdout}{result.stderr}"


def test_domain_does_no_io():
    """domain/ is pure: no HTTP, no database, no files."""
    code = ("import sys, efa_tui.domain.pricing, efa_tui.domain.orders, efa_tui.domain.leitweg, efa_tui.domain.invoicing, "
            "efa_tui.domain.money, efa_tui.domain.catalog; "
            "bad = [m for m in ('sqlalchemy', 'httpx', 'fastapi', 'sqlite3') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
