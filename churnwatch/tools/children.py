"""Child processes that never outlive churnwatch, and SIGTERM handled like Ctrl-C.

`timeout`, `docker stop`, Kubernetes and CI stop a process with SIGTERM, not Ctrl-C. The
embedded broker runs in its own session (so that a Ctrl-C reaches the clients before it),
which also meant a SIGTERM to `churnwatch broker` or the demo left Tansu running,
re-parented to PID 1 and holding its port.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Iterator
from types import FrameType

_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True) \
    if sys.platform.startswith("linux") else None


def die_with_parent() -> None:
    """A ``preexec_fn``: the kernel sends the child SIGTERM when its parent dies, however
    it dies (SIGKILL included). Linux only; elsewhere a no-op."""
    if _LIBC is None:
        return
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block SIGTERM raises KeyboardInterrupt, so one clean stop path (the
    one Ctrl-C takes) serves both."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


class StopRequest:
    """A stop asked for by a signal: a plain flag. A handler that takes a lock deadlocks
    when a second signal lands while the first handler holds it (``threading.Event.set``
    does: a demo stopped by `timeout` hung with both handlers inside that Event's lock and
    its broker left running); assigning an attribute takes none."""

    __slots__ = ("_requested",)

    def __init__(self) -> None:
        self._requested = False

    def set(self) -> None:
        self._requested = True

    def is_set(self) -> bool:
        return self._requested


@contextlib.contextmanager
def stop_requested() -> Iterator[StopRequest]:
    """Within the block SIGTERM and SIGINT set the flag instead of raising. For a loop
    that polls a Kafka client: an exception raised by a signal handler inside the client's
    locking can surface as "release unlocked lock" instead of a clean stop (seen once in
    five demo runs stopped by `timeout`)."""
    stop = StopRequest()

    def request(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
