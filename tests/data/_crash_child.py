"""Child process for test_crash_safety: write through the repository until killed.

Prints ``ready`` once the database is open, then ``committed <n>`` after every flush,
where ``n`` is how many events this process has committed so far.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from micboard_desktop.data.db import open_database
from micboard_desktop.data.records import HistoryPoint
from micboard_desktop.data.repository import Repository

BATCH = 50


async def main(path: Path) -> None:
    repo = Repository(open_database(path), commit_interval=3600)
    await repo.start()
    print("ready", flush=True)
    committed = 0
    while True:
        now = datetime.now(UTC)
        for i in range(BATCH):
            repo.queue_event("crash_test", f"event {committed + i}", data={"i": committed + i})
        repo.queue_history(
            HistoryPoint(f"ch:{i}", "rssi_dbm", now, 1, -60.0, -50.0, -55.0, 10)
            for i in range(BATCH)
        )
        await repo.flush()
        committed += BATCH
        print(f"committed {committed}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
