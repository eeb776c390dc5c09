"""Faust's sensor hooks feeding churnwatch metrics: failed sends and rebalances.

A failed send never reaches a send_soon callback (Faust calls those on success only), and
the rebalance hooks fire before any partition is revoked, so both live here.
"""

from __future__ import annotations

from typing import Any

import faust

from churnwatch.streams.metrics import Metrics


class MetricsSensor(faust.Sensor):
    def __init__(self, metrics: Metrics, **kwargs: Any) -> None:
        self.metrics = metrics
        super().__init__(**kwargs)

    def on_send_initiated(self, producer: Any, topic: str, message: Any, keysize: int,
                          valsize: int) -> Any:
        return topic

    def on_send_error(self, producer: Any, exc: BaseException, state: Any) -> None:
        self.metrics.publish_errors.labels(str(state)).inc()

    def on_rebalance_start(self, app: Any) -> dict[str, Any]:
        self.metrics.rebalances.inc()
        state: dict[str, Any] = super().on_rebalance_start(app)
        return state
