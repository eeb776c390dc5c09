"""`churnwatch broker` stopped the way ops and CI stop things leaves nothing listening."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import pytest

from churnwatch.streams.broker import free_port


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL],
                         ids=lambda s: signal.Signals(s).name)
def test_the_embedded_broker_stops_with_churnwatch(how: signal.Signals) -> None:
    port = free_port()
    cli = subprocess.Popen([sys.executable, "-m", "churnwatch.cli", "broker", "--port",
                            str(port)], stderr=subprocess.DEVNULL)
    try:
        assert _wait(lambda: _listening(port), 20), "the broker never listened"
        cli.send_signal(how)
        cli.wait(timeout=20)
        assert _wait(lambda: not _listening(port), 10), \
            f"Tansu still listens on {port} after {signal.Signals(how).name}"
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
