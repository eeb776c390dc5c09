"""Where the worker's output goes: alerts to the recall topic and its routes (held-out ones
to the shadow topic only), refused records to the dead-letter topic.

The detect agent's sends are buffered (``send_soon``), never awaited: the detect path then
has no await within an item, so a timer flush cannot land between an item's state change
and its alerts. They are kept (``take``) until the batch ends, which is acked only once the
broker has confirmed every alert and dead letter it caused (streams/acks.py).
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import faust
from faust.types.tuples import FutureMessage

from churnwatch.engine import AlertOut, dead_letter_record
from churnwatch.settings import Settings
from churnwatch.streams import cloudevents
from churnwatch.streams.metrics import Metrics

HOLDOUT_HEADER = "cw-holdout"  # on the shadow topic's records


class Publisher:
    def __init__(self, settings: Settings, app: faust.App, metrics: Metrics,
                 raw: dict[str, Any]) -> None:
        """``raw``: the topics' codec settings (bytes in, bytes out)."""
        topics, rt = settings.topics, settings.runtime
        self.metrics = metrics
        self.mode = rt.cloudevents_mode
        self.max_bytes = rt.dead_letter_max_bytes
        self.recall = app.topic(topics.recall, **raw)
        self.holdout = app.topic(topics.holdout, **raw)
        self.dead = app.topic(topics.dead_letter, **raw)
        self.routes = [(route, app.topic(route.topic, **raw)) for route in rt.routes]
        self.sent: list[FutureMessage] = []  # alerts, dead letters not yet confirmed

    def take(self) -> list[FutureMessage]:
        """The sends since the last call: they belong to the batch ending now."""
        sent, self.sent = self.sent, []
        return sent

    def alert(self, alert: AlertOut, held_out: bool, received: float | None) -> None:
        """``received``: wall time (s) the message that released the alert reached this
        worker: when the ingest stage wrote it to the events topic (two hops), or when
        this worker took it from its source topic (one hop). A held-out alert goes to the
        shadow topic only, never to the recall topic or a route."""
        key, body, headers = cloudevents.record(alert, self.mode)
        if held_out:
            self.sent.append(self.holdout.send_soon(
                key=key, value=body, headers={**headers, HOLDOUT_HEADER: b"true"}))
            self.metrics.held_out.labels(alert.signal, alert.tier).inc()
            return
        self.sent.append(self.recall.send_soon(
            key=key, value=body, headers=headers,
            callback=partial(self._acked, alert.time, received)))
        for route, topic in self.routes:
            if (not route.signals or alert.signal in route.signals) and (
                    not route.tiers or alert.tier in route.tiers):
                self.sent.append(topic.send_soon(key=key, value=body, headers=headers))
        self.metrics.alerts.labels(alert.signal, alert.tier).inc()

    def _acked(self, triggered: float, received: float | None, _: Any) -> None:
        now = time.time()
        self.metrics.latency.labels("event_time").observe(max(0.0, now - triggered))
        if received is not None:
            self.metrics.latency.labels("received").observe(max(0.0, now - received))

    def dead_letter(self, reason: str, raw: bytes, topic: str, partition: int,
                    offset: int) -> dict[str, Any]:
        """Value and headers of a dead letter, for :meth:`refuse` or :meth:`refuse_now`.
        It must be on the broker before its record is acked, like an alert."""
        body = dead_letter_record(reason, raw, limit=self.max_bytes, topic=topic,
                                  partition=partition, offset=offset)
        return {"value": body, "headers": {
            "cw-reason": reason.encode()[:1000], "cw-topic": topic.encode(),
            "cw-partition": str(partition).encode(), "cw-offset": str(offset).encode()}}

    def refuse(self, letter: dict[str, Any]) -> None:
        """Detect: sent now, waited for when the batch ends."""
        self.sent.append(self.dead.send_soon(**letter))

    async def refuse_now(self, letter: dict[str, Any]) -> None:
        """Ingest: awaited (Faust's commit waits for aiokafka's flush)."""
        await self.dead.send(**letter)
