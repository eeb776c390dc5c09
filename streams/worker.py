"""Start a worker process: topics, the metrics and health endpoint, the Faust worker."""

from __future__ import annotations

import faust

from churnwatch.config import Settings
from churnwatch.streams.admin import ensure_topics
from churnwatch.streams.app import create_app
from churnwatch.streams.datadir import claim
from churnwatch.streams.health import Health, serve
from churnwatch.streams.metrics import Metrics
from churnwatch.streams.runtime import Runtime


def run_worker(settings: Settings, loglevel: str = "info") -> None:
    """Blocks until SIGINT/SIGTERM."""
    settings, _held = claim(settings)  # the lock lasts while this frame does: the worker's life
    sources = ensure_topics(settings)
    app = create_app(settings)
    metrics, health = Metrics(), Health()
    Runtime(settings, app, metrics, sources, health)
    rt = settings.runtime
    if rt.metrics_port:
        serve(rt.metrics_host, rt.metrics_port, metrics.registry, health)
    faust.Worker(app, loglevel=loglevel).execute_from_commandline()
