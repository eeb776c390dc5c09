"""`churnwatch demo` and `make demo`, stopped the way ops, CI and a terminal stop things,
leave nothing listening."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from churnwatch.tools.broker import free_port
from tests.support.cluster import eventually

ROOT = Path(__file__).parents[2]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _ports_announced(out: Path, timeout: float) -> tuple[int, int]:
    """(broker port, metrics port) once the demo printed both and both listen."""
    def announced() -> tuple[int, int] | None:
        text = out.read_text(errors="replace")
        broker = re.search(r"embedded broker \(Tansu\) on 127\.0\.0\.1:(\d+)", text)
        metrics = re.search(r"metrics: +http://127\.0\.0\.1:(\d+)/metrics", text)
        if broker and metrics:
            ports = int(broker.group(1)), int(metrics.group(1))
            if all(_listening(p) for p in ports):
                return ports
        return None

    ports = eventually(announced, timeout)
    assert ports, f"the demo never came up:\n{out.read_text()[-2000:]}"
    return ports


@pytest.mark.broker
@pytest.mark.parametrize(("command", "how", "target"), [
    ("churnwatch", signal.SIGTERM, "process"),  # timeout, docker stop, CI
    ("churnwatch", signal.SIGINT, "group"),  # Ctrl-C in a terminal
    ("make", signal.SIGTERM, "process"),  # make passes SIGTERM on to its children
], ids=["churnwatch-SIGTERM", "churnwatch-SIGINT-to-group", "make-SIGTERM"])
def test_the_demo_stops_everything(command: str, how: signal.Signals, target: str,
                                   tmp_path: Path) -> None:
    args = ["--customers", "30", "--rate", "50", "--workdir", str(tmp_path / "work")]
    cmd = ([sys.executable, "-m", "churnwatch.cli", "demo", *args] if command == "churnwatch"
           else ["make", "-s", "--no-print-directory", "demo", f"DEMO_ARGS={' '.join(args)}"])
    out = tmp_path / "demo.out"
    env = {**os.environ, "CHURNWATCH_RUNTIME__METRICS_PORT": str(free_port())}
    env.pop("CHURNWATCH_KAFKA__BROKERS", None)
    with out.open("wb") as sink:
        demo = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        ports = _ports_announced(out, timeout=120)
        if target == "group":
            os.killpg(demo.pid, how)
        else:
            demo.send_signal(how)
        demo.wait(timeout=60)
        left = [p for p in ports if not eventually(lambda p=p: not _listening(p), 20, every=0.05)]
        assert left == [], f"still listening on {left} after {signal.Signals(how).name}"
        said = out.read_text(errors="replace")
        assert "stopping ..." in said and "Error" not in said, said[-2000:]
        # the worker stopped cleanly too (issue 38: a SIGTERM left a producer crash there)
        worker = (tmp_path / "work" / "worker.log").read_text(errors="replace")
        assert not re.search(r"\[(ERROR|CRITICAL)\]|[Cc]rash", worker), worker[-3000:]
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
