"""Start a worker process: topics, the metrics and health endpoint, the Faust worker."""

from __future__ import annotations

import faust

from churnwatch.errors import UserError
from churnwatch.settings import Settings
from churnwatch.streams.admin import embedded_broker, ensure_topics, require_brokers
from churnwatch.streams.app import create_app
from churnwatch.streams.datadir import claim
from churnwatch.streams.health import Health, serve
from churnwatch.streams.metrics import Metrics
from churnwatch.streams.runtime import Runtime


def run_worker(settings: Settings, loglevel: str = "info") -> None:
    """Blocks until SIGINT/SIGTERM. Every mistake a user can fix fails first, in one line:
    no broker, a data directory or metrics port in use, a broker that cannot be reached or
    does not speak the configured protocol."""
    require_brokers(settings)
    settings, _held = claim(settings)  # the lock lasts while this frame does: the worker's life
    metrics, health = Metrics(), Health()
    rt = settings.runtime
    if rt.metrics_port:
        try:
            serve(rt.metrics_host, rt.metrics_port, metrics.registry, health)
        except OSError as exc:
            raise UserError(
                f"the metrics port {rt.metrics_host}:{rt.metrics_port} is not free "
                f"({exc.strerror}): set CHURNWATCH_RUNTIME__METRICS_PORT to a free port, or "
                "0 to serve no metrics") from None
    sources = ensure_topics(settings)
    if rt.fast_group_join is None or settings.kafka.idempotent is None:
        embedded = embedded_broker(settings)
        if rt.fast_group_join is None:
            settings = settings.changed("runtime", fast_group_join=embedded)
        if settings.kafka.idempotent is None:
            settings = settings.changed("kafka", idempotent=not embedded)
    app = create_app(settings)
    Runtime(settings, app, metrics, sources, health)
    faust_worker(app, loglevel).execute_from_commandline()


def faust_worker(app: faust.App, loglevel: str) -> faust.Worker:
    """Faust's worker without its terminal spinner. At WARNING and above the spinner
    puts the root logger at DEBUG so that every log call turns it: aiokafka and Faust then
    build a debug record for every fetch, send and request, only for the handlers to drop
    it (7.8 % of a worker's CPU under py-spy, with ``--loglevel warning``)."""
    worker = faust.Worker(app, loglevel=loglevel)
    worker.spinner = None
    return worker
