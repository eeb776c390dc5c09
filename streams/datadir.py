"""One worker per data directory.

Faust keeps its table offsets (and, with the RocksDB store, the customer states) under
``runtime.data_dir``. Two workers sharing one read each other's offsets: on the embedded
broker the running worker crashed (``ConsistencyError``: persisted offset above the
changelog's end), on Kafka a worker could skip recovering states it does not hold and
raise wrong alerts silently. So a worker locks its directory for as long as it runs (an
``flock``, which the kernel releases when the process dies, even by SIGKILL). A second
worker started with the same directory takes the next free one below it
(``<data_dir>/<app_id>-worker-2`` and so on) and says so: it then runs correctly beside
the first, recovering what it needs from the changelogs.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import IO

from churnwatch.errors import UserError
from churnwatch.settings import Settings

log = logging.getLogger(__name__)

SLOTS = 16
"""Workers one host can run from the same configured directory."""


def claim(settings: Settings) -> tuple[Settings, IO[str]]:
    """The settings with the data directory this worker now owns, and the open lock file:
    keep it open (referenced) for as long as the worker runs."""
    rt = settings.runtime
    owners = []
    for n in range(1, SLOTS + 1):
        path = rt.data_dir if n == 1 else rt.data_dir / f"{rt.app_id}-worker-{n}"
        lock = _try_lock(path / f"{rt.app_id}-data.lock")
        if isinstance(lock, str):
            owners.append(lock)
            continue
        if n > 1:
            log.warning("data directory %s is in use by another worker (pid %s); this worker "
                        "uses %s", rt.data_dir, owners[0], path)
        return settings.changed("runtime", data_dir=path), lock
    raise UserError(f"{rt.data_dir} and the {SLOTS - 1} directories a worker falls back to "
                    f"are in use by other workers (pids {', '.join(owners)}): give this "
                    f"worker its own with CHURNWATCH_RUNTIME__DATA_DIR")


def _try_lock(path: Path) -> IO[str] | str:
    """The lock file, locked and naming this process; or the pid of its holder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        return holder
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle
