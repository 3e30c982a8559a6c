"""``efa-tui invoice check FILE.xml…`` and ``efa-tui invoice export --format csv|json [--year Y]``:
the invoice tools for scripts, without the terminal app, with the app's profiles and tokens.

``check`` prints one line per finding (file, severity, rule id, German message) and exits 1 when
any file has a finding, 2 when a file cannot be read, else 0. ``export`` writes the user's
invoices to stdout (CSV for spreadsheets: semicolons, decimal comma; JSON for programs).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path
from typing import TextIO

SEVERITY_DE = {"fatal": "FEHLER", "warning": "HINWEIS"}


def add_parser(sub) -> None:
    invoice = sub.add_parser("invoice", help="invoice tools for scripts: validate XRechnung files, export invoices")
    tools = invoice.add_subparsers(dest="invoice_command", required=True)
    check = tools.add_parser("check", help="validate XRechnung CII files (XSD, EN 16931 schematron, XRechnung rules)")
    check.add_argument("files", nargs="+", metavar="FILE.xml")
    check.add_argument("--quiet", "-q", action="store_true", help="print only the summary line per file")
    export = tools.add_parser("export", help="write your invoices to stdout")
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    export.add_argument("--year", type=int, help="only invoices for this billing year")


def check_files(files: list[str], out: TextIO = sys.stdout, *, quiet: bool = False) -> int:
    from .xrechnung.validate import is_valid, validate_xrechnung

    status = 0
    for name in files:
        path = Path(name)
        if not path.is_file():
            print(f"{name}: Datei nicht gefunden", file=out)
            status = 2
            continue
        findings = validate_xrechnung(path)
        if not quiet:
            for f in findings:
                where = f" ({f.location})" if f.location else ""
                print(f"{name}: {SEVERITY_DE.get(f.severity, f.severity)} [{f.rule}] {f.message}{where}", file=out)
        if not findings:
            print(f"{name}: gültig (XSD, EN 16931, XRechnung 3.0)", file=out)
        else:
            fatal = sum(1 for f in findings if f.severity == "fatal")
            verdict = "ungültig" if not is_valid(findings) else "gültig mit Hinweisen"
            print(f"{name}: {verdict}: {fatal} Fehler, {len(findings) - fatal} Hinweise", file=out)
            status = max(status, 1)
    return status


async def fetch_invoices(base_url: str, token: str, year: int | None, **options) -> list[dict]:
    from .api import routes
    from .api.client import ApiClient

    async with ApiClient(base_url, token, **options) as api:
        return [item async for item in api.iter_items(routes.INVOICES, {"year": year, "sort": "-id"})]


def export(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from .api.errors import ApiError, Unreachable
    from .cli import chosen_profile
    from .secrets import get_token
    from .store import invoice_list as il

    chosen = chosen_profile(args)
    if chosen is None:
        return 2
    _, profile = chosen
    token = get_token(profile.name, profile) or ""
    if not token:
        print(f"efa-tui: no token for profile {profile.name!r}: set EFA_TUI_TOKEN or store one for the profile",
              file=sys.stderr)
        return 2
    server = None
    try:
        if profile.is_embedded:
            from .session import EmbeddedServer

            server = EmbeddedServer()
            server.start()
            if not asyncio.run(server.wait_ready()):
                print("efa-tui: the embedded demo marketplace did not start", file=sys.stderr)
                return 2
            base_url = server.base_url
        else:
            base_url = profile.server_url or ""
        verify: bool | str = str(profile.ca_bundle_path) if profile.ca_bundle_path else True
        invoices = asyncio.run(fetch_invoices(base_url, token, args.year, timeout=profile.timeout_s, verify=verify))
    except Unreachable as exc:
        print(f"efa-tui: server not reachable: {exc}", file=sys.stderr)
        return 2
    except ApiError as exc:
        print(f"efa-tui: {exc.status} {exc.detail or exc.title}", file=sys.stderr)
        return 2
    finally:
        if server is not None:
            server.stop()
    today = date.today()
    out.write(il.to_csv(invoices, today) if args.format == "csv" else il.to_json(invoices, today))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.invoice_command == "check":
        return check_files(args.files, quiet=args.quiet)
    return export(args)
