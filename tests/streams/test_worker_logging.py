"""A worker builds no debug log records unless asked to: each costs CPU on the hot path
(Faust's terminal spinner put the root logger at DEBUG at WARNING and above). Run in a
child process: the check sets up logging the way a worker does, for the whole process."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHILD = """
import logging, sys
from churnwatch.settings import Settings
from churnwatch.streams.app import create_app
from churnwatch.streams.worker import faust_worker

made = 0
make = logging.Logger.makeRecord
def counting(self, *args, **kwargs):
    global made
    made += 1
    return make(self, *args, **kwargs)
logging.Logger.makeRecord = counting
app = create_app(Settings.build(kafka={"brokers": "127.0.0.1:9"}))
faust_worker(app, sys.argv[1])._setup_logging()  # what the worker does when it starts
for name in ("aiokafka.conn", "aiokafka.producer.producer", "faust.topics", "mode.timers"):
    logging.getLogger(name).debug("a request %s", name)
sys.__stdout__.write(f"{made}\\n")  # print() goes to the log once the worker set it up
"""


@pytest.mark.parametrize(("level", "records"), [
    ("info", 0), ("warning", 0), ("error", 0), ("debug", 4)])
def test_debug_records_are_built_only_at_debug(level: str, records: int) -> None:
    run = subprocess.run([sys.executable, "-c", CHILD, level], capture_output=True,
                         text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split()[-1:] == [str(records)], run.stdout + run.stderr
