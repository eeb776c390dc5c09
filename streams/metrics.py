"""Prometheus metrics of a worker, on an injectable registry.

Labels carry kinds, signals, tiers, topics and partitions, never a customer identifier.
Names follow Prometheus conventions (base units, ``_total`` suffix on counters); Faust's
own PrometheusMonitor does not, so it is not used.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events_in = Counter("churnwatch_events_total", "Valid events taken in, by kind",
                                 ["kind"], registry=r)
        self.invalid = Counter("churnwatch_events_invalid_total",
                               "Invalid events sent to the dead-letter topic, by source topic",
                               ["topic"], registry=r)
        self.out_of_time = Counter("churnwatch_events_out_of_time_total",
                                   "Events whose occurred_at is not believable (before the "
                                   "floor, after the ceiling, too far ahead), dead-lettered",
                                   ["topic"], registry=r)
        self.detected = Counter("churnwatch_events_detected_total",
                                "Repartitioned events taken in by the detector", registry=r)
        self.duplicates = Counter("churnwatch_events_duplicate_total",
                                  "Events ignored because their event_id was already seen",
                                  registry=r)
        self.late = Counter("churnwatch_events_late_total",
                            "Events behind their customer's evaluated time (dead-lettered)",
                            registry=r)
        self.redelivered = Counter("churnwatch_messages_redelivered_total",
                                   "Messages skipped because their state was already written",
                                   registry=r)
        self.alerts = Counter("churnwatch_alerts_total", "Alerts sent to the recall topic",
                              ["signal", "tier"], registry=r)
        self.suppressed = Counter("churnwatch_alerts_suppressed_total",
                                  "Findings held back by governance", ["reason"], registry=r)
        self.customers = Gauge("churnwatch_customers", "Customers held by this worker",
                               registry=r)
        self.watermark = Gauge("churnwatch_watermark_seconds",
                               "Event-time watermark (POSIX seconds) per events partition",
                               ["partition"], registry=r)
        self.lag = Gauge("churnwatch_consumer_lag_messages",
                         "Messages between the consumer position and the partition end",
                         ["topic", "partition"], registry=r)
        self.flush_seconds = Histogram("churnwatch_state_flush_seconds",
                                       "Time to write coalesced customer states",
                                       registry=r)
        self.state_writes = Counter("churnwatch_state_writes_total",
                                    "Customer states written to the changelog table", registry=r)
        self.model = Info("churnwatch_model", "Version of the fitted model parameters that "
                          "score risk (all workers should agree)", registry=r)
