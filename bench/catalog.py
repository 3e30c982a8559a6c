"""Terminal-app benchmark: the catalog with N offerings in the cache, headless.

Prints ``name: value`` lines (not a test):

    .venv/bin/python bench/catalog.py [--offerings 100000]

* first_rows_s — process start to the first catalog rows painted (a fresh process, cache filled);
* keystroke_p50_ms / keystroke_p95_ms — from the key event to the repainted table while typing
  typical queries, measured inside the app (Input.Changed → table loaded → after refresh);
* rss_mb — peak RSS of that process (VmHWM, see peak_rss_mb);
* datatable_first_rows_s — the same rows in Textual's stock DataTable, for comparison;
* floor_first_rows_s, floor_keystroke_p50_ms / floor_keystroke_p95_ms — the floor on this machine,
  in the same run: a bare Textual app (no efa_tui) from process start to 40 static rows painted,
  and from a key in its input to 40 precomputed rows repainted (no query), typed and timed as the
  app is; then the ratios first_rows_ratio (first_rows_s / floor) and keystroke_p95_ratio.

Targets at N = 100,000: first rows ≤ 1.25 × floor, keystroke p95 ≤ 2 × floor p95, RSS ≤ 150 MB
(the machine is shared: compare ratios, not times).

The package is byte-compiled first, as installing it does (pip writes the .pyc files): with
PYTHONDONTWRITEBYTECODE set, every start would otherwise compile efa_tui from source.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TYPED = ["bau", "bauantrag", "wohn", "führer", "kita", "gewerbe an", "x", "antrag nord"]
CATEGORIES = ["Bauen & Wohnen", "Familie & Kind", "Mobilität & Reisen", "Recht & Ordnung", "Querschnittsleistungen"]
SERVICES = ["Bauantrag", "Wohngeld", "Elterngeld", "Gewerbeanmeldung", "Führerscheinantrag", "Kita-Platz", "Hundesteuer",
            "Neubau-Förderung", "Anwohnerparken", "Meldebescheinigung"]
PROVIDERS = ["AKDB", "Dataport", "Komm.ONE", "ekom21", "regio iT", "KDO", "citeq", "Lecos"]


def offering(n: int) -> dict:
    service = SERVICES[n % len(SERVICES)]
    return {
        "id": n + 1, "title": f"{['Digitaler', 'Online', 'Portal'][n % 3]} {service} {['Nord', 'Süd', 'Ost', 'West'][n % 4]} {n + 1}",
        "summary": f"{service} digital beantragen.", "description": "Generiert.", "category": CATEGORIES[n % len(CATEGORIES)],
        "leika_key": str(99000000000000 + n), "ozg_id": f"GEN-{n}", "bundeslaender": [] if n % 3 else ["BY"], "maturity": n % 5,
        "provider": {"id": 100 + n % len(PROVIDERS), "name": PROVIDERS[n % len(PROVIDERS)]},
        "fees": {"annual_fee": f"{1200 + n % 40000}.00", "one_time_fee": "0.00", "distribution_key": "fixed",
                 "unit_price": None, "unit_label": None, "vat_rate": "19.00"},
        "contract_terms": "", "minimum_term_months": 12, "notice_period_months": 3, "contact": {}, "keywords": [service],
        "status": "published", "version": 1, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "published_at": "2026-01-01T00:00:00Z",
    }


def fill_cache(path: Path, n: int) -> float:
    from efa_tui.store.cache import Cache

    t = time.perf_counter()
    cache = Cache(path)
    for start in range(0, n, 5000):
        cache.upsert_offerings(offering(i) for i in range(start, min(n, start + 5000)))
    cache.set_state("me", {"role": "customer", "organization": {"name": "Landeshauptstadt München", "population": 1512491}})
    cache.close()
    return time.perf_counter() - t


def peak_rss_mb() -> float:
    """This process's peak resident memory. Not getrusage's ru_maxrss: Linux carries the peak
    of the address space before exec over, so a child started by this script (which has just
    filled the cache) would report the parent's peak. VmHWM starts afresh at exec."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(cache_path: str, started: float, mode: str) -> None:
    """Runs in a fresh process: the app (or a DataTable app) on the filled cache, headless."""
    import asyncio

    from textual.app import App
    from textual.widgets import DataTable, Input

    if mode in ("floor", "floor-start"):
        floor(started, only_start=mode == "floor-start")
        return
    if mode == "datatable":
        from efa_tui.store.cache import Cache

        class TableApp(App):
            def compose(self):
                yield DataTable()

            def on_mount(self):
                cache = Cache(cache_path)
                table = self.query_one(DataTable)
                table.add_columns("Titel", "Bereitsteller", "Themenfeld", "Jahresentgelt")
                rows = []
                for offset in range(0, cache.offering_count(), 5000):
                    rows += [(r.title, r.provider_name, r.category, str(r.annual_fee))
                             for r in cache.search("", offset=offset, limit=5000).rows]
                table.add_rows(rows)
                self.call_after_refresh(self._painted)

            def _painted(self):
                print(json.dumps({"datatable_first_rows_s": time.time() - started}), flush=True)
                self.exit()

        TableApp().run(headless=True, size=(120, 40))
        return

    # The start of `efa-tui` (cli.run_app): no garbage collection until the first rows (startup.py).
    from efa_tui.startup import hold_collections

    hold_collections()
    from efa_tui.app import EfaApp
    from efa_tui.config import Config, Profile, _named
    from efa_tui.session import Session
    from efa_tui.widgets.virtual_table import VirtualTable

    # A server nobody listens on: the first paint must come from the cache alone.
    profile = _named(Profile(server_url="http://127.0.0.1:9/api/v1", token_source="demo"), "bench")
    session = Session.open(Config(), profile, cache_path=Path(cache_path), local_path=Path(cache_path).with_name("local.sqlite3"))
    session.backend.probe_min = 3600
    results: dict[str, object] = {}
    latencies: list[tuple[float, str]] = []
    state = {"t0": None, "first": False, "query": ""}

    class BenchApp(EfaApp):
        def on_virtual_table_loaded(self, event: VirtualTable.Loaded) -> None:
            if not state["first"] and event.total:
                state["first"] = True
                self.call_after_refresh(lambda: results.update(first_rows_s=time.time() - started,
                                                               first_rows_cpu_s=time.process_time()))
            elif state["t0"] is not None:
                t0, query = state["t0"], state["query"]
                state["t0"] = None
                self.call_after_refresh(lambda: latencies.append(((time.perf_counter() - t0) * 1000, query)))

        def on_input_changed(self, event: Input.Changed) -> None:
            state["t0"] = time.perf_counter()
            state["query"] = event.value

    app = BenchApp(session, language="de", wait_for_server=False)

    async def drive() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(100):
                await pilot.pause(0.01)
                if "first_rows_s" in results:
                    break
            if mode == "app-start":
                return
            for query in TYPED:
                await pilot.press("slash")
                for ch in query:
                    await pilot.press(ch if ch != " " else "space")
                    await pilot.app.workers.wait_for_complete()
                    await pilot.pause()
                for _ in query:
                    await pilot.press("backspace")
                    await pilot.app.workers.wait_for_complete()
                    await pilot.pause()
                await pilot.press("escape")

    asyncio.run(drive())
    asyncio.run(session.aclose())
    if mode == "app-start":
        print(json.dumps(results), flush=True)
        return
    results["keystrokes"] = len(latencies)
    latencies.sort()
    results["keystroke_p50_ms"] = latencies[len(latencies) // 2][0] if latencies else None
    results["keystroke_p95_ms"] = latencies[int(len(latencies) * 0.95)][0] if latencies else None
    results["slowest_keystrokes"] = ", ".join(f"{query!r} {ms:.0f}" for ms, query in latencies[:-6:-1])
    results["rss_mb"] = peak_rss_mb()
    print(json.dumps(results), flush=True)


ROWS = 40


def floor(started: float, only_start: bool = False) -> None:
    """The floor: what Textual itself costs here. A bare app paints 40 static rows (process start
    → painted), then repaints 40 precomputed rows per key in its input (key → painted), for the
    same keystrokes as the app and measured the same way (Input.Changed → after refresh)."""
    import asyncio

    from rich.text import Text
    from textual.app import App
    from textual.widgets import Input, Static

    lines = [f"{offering(n)['title']:<60} {PROVIDERS[n % len(PROVIDERS)]:<16} {CATEGORIES[n % len(CATEGORIES)]:<24} "
             f"{1200 + n % 40000:>10},00 €" for n in range(ROWS * 8)]
    pages = [Text("\n".join(lines[i * ROWS:(i + 1) * ROWS])) for i in range(8)]
    results: dict[str, object] = {}
    latencies: list[tuple[float, str]] = []
    state: dict[str, object] = {"t0": None, "n": 0}

    class FloorApp(App):
        CSS = "Input { height: 3; } #rows { height: 1fr; }"

        def compose(self):
            yield Input(id="filter")
            yield Static(pages[0], id="rows")

        def on_mount(self) -> None:
            self.call_after_refresh(lambda: results.update(floor_first_rows_s=time.time() - started,
                                                           floor_first_rows_cpu_s=time.process_time()))

        def on_input_changed(self, event: Input.Changed) -> None:
            t0, n = time.perf_counter(), int(state["n"]) + 1  # type: ignore[call-overload]
            state["n"] = n
            self.query_one("#rows", Static).update(pages[n % len(pages)])
            self.call_after_refresh(lambda: latencies.append(((time.perf_counter() - t0) * 1000, event.value)))

    app = FloorApp()

    async def drive() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(100):
                await pilot.pause(0.01)
                if "floor_first_rows_s" in results:
                    break
            if only_start:
                return
            for query in TYPED:
                for ch in query:
                    await pilot.press(ch if ch != " " else "space")
                    await pilot.app.workers.wait_for_complete()
                    await pilot.pause()
                for _ in query:
                    await pilot.press("backspace")
                    await pilot.app.workers.wait_for_complete()
                    await pilot.pause()

    asyncio.run(drive())
    if only_start:
        print(json.dumps(results), flush=True)
        return
    latencies.sort()
    results["floor_keystroke_p50_ms"] = latencies[len(latencies) // 2][0] if latencies else None
    results["floor_keystroke_p95_ms"] = latencies[int(len(latencies) * 0.95)][0] if latencies else None
    print(json.dumps(results), flush=True)


def _medians(runs: list[dict]) -> dict:
    """Per figure the median over the runs (the slowest keystrokes: those of the median run)."""
    import statistics

    out = dict(runs[len(runs) // 2])
    for key, value in runs[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = statistics.median(r[key] for r in runs)
    return out


def run_child(cache_path: Path, mode: str) -> dict:
    started = time.time()
    out = subprocess.run([sys.executable, __file__, "--child", str(cache_path), str(started), mode], cwd=ROOT,
                         capture_output=True, text=True, timeout=900, env={**os.environ, "TEXTUAL": ""})
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise SystemExit(f"child failed: {out.stdout[-2000:]}{out.stderr[-2000:]}")
    return json.loads(lines[-1])


def starts(cache_path: Path, n: int) -> None:
    """``--starts N``: first rows only, app and floor in turns. The CPU time (this process's, from
    its start to the frame with the rows) swings less than the wall time on a shared machine."""
    import statistics

    apps, bases = [], []
    for _ in range(n):
        apps.append(run_child(cache_path, "app-start"))
        bases.append(run_child(cache_path, "floor-start"))
    for runs, prefix in ((apps, ""), (bases, "floor_")):
        for kind in ("first_rows_s", "first_rows_cpu_s"):
            values = [r[prefix + kind] for r in runs]
            print(f"{prefix}{kind}: median {statistics.median(values):.3f}, min {min(values):.3f}  "
                  f"({', '.join(f'{v:.3f}' for v in values)})")
    for kind in ("first_rows_s", "first_rows_cpu_s"):
        median = statistics.median(r[kind] for r in apps) / statistics.median(r["floor_" + kind] for r in bases)
        least = min(r[kind] for r in apps) / min(r["floor_" + kind] for r in bases)
        print(f"{kind.replace('first_rows', 'first_rows_ratio')}: median {median:.2f}, min {least:.2f}  (target ≤ 1.25)")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], float(sys.argv[3]), sys.argv[4])
        return
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--offerings", type=int, default=100_000)
    ap.add_argument("--no-datatable", action="store_true", help="leave out the stock DataTable comparison")
    ap.add_argument("--cache", type=Path, help="fill this cache file once and reuse it (repeated runs)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run the app and the floor this many times, in turns, and print the medians (a busy machine)")
    ap.add_argument("--starts", type=int, default=0, metavar="N",
                    help="only the first rows: start the app and the floor N times each, in turns, each ending at its "
                         "first rows; print the medians and minima of the wall and the CPU time to them, and their ratios")
    args = ap.parse_args()
    compileall.compile_dir(ROOT / "efa_tui", quiet=1)
    with tempfile.TemporaryDirectory(prefix="efa-bench-catalog-") as tmp:
        cache_path = args.cache or Path(tmp) / "cache.sqlite3"
        print(f"offerings: {args.offerings}")
        if not cache_path.exists():
            print(f"cache_fill_s: {fill_cache(cache_path, args.offerings):.1f}")
        # The cache file was just written (~170 MB at 100,000): let the kernel finish writing it
        # back now, not while the app under test starts.
        os.sync()
        if args.starts:
            starts(cache_path, args.starts)
            return
        # The app and the floor in turns: a load that comes and goes meets both alike.
        apps, bases = [], []
        for _ in range(max(1, args.repeat)):
            apps.append(run_child(cache_path, "app"))
            bases.append(run_child(cache_path, "floor"))
        app, base = _medians(apps), _medians(bases)
        for key in ("first_rows_s", "keystroke_p50_ms", "keystroke_p95_ms", "keystrokes", "rss_mb", "slowest_keystrokes"):
            value = app.get(key)
            print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")
        if not args.no_datatable:
            table = run_child(cache_path, "datatable")
            print(f"datatable_first_rows_s: {table['datatable_first_rows_s']:.2f}")
        for key in ("floor_first_rows_s", "floor_keystroke_p50_ms", "floor_keystroke_p95_ms"):
            print(f"{key}: {base[key]:.3f}")
        if args.repeat > 1:
            runs = ", ".join(f"{a['first_rows_s'] / b['floor_first_rows_s']:.2f}/{a['keystroke_p95_ms'] / b['floor_keystroke_p95_ms']:.2f}"
                             for a, b in zip(apps, bases, strict=True))
            print(f"ratios_per_run (first rows/keystroke p95): {runs}")
        print(f"first_rows_ratio: {app['first_rows_s'] / base['floor_first_rows_s']:.2f}  (target ≤ 1.25)")
        print(f"keystroke_p95_ratio: {app['keystroke_p95_ms'] / base['floor_keystroke_p95_ms']:.2f}  (target ≤ 2)")


if __name__ == "__main__":
    main()
