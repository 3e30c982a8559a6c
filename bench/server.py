"""Load benchmark of the reference marketplace server (not a test: prints ``name: value`` lines).

Starts ``efa-tui serve --demo --demo-offerings N [--workers W]`` on a temporary SQLite database
(or ``--database URL``, e.g. PostgreSQL; seeded once, kept) on a free loopback port, then measures
catalog paging (1 and 20 clients), a page walk deep in the catalog, order creation (20 clients),
one billing run over 10,000 contracts inserted straight into the database, and the server's RSS.
The floor: the same 1-client catalog loop against a bare FastAPI endpoint (uvicorn, one process)
that returns a fixed 100-item catalog page, so the figures can be read as "× the floor".

The load generator runs on the same machine: its own CPU time is printed (``client_cpu_s``)
beside the servers' (``server_cpu_s``) and, on a local PostgreSQL, the database backends'
(``order_db_cpu_s``), so what each took from the cores is visible. ``order_cores_busy`` is all
three over the wall time: near the machine's core count, orders/s is bounded by the CPUs, not by
a lock, and a second server process cannot add throughput (``orders_per_cpu_s`` then says what
each order costs). ``--client-cpus 0`` pins the load generator to those CPUs and the servers to
the others (on a machine with cores to spare). ``--workers 1,2`` measures both back to back and
prints ``orders_per_s_ratio`` and ``orders_per_cpu_s_ratio``. Every figure block names the load
average (``load_avg_1m``): the machine may be shared.

    .venv/bin/python bench/server.py [--offerings 100000] [--database URL] [--workers 1,2] [--keep-db]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
API = "/api/v1"
TOKENS = {
    "customer": "demo-customer",
    "customer2": "demo-customer-2",
    "operator": "demo-operator",
}

# The catalog mix: (label, query parameters, pages to read by following next_cursor).
WALKS: list[tuple[str, dict[str, str], int]] = [
    ("first", {}, 1),
    ("cursor", {}, 4),
    ("q_bauantrag", {"q": "bauantrag"}, 2),
    ("q_wohn", {"q": "wohn"}, 2),
    ("category", {"category": "Bauen & Wohnen"}, 2),
    ("sort_title", {"sort": "title"}, 2),
    ("sort_fee_desc", {"sort": "-annual_fee"}, 2),
]


def out(name: str, value: object) -> None:
    if isinstance(value, float):
        value = f"{value:.3f}" if value < 100 else f"{value:.1f}"
    print(f"{name}: {value}", flush=True)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def load_avg() -> float:
    return os.getloadavg()[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> tuple[float, float]:
    """VmRSS and VmHWM (peak) of a process in MiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(rest.split()[0]) / 1024
    return found.get("VmRSS", float("nan")), found.get("VmHWM", float("nan"))


def tree_cpu_s(pid: int) -> float:
    """CPU seconds of a process and its children (the workers of serve --workers N)."""
    total = cpu_s(pid)
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return total + sum(tree_cpu_s(int(c)) for c in children)


FLOOR_APP = """
import sys
from fastapi import FastAPI
from fastapi.responses import Response
import uvicorn
body = open(sys.argv[1], "rb").read()
app = FastAPI()
@app.get("/api/v1/offerings")
def page() -> Response:
    return Response(body, media_type="application/json")
@app.get("/api/v1/healthz")
def health() -> Response:
    return Response(b"{}", media_type="application/json")
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def floor_phase(base: str, args: argparse.Namespace, tmp: Path) -> None:
    """The same 1-client catalog loop against a bare endpoint returning a fixed 100-item page."""
    with httpx.Client(base_url=base, headers=headers("customer"), timeout=60) as client:
        page = client.get(f"{API}/offerings", params={"limit": "100"}).content
    (tmp / "page.json").write_bytes(page)
    (tmp / "floor.py").write_text(FLOOR_APP)
    port = free_port()
    log_path = tmp / "floor.log"
    proc = subprocess.Popen([sys.executable, str(tmp / "floor.py"), str(tmp / "page.json"), str(port)],
                            stdout=log_path.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        floor = f"http://{HOST}:{port}"
        wait_healthy(proc, floor, 60, log_path)
        times, _ = catalog_sequential(floor, args.catalog_requests)
        out("floor_page_p50_ms", pct(times, 50))
        out("floor_page_p95_ms", pct(times, 95))
        times, errors = asyncio.run(catalog_concurrent(floor, args.clients, args.catalog_requests_20c))
        out("floor_page_p95_ms_20c", pct(times, 95))
    finally:
        stop_server(proc)


def deep_walk_phase(base: str, args: argparse.Namespace) -> None:
    """Pages deep in the catalog by title (keyset): skip to about 80 % with big pages, then time
    the next 100-item pages one by one."""
    with httpx.Client(base_url=base, headers=headers("customer"), timeout=120) as client:
        cursor, seen = None, 0
        while seen < args.offerings * 0.8:
            params = {"sort": "title", "limit": "1000", **({"cursor": cursor} if cursor else {})}
            body = client.get(f"{API}/offerings", params=params).json()
            seen += len(body["items"])
            cursor = body["next_cursor"]
            if not cursor:
                break
        out("deep_walk_start_row", seen)
        times = []
        for _ in range(args.walk_pages):
            if not cursor:
                break
            t0 = time.perf_counter()
            resp = client.get(f"{API}/offerings", params={"sort": "title", "limit": "100", "cursor": cursor})
            times.append((time.perf_counter() - t0) * 1000)
            cursor = resp.json()["next_cursor"]
        out("page_walk_pages", len(times))
        out("page_walk_p50_ms", pct(times, 50))
        out("page_walk_p95_ms", pct(times, 95))


def cpu_s(pid: int) -> float:
    """User + system CPU seconds used so far by a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def headers(who: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[who]}", **extra}


