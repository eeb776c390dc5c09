"""The Faust application's settings that protect records (streams/app.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from churnwatch.config import Settings
from churnwatch.streams.app import create_app


def test_resuming_the_flow_keeps_what_the_streams_have_queued(tmp_path: Path) -> None:
    """Faust resumes the flow after it resumed fetching and seeked; mode's resume would
    clear the stream queues then and drop records the consumer has moved past. A
    revocation must still clear them (stale records of partitions gone elsewhere)."""
    settings = Settings(kafka={"brokers": "127.0.0.1:9"}, runtime={"data_dir": tmp_path})

    async def run() -> tuple[int, int]:
        app = create_app(settings)
        queue = app.FlowControlQueue(maxsize=10, clear_on_resume=True)  # as a stream's
        app.flow_control.suspend()
        app.flow_control.resume()
        queue.put_nowait("fetched while Faust seeked")
        app.flow_control.resume()
        kept = queue.qsize()
        app.flow_control.suspend()
        app.flow_control.clear()  # what Faust does on revocation
        return kept, queue.qsize()

    assert asyncio.run(run()) == (1, 0)
