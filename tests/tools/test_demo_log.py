"""Each demo run writes its own worker log: before, the log was appended across runs and
an old run's crash read as this one's (issue 38). The previous run's log is kept beside."""

from __future__ import annotations

from pathlib import Path

from churnwatch.settings import Settings
from churnwatch.tools.demo import _start_worker


def test_each_run_starts_a_fresh_worker_log_and_keeps_the_one_before(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    log.write_text("an old run's crash\n")
    settings = Settings.build(kafka={"brokers": "127.0.0.1:9"},  # refuses: the worker exits
                              runtime={"metrics_port": 0})
    assert _start_worker(settings, log).wait(timeout=60) != 0
    now = log.read_text()
    assert "cannot connect to any broker" in now and "an old run's crash" not in now
    assert (tmp_path / "worker.previous.log").read_text() == "an old run's crash\n"
