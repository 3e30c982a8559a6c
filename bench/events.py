"""Event-stream benchmark: the time from a write to its event at every listening client, and
the server's memory per listener.

Prints ``name: value`` lines (not a test):

    .venv/bin/python bench/events.py [--listeners 50] [--writes 40]

A reference server on a fresh demo database; first one listener (the floor: the same path with
no fan-out), then ``--listeners`` streams (half operator, half provider: both hear a new interest;
the provider's through the visibility filter). Each write is a customer's interest (POST /orders);
the latency runs from sending the POST to the event's arrival at a client, for every client.
The POST's own round trip is printed as well. Target: p95 ≤ 1 s with 50 listeners.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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

from efa_tui.api.events import stream_events  # noqa: E402
from efa_tui.files import free_port  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start_server(db: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "efa_tui.cli", "serve", "--demo", "--demo-offerings", "500",
                             "--database", f"sqlite:///{db}", "--port", str(port), "--log-level", "warning"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/api/v1"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


class Listener:
    def __init__(self, base: str, token: str):
        self.http = httpx.AsyncClient(base_url=base + "/", headers={"Authorization": f"Bearer {token}"})
        self.arrived: dict[int, float] = {}  # order id -> arrival (perf_counter)
        self.ready = asyncio.Event()
        self.task: asyncio.Task | None = None

    async def run(self) -> None:
        async for event in stream_events(self.http, None, keepalive=15, read_timeout=60):
            if event.name == "ready":
                self.ready.set()
            elif event.name == "change" and event.kind == "order" and event.action == "create":
                self.arrived[int(event.data["record_id"])] = time.perf_counter()

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        await self.http.aclose()


async def offerings(base: str) -> list[int]:
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": "Bearer demo-customer"}, timeout=30) as http:
        items = (await http.get("/offerings", params={"status": "published", "limit": 1000})).json()["items"]
    return [o["id"] for o in items if o["fees"]["distribution_key"] != "target_group"]


async def phase(base: str, n_listeners: int, writes: list[int], pid: int) -> dict[str, float]:
    before = rss_kb(pid)
    tokens = ["demo-operator", "demo-provider"]
    listeners = [Listener(base, tokens[i % 2] if n_listeners > 1 else "demo-operator") for i in range(n_listeners)]
    for one in listeners:
        one.task = asyncio.create_task(one.run())
    await asyncio.wait_for(asyncio.gather(*(one.ready.wait() for one in listeners)), 120)
    await asyncio.sleep(1.0)
    after = rss_kb(pid)
    latencies: list[float] = []
    post_ms: list[float] = []
    missing = 0
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        provider = (await http.get("/me", headers={"Authorization": "Bearer demo-provider"})).json()["organization"]["id"]
        for n, offering in enumerate(writes):
            token = "demo-customer" if n % 2 == 0 else "demo-customer-2"
            sent = time.perf_counter()
            r = await http.post("/orders", json={"offering_id": offering, "message": "bench"},
                                headers={"Authorization": f"Bearer {token}"})
            post_ms.append((time.perf_counter() - sent) * 1000)
            if r.status_code != 201:
                raise SystemExit(f"POST /orders: {r.status_code} {r.text[:200]}")
            order = r.json()
            hearing = [one for i, one in enumerate(listeners)
                       if n_listeners == 1 or i % 2 == 0 or order["provider"]["id"] == provider]
            deadline = time.perf_counter() + 10
            while time.perf_counter() < deadline and not all(order["id"] in one.arrived for one in hearing):
                await asyncio.sleep(0.01)
            for one in hearing:
                if order["id"] in one.arrived:
                    latencies.append(one.arrived[order["id"]] - sent)
                else:
                    missing += 1
            await asyncio.sleep(0.3)  # writes apart, so each one's latency is its own
    for one in listeners:
        await one.close()
    return {
        "listeners": n_listeners,
        "deliveries": len(latencies),
        "missing": missing,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": pct(latencies, 95) * 1000,
        "max_ms": max(latencies) * 1000,
        "post_p50_ms": statistics.median(post_ms),
        "server_kb_per_listener": (after - before) / n_listeners,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, default=50)
    parser.add_argument("--writes", type=int, default=40)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="efa-bench-events-"))
    proc, base = start_server(tmp / "m.sqlite3")
    try:
        ids = await offerings(base)
        need = 2 * args.writes
        if len(ids) < need:
            raise SystemExit(f"only {len(ids)} offerings to order")
        floor = await phase(base, 1, ids[: args.writes], proc.pid)
        many = await phase(base, args.listeners, ids[args.writes: need], proc.pid)
        for name, figures in (("floor_1", floor), (f"listeners_{args.listeners}", many)):
            for key, value in figures.items():
                print(f"{name}.{key}: {value:.1f}" if isinstance(value, float) else f"{name}.{key}: {value}")
        print(f"server_rss_mb: {rss_kb(proc.pid) / 1024:.1f}")
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        if proc.poll() is None:
            proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
