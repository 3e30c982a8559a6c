"""A client process that flushes an outbox (run by tests, which SIGKILL it mid-flush).

    python tests/outbox_worker.py LOCAL_DB BASE_URL TOKEN
"""

from __future__ import annotations

import asyncio
import sys

from efa_tui.api.client import ApiClient
from efa_tui.store.local import LocalDB
from efa_tui.store.outbox import Outbox


async def main(db_path: str, base_url: str, token: str) -> int:
    outbox = Outbox(LocalDB(db_path))
    async with ApiClient(base_url, token, timeout=5, retry_attempts=8, retry_timeout=20) as api:
        for _ in range(50):  # bounded: each round sends what it can, then backs off
            result = await outbox.flush(api)
            print(f"sent={result.sent} remaining={result.remaining}", flush=True)
            if not result.remaining:
                return 0
            await asyncio.sleep(0.2)
    return 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:4])))
