"""A client that cannot talk to its broker says so within seconds, naming the setting to
check (README, "When something is wrong"); and so does a busy metrics port."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from churnwatch.cli import main
from tests.support.golden import GOLDEN
from tests.support.readme import promised_seconds, readme_row

SAMPLE = str(GOLDEN / "sample.jsonl")


def run(args: list[str], env: dict[str, str]) -> tuple[int, str, float]:
    began = time.monotonic()
    result = CliRunner().invoke(main, args, env=env)
    return result.exit_code, result.stderr, time.monotonic() - began


@pytest.fixture
def tls_listener(tmp_path: Path) -> Iterator[str]:
    """A TLS server on loopback that is no Kafka broker: what a plaintext client meets
    on a TLS-only listener. (The embedded broker cannot be it: Tansu 0.6.0's command line
    refuses --cert together with --key, and with --cert alone it still speaks plaintext.)"""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.5)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            conn.settimeout(5)
            try:
                context.wrap_socket(conn, server_side=True).close()
            except (OSError, ssl.SSLError):
                conn.close()  # a plaintext client: the handshake fails, as on a broker
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(5)
    server.close()


def test_plaintext_against_a_tls_listener_is_named_within_seconds(tls_listener: str) -> None:
    code, err, took = run(["produce", SAMPLE], {"CHURNWATCH_KAFKA__BROKERS": tls_listener})
    assert code == 1 and took < promised_seconds(
        "a plaintext setting against a TLS listener") - 1, (code, took, err)
    assert f"{tls_listener} did not answer a Kafka request in plaintext" in err
    assert "set it to SSL or SASL_SSL" in err
    assert "did not answer a Kafka request" in readme_row(
        "a plaintext setting against a TLS listener")


def test_a_busy_metrics_port_names_the_port_and_the_variable(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        code, err, _ = run(["worker"], {
            "CHURNWATCH_KAFKA__BROKERS": "127.0.0.1:1",  # never reached: the port is first
            "CHURNWATCH_RUNTIME__METRICS_PORT": str(port),
            "CHURNWATCH_RUNTIME__DATA_DIR": str(tmp_path)})
    assert code == 1, err
    assert f"the metrics port 127.0.0.1:{port} is not free" in err
    assert "CHURNWATCH_RUNTIME__METRICS_PORT" in err and "Traceback" not in err
    assert "is not free" in readme_row("a second worker on the same metrics port")
