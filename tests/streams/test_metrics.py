"""The worker's metrics without a broker: the memory limit it reports, a failing periodic
task counted rather than fatal, and the README listing exactly what it exports (the
/metrics endpoint of a running worker: tests/broker/test_metrics.py)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from prometheus_client import CollectorRegistry

from churnwatch.engine import Stats
from churnwatch.streams.metrics import Metrics, memory_limit
from churnwatch.streams.runtime import _guarded


def test_memory_limit_from_cgroup_v2_v1_or_none(tmp_path: Path) -> None:
    v2, v1 = tmp_path / "memory.max", tmp_path / "memory.limit_in_bytes"
    assert memory_limit((v2, v1)) is None  # outside a container
    v1.write_text("2147483648\n")
    assert memory_limit((v2, v1)) == 2 * 1024**3
    v2.write_text("max\n")  # the first file found decides: v2 without a limit
    assert memory_limit((v2, v1)) is None
    v2.write_text("1073741824\n")
    assert memory_limit((v2, v1)) == 1024**3
    v1.write_text("9223372036854771712\n")  # what v1 says for "unlimited"
    assert memory_limit((tmp_path / "absent", v1)) is None


def test_a_failing_periodic_task_is_counted_not_fatal() -> None:
    metrics = Metrics(CollectorRegistry())

    async def broken() -> None:
        raise KeyError("no customer id reaches the log")

    closing = False
    task = _guarded("churnwatch.measure", broken, metrics, lambda: closing)
    asyncio.run(task())
    asyncio.run(task())
    assert task.__name__ == "churnwatch.measure"
    assert metrics.registry.get_sample_value(
        "churnwatch_errors_total", {"task": "churnwatch.measure"}) == 2
    closing = True  # the worker is stopping: Faust runs timers after the producer closed
    asyncio.run(task())
    assert metrics.registry.get_sample_value(
        "churnwatch_errors_total", {"task": "churnwatch.measure"}) == 2


def test_readme_lists_exactly_the_metrics_a_worker_exports() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    readme = readme[readme.index("### Metrics"):readme.index("### Alert rules")]
    listed = set(re.findall(r"^\| `(churnwatch_[a-z_]+)`", readme, flags=re.MULTILINE))
    suffix = {"counter": "_total", "info": "_info"}
    metrics = Metrics(CollectorRegistry())
    metrics.read_counts(Stats())  # as a worker does
    exported = {f.name + suffix.get(f.type, "") for f in metrics.registry.collect()
                if f.name.startswith("churnwatch_")}
    assert listed == exported | {"churnwatch_memory_limit_bytes"}  # that one needs a cgroup


def test_a_cached_child_is_exposed_again_after_its_series_are_cleared() -> None:
    """The watermark gauge is cleared when partitions are revoked: a child remembered from
    before would be set and never exposed."""
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    metrics.watermark.labels("3").set(100.0)
    assert metrics.watermark.labels("3") is metrics.watermark.labels("3")
    metrics.watermark.clear()
    assert registry.get_sample_value("churnwatch_watermark_seconds", {"partition": "3"}) is None
    metrics.watermark.labels("3").set(200.0)
    assert registry.get_sample_value("churnwatch_watermark_seconds",
                                     {"partition": "3"}) == 200.0


def test_the_detectors_counts_are_read_when_scraped() -> None:
    """Suppressed findings, action reports and untracked risks come from the detectors'
    own Stats at scrape time, known label values at zero from the start."""
    registry = CollectorRegistry()
    stats = Stats()
    Metrics(registry).read_counts(stats)
    value = registry.get_sample_value
    assert value("churnwatch_alerts_suppressed_total", {"reason": "cap"}) == 0
    assert value("churnwatch_actions_total", {"result": "unknown_alert"}) == 0
    stats.suppressed["cooldown"] += 3
    stats.actions["answered"] += 2
    stats.untracked += 1
    assert value("churnwatch_alerts_suppressed_total", {"reason": "cooldown"}) == 3
    assert value("churnwatch_actions_total", {"result": "answered"}) == 2
    assert value("churnwatch_risk_predictions_untracked_total") == 1
