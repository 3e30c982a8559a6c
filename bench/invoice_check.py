"""Benchmark of ``efa-tui invoice check`` with the official rules: prints ``name: value`` lines (not a test).

    .venv/bin/python bench/invoice_check.py [--rules DIR] [--files 300]

The documents: every invoice and credit note of a freshly seeded demo marketplace (fetched from the
reference server in-process) and the hand-written UBL invoice and credit note of the tests,
repeated up to ``--files`` and written to a temporary directory (read from disk, as the CLI does).
``--rules``: a configuration directory (default: the installed one, else ../shared/validation/xrechnung-3.0.2).

Figures: ``first_file_s`` (the first document, rules loaded and stylesheets compiled),
``files_per_s`` (every document after the first), and the floor in the same run:
``floor_lxml_parse_files_per_s`` (the same files only parsed by lxml) and
``floor_schema_only_files_per_s`` (parse + the CII/UBL XML schema, no schematron);
``cpu_files_per_s`` is the same as ``files_per_s`` by CPU time (Saxon's threads included), which a
busy machine changes less than the wall clock.
Target: files_per_s ≥ 20.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def default_rules() -> Path | None:
    from efa_tui.xrechnung.rules import active

    info = active()
    if info is not None:
        return Path(info.path)
    for base in (ROOT.parent, ROOT.parent.parent):
        candidate = base / "shared" / "validation" / "xrechnung-3.0.2"
        if (candidate / "scenarios.xml").is_file():
            return candidate
    return None


def demo_documents(target: Path) -> list[Path]:
    from fastapi.testclient import TestClient

    from efa_tui.server.app import Settings, create_app
    from efa_tui.server.serve import prepare

    db = target / "demo.sqlite3"
    prepare(f"sqlite:///{db}", demo=True).state.engine.dispose()
    out = []
    app = create_app(Settings(database_url=f"sqlite:///{db}", allow_demo_tokens=True))
    with TestClient(app, base_url="http://127.0.0.1/api/v1") as http:
        headers = {"Authorization": "Bearer demo-operator"}
        items, cursor = [], None
        while True:
            page = http.get("/invoices", params={"limit": 200, **({"cursor": cursor} if cursor else {})}, headers=headers).json()
            items += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        for item in items:
            path = target / f"{item['number']}.xml"
            path.write_bytes(http.get(f"/invoices/{item['id']}/xrechnung", headers=headers).content)
            out.append(path)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rules", type=Path)
    ap.add_argument("--files", type=int, default=300)
    args = ap.parse_args()
    rules_dir = args.rules or default_rules()
    if rules_dir is None:
        print("no official rules: install them (efa-tui invoice rules install PATH) or pass --rules DIR", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-invoice-check-"))
    try:
        t0 = time.perf_counter()
        sources = demo_documents(work) + [ROOT / "tests" / "data" / "xrechnung" / n for n in ("ubl-invoice.xml", "ubl-credit-note.xml")]
        files = []
        for i in range(args.files):
            src = sources[i % len(sources)]
            dst = work / f"doc-{i:05d}-{src.name}"
            shutil.copyfile(src, dst)
            files.append(dst)
        print(f"documents_prepared_s: {time.perf_counter() - t0:.1f}")
        print(f"files: {len(files)} ({len(sources)} distinct: demo invoices and credit notes, 2 hand-written UBL)")

        from efa_tui.xrechnung import offline
        from efa_tui.xrechnung.validate import check_document, parse_safely, resolve_rules

        t = time.perf_counter()
        engine = resolve_rules(rules_dir)
        first = check_document(files[0], engine=engine)
        print(f"first_file_s: {time.perf_counter() - t:.3f}")
        t, cpu = time.perf_counter(), time.process_time()
        verdicts: dict[str, int] = {}
        for path in files[1:]:
            report = check_document(path, engine=engine)
            verdicts[report.verdict] = verdicts.get(report.verdict, 0) + 1
        elapsed, cpu = time.perf_counter() - t, time.process_time() - cpu
        print(f"files_per_s: {(len(files) - 1) / elapsed:.1f}")
        print(f"cpu_files_per_s: {(len(files) - 1) / cpu:.1f}")
        print(f"ms_per_file: {1000 * elapsed / (len(files) - 1):.1f}")
        print(f"verdicts: {first.verdict} (first), " + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))

        t = time.perf_counter()
        for path in files[1:]:
            parse_safely(path.read_bytes())
        print(f"floor_lxml_parse_files_per_s: {(len(files) - 1) / (time.perf_counter() - t):.1f}")
        t = time.perf_counter()
        for path in files[1:]:
            tree = parse_safely(path.read_bytes())
            offline.schema_findings(tree, offline.syntax_of(tree.getroot()))
        print(f"floor_schema_only_files_per_s: {(len(files) - 1) / (time.perf_counter() - t):.1f}")
        print("target_files_per_s: 20")
        print(f"load_average_1m: {os.getloadavg()[0]:.1f} (on {os.cpu_count()} CPUs)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
