"""Start a worker process: topics, metrics endpoint, Faust worker."""

from __future__ import annotations

import faust
from prometheus_client import start_http_server

from churnwatch.config import Settings
from churnwatch.streams.admin import ensure_topics
from churnwatch.streams.app import create_app
from churnwatch.streams.metrics import Metrics
from churnwatch.streams.runtime import Runtime


def run_worker(settings: Settings, loglevel: str = "info") -> None:
    """Blocks until SIGINT/SIGTERM."""
    sources = ensure_topics(settings)
    app = create_app(settings)
    metrics = Metrics()
    Runtime(settings, app, metrics, sources)
    rt = settings.runtime
    if rt.metrics_port:
        start_http_server(rt.metrics_port, addr=rt.metrics_host, registry=metrics.registry)
    faust.Worker(app, loglevel=loglevel).execute_from_commandline()