# --- server ------------------------------------------------------------------------------

def start_server(url: str, port: int, offerings: int, log_path: Path, script: str | None = None,
                 workers: int = 1, cpus: set[int] | None = None, pool_size: int | None = None) -> subprocess.Popen:
    entry = [script] if script else ["-m", "efa_tui.cli"]
    cmd = [sys.executable, *entry, "serve", "--demo", "--demo-offerings", str(offerings),
           "--database", url, "--host", HOST, "--port", str(port), "--log-level", "warning", "--workers", str(workers)]
    if pool_size:
        # A pool as large as the clients and no overflow: no connection is opened and closed
        # during a phase, so the backends' CPU time can be read from them (db_cpu_s).
        cmd += ["--pool-size", str(pool_size), "--max-overflow", "0"]
    log = log_path.open("wb")
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    return subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=pin)


def db_backend_cpu_s(url: str) -> float | None:
    """CPU seconds of the PostgreSQL backends connected to the bench's database (a local server
    whose /proc we may read), or None. The backends of a pool live through a phase, so the
    difference of two readings is what the database spent on it."""
    if not url.startswith("postgresql"):
        return None
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                     "AND pid <> pg_backend_pid()")).scalars().all()
    finally:
        engine.dispose()
    total = 0.0
    for pid in pids:
        try:
            total += cpu_s(pid)
        except OSError:
            return None
    return total


