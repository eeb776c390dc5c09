"""A real Prometheus (Debian's) with the shipped rules scrapes a real worker on the
embedded broker: the series exist, every rule evaluates without error, the recording
rules compute from real samples, and ChurnwatchWorkerDown goes pending once the worker
stops."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from churnwatch.tools.broker import RunningBroker, free_port
from churnwatch.tools.children import die_with_parent
from churnwatch.tools.produce import produce
from tests.support.cluster import Cluster, eventually
from tests.support.paths import RULES


class Prometheus:
    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"

    def get(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}{path}{query}", timeout=5) as r:
            body = json.loads(r.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.get("/api/v1/query", query=expr)["result"]
        return result

    def until(self, what: str, check: Callable[[], Any], timeout: float = 90) -> Any:
        """Poll the server until ``check()`` is truthy: scrapes and rule evaluations run on
        their own schedule, so this waits on what the API answers, not on a sleep."""
        def answered() -> Any:
            try:
                return check()
            except OSError:  # not listening yet
                return None

        got = eventually(answered, timeout, every=0.5)
        assert got, f"Prometheus never showed {what}"
        return got


@pytest.fixture
def prometheus_for(tmp_path: Path) -> Iterator[Callable[[int], Prometheus]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(target_port: int) -> Prometheus:
        binary = shutil.which("prometheus")
        assert binary, "prometheus is installed by `make system-deps`"
        config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                  "rule_files": [str(RULES)],
                  "scrape_configs": [{"job_name": "churnwatch", "static_configs": [
                      {"targets": [f"127.0.0.1:{target_port}"]}]}]}
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
        port = free_port()
        procs.append(subprocess.Popen(
            [binary, f"--config.file={tmp_path / 'prometheus.yml'}",
             f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=(tmp_path / "prometheus.log").open("ab"), stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent))  # noqa: PLW1509 - prctl only
        return Prometheus(port)

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=30)


def value(result: list[dict[str, Any]]) -> float | None:
    return float(result[0]["value"][1]) if result else None


@pytest.mark.broker
def test_real_prometheus_scrapes_evaluates_rules_and_sees_the_worker_go(
        broker: RunningBroker, tmp_path: Path, prometheus_for: Callable[[int], Prometheus]) -> None:
    cluster = Cluster(broker, tmp_path)
    port = free_port()
    cluster.start_worker(metrics_port=port)
    try:
        prom = prometheus_for(port)
        prom.until("the worker ready", lambda: value(prom.query(
            'churnwatch_ready{job="churnwatch"}')) == 1, timeout=120)
        events = [orjson.dumps({"kind": "engagement", "event_id": f"p{n}",
                                "customer_id": f"c{n % 7}",
                                "occurred_at": f"2025-03-{1 + n % 28:02d}T00:00:00Z",
                                "action": "visit"}) for n in range(200)]
        produce(events, cluster.settings)
        rate = prom.until("a recorded event rate", lambda: value(prom.query(
            'churnwatch:events:rate5m{kind="engagement"}')))
        assert rate > 0
        for series in ('process_resident_memory_bytes{job="churnwatch"}',
                       'churnwatch_build_info{job="churnwatch"}',
                       'churnwatch_model_info{job="churnwatch"}',
                       'churnwatch_assigned_partitions{job="churnwatch"}',
                       'churnwatch_alerts_total{job="churnwatch",signal="gone_quiet"}'):
            assert prom.query(series), series
        rules = prom.get("/api/v1/rules")["groups"]
        evaluated = [r for g in rules for r in g["rules"]]
        assert len(evaluated) == sum(len(g["rules"]) for g in yaml.safe_load(
            RULES.read_text())["groups"])  # every rule of the file, none dropped
        assert [(r["name"], r["lastError"]) for r in evaluated if r["health"] != "ok"] == []
        assert prom.query('ALERTS{alertname="ChurnwatchWorkerDown"}') == []
    finally:
        cluster.stop_workers()

    def worker_down() -> list[dict[str, Any]]:
        return [a for a in prom.get("/api/v1/alerts")["alerts"]
                if a["labels"]["alertname"] == "ChurnwatchWorkerDown"]

    (alert,) = prom.until("ChurnwatchWorkerDown", worker_down, timeout=60)
    assert alert["state"] in ("pending", "firing")
    assert alert["labels"]["instance"] == f"127.0.0.1:{port}"
    assert value(prom.query('up{job="churnwatch"}')) == 0
