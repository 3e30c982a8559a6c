"""``efa-tui invoice check FILE.xml…``, ``efa-tui invoice rules [install PATH]`` and
``efa-tui invoice export --format csv|json [--year Y]``: the invoice tools for scripts, without the
terminal app, with the app's profiles and tokens.

``check`` runs the official XRechnung rules the way the KoSIT validator does (``xrechnung/``):
one line per error or warning (file, level, official rule id, text), one verdict line per file;
``--json`` prints one JSON document instead. Exit 0: every file accepted; 1: a file rejected;
2: a file unreadable, unsupported or missing, or not fully checkable because the official rules
are not installed. ``rules`` lists the installed configurations, ``rules install`` adds one.
``export`` writes the user's invoices to stdout (CSV for spreadsheets: semicolons, decimal comma;
JSON for programs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from . import i18n

if TYPE_CHECKING:
    from .api.models import Invoice


def add_parser(sub) -> None:
    invoice = sub.add_parser("invoice", help="invoice tools for scripts: check XRechnung files, manage their rules, export invoices")
    tools = invoice.add_subparsers(dest="invoice_command", required=True)
    check = tools.add_parser("check", help="check XRechnung files (CII, UBL) with the official rules, as the KoSIT validator does")
    check.add_argument("files", nargs="+", metavar="FILE.xml")
    check.add_argument("--rules", metavar="PATH", help="use this validator configuration (directory or release zip) for this run")
    check.add_argument("--json", action="store_true", help="print one JSON document (verdicts and every finding)")
    check.add_argument("--quiet", "-q", action="store_true", help="print only the verdict line per file")
    check.add_argument("--lang", choices=["de", "en"], default=argparse.SUPPRESS, help="language of the labels (default de)")
    rules = tools.add_parser("rules", help="show the installed official XRechnung rules; 'rules install PATH' adds one")
    rules_tools = rules.add_subparsers(dest="rules_command")
    install = rules_tools.add_parser("install", help="install a validator configuration (directory like xrechnung-3.0.2, or the official zip)")
    install.add_argument("path", metavar="PATH")
    for p in (rules, install):
        p.add_argument("--lang", choices=["de", "en"], default=argparse.SUPPRESS, help="language of the labels (default de)")
    export = tools.add_parser("export", help="write your invoices to stdout")
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    export.add_argument("--year", type=int, help="only invoices for this billing year")


def _rules_error(exc) -> str:
    return i18n.t("xr.rules.failed", reason=exc.de if i18n.current_language() == "de" else exc.en)


def _engine(rules: str | None, workdir: Path):
    """The engine for ``--rules`` (a directory, or a zip unpacked into ``workdir``), else the installed one."""
    from .xrechnung.rules import _unpack
    from .xrechnung.validate import resolve_rules

    if rules is not None and Path(rules).expanduser().is_file():
        target = workdir / "rules"
        target.mkdir()
        _unpack(Path(rules).expanduser(), target)
        rules = str(target)
    return resolve_rules(rules)


def _print_report(report, out: TextIO, quiet: bool) -> None:
    name = report.source
    if not quiet:
        for f in report.findings:
            if f.level == "information":
                continue
            where = f" ({f.location})" if f.location else ""
            print(f"{name}: {i18n.t('xr.level.' + f.level)} [{f.rule}] {f.message}{where}", file=out)
    counts = i18n.t("xr.counts", errors=i18n.tn("xr.errors", report.errors), warnings=i18n.tn("xr.warnings", report.warnings))
    if report.verdict == "unreadable":
        detail = ""
    elif report.rules is None:
        detail = i18n.t("xr.offline_only")
    elif report.scenario is None:
        detail = report.rules.name
    elif report.accepted:
        detail = i18n.t("xr.accepted_as", scenario=report.scenario, rules=report.rules.name)
    else:
        detail = i18n.t("xr.rejected_as", scenario=report.scenario, rules=report.rules.name)
    skipped = [s for s in report.steps if s.endswith("-missing") or s.endswith("-skipped")]
    if skipped:
        detail += "; " + i18n.t("xr.step.skipped", steps=", ".join(skipped))
    print(i18n.t("xr.summary", file=name, verdict=i18n.t("xr.verdict." + report.verdict),
                 detail=f"{detail}; {counts}" if detail else counts), file=out)


def check_files(files: list[str], out: TextIO = sys.stdout, *, quiet: bool = False, rules: str | None = None,
                as_json: bool = False) -> int:
    from .xrechnung.rules import RulesError
    from .xrechnung.validate import Finding, Report, check_document

    with tempfile.TemporaryDirectory(prefix="efa-tui-rules-") as workdir:
        try:
            engine = _engine(rules, Path(workdir))
        except RulesError as exc:
            print(_rules_error(exc), file=sys.stderr)
            return 2
        if engine is None and not as_json:
            print(i18n.t("xr.no_rules"), file=out)
        reports = []
        for name in files:
            path = Path(name)
            if not path.is_file():
                report = Report(name, "unreadable", [Finding("FILE", i18n.t("xr.file_missing"), "fatal", "", "read")],
                                rules=getattr(engine, "info", None))
            else:
                report = check_document(path, engine=engine, name=name)
            reports.append(report)
            if not as_json:
                _print_report(report, out, quiet)
    status = max((r.exit_code for r in reports), default=0)
    if as_json:
        info = getattr(engine, "info", None)
        doc = {"rules": None if info is None else {"name": info.name, "version": info.version, "checksum": info.checksum},
               "note": None if engine is not None else i18n.t("xr.no_rules"), "exit": status,
               "files": [r.as_dict() for r in reports]}
        print(json.dumps(doc, ensure_ascii=False, indent=1), file=out)
    elif len(reports) > 1:
        accepted = sum(r.verdict == "accepted" for r in reports)
        rejected = sum(r.verdict == "rejected" for r in reports)
        print(i18n.t("xr.total", accepted=accepted, rejected=rejected, other=len(reports) - accepted - rejected), file=out)
    return status


def rules_command(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from .xrechnung import rules

    if getattr(args, "rules_command", None) == "install":
        try:
            info = rules.install(args.path)
        except rules.RulesError as exc:
            print(_rules_error(exc), file=sys.stderr)
            return 2
        print(i18n.t("xr.rules.installed", name=info.name, version=info.version or "?", checksum=info.checksum), file=out)
        return 0
    found = rules.installed()
    if not found:
        print(i18n.t("xr.rules.none"), file=out)
        return 0
    current = rules.active()
    for info in found:
        try:
            changed = rules.checksum(Path(info.path)) != info.checksum
        except OSError:
            changed = True
        print(i18n.t("xr.rules.row", mark="*" if current and current.path == info.path else " ", name=info.name,
                     version=info.version or "?", checksum=info.checksum, path=info.path,
                     changed=i18n.t("xr.rules.changed") if changed else ""), file=out)
    return 0


async def fetch_invoices(base_url: str, token: str, year: int | None, **options) -> list[Invoice]:
    from .api import routes
    from .api.client import ApiClient
    from .api.models import Invoice

    async with ApiClient(base_url, token, **options) as api:
        return [Invoice.model_validate(item) async for item in api.iter_items(routes.INVOICES, {"year": year, "sort": "-id"})]


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


def _language(args: argparse.Namespace) -> None:
    lang = getattr(args, "lang", None)
    if lang is None:
        try:
            from .config import load_config

            lang = load_config().language
        except Exception:  # noqa: BLE001 - a broken config file must not stop a check
            lang = "de"
    i18n.set_language(lang if lang in i18n.LANGUAGES else "de")


def run(args: argparse.Namespace) -> int:
    _language(args)
    if args.invoice_command == "check":
        return check_files(args.files, quiet=args.quiet, rules=args.rules, as_json=args.json)
    if args.invoice_command == "rules":
        return rules_command(args)
    return export(args)
