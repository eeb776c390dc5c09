"""``churnwatch broker`` refuses what it cannot run and says what to do instead (workers on
the brokers it starts: tests/broker/test_local_brokers.py)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from churnwatch.errors import UserError
from churnwatch.tools.apache_kafka import kafka_classpath
from churnwatch.tools.broker import free_port


def test_churnwatch_broker_refuses_a_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "churnwatch.cli", "broker", "--port",
                              str(port)], capture_output=True, timeout=60, check=False)
    assert run.returncode != 0
    assert f"port {port} is already in use" in run.stderr.decode()


def test_three_embedded_nodes_are_refused_with_the_way_to_get_three() -> None:
    run = subprocess.run([sys.executable, "-m", "churnwatch.cli", "broker", "--port",
                          str(free_port()), "--nodes", "3"], capture_output=True, timeout=60,
                         check=False)
    assert run.returncode != 0 and "--kind kafka" in run.stderr.decode()


def test_without_java_or_maven_the_message_names_what_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither java nor mvn on it
    with pytest.raises(UserError, match=r"java and mvn.*apt-get install openjdk-17"):
        kafka_classpath(tmp_path / "cache")
