"""`churnwatch broker` stops with the command however it is stopped, and leaves nothing
listening (the demo and `make demo`: tests/broker/test_children.py)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest

from churnwatch.tools.broker import free_port
from tests.support.cluster import eventually


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _as_in_a_terminal() -> None:
    """Ctrl-C reaches a terminal's foreground process. A shell script's background job
    (`make test &`) inherits SIGINT ignored, Python keeps it so, and this test hung on a
    signal that could never arrive: start the command the way a terminal would."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL],
                         ids=lambda s: signal.Signals(s).name)
def test_the_embedded_broker_stops_with_churnwatch(how: signal.Signals) -> None:
    port = free_port()
    cli = subprocess.Popen([sys.executable, "-m", "churnwatch.cli", "broker", "--port",
                            str(port)], stderr=subprocess.DEVNULL,
                           preexec_fn=_as_in_a_terminal)  # noqa: PLW1509 - no locks taken
    try:
        assert eventually(lambda: _listening(port), 20, every=0.05), "the broker never listened"
        cli.send_signal(how)
        cli.wait(timeout=20)
        assert eventually(lambda: not _listening(port), 10, every=0.05), \
            f"Tansu still listens on {port} after {signal.Signals(how).name}"
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()