def wait_healthy(proc: subprocess.Popen, base: str, timeout_s: float, log_path: Path) -> None:
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=base, timeout=5) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"server exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-4000:]}")
            try:
                if client.get(f"{API}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
    raise SystemExit(f"server not healthy after {timeout_s:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


# --- catalog -----------------------------------------------------------------------------

def catalog_sequential(base: str, total: int) -> tuple[list[float], dict[str, list[float]]]:
    times: list[float] = []
    by_kind: dict[str, list[float]] = {}
    walks = itertools.cycle(WALKS)
    with httpx.Client(base_url=base, headers=headers("customer"), timeout=60) as client:
        client.get(f"{API}/offerings", params={"limit": "1"}).raise_for_status()  # warm the connection
        for _ in range(total):  # bounded: at most `total` walks, each stops once `total` is reached
            if len(times) >= total:
                break
            label, params, pages = next(walks)
            cursor = None
            for n in range(pages):
                query = {**params, "limit": "100"}
                if cursor:
                    query["cursor"] = cursor
                t0 = time.perf_counter()
                resp = client.get(f"{API}/offerings", params=query)
                dt = (time.perf_counter() - t0) * 1000
                resp.raise_for_status()
                times.append(dt)
                by_kind.setdefault(label if n == 0 else f"{label}_next", []).append(dt)
                cursor = resp.json().get("next_cursor")
                if not cursor or len(times) >= total:
                    break
    return times, by_kind


async def catalog_concurrent(base: str, clients: int, total: int) -> tuple[list[float], int]:
    times: list[float] = []
    errors = 0
    budget = iter(range(total))  # shared: each request takes one ticket

    async def worker(index: int) -> None:
        nonlocal errors
        walks = itertools.islice(itertools.cycle(WALKS), index, None)
        async with httpx.AsyncClient(base_url=base, headers=headers("customer" if index % 2 else "customer2"),
                                     timeout=60) as client:
            for _ in range(total):
                label, params, pages = next(walks)
                cursor = None
                for _page in range(pages):
                    if next(budget, None) is None:
                        return
                    query = {**params, "limit": "100"}
                    if cursor:
                        query["cursor"] = cursor
                    t0 = time.perf_counter()
                    resp = await client.get(f"{API}/offerings", params=query)
                    times.append((time.perf_counter() - t0) * 1000)
                    if resp.status_code != 200:
                        errors += 1
                        break
                    cursor = resp.json().get("next_cursor")
                    if not cursor:
                        break

    await asyncio.gather(*(worker(i) for i in range(clients)))
    return times, errors


# --- orders ------------------------------------------------------------------------------

def published_ids(base: str, want: int) -> list[int]:
    with httpx.Client(base_url=base, headers=headers("customer"), timeout=60) as client:
        resp = client.get(f"{API}/offerings", params={"limit": str(min(want, 1000)), "sort": "-annual_fee"})
        resp.raise_for_status()
        return [item["id"] for item in resp.json()["items"] if item["status"] == "published"]


async def orders_concurrent(base: str, clients: int, total: int, offering_ids: list[int]) -> tuple[list[float], dict[int, int]]:
    times: list[float] = []
    statuses: dict[int, int] = {}
    budget = iter(range(total))

    async def worker(index: int) -> None:
        who = "customer" if index % 2 == 0 else "customer2"
        async with httpx.AsyncClient(base_url=base, headers=headers(who), timeout=120) as client:
            for _ in range(total):
                n = next(budget, None)
                if n is None:
                    return
                body = {"offering_id": offering_ids[n % len(offering_ids)], "message": "bench"}
                t0 = time.perf_counter()
                resp = await client.post(f"{API}/orders", json=body, headers={"Idempotency-Key": f"bench-{uuid.uuid4()}"})
                times.append((time.perf_counter() - t0) * 1000)
                statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1

    await asyncio.gather(*(worker(i) for i in range(clients)))
    return times, statuses


# --- billing -----------------------------------------------------------------------------

def insert_contracts(url: str, count: int, year: int) -> int:
    """``count`` active contracts (start in the year before ``year``) straight into the database."""
    from sqlalchemy import select

    from efa_tui.server import db

    engine = db.make_engine(url)
    off, org, lw = db.offerings, db.organizations, db.organization_leitweg_ids
    first_leitweg = (select(lw.c.leitweg_id).where(lw.c.organization_id == org.c.id)
                     .order_by(lw.c.position).limit(1).scalar_subquery())
    try:
        with db.reading(engine) as conn:
            customers = conn.execute(
                select(org.c.id, first_leitweg.label("leitweg_id"))
                .where(org.c.kind == "customer", org.c.inhouse_operator_id.is_not(None))
                .order_by(org.c.id)).all()
            offers = conn.execute(
                select(off.c.id, off.c.provider_id, off.c.annual_fee, off.c.one_time_fee, off.c.distribution_key,
                       off.c.unit_price, off.c.vat_rate, off.c.contract_terms)
                .where(off.c.status == "published", off.c.deleted.is_(False)).order_by(off.c.id).limit(count)).all()
            if not customers or not offers:
                raise SystemExit("no in-house customers or published offerings to build contracts from")
            user_id = conn.execute(select(db.users.c.id).where(db.users.c.organization_id == customers[0].id)
                                   .order_by(db.users.c.id).limit(1)).scalar_one()
        now = db.utcnow()
        rows = []
        for n in range(count):
            c = customers[n % len(customers)]
            f = offers[n % len(offers)]
            start = date(year - 1, n % 12 + 1, 1)
            rows.append({
                "offering_id": f.id, "customer_id": c.id, "provider_id": f.provider_id, "state": "active",
                "message": "bench contract", "desired_start": start, "contact_name": "Bench",
                "leitweg_id": c.leitweg_id or "", "cost_centre": "", "annual_fee": f.annual_fee,
                "one_time_fee": f.one_time_fee, "distribution_key": f.distribution_key,
                "unit_price": None if f.distribution_key == "fixed" else f.unit_price, "vat_rate": f.vat_rate,
                "target_group_size": 10_000 if f.distribution_key == "target_group" else None,
                "terms": f.contract_terms, "start_date": start, "end_date": None,
                "ordered_at": datetime(year - 1, 1, 1), "ordered_by": "Bench", "version": 4,
                "created_by": user_id, "created_at": now, "updated_at": now,
            })
        for i in range(0, len(rows), 2000):
            with db.writing(engine) as conn:
                conn.execute(db.orders.insert(), rows[i:i + 2000])
        return len(customers)
    finally:
        engine.dispose()


def billing_run(base: str, year: int) -> tuple[float, dict]:
    """The preview (dry run), then the run confirmed with its gross total; the time is both."""
    with httpx.Client(base_url=base, headers=headers("operator"), timeout=1800) as client:
        t0 = time.perf_counter()
        preview = client.post(f"{API}/billing/runs", json={"year": year, "dry_run": True})
        if preview.status_code != 200:
            raise SystemExit(f"billing preview answered {preview.status_code}: {preview.text[:1000]}")
        resp = client.post(f"{API}/billing/runs", json={"year": year, "confirm_gross_total": preview.json()["gross_total"]},
                           headers={"Idempotency-Key": f"bench-{uuid.uuid4()}"})
        dt = time.perf_counter() - t0
    if resp.status_code != 201:
        raise SystemExit(f"billing run answered {resp.status_code}: {resp.text[:1000]}")
    return dt, resp.json()


# --- main --------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--offerings", type=int, default=100_000, help="generated offerings (default 100000)")
    ap.add_argument("--catalog-requests", type=int, default=300)
    ap.add_argument("--catalog-requests-20c", type=int, default=1000)
    ap.add_argument("--orders", type=int, default=500)
    ap.add_argument("--contracts", type=int, default=10_000)
    ap.add_argument("--billing-year", type=int, default=date.today().year - 3,
                    help="a past year without invoices (default: three years ago; future years cannot be billed)")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--phases", default="floor,catalog,catalog20,walk,orders,billing", help="comma list of phases to run")
    ap.add_argument("--walk-pages", type=int, default=100, help="pages timed in the deep page walk")
    ap.add_argument("--database", metavar="URL", help="this database instead of a temporary SQLite file (kept, seeded once)")
    ap.add_argument("--workers", default="1", help="server processes (serve --workers); a comma list (1,2) "
                    "runs the phases once per count, back to back, and prints the ratios of the last to the first")
    ap.add_argument("--client-cpus", metavar="LIST", help="pin the load generator to these CPUs (0,1) and the "
                    "servers to the others")
    ap.add_argument("--serve-script", metavar="PY", help="run this script instead of -m efa_tui.cli (experiments)")
    ap.add_argument("--keep-db", action="store_true", help="keep the temporary database (for EXPLAIN) and print its path")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="efa-bench-"))
    db_path = tmp / "bench.sqlite3"
    url = args.database or f"sqlite:///{db_path}"
    server_cpus = None
    if args.client_cpus:
        client_cpus = {int(c) for c in args.client_cpus.split(",")}
        server_cpus = set(range(os.cpu_count() or 1)) - client_cpus
        if not server_cpus:
            raise SystemExit("--client-cpus leaves no CPU for the servers")
        os.sched_setaffinity(0, client_cpus)
        out("client_cpus", ",".join(map(str, sorted(client_cpus))))
        out("server_cpus", ",".join(map(str, sorted(server_cpus))))
    out("cpu_count", os.cpu_count())
    results = []
    try:
        for workers in (int(w) for w in args.workers.split(",")):
            results.append(run_one(args, url, tmp, workers, server_cpus))
            # The database of a first run is seeded: it holds the orders and invoices made by it.
        if len(results) > 1:
            first, last = results[0], results[-1]
            for name in ("order_create_per_s_20c", "orders_per_cpu_s", "orders_per_server_cpu_s"):
                if name in first and name in last:
                    out(f"{name}_ratio_{last['workers']}_vs_{first['workers']}", last[name] / first[name])
    finally:
        if args.keep_db:
            out("kept_db", db_path)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def run_one(args: argparse.Namespace, url: str, tmp: Path, workers: int, server_cpus: set[int] | None) -> dict:
    log_path = tmp / "server.log"
    port = free_port()
    base = f"http://{HOST}:{port}"
    figures: dict = {"workers": workers}
    proc = None
    try:
        t0 = time.perf_counter()
        pool = args.clients if url.startswith("postgresql") else None
        proc = start_server(url, port, args.offerings, log_path, args.serve_script, workers, server_cpus, pool)
        wait_healthy(proc, base, 3600, log_path)
        out("database", url.split(":", 1)[0])
        out("workers", workers)
        out("offerings", args.offerings)
        out("seed_s", time.perf_counter() - t0)
        out("rss_mb_after_seed", rss_mb(proc.pid)[0])
        out("load_avg_1m", load_avg())

        phases = set(args.phases.split(","))
        client0, server0 = time.process_time(), tree_cpu_s(proc.pid)
        if "floor" in phases:
            floor_phase(base, args, tmp)
        if "catalog" in phases:
            times, by_kind = catalog_sequential(base, args.catalog_requests)
            out("catalog_requests", len(times))
            out("catalog_page_p50_ms", pct(times, 50))
            out("catalog_page_p95_ms", pct(times, 95))
            out("catalog_page_max_ms", max(times))
            for kind, values in by_kind.items():
                out(f"catalog_p95_ms.{kind}", pct(values, 95))
            out("load_avg_1m", load_avg())

        if "catalog20" in phases:
            cpu0 = tree_cpu_s(proc.pid)
            times, errors = asyncio.run(catalog_concurrent(base, args.clients, args.catalog_requests_20c))
            out("catalog_server_cpu_ms_per_req_20c", (tree_cpu_s(proc.pid) - cpu0) * 1000 / max(1, len(times)))
            out("catalog_requests_20c", len(times))
            out("catalog_errors_20c", errors)
            out("catalog_page_p50_ms_20c", pct(times, 50))
            out("catalog_page_p95_ms_20c", pct(times, 95))
            out("load_avg_1m", load_avg())

        if "walk" in phases:
            deep_walk_phase(base, args)
            out("load_avg_1m", load_avg())
        if "orders" in phases:
            figures.update(orders_phase(base, url, args, proc.pid))
            out("load_avg_1m", load_avg())
        if "billing" in phases:
            billing_phase(base, url, args)
            out("load_avg_1m", load_avg())

        out("client_cpu_s", time.process_time() - client0)
        out("server_cpu_s", tree_cpu_s(proc.pid) - server0)
        rss, peak = rss_mb(proc.pid)
        out("rss_mb", rss)
        out("rss_peak_mb", peak)
        if proc.poll() is not None:
            raise SystemExit("server died during the benchmark")
    finally:
        if proc is not None:
            stop_server(proc)
    return figures


