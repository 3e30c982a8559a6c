"""Client-side benchmark: sync N offerings from a local reference server into the cache, resync
with nothing changed, and search the cache with typical German queries.

Prints ``name: value`` lines (not a test):

    .venv/bin/python bench/sync.py [--offerings 100000]

Targets at N = 100,000: full_sync_s ≤ 15 and ≤ 1.5 × raw_fetch_s, resync 1 request answered 304
in ≤ 0.2 s, search_p95_ms ≤ 20.

The floor ``raw_fetch_s``: the same pages as the full sync asks (the same client, parameters and
cursors), fetched and parsed, nothing stored. It runs once before the sync (``raw_fetch_cold_s``:
the server serializes every page) and once after it, when the server has the pages cached as it
had them for the sync, so that the sync and its floor meet the same server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from efa_tui.api.client import ApiClient  # noqa: E402
from efa_tui.store.cache import Cache, Filters  # noqa: E402
from efa_tui.store.sync import PATHS, sync_kind  # noqa: E402

# What people type into a catalog filter: one letter, fragments of compounds, whole words,
# two words, and something that matches nothing.
QUERIES = ["b", "w", "ba", "bau", "antrag", "bauantrag", "wohngeld", "führer", "kita", "gewerbe anmeldung",
           "online antrag", "digitaler bauantrag nord", "hund", "xyzzy", "steuer", "portal süd", "e", "an"]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def proc_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path, offerings: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "efa_tui.cli", "serve", "--demo", "--demo-offerings", str(offerings),
                             "--database", f"sqlite:///{db}", "--port", str(port), "--log-level", "warning"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/api/v1"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


async def raw_fetch(api: ApiClient) -> tuple[float, int, int]:
    """The full sync's pages, fetched and parsed (JSON to dicts) one after the other, nothing stored."""
    t = time.perf_counter()
    params: dict = {"sync_position": 0, "limit": 1000}
    pages = items = 0
    while True:
        resp = await api.request("GET", PATHS["offerings"], params=params)
        pages += 1
        items += len(resp.data["items"])
        cursor = resp.data.get("next_cursor")
        if not cursor:
            return time.perf_counter() - t, pages, items
        params = {"sync_position": 0, "limit": 1000, "cursor": cursor}


async def measure(base: str, work: Path, repeat: int, server_pid: int) -> Cache:
    """The full sync and its floor in turns, ``repeat`` times (each sync into a fresh cache); then
    the no-change resync of the last one. Returns the last cache (for the search figures)."""
    async with ApiClient(base, "demo-customer", timeout=60) as api:
        cold, _, _ = await raw_fetch(api)
        print(f"raw_fetch_cold_s: {cold:.2f}")
        fulls: list[float] = []
        floors: list[float] = []
        cache: Cache | None = None
        for round_ in range(max(1, repeat)):
            if cache is not None:
                cache.close()
            path = work / f"cache-{round_}.sqlite3"
            cache = Cache(path)
            t, cpu, server_cpu = time.perf_counter(), time.process_time(), proc_cpu_s(server_pid)
            result = await sync_kind(api, cache, "offerings")
            fulls.append(time.perf_counter() - t)
            sync_cpu = (time.process_time() - cpu, proc_cpu_s(server_pid) - server_cpu)
            cpu, server_cpu = time.process_time(), proc_cpu_s(server_pid)
            floor, pages, items = await raw_fetch(api)
            floors.append(floor)
            floor_cpu = (time.process_time() - cpu, proc_cpu_s(server_pid) - server_cpu)
            # CPU seconds of this process (all its threads) and of the server: where the time goes
            # whatever else the machine runs.
            print(f"round_{round_ + 1}: full_sync_s {fulls[-1]:.2f} raw_fetch_s {floor:.2f} "
                  f"ratio {fulls[-1] / floor:.2f} (load {os.getloadavg()[0]:.1f}); cpu client/server: "
                  f"sync {sync_cpu[0]:.1f}/{sync_cpu[1]:.1f} s, floor {floor_cpu[0]:.1f}/{floor_cpu[1]:.1f} s")
        assert cache is not None
        full, floor = statistics.median(fulls), statistics.median(floors)
        print(f"raw_fetch_s: {floor:.2f} ({pages} pages, {items} items)")
        print(f"full_sync_s: {full:.2f}")
        print(f"full_sync_per_floor: {statistics.median(f / r for f, r in zip(fulls, floors, strict=True)):.2f}")
        print(f"full_sync_requests: {result.requests}")
        print(f"cached_offerings: {cache.offering_count()}")
        before = api.request_count
        t = time.perf_counter()
        again = await sync_kind(api, cache, "offerings")
        print(f"resync_s: {time.perf_counter() - t:.3f}")
        print(f"resync_requests: {api.request_count - before}")
        print(f"resync_not_modified: {again.not_modified}")
        return cache


def search_bench(cache: Cache) -> None:
    times: list[float] = []
    per_query: dict[str, float] = {}
    for _ in range(5):
        for q in QUERIES:
            t = time.perf_counter()
            page = cache.search(q, filters=Filters(), offset=0, limit=100)
            elapsed = (time.perf_counter() - t) * 1000
            times.append(elapsed)
            per_query[q] = max(per_query.get(q, 0), elapsed)
            _ = page.total
    print(f"search_queries: {len(times)}")
    print(f"search_p50_ms: {statistics.median(times):.2f}")
    print(f"search_p95_ms: {pct(times, 95):.2f}")
    slowest = sorted(per_query.items(), key=lambda kv: -kv[1])[:3]
    print("search_slowest_ms: " + ", ".join(f"{q!r}={ms:.1f}" for q, ms in slowest))
    t = time.perf_counter()
    facets = cache.facets("bau", filters=Filters())
    print(f"facets_ms: {(time.perf_counter() - t) * 1000:.1f} ({sum(len(v) for v in facets.values())} values)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--offerings", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=1,
                    help="full sync and floor N times in turns (fresh cache each); medians and each round's ratio")
    ap.add_argument("--server-db", type=Path,
                    help="the server's database file: seeded on the first run, reused after (repeated runs)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="efa-bench-sync-"))
    try:
        t = time.perf_counter()
        proc, base = start_server(args.server_db or work / "server.sqlite3", args.offerings)
        print(f"offerings: {args.offerings}")
        print(f"server_seed_s: {time.perf_counter() - t:.1f}")
        print(f"load_average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        try:
            cache = asyncio.run(measure(base, work, args.repeat, proc.pid))
        finally:
            proc.terminate()
            proc.wait(10)
        search_bench(cache)
        print(f"rss_mb: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
