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
            "efa_tui.domain.invoice_check", "efa_tui.formatting", "efa_tui.offering_text", "efa_tui.invoice_cli"]


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