def orders_phase(base: str, url: str, args: argparse.Namespace, pid: int) -> dict:
    ids = published_ids(base, 200)
    # Warm every server process's pool (and its backends) first, so that the phase measures
    # orders, not connecting; the backends then live through the phase (db_backend_cpu_s).
    asyncio.run(orders_concurrent(base, args.clients, args.clients * 2, ids))
    db0 = db_backend_cpu_s(url)
    t1, cpu0, client0 = time.perf_counter(), tree_cpu_s(pid), time.process_time()
    times, statuses = asyncio.run(orders_concurrent(base, args.clients, args.orders, ids))
    wall = time.perf_counter() - t1
    server_cpu, client_cpu = tree_cpu_s(pid) - cpu0, time.process_time() - client0
    db1 = db_backend_cpu_s(url)
    db_cpu = db1 - db0 if db0 is not None and db1 is not None else None
    # The load generator shares the cores: its CPU time beside the servers' (and the database's)
    # says how much of the wall time it took (on 2 cores, orders/s can rise with processes only
    # by what the others leave).
    out("order_wall_s", wall)
    out("order_client_cpu_s", client_cpu)
    out("order_server_cpu_s", server_cpu)
    out("order_server_cpu_ms_per_req_20c", server_cpu * 1000 / max(1, len(times)))
    if db_cpu is not None:
        out("order_db_cpu_s", db_cpu)
        out("order_db_cpu_ms_per_req_20c", db_cpu * 1000 / max(1, len(times)))
    busy = server_cpu + client_cpu + (db_cpu or 0.0)
    out("order_cores_busy", busy / wall)
    out("orders_created", statuses.get(201, 0))
    out("order_status_counts", " ".join(f"{k}={v}" for k, v in sorted(statuses.items())))
    out("order_all_201", set(statuses) == {201})
    out("order_create_p50_ms_20c", pct(times, 50))
    out("order_create_p95_ms_20c", pct(times, 95))
    per_s = len(times) / wall
    out("order_create_per_s_20c", per_s)
    out("orders_per_server_cpu_s", len(times) / server_cpu)
    out("orders_per_cpu_s", len(times) / busy)  # server + load generator (+ database when known)
    return {"order_create_per_s_20c": per_s, "orders_per_server_cpu_s": len(times) / server_cpu,
            "orders_per_cpu_s": len(times) / busy}


def billing_phase(base: str, url: str, args: argparse.Namespace) -> None:
    t2 = time.perf_counter()
    n_customers = insert_contracts(url, args.contracts, args.billing_year)
    out("contracts_inserted", args.contracts)
    out("contracts_insert_s", time.perf_counter() - t2)
    out("contract_customers", n_customers)
    seconds, run = billing_run(base, args.billing_year)
    out("billing_10k_s", seconds)
    out("invoices_created", run.get("invoices_created"))
    out("billing_contracts_billed", run.get("contracts_billed"))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
